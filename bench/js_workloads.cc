// sluice-bench: JetStream publish workloads and the raw-disk reference.
//
// Every run creates one stream `BENCH` on subject `js.bench` (file or memory
// storage) through `$JS.API.STREAM.CREATE.BENCH`, waits for the reply, then
// publishes with reply subjects `_INBOX.jsb.<n>` (n = 0, 1, 2, ... over the warm-up
// and the measured part) on one connection that also holds the wildcard
// subscription `_INBOX.jsb.*`. Every PubAck is checked: it must arrive on an inbox
// not acknowledged before, be JSON with "stream":"BENCH" and "seq" equal to n+1,
// and have no "error". At the end, `$JS.API.STREAM.INFO.BENCH` must report every
// message stored. Any deviation fails the run.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "nats_client.h"
#include "proc_stats.h"
#include "workloads.h"

namespace sluice::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kStream = "BENCH";
constexpr std::string_view kSubject = "js.bench";
constexpr std::string_view kInboxPrefix = "_INBOX.jsb.";
constexpr std::string_view kApiInbox = "_INBOX.jsb.api";

// Finds `"key":` in a JSON text and parses the unsigned number after it
// (spaces allowed). Returns false when the key or the number is missing.
bool JsonUint(std::string_view json, std::string_view key, uint64_t* out) {
  const std::string needle = "\"" + std::string(key) + "\":";
  size_t p = json.find(needle);
  if (p == std::string_view::npos) return false;
  p += needle.size();
  while (p < json.size() && json[p] == ' ') ++p;
  if (p >= json.size() || json[p] < '0' || json[p] > '9') return false;
  uint64_t v = 0;
  while (p < json.size() && json[p] >= '0' && json[p] <= '9') v = v * 10 + static_cast<uint64_t>(json[p++] - '0');
  *out = v;
  return true;
}

// What arrives on the inbox subscription.
struct AckState {
  std::vector<uint8_t> acked;  // by publish index n
  uint64_t acks = 0;           // valid PubAcks received
  std::string error;           // the first invalid one
  bool api_pending = false;
  std::string api_reply;

  void Fail(std::string why) {
    if (error.empty()) error = std::move(why);
  }

