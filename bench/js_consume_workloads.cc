// sluice-bench: JetStream consume workloads and the consumer memory workload.
//
// js-pull500 and js-push-none share one server per round (shared_run
// "js-consume"): one connection creates the file stream `BENCH` on `js.bench`,
// seeds it with async publishes (PubAcks validated, then STREAM.INFO must count
// every message; not timed), and then each workload consumes the whole stream
// through its own consumer:
//   - pull: a durable pull consumer `PULL` (ack explicit, other settings at their
//     defaults) fed by `$JS.API.CONSUMER.MSG.NEXT.BENCH.PULL` requests of
//     {"batch":500,"expires":30s} on one inbox, a new request whenever fewer than
//     half a batch is still owed (so one or two are outstanding, as nats.js
//     consume() does); every delivery is acknowledged with `+ACK` to its reply
//     subject. Timing ends when CONSUMER.INFO shows the ack floor at the last
//     stream sequence (so every ack was processed; Sluice's acks are durable then).
//   - push: the inbox `_INBOX.jsc.push` is subscribed, then (timing starts) a
//     durable push consumer `PUSH` is created on it with ack none, flow_control
//     and a 5 s idle_heartbeat; flow-control requests are answered with an empty
//     message to their reply subject. Timing ends with the last message received.
// Every delivery's `$JS.ACK.BENCH.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>`
// reply is parsed: the stream sequence must increase from message to message.
// Delivery payloads are skipped by the parser (never copied); API replies,
// PubAcks and status messages (HMSG) are captured.
//
// js-consumer-mem: server RSS before/after creating 1,000 durable pull consumers
// on an empty stream, and before/after leaving 100,000 messages delivered and
// not acknowledged (see RunJsConsumerMemory).
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "nats_client.h"
#include "proc_stats.h"
#include "workloads.h"