  static void OnPayload(void* ctx, std::string_view args, std::string_view payload) {
    auto* self = static_cast<AckState*>(ctx);
    const std::string_view subject = args.substr(0, args.find(' '));
    if (subject == kApiInbox) {
      self->api_reply.assign(payload);
      self->api_pending = false;
      return;
    }
    if (subject.substr(0, kInboxPrefix.size()) != kInboxPrefix) {
      self->Fail("message on an unexpected subject: " + std::string(subject));
      return;
    }
    uint64_t n = 0;
    const std::string_view tail = subject.substr(kInboxPrefix.size());
    if (tail.empty()) return self->Fail("bad inbox " + std::string(subject));
    for (char c : tail) {
      if (c < '0' || c > '9') return self->Fail("bad inbox " + std::string(subject));
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (n >= self->acked.size()) return self->Fail("reply on inbox never used: " + std::string(subject));
    if (self->acked[n]) return self->Fail("second reply on " + std::string(subject));
    self->acked[n] = 1;
    // A PubAck: {"stream":"BENCH", "seq":N} (nats-server puts a space after the comma).
    uint64_t seq = 0;
    if (payload.find("\"error\"") != std::string_view::npos || payload.find("\"stream\":\"BENCH\"") == std::string_view::npos ||
        !JsonUint(payload, "seq", &seq))
      return self->Fail("invalid PubAck for publish " + std::to_string(n) + ": " + std::string(payload.substr(0, 300)));
    if (seq != n + 1)
      return self->Fail("PubAck for publish " + std::to_string(n) + " has seq " + std::to_string(seq) + ", expected " +
                        std::to_string(n + 1));
    ++self->acks;
  }
};

std::string Frame(std::string_view subject, std::string_view reply, std::string_view payload) {
  std::string f = "PUB ";
  f += subject;
  f += ' ';
  f += reply;
  f += ' ';
  f += std::to_string(payload.size());
  f += "\r\n";
  f += payload;
  f += "\r\n";
  return f;
}

// Sends an API request and waits for the reply (blocking connection).
bool ApiRequest(Conn& c, AckState& st, const std::string& subject, const std::string& body, int timeout_ms,
                std::string* error) {
  st.api_pending = true;
  st.api_reply.clear();
  const uint64_t want = c.parser.msgs + 1;
  if (!c.WriteAll(Frame(subject, kApiInbox, body)) || !c.ReadUntilMsgs(want, timeout_ms)) {
    *error = subject + ": " + c.error;
    return false;
  }
  if (st.api_pending) {
    *error = subject + ": no reply (" + st.error + ")";
    return false;
  }
  if (st.api_reply.find("\"error\"") != std::string::npos) {
    *error = subject + ": " + st.api_reply.substr(0, 300);
    return false;
  }
  return true;
}

// Appends the frame of publish `n` (reply inbox _INBOX.jsb.<n>) to `out`.
void AppendPub(std::string& out, uint64_t n, const std::string& size_and_payload) {
  char num[24];
  const int len = std::snprintf(num, sizeof(num), "%llu", static_cast<unsigned long long>(n));
  out += "PUB ";
  out += kSubject;
  out += ' ';
  out += kInboxPrefix;
  out.append(num, static_cast<size_t>(len));
  out += ' ';
  out += size_and_payload;
}

// Publishes n = first .. first+count-1 keeping at most `window` un-acknowledged,
// until every one is acknowledged. The connection is non-blocking meanwhile.
bool AsyncPublish(Conn& c, AckState& st, uint64_t first, uint64_t count, size_t window,
                  const std::string& size_and_payload, const RunSettings& s, std::string* error) {
  static const std::string kPong = "PONG\r\n";
  const uint64_t end = first + count;
  uint64_t next = first;
  std::string out;
  out.reserve(s.chunk_bytes + size_and_payload.size() + 64);
  size_t off = 0;
  c.SetNonBlocking(true);
  c.auto_pong = false;  // a PONG must not land inside a half-written frame
  auto last_progress = Clock::now();
  bool ok = true;
  while (ok) {
    bool want_write = false;
    while (true) {
      if (off == out.size()) {
        out.clear();
        off = 0;
        if (c.parser.pings > 0) {
          --c.parser.pings;
          out += kPong;
        }
        // st.acks counts the warm-up's acks too: outstanding = next - acks.
        while (next < end && next - st.acks < window && out.size() < s.chunk_bytes)
          AppendPub(out, next++, size_and_payload);
        if (out.empty()) break;
      }
      ssize_t w = ::send(c.fd(), out.data() + off, out.size() - off, MSG_NOSIGNAL);
      if (w > 0) {
        off += static_cast<size_t>(w);
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        want_write = true;
        break;
      }
      *error = std::string("publish write failed: ") + std::strerror(errno);
      ok = false;
      break;
    }
    if (!ok) break;
    if (st.acks >= end && off == out.size()) break;
    pollfd p{c.fd(), static_cast<short>(POLLIN | (want_write ? POLLOUT : 0)), 0};
    int r = ::poll(&p, 1, 200);
    if (r < 0 && errno != EINTR) {
      *error = "poll failed";
      ok = false;
      break;
    }
    if (r > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP))) {
      ssize_t n = c.ReadOnce();
      if (n > 0) {
        last_progress = Clock::now();
      } else if (n != -1) {
        *error = "connection: " + c.error;
        ok = false;
        break;
      }
      if (!st.error.empty()) {
        *error = st.error;
        ok = false;
        break;
      }
    } else if (r > 0) {
      last_progress = Clock::now();  // writable
    } else if (Clock::now() - last_progress > std::chrono::milliseconds(s.stall_timeout_ms)) {
      *error = "stalled: published " + std::to_string(next - first) + ", acknowledged " +
               std::to_string(st.acks - std::min(st.acks, first)) + " of " + std::to_string(count);
      ok = false;
    }
  }
  c.SetNonBlocking(false);
  c.auto_pong = true;
  if (ok && c.parser.pings > 0) {
    c.parser.pings = 0;
    if (!c.WriteAll(kPong)) {
      *error = "connection: " + c.error;
      return false;
    }
  }
  return ok;
}

// Publishes n = first .. first+count-1 one at a time, waiting for each PubAck;
// appends each round trip in microseconds to `lat_us` when given.
bool SyncPublish(Conn& c, AckState& st, uint64_t first, uint64_t count, const std::string& size_and_payload,
                 const RunSettings& s, std::vector<double>* lat_us, std::string* error) {
  std::string frame;
  for (uint64_t n = first; n < first + count; ++n) {
    frame.clear();
    AppendPub(frame, n, size_and_payload);
    const uint64_t want = c.parser.msgs + 1;
    const auto t0 = Clock::now();
    if (!c.WriteAll(frame) || !c.ReadUntilMsgs(want, s.stall_timeout_ms)) {
      *error = "publish " + std::to_string(n) + ": " + c.error;
      return false;
    }
    const auto t1 = Clock::now();
    if (!st.error.empty() || st.acks != n + 1) {
      *error = st.error.empty() ? "publish " + std::to_string(n) + ": no valid PubAck" : st.error;
      return false;
    }
    if (lat_us) lat_us->push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  return true;
}

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

}  // namespace

std::vector<Workload> JetStreamWorkloads() {
  std::vector<Workload> v;
  Workload disk;
  disk.name = "disk";
  disk.title = "raw disk under the servers' temp dirs: 1 MiB writes + fdatasync each (the store's write per "
               "sync round), then 4 KiB writes + fdatasync; each the median of 5 samples of 0.3 s (no server)";
  disk.kind = WorkloadKind::kDisk;
  disk.count = 1;
  v.push_back(disk);
  auto js = [&](std::string name, std::string title, WorkloadKind kind, std::string storage, size_t payload,
                uint64_t count, uint64_t warmup) {
    Workload w;
    w.name = std::move(name);
    w.title = std::move(title);
    w.kind = kind;
    w.storage = std::move(storage);
    w.payload = payload;
    w.count = count;
    w.warmup = warmup;
    w.max_outstanding = kind == WorkloadKind::kJsAsync ? 4096 : 1;
    v.push_back(w);
  };
  js("js-async128", "async publish, 128 B, file stream, 4,096 PubAcks outstanding", WorkloadKind::kJsAsync, "file",
     128, 200'000, 4'000);
  js("js-async4k", "async publish, 4 KiB, file stream, 4,096 PubAcks outstanding", WorkloadKind::kJsAsync, "file",
     4096, 60'000, 1'200);
  js("js-async128-mem", "async publish, 128 B, memory stream, 4,096 PubAcks outstanding", WorkloadKind::kJsAsync,
     "memory", 128, 200'000, 4'000);
  js("js-sync128", "sync publish (one at a time, wait for the PubAck), 128 B, file stream", WorkloadKind::kJsSync,
     "file", 128, 4'000, 400);
  js("js-sync128-mem", "sync publish (one at a time, wait for the PubAck), 128 B, memory stream",
     WorkloadKind::kJsSync, "memory", 128, 8'000, 800);
  // Both servers sync on an interval (nats-server 2.9.10 every 2 minutes by
  // default; Sluice told the same): the acknowledgement waits for no fsync.
  js("js-sync128-interval",
     "sync publish (one at a time, wait for the PubAck), 128 B, file stream, Sluice with "
     "`sync_interval: \"2m\"` (nats-server 2.9.10's default: acks before the fsync)",
     WorkloadKind::kJsSync, "file", 128, 8'000, 800);
  v.back().a_sync_interval = "2m";
  return v;
}

RunResult RunJetStream(const Workload& w, int port, pid_t pid, const RunSettings& s) {
  RunResult r;
  Conn c;
  if (!c.Open(port, &r.error)) return r;
  AckState st;
  st.acked.assign(w.warmup + w.count, 0);
  c.parser.on_payload = &AckState::OnPayload;
  c.parser.payload_ctx = &st;
  if (!c.WriteAll("SUB _INBOX.jsb.* 1\r\n") || !c.Flush()) {
    r.error = "inbox subscribe: " + c.error;
    return r;
  }
  const std::string config = "{\"name\":\"" + std::string(kStream) + "\",\"subjects\":[\"" + std::string(kSubject) +
                             "\"],\"storage\":\"" + w.storage + "\"}";
  if (!ApiRequest(c, st, "$JS.API.STREAM.CREATE." + std::string(kStream), config, 10000, &r.error)) {
    r.error = "stream create: " + r.error;
    return r;
  }
  const std::string size_and_payload =
      std::to_string(w.payload) + "\r\n" + std::string(w.payload, 'x') + "\r\n";
  const bool async = w.kind == WorkloadKind::kJsAsync;
  const size_t window = static_cast<size_t>(std::max(1, w.max_outstanding));
  std::vector<double> lat_us;
  bool ok = async ? AsyncPublish(c, st, 0, w.warmup, window, size_and_payload, s, &r.error)
                  : SyncPublish(c, st, 0, w.warmup, size_and_payload, s, nullptr, &r.error);
  if (!ok) {
    r.error = "warm-up: " + r.error;
    return r;
  }
  lat_us.reserve(w.count);
  const CpuSnapshot cpu0 = CpuSnapshot::Take(pid);
  const auto t0 = Clock::now();
  ok = async ? AsyncPublish(c, st, w.warmup, w.count, window, size_and_payload, s, &r.error)
             : SyncPublish(c, st, w.warmup, w.count, size_and_payload, s, &lat_us, &r.error);
  const auto t1 = Clock::now();
  const CpuSnapshot cpu1 = CpuSnapshot::Take(pid);
  if (!ok) return r;
  r.rss_kb = ProcessRssKb(pid);
  // Everything acknowledged must be in the stream.
  if (!ApiRequest(c, st, "$JS.API.STREAM.INFO." + std::string(kStream), "", 10000, &r.error)) {
    r.error = "stream info: " + r.error;
    return r;
  }
  uint64_t stored = 0;
  const size_t state = st.api_reply.find("\"state\":");
  if (state == std::string::npos || !JsonUint(std::string_view(st.api_reply).substr(state), "messages", &stored) ||
      stored != w.warmup + w.count) {
    r.error = "stream info after the run: expected " + std::to_string(w.warmup + w.count) + " messages, got " +
              st.api_reply.substr(0, 300);
    return r;
  }
  r.msgs = w.count;
  r.delivered = st.acks - w.warmup;
  if (async) {
    r.seconds = Seconds(t0, t1);
  } else {
    std::sort(lat_us.begin(), lat_us.end());
    double total = 0;
    for (double v : lat_us) total += v;
    r.seconds = total / 1e6;
    r.p50_us = Percentile(lat_us, 0.50);
    r.p99_us = Percentile(lat_us, 0.99);
    r.p999_us = Percentile(lat_us, 0.999);
  }
  r.ok = SetCpu(r, cpu0, cpu1);
  if (!r.ok) r.error = "server process vanished";
  return r;
}

RunResult RunDisk(const Workload&, const std::string& parent) {
  RunResult r;
  std::string tmpl = parent + "/sluice-bench-disk-XXXXXX";
  if (!::mkdtemp(tmpl.data())) {
    r.error = "mkdtemp in " + parent + ": " + std::strerror(errno);
    return r;
  }
  const std::string dir = tmpl;
  const CpuSnapshot cpu0 = CpuSnapshot::Take(::getpid());
  const auto start = Clock::now();
  // Writes `block` repeatedly to a new file, each write followed by fdatasync,
  // for about `seconds`; returns bytes and writes done and the time taken.
  std::vector<double> sync_us;  // each fdatasync's latency in the 4 KiB pass
  auto measure = [&](const std::string& name, size_t block_size, double seconds, uint64_t* bytes, uint64_t* writes,
                     double* took, std::vector<double>* lat, double* cpu_ms = nullptr) -> bool {
    const std::string path = dir + "/" + name;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      r.error = "open " + path + ": " + std::strerror(errno);
      return false;
    }
    std::string block(block_size, '\0');
    for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>('a' + (i * 7919) % 26);
    *bytes = 0;
    *writes = 0;
    // This process's CPU (the write and fdatasync syscalls run in it), to the ns.
    auto process_cpu_ms = [] {
      timespec ts{};
      ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
    };
    const double c0 = process_cpu_ms();
    const auto t0 = Clock::now();
    do {
      const auto w0 = Clock::now();
      if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size()) || ::fdatasync(fd) != 0) {
        r.error = "write/fdatasync " + path + ": " + std::strerror(errno);
        ::close(fd);
        return false;
      }
      if (lat) lat->push_back(std::chrono::duration<double, std::micro>(Clock::now() - w0).count());
      *bytes += block.size();
      ++*writes;
    } while (Seconds(t0, Clock::now()) < seconds);
    *took = Seconds(t0, Clock::now());
    if (cpu_ms) *cpu_ms = process_cpu_ms() - c0;
    ::close(fd);
    ::unlink(path.c_str());
    return true;
  };
  // Each figure is the median of kDiskSamples short samples (one sample can
  // catch the host flushing or another guest's burst: a single 1 s sample
  // varied 3x between runs). Sequential writes use the size the store
  // writes per sync round (its 1 MiB write buffer), each followed by
  // fdatasync, like the store's rounds under load.
  constexpr int kDiskSamples = 5;
  constexpr size_t kStoreRoundBytes = 1u << 20;  // src/jetstream/stream.cc: write_buffer_bytes
  uint64_t bytes = 0, writes = 0;
  double took = 0;
  bool ok = true;
  std::vector<double> mbs, rates, cpu_us;
  for (int i = 0; ok && i < kDiskSamples; ++i) {
    ok = measure("seq.bin", kStoreRoundBytes, 0.3, &bytes, &writes, &took, nullptr);
    if (ok) mbs.push_back(bytes / took / 1e6);
  }
  for (int i = 0; ok && i < kDiskSamples; ++i) {
    double cpu_ms = 0;
    ok = measure("fsync.bin", 4096, 0.3, &bytes, &writes, &took, &sync_us, &cpu_ms);
    if (ok) rates.push_back(writes / took);
    if (ok && writes > 0) cpu_us.push_back(cpu_ms * 1000.0 / static_cast<double>(writes));
  }
  if (ok) {
    std::sort(mbs.begin(), mbs.end());
    std::sort(rates.begin(), rates.end());
    r.disk_mbs = mbs[mbs.size() / 2];
    r.fsyncs_per_s = rates[rates.size() / 2];
    std::sort(cpu_us.begin(), cpu_us.end());
    if (!cpu_us.empty()) r.fsync_cpu_us = cpu_us[cpu_us.size() / 2];
    std::sort(sync_us.begin(), sync_us.end());
    r.p50_us = Percentile(sync_us, 0.50);  // of one 4 KiB write + fdatasync, over all samples
    r.p99_us = Percentile(sync_us, 0.99);
    r.p999_us = Percentile(sync_us, 0.999);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  const CpuSnapshot cpu1 = CpuSnapshot::Take(::getpid());
  if (!ok) return r;
  r.seconds = Seconds(start, Clock::now());
  r.msgs = 1;
  // No server here: everything but this process is "other".
  r.bench_cpu_ms = cpu1.self - cpu0.self;
  r.other_cpu_ms = std::max(0.0, (cpu1.system - cpu0.system) - r.bench_cpu_ms);
  r.niced_cpu_ms = cpu1.niced - cpu0.niced;
  r.ok = true;
  return r;
}

}  // namespace sluice::bench