namespace sluice::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kInboxPrefix = "_INBOX.jsc.";  // every reply this client waits for
constexpr std::string_view kApiInbox = "_INBOX.jsc.api";
constexpr std::string_view kSeedPrefix = "_INBOX.jsc.seed.";  // PubAcks: _INBOX.jsc.seed.<n>
constexpr std::string_view kPullInbox = "_INBOX.jsc.pull";
constexpr std::string_view kPushInbox = "_INBOX.jsc.push";
constexpr int64_t kPullExpiresNs = 30'000'000'000;  // nats.js consume()'s default
constexpr size_t kSeedWindow = 16'384;              // PubAcks outstanding while seeding

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Space-separated tokens (2.9.10 writes two spaces where a reply subject is absent).
std::vector<std::string_view> Tokens(std::string_view s, char sep = ' ') {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(sep, i);
    if (j == std::string_view::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool ParseUint(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + static_cast<uint64_t>(ch - '0');
  }
  *out = v;
  return true;
}

// The unsigned number after `"key":` in a JSON text (spaces allowed).
bool JsonUint(std::string_view json, std::string_view key, uint64_t* out) {
  const std::string needle = "\"" + std::string(key) + "\":";
  size_t p = json.find(needle);
  if (p == std::string_view::npos) return false;
  p += needle.size();
  while (p < json.size() && json[p] == ' ') ++p;
  size_t e = p;
  while (e < json.size() && json[e] >= '0' && json[e] <= '9') ++e;
  return ParseUint(json.substr(p, e - p), out);
}

// The API error of a reply ("code/err_code: description"), empty when none.
std::string ApiError(std::string_view reply) {
  const size_t e = reply.find("\"error\"");
  if (e == std::string_view::npos) return "";
  std::string out;
  uint64_t code = 0;
  if (JsonUint(reply.substr(e), "err_code", &code)) out = std::to_string(code) + " ";
  const size_t d = reply.find("\"description\":", e);
  if (d != std::string_view::npos) {
    size_t b = reply.find('"', d + 14);
    size_t end = b == std::string_view::npos ? b : reply.find('"', b + 1);
    if (end != std::string_view::npos) out += std::string(reply.substr(b + 1, end - b - 1));
  }
  return out.empty() ? std::string(reply.substr(0, 200)) : out;
}

// The value of header `name` in a captured HMSG payload, or empty.
std::string_view Header(std::string_view hdrs, std::string_view name) {
  for (auto line : Tokens(hdrs, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > name.size() && StartsWith(line, name) && line[name.size()] == ':') {
      line.remove_prefix(name.size() + 1);
      while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      return line;
    }
  }
  return {};
}

void AppendPub(std::string& out, std::string_view subject, std::string_view reply, std::string_view payload) {
  out += "PUB ";
  out += subject;
  if (!reply.empty()) {
    out += ' ';
    out += reply;
  }
  out += ' ';
  out += std::to_string(payload.size());
  out += "\r\n";
  out += payload;
  out += "\r\n";
}

// One connection does everything: API requests, seeding, consuming. Frames to
// send accumulate whole in `out` (so a PONG can always go after them) and leave
// from Pump(). What arrives is handled by the parser callbacks below, on the
// same thread, while Pump() reads.
struct Client {
  Conn conn{1u << 20};
  std::string out;
  size_t off = 0;      // bytes of `out` already sent
  std::string error;   // the first failure seen by a callback

  bool api_pending = false;
  std::string api_reply;

  std::string stream;            // the stream of the PubAcks and deliveries expected
  uint64_t seed_acks = 0;        // valid PubAcks
  std::string ack_prefix;        // "$JS.ACK.<stream>.<consumer>." of the consumer being read
  bool ack_each = false;         // reply +ACK to every delivery
  uint64_t received = 0;         // deliveries of the current consumer
  uint64_t last_sseq = 0;
  int64_t pull_owed = 0;         // messages requested by pull requests and not delivered yet
  uint64_t flow_controls = 0;
  uint64_t heartbeats = 0;
  uint64_t events = 0;  // what counts as progress: every message but idle heartbeats

  std::string Progress() const {
    return std::to_string(received) + " received, " + std::to_string(seed_acks) + " PubAcks, " +
           std::to_string(flow_controls) + " flow-control requests, " + std::to_string(heartbeats) +
           " heartbeats, " + std::to_string(pull_owed) + " owed by pull requests";
  }

  void Fail(std::string why) {
    if (error.empty()) error = std::move(why);
  }

  void Delivery(std::string_view reply) {
    if (!StartsWith(reply, ack_prefix)) return Fail("delivery with an unexpected reply: " + std::string(reply));
    // <delivered>.<sseq>.<cseq>.<ts>.<pending>
    const auto t = Tokens(reply.substr(ack_prefix.size()), '.');
    uint64_t sseq = 0;
    if (t.size() != 5 || !ParseUint(t[1], &sseq)) return Fail("cannot parse the ack reply " + std::string(reply));
    if (sseq <= last_sseq)
      return Fail("stream sequence " + std::to_string(sseq) + " after " + std::to_string(last_sseq));
    last_sseq = sseq;
    ++received;
    ++events;
    --pull_owed;
    if (ack_each) AppendPub(out, reply, "", "+ACK");
  }

  // Deliveries without headers: the parser skips their payload.
  static void OnMsg(void* ctx, std::string_view args) {
    auto* self = static_cast<Client*>(ctx);
    const auto t = Tokens(args);  // subject sid reply size
    if (t.size() != 4) return self->Fail("unexpected message: MSG " + std::string(args));
    self->Delivery(t[2]);
  }

  static bool CaptureIf(void*, std::string_view args, bool headers) {
    return headers || StartsWith(args, kInboxPrefix);
  }

  static void OnPayload(void* ctx, std::string_view args, std::string_view payload) {
    auto* self = static_cast<Client*>(ctx);
    const auto t = Tokens(args);
    const std::string_view subject = t.empty() ? std::string_view() : t[0];
    const bool headers = payload.size() >= 8 && StartsWith(payload, "NATS/1.0");
    ++self->events;
    if (!headers) {
      if (subject == kApiInbox) {
        self->api_reply.assign(payload);
        self->api_pending = false;
      } else if (StartsWith(subject, kSeedPrefix)) {
        self->PubAck(subject.substr(kSeedPrefix.size()), payload);
      } else {
        self->Fail("unexpected message on " + std::string(args));
      }
      return;
    }
    // HMSG subject sid [reply] hdr_len total_len
    const std::string_view reply = t.size() == 5 ? t[2] : std::string_view();
    if (StartsWith(reply, "$JS.ACK.")) return self->Delivery(reply);
    if (StartsWith(reply, "$JS.FC.")) {  // flow control: an empty reply lets delivery go on
      ++self->flow_controls;
      AppendPub(self->out, reply, "", "");
      return;
    }
    const std::string_view status = payload.substr(0, payload.find('\r'));
    if (reply.empty() && status.find(" 100 ") != std::string_view::npos) {
      ++self->heartbeats;  // idle heartbeat (it carries no reply)
      --self->events;
    } else if (reply.empty() && subject == kPullInbox && status.find(" 408") != std::string_view::npos) {
      // An expired pull request: what it still owed is in its headers.
      uint64_t n = 0;
      if (!ParseUint(Header(payload, "Nats-Pending-Messages"), &n))
        return self->Fail("408 without Nats-Pending-Messages: " + std::string(payload.substr(0, 200)));
      self->pull_owed -= static_cast<int64_t>(n);
    } else {
      self->Fail("unexpected status on " + std::string(subject) + ": " + std::string(status));
    }
  }

  // A PubAck of seeding publish n: {"stream":<stream>,"seq":n+1}.
  void PubAck(std::string_view n_text, std::string_view payload) {
    uint64_t n = 0, seq = 0;
    if (!ParseUint(n_text, &n) || payload.find("\"error\"") != std::string_view::npos ||
        payload.find("\"stream\":\"" + stream + "\"") == std::string_view::npos || !JsonUint(payload, "seq", &seq) ||
        seq != n + 1)
      return Fail("invalid PubAck for publish " + std::string(n_text) + ": " + std::string(payload.substr(0, 200)));
    ++seed_acks;
  }
};

// Runs the connection until done() or a failure: calls step() (which may queue
// frames), sends what is queued, waits for input and parses it. Fails after
// stall_timeout_ms without any progress.
bool Pump(Client& c, const RunSettings& s, const std::function<bool()>& done, const std::function<void()>& step,
          std::string* error) {
  auto last_progress = Clock::now();
  uint64_t events = c.events;
  while (true) {
    if (!c.error.empty()) {
      *error = c.error;
      return false;
    }
    if (step) step();
    if (c.conn.parser.pings > 0) {  // answered between whole frames
      c.conn.parser.pings = 0;
      c.out += "PONG\r\n";
    }
    bool want_write = false;
    while (c.off < c.out.size()) {
      ssize_t w = ::send(c.conn.fd(), c.out.data() + c.off, c.out.size() - c.off, MSG_NOSIGNAL);
      if (w > 0) {
        c.off += static_cast<size_t>(w);
      } else if (w < 0 && errno == EINTR) {
        continue;
      } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        want_write = true;
        break;
      } else {
        *error = std::string("write failed: ") + std::strerror(errno);
        return false;
      }
    }
    if (c.off == c.out.size()) {
      c.out.clear();
      c.off = 0;
    }
    if (done()) return true;
    pollfd p{c.conn.fd(), static_cast<short>(POLLIN | (want_write ? POLLOUT : 0)), 0};
    const int r = ::poll(&p, 1, 100);
    if (r < 0 && errno != EINTR) {
      *error = std::string("poll failed: ") + std::strerror(errno);
      return false;
    }
    if (r > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP))) {
      const ssize_t n = c.conn.ReadOnce(&Client::OnMsg, &c);
      if (n == 0 || n < -1) {
        *error = "connection: " + c.conn.error;
        return false;
      }
    }
    if (c.events != events) {
      events = c.events;
      last_progress = Clock::now();
    } else if (Clock::now() - last_progress > std::chrono::milliseconds(s.stall_timeout_ms)) {
      *error = "stalled (" + c.Progress() + ")";
      return false;
    }
  }
}

// Sends an API request and waits for its reply (frames queued before it go first).
bool Api(Client& c, const RunSettings& s, const std::string& subject, const std::string& body, std::string* error) {
  AppendPub(c.out, subject, kApiInbox, body);
  c.api_pending = true;
  c.api_reply.clear();
  if (!Pump(c, s, [&] { return !c.api_pending; }, nullptr, error)) {
    *error = subject + ": " + *error;
    return false;
  }
  return true;
}

// Api() that also fails on an error reply.
bool ApiOk(Client& c, const RunSettings& s, const std::string& subject, const std::string& body, std::string* error) {
  if (!Api(c, s, subject, body, error)) return false;
  const std::string e = ApiError(c.api_reply);
  if (e.empty()) return true;
  *error = subject + ": " + e;
  return false;
}

// Opens the connection with its inbox subscriptions (sids 1-3).
bool OpenClient(Client& c, int port, std::string* error) {
  if (!c.conn.Open(port, error)) return false;
  c.conn.parser.on_payload = &Client::OnPayload;
  c.conn.parser.payload_ctx = &c;
  c.conn.parser.capture_if = &Client::CaptureIf;
  c.conn.auto_pong = false;  // Pump() queues the PONGs between whole frames
  c.conn.SetNonBlocking(true);
  c.out += "SUB " + std::string(kApiInbox) + " 1\r\nSUB " + std::string(kSeedPrefix) + "* 2\r\nSUB " +
           std::string(kPullInbox) + " 3\r\n";
  return true;
}

// Creates the file stream `stream` on `subject` and fills it with `count`
// messages of `payload` bytes: async publishes with at most kSeedWindow PubAcks
// outstanding, each validated; then STREAM.INFO must count them all.
bool CreateAndSeed(Client& c, const RunSettings& s, const std::string& stream, const std::string& subject,
                   uint64_t count, size_t payload, std::string* error) {
  c.stream = stream;
  if (!ApiOk(c, s, "$JS.API.STREAM.CREATE." + stream,
             "{\"name\":\"" + stream + "\",\"subjects\":[\"" + subject + "\"],\"storage\":\"file\"}", error))
    return false;
  const std::string tail = " " + std::to_string(payload) + "\r\n" + std::string(payload, 'x') + "\r\n";
  const std::string head = "PUB " + subject + " " + std::string(kSeedPrefix);
  c.seed_acks = 0;
  uint64_t next = 0;
  char num[24];
  auto step = [&] {
    while (next < count && next - c.seed_acks < kSeedWindow && c.out.size() - c.off < s.chunk_bytes) {
      c.out += head;
      c.out.append(num, static_cast<size_t>(std::snprintf(num, sizeof(num), "%llu",
                                                          static_cast<unsigned long long>(next))));
      c.out += tail;
      ++next;
    }
  };
  if (!Pump(c, s, [&] { return c.seed_acks == count; }, step, error)) {
    *error = "seeding: " + *error + " (" + std::to_string(c.seed_acks) + " of " + std::to_string(count) +
             " acknowledged)";
    return false;
  }
  if (!ApiOk(c, s, "$JS.API.STREAM.INFO." + stream, "", error)) return false;
  uint64_t stored = 0;
  const size_t state = c.api_reply.find("\"state\":");
  if (state == std::string::npos || !JsonUint(std::string_view(c.api_reply).substr(state), "messages", &stored) ||
      stored != count) {
    *error = "after seeding, STREAM.INFO says " + c.api_reply.substr(0, 300);
    return false;
  }
  return true;
}

// Creates a durable consumer `name` on `stream` with the config fields `fields` (JSON, no braces).
bool CreateDurable(Client& c, const RunSettings& s, const std::string& stream, const std::string& name,
                   const std::string& fields, std::string* error) {
  return ApiOk(c, s, "$JS.API.CONSUMER.DURABLE.CREATE." + stream + "." + name,
               "{\"stream_name\":\"" + stream + "\",\"config\":{\"durable_name\":\"" + name + "\"," + fields + "}}",
               error);
}

// Reads `count` messages through the pull consumer `name` with requests of
// `batch`, re-pulling whenever less than half a batch is owed; acknowledges each
// when `ack`.
bool PullAll(Client& c, const RunSettings& s, const std::string& name, uint64_t count, int batch, bool ack,
             std::string* error) {
  c.ack_prefix = "$JS.ACK." + c.stream + "." + name + ".";
  c.ack_each = ack;
  c.received = 0;
  c.last_sseq = 0;
  c.pull_owed = 0;
  std::string request;
  AppendPub(request, "$JS.API.CONSUMER.MSG.NEXT." + c.stream + "." + name, kPullInbox,
            "{\"batch\":" + std::to_string(batch) + ",\"expires\":" + std::to_string(kPullExpiresNs) + "}");
  uint64_t requested = 0;
  auto step = [&] {
    if (requested < count && c.pull_owed <= batch / 2) {
      c.out += request;
      c.pull_owed += batch;
      requested += static_cast<uint64_t>(batch);
    }
  };
  if (!Pump(c, s, [&] { return c.received >= count; }, step, error)) {
    *error = "pull " + name + ": " + *error + " (" + std::to_string(c.received) + " of " + std::to_string(count) +
             " received)";
    return false;
  }
  return true;
}

// Polls CONSUMER.INFO until the ack floor reaches stream sequence `seq`
// (every ack sent was processed). Queued acks are sent first.
bool WaitAckFloor(Client& c, const RunSettings& s, const std::string& name, uint64_t seq, std::string* error) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(s.stall_timeout_ms);
  while (true) {
    if (!ApiOk(c, s, "$JS.API.CONSUMER.INFO." + c.stream + "." + name, "", error)) return false;
    const size_t at = c.api_reply.find("\"ack_floor\":");
    uint64_t floor = 0;
    if (at == std::string::npos ||
        !JsonUint(std::string_view(c.api_reply).substr(at, c.api_reply.find('}', at) - at), "stream_seq", &floor)) {
      *error = "CONSUMER.INFO without ack_floor: " + c.api_reply.substr(0, 300);
      return false;
    }
    if (floor >= seq) return true;
    if (Clock::now() > deadline) {
      *error = "ack floor stuck at " + std::to_string(floor) + " of " + std::to_string(seq);
      return false;
    }
  }
}

// js-pull500 on the seeded stream: consumer PULL, timed from the first pull request to the ack floor.
RunResult PullPhase(Client& c, const Workload& w, uint64_t count, pid_t pid, const RunSettings& s) {
  RunResult r;
  if (!CreateDurable(c, s, c.stream, "PULL", "\"deliver_policy\":\"all\",\"ack_policy\":\"explicit\"", &r.error))
    return r;
  const CpuSnapshot cpu0 = CpuSnapshot::Take(pid);
  const auto t0 = Clock::now();
  if (!PullAll(c, s, "PULL", count, w.pull_batch, true, &r.error)) return r;
  if (!WaitAckFloor(c, s, "PULL", count, &r.error)) return r;
  const auto t1 = Clock::now();
  const CpuSnapshot cpu1 = CpuSnapshot::Take(pid);
  r.rss_kb = ProcessRssKb(pid);
  r.msgs = count;
  r.delivered = c.received;
  r.seconds = Seconds(t0, t1);
  r.ok = SetCpu(r, cpu0, cpu1);
  if (!r.ok) r.error = "server process vanished";
  return r;
}

// js-push-none on the seeded stream: consumer PUSH, timed from its creation
// (the deliver inbox is already subscribed) to the last message received.
RunResult PushPhase(Client& c, uint64_t count, pid_t pid, const RunSettings& s) {
  RunResult r;
  c.ack_prefix = "$JS.ACK." + c.stream + ".PUSH.";
  c.ack_each = false;
  c.received = 0;
  c.last_sseq = 0;
  c.flow_controls = c.heartbeats = 0;
  c.out += "SUB " + std::string(kPushInbox) + " 4\r\n";
  if (!Pump(c, s, [&] { return c.out.empty(); }, nullptr, &r.error)) return r;
  const CpuSnapshot cpu0 = CpuSnapshot::Take(pid);
  const auto t0 = Clock::now();
  const std::string subject = "$JS.API.CONSUMER.DURABLE.CREATE." + c.stream + ".PUSH";
  AppendPub(c.out, subject, kApiInbox,
            "{\"stream_name\":\"" + c.stream + "\",\"config\":{\"durable_name\":\"PUSH\",\"deliver_subject\":\"" +
                std::string(kPushInbox) +
                "\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"flow_control\":true,"
                "\"idle_heartbeat\":5000000000}}");
  c.api_pending = true;
  c.api_reply.clear();
  bool refused = false;
  auto done = [&] {
    if (!c.api_pending && !ApiError(c.api_reply).empty()) refused = true;
    return refused || (c.received >= count && !c.api_pending);
  };
  if (!Pump(c, s, done, nullptr, &r.error)) {
    r.error = "push: " + r.error + " (" + std::to_string(c.received) + " of " + std::to_string(count) +
              " received)";
    return r;
  }
  const auto t1 = Clock::now();
  const CpuSnapshot cpu1 = CpuSnapshot::Take(pid);
  if (refused) {
    r.refused = ApiError(c.api_reply);
    r.error = "refused: " + r.refused;
    return r;
  }
  r.rss_kb = ProcessRssKb(pid);
  r.msgs = count;
  r.delivered = c.received;
  r.flow_controls = c.flow_controls;
  r.seconds = Seconds(t0, t1);
  r.ok = SetCpu(r, cpu0, cpu1);
  if (!r.ok) r.error = "server process vanished";
  return r;
}

// Lets the server settle (finish background work, Go's collector run) before RSS is read.
long SettledRssKb(pid_t pid) {
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  return ProcessRssKb(pid);
}

}  // namespace

std::vector<Workload> JetStreamConsumeWorkloads() {
  std::vector<Workload> v;
  Workload pull;
  pull.name = "js-pull500";
  pull.title = "durable pull consumer, ack explicit, fetch batches of 500 (one or two requests outstanding), "
               "+ACK every message, 128 B, file stream";
  pull.kind = WorkloadKind::kJsConsume;
  pull.payload = 128;
  pull.count = 1'000'000;
  pull.pull_batch = 500;
  pull.shared_run = "js-consume";
  v.push_back(pull);
  Workload push = pull;
  push.name = "js-push-none";
  push.title = "durable push consumer, ack none, flow control + 5 s idle heartbeat, 128 B, file stream";
  push.push = true;
  push.pull_batch = 0;
  v.push_back(push);
  Workload mem;
  mem.name = "js-consumer-mem";
  mem.title = "server RSS per durable pull consumer (1,000 created) and per pending ack (100,000 delivered, "
              "not acknowledged)";
  mem.kind = WorkloadKind::kJsConsumerMem;
  mem.payload = 128;
  mem.count = 100'000;
  mem.consumers = 1000;
  mem.pull_batch = 500;
  v.push_back(mem);
  return v;
}

std::vector<RunResult> RunJsConsume(const std::vector<Workload>& ws, int port, pid_t pid, const RunSettings& s) {
  std::vector<RunResult> results(ws.size());
  uint64_t count = 0;
  for (const auto& w : ws) count = std::max(count, w.count);
  Client c;
  std::string error;
  const auto t0 = Clock::now();
  if (!OpenClient(c, port, &error) || !CreateAndSeed(c, s, "BENCH", "js.bench", count, ws.front().payload, &error)) {
    for (auto& r : results) r.error = error;
    return results;
  }
  const double seed_seconds = Seconds(t0, Clock::now());
  const long rss_seeded = ProcessRssKb(pid);
  for (size_t i = 0; i < ws.size(); ++i) {
    results[i] = ws[i].push ? PushPhase(c, count, pid, s) : PullPhase(c, ws[i], count, pid, s);
    results[i].rss_seeded_kb = rss_seeded;
    results[i].seed_seconds = seed_seconds;
    if (!c.error.empty()) break;  // the connection is unusable: the next workloads fail too
  }
  for (auto& r : results)
    if (!r.ok && r.error.empty()) r.error = "not run: " + c.error;
  return results;
}

// 1. An empty file stream MEMC: settled RSS, then 1,000 durable pull consumers
//    (ack explicit, defaults) created one request at a time, settled RSS again.
// 2. A file stream MEMP seeded with 100,000 × 128 B, with two durable pull
//    consumers (ack explicit, ack_wait 1 h, max_ack_pending 200,000): ACKED reads
//    and acknowledges everything (ack floor at the end), then settled RSS; PENDING
//    reads everything without acknowledging (CONSUMER.INFO must report 100,000
//    pending acks), settled RSS again. Both went through the same delivery path,
//    so buffers and caches that delivery grows are in both readings; the
//    difference is what the pending acks hold.
RunResult RunJsConsumerMemory(const Workload& w, int port, pid_t pid, const RunSettings& s) {
  RunResult r;
  Client c;
  if (!OpenClient(c, port, &r.error)) return r;
  const auto t0 = Clock::now();
  c.stream = "MEMC";
  if (!ApiOk(c, s, "$JS.API.STREAM.CREATE.MEMC", "{\"name\":\"MEMC\",\"subjects\":[\"js.memc\"],\"storage\":\"file\"}",
             &r.error))
    return r;
  r.rss_idle_kb = SettledRssKb(pid);
  char name[16];
  for (int i = 0; i < w.consumers; ++i) {
    std::snprintf(name, sizeof(name), "C%04d", i);
    if (!CreateDurable(c, s, "MEMC", name, "\"ack_policy\":\"explicit\"", &r.error)) return r;
  }
  r.rss_conns_kb = SettledRssKb(pid);
  r.bytes_per_consumer = (r.rss_conns_kb - r.rss_idle_kb) * 1024.0 / std::max(1, w.consumers);

  const std::string fields =
      "\"deliver_policy\":\"all\",\"ack_policy\":\"explicit\",\"ack_wait\":3600000000000,\"max_ack_pending\":" +
      std::to_string(2 * w.count);
  if (!CreateAndSeed(c, s, "MEMP", "js.memp", w.count, w.payload, &r.error) ||
      !CreateDurable(c, s, "MEMP", "ACKED", fields, &r.error) ||
      !CreateDurable(c, s, "MEMP", "PENDING", fields, &r.error))
    return r;
  if (!PullAll(c, s, "ACKED", w.count, w.pull_batch, true, &r.error) ||
      !WaitAckFloor(c, s, "ACKED", w.count, &r.error))
    return r;
  r.rss_seeded_kb = SettledRssKb(pid);
  if (!PullAll(c, s, "PENDING", w.count, w.pull_batch, false, &r.error) ||
      !ApiOk(c, s, "$JS.API.CONSUMER.INFO.MEMP.PENDING", "", &r.error))
    return r;
  uint64_t pending = 0;
  if (!JsonUint(c.api_reply, "num_ack_pending", &pending) || pending != w.count) {
    r.error = "PENDING should have " + std::to_string(w.count) + " acks pending: " + c.api_reply.substr(0, 300);
    return r;
  }
  r.rss_kb = SettledRssKb(pid);
  r.bytes_per_pending_ack = (r.rss_kb - r.rss_seeded_kb) * 1024.0 / static_cast<double>(w.count);
  r.msgs = static_cast<uint64_t>(w.consumers);
  r.delivered = 2 * w.count;
  r.seconds = Seconds(t0, Clock::now());
  r.ok = true;
  return r;
}

}  // namespace sluice::bench
