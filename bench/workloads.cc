#include "workloads.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <thread>

#include "nats_client.h"
#include "proc_stats.h"

namespace sluice::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kSubject = "bench.subject";
constexpr const char* kService = "bench.service";

std::vector<std::unique_ptr<Conn>> OpenConns(int n, int port, std::string* error) {
  std::vector<std::unique_ptr<Conn>> out;
  for (int i = 0; i < n; ++i) {
    auto c = std::make_unique<Conn>();
    if (!c->Open(port, error)) return {};
    out.push_back(std::move(c));
  }
  return out;
}

std::string PubFrame(const std::string& subject, const std::string& reply, size_t payload) {
  std::string f = "PUB " + subject + " ";
  if (!reply.empty()) f += reply + " ";
  f += std::to_string(payload) + "\r\n";
  f.append(payload, 'x');
  f += "\r\n";
  return f;
}

// Bytes one delivered message occupies on a subscriber's socket (MSG line + payload).
size_t MsgWireSize(size_t payload) { return std::string("MSG ").size() + std::string(kSubject).size() + 3 + 8 + payload + 4; }

// Publishes `count` messages on `pub` and waits until the subscribers have them all
// (or, without subscribers, until the server answered a PING sent after the last one).
// The publisher never runs more than `window` messages ahead of the slowest
// subscriber (of the sum of the members for a queue group).
bool Flow(Conn& pub, std::vector<std::unique_ptr<Conn>>& subs, bool queue, size_t payload, uint64_t count,
          const RunSettings& s, std::string* error) {
  const std::string one = PubFrame(kSubject, "", payload);
  const uint64_t batch = std::max<uint64_t>(1, s.chunk_bytes / one.size());
  uint64_t window = std::max<uint64_t>(4 * batch, s.window_bytes / MsgWireSize(payload));
  std::string full;
  full.reserve(one.size() * batch);
  for (uint64_t i = 0; i < batch; ++i) full += one;
  std::string tail;
  for (uint64_t i = 0; i < count % batch; ++i) tail += one;

  for (auto& c : subs) c->parser.msgs = 0;
  auto floor = [&]() -> uint64_t {
    if (subs.empty()) return UINT64_MAX / 2;
    uint64_t v = queue ? 0 : UINT64_MAX;
    for (auto& c : subs) v = queue ? v + c->parser.msgs : std::min(v, c->parser.msgs);
    return v;
  };
  const uint64_t want_each = queue ? 0 : count;
  auto subscribers_done = [&]() {
    if (subs.empty()) return true;
    if (queue) return floor() >= count;
    for (auto& c : subs)
      if (c->parser.msgs < want_each) return false;
    return true;
  };

  static const std::string kPong = "PONG\r\n";
  pub.SetNonBlocking(true);
  pub.auto_pong = false;  // a PONG must not land inside a half-written chunk
  for (auto& c : subs) c->SetNonBlocking(true);
  uint64_t started = 0;
  const std::string* cur = nullptr;
  size_t off = 0;
  std::vector<pollfd> fds(subs.size() + 1);
  auto last_progress = Clock::now();
  bool ok = true;
  while (true) {
    bool want_write = false;
    while (true) {
      if (!cur && pub.parser.pings > 0) {
        --pub.parser.pings;
        cur = &kPong;
        off = 0;
      }
      if (!cur) {
        if (started >= count) break;
        const uint64_t n = std::min(batch, count - started);
        if (started + n > floor() + window) break;
        cur = n == batch ? &full : &tail;
        off = 0;
        started += n;
      }
      ssize_t w = ::send(pub.fd(), cur->data() + off, cur->size() - off, MSG_NOSIGNAL);
      if (w > 0) {
        off += static_cast<size_t>(w);
        if (off == cur->size()) cur = nullptr;
        last_progress = Clock::now();
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        want_write = true;
        break;
      }
      *error = "publisher write failed: " + std::string(pub.error.empty() ? std::strerror(errno) : pub.error);
      ok = false;
      break;
    }
    if (!ok) break;
    if (started >= count && !cur && subscribers_done()) break;

    fds[0] = {pub.fd(), static_cast<short>(POLLIN | (want_write ? POLLOUT : 0)), 0};
    for (size_t i = 0; i < subs.size(); ++i) fds[i + 1] = {subs[i]->fd(), POLLIN, 0};
    int r = ::poll(fds.data(), fds.size(), 200);
    if (r < 0 && errno != EINTR) {
      *error = "poll failed";
      ok = false;
      break;
    }
    if (r <= 0) {
      if (Clock::now() - last_progress > std::chrono::milliseconds(s.stall_timeout_ms)) {
        *error = "stalled: published " + std::to_string(started) + ", slowest subscriber at " +
                 std::to_string(subs.empty() ? 0 : floor());
        ok = false;
        break;
      }
      continue;
    }
    for (size_t i = 0; i < subs.size() && ok; ++i) {
      if (!(fds[i + 1].revents & (POLLIN | POLLERR | POLLHUP))) continue;
      ssize_t n = subs[i]->ReadOnce();
      if (n > 0) {
        last_progress = Clock::now();
      } else if (n != -1) {
        *error = "subscriber " + std::to_string(i) + ": " + subs[i]->error;
        ok = false;
      }
    }
    if (ok && (fds[0].revents & (POLLIN | POLLERR | POLLHUP))) {
      ssize_t n = pub.ReadOnce();
      if (n != -1 && n <= 0) {
        *error = "publisher: " + pub.error;
        ok = false;
      } else if (n > 0 && pub.parser.msgs > 0) {
        *error = "publisher got a message";
        ok = false;
      }
    }
    if (!ok) break;
  }
  pub.SetNonBlocking(false);
  pub.auto_pong = true;
  for (auto& c : subs) c->SetNonBlocking(false);
  if (!ok) return false;
  if (pub.parser.pings > 0) {  // answer a PING that came after the last chunk
    pub.parser.pings = 0;
    if (!pub.WriteAll(kPong)) {
      *error = "publisher: " + pub.error;
      return false;
    }
  }
  if (subs.empty() && !pub.Flush(s.stall_timeout_ms)) {
    *error = "publisher flush: " + pub.error;
    return false;
  }
  return true;
}

RunResult RunThroughput(const Workload& w, int port, pid_t pid, const RunSettings& s) {
  RunResult r;
  auto pubs = OpenConns(1, port, &r.error);
  if (pubs.empty()) return r;
  auto subs = OpenConns(w.subscribers, port, &r.error);
  if (w.subscribers > 0 && subs.empty()) return r;
  for (size_t i = 0; i < subs.size(); ++i) {
    std::string sub = std::string("SUB ") + kSubject + (w.queue ? " bench.queue " : " ") + std::to_string(i + 1) + "\r\n";
    if (!subs[i]->WriteAll(sub) || !subs[i]->Flush()) {
      r.error = "subscribe: " + subs[i]->error;
      return r;
    }
  }
  if (w.warmup > 0 && !Flow(*pubs[0], subs, w.queue, w.payload, w.warmup, s, &r.error)) {
    r.error = "warm-up: " + r.error;
    return r;
  }
  const CpuSnapshot cpu0 = CpuSnapshot::Take(pid);
  const auto t0 = Clock::now();
  if (!Flow(*pubs[0], subs, w.queue, w.payload, w.count, s, &r.error)) return r;
  const auto t1 = Clock::now();
  const CpuSnapshot cpu1 = CpuSnapshot::Take(pid);
  r.seconds = std::chrono::duration<double>(t1 - t0).count();
  r.rss_kb = ProcessRssKb(pid);
  r.msgs = w.count;
  for (auto& c : subs) r.delivered += c->parser.msgs;
  r.ok = SetCpu(r, cpu0, cpu1);
  if (!r.ok) r.error = "server process vanished";
  return r;
}

// The responder echoes a reply of the same size to each request's reply subject.
struct Responder {
  Conn* conn;
  std::string payload;
  std::string out;
  std::string error;
  static void OnMsg(void* ctx, std::string_view args) {
    auto* self = static_cast<Responder*>(ctx);
    // args: <subject> <sid> <reply> <size>
    std::string_view tok[4];
    int n = 0;
    size_t i = 0;
    while (i < args.size() && n < 4) {
      while (i < args.size() && args[i] == ' ') ++i;
      size_t b = i;
      while (i < args.size() && args[i] != ' ') ++i;
      if (i > b) tok[n++] = args.substr(b, i - b);
    }
    if (n != 4) return;  // no reply subject: nothing to answer
    self->out += "PUB ";
    self->out += tok[2];
    self->out += ' ';
    self->out += self->payload;
  }
  void Run() {
    while (true) {
      ssize_t n = conn->ReadOnce(&Responder::OnMsg, this);
      if (n == 0 || n == -2) return;  // closed (the run is over) or failed
      if (!out.empty()) {
        if (!conn->WriteAll(out)) return;
        out.clear();
      }
    }
  }
};

RunResult RunRequestReply(const Workload& w, int port, pid_t pid, const RunSettings& s) {
  RunResult r;
  auto conns = OpenConns(2, port, &r.error);
  if (conns.empty()) return r;
  Conn& requester = *conns[0];
  Conn& service = *conns[1];
  if (!service.WriteAll(std::string("SUB ") + kService + " 1\r\n") || !service.Flush()) {
    r.error = "responder subscribe: " + service.error;
    return r;
  }
  if (!requester.WriteAll("SUB _INBOX.bench.* 1\r\n") || !requester.Flush()) {
    r.error = "inbox subscribe: " + requester.error;
    return r;
  }
  Responder responder{&service, std::to_string(w.payload) + "\r\n" + std::string(w.payload, 'y') + "\r\n", {}, {}};
  std::thread thread([&] { responder.Run(); });

  const std::string payload(w.payload, 'x');
  std::vector<double> rtt_us;
  rtt_us.reserve(w.count);
  CpuSnapshot cpu0{};
  std::string frame;
  bool ok = true;
  for (uint64_t i = 0; i < w.warmup + w.count; ++i) {
    if (i == w.warmup) cpu0 = CpuSnapshot::Take(pid);
    frame = std::string("PUB ") + kService + " _INBOX.bench." + std::to_string(i) + " " + std::to_string(w.payload) +
            "\r\n" + payload + "\r\n";
    const uint64_t want = requester.parser.msgs + 1;
    const auto t0 = Clock::now();
    if (!requester.WriteAll(frame) || !requester.ReadUntilMsgs(want, s.stall_timeout_ms)) {
      r.error = "request " + std::to_string(i) + ": " + requester.error;
      ok = false;
      break;
    }
    const auto t1 = Clock::now();
    if (i >= w.warmup) rtt_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  const CpuSnapshot cpu1 = CpuSnapshot::Take(pid);
  ::shutdown(service.fd(), SHUT_RDWR);
  thread.join();
  if (!ok) return r;
  std::sort(rtt_us.begin(), rtt_us.end());
  auto pct = [&](double p) { return Percentile(rtt_us, p); };
  r.msgs = w.count;
  r.delivered = w.count;
  double total = 0;
  for (double v : rtt_us) total += v;
  r.seconds = total / 1e6;
  r.p50_us = pct(0.50);
  r.p99_us = pct(0.99);
  r.p999_us = pct(0.999);
  r.rss_kb = ProcessRssKb(pid);
  r.ok = SetCpu(r, cpu0, cpu1);
  if (!r.ok) r.error = "server process vanished";
  return r;
}

RunResult RunMemory(const Workload& w, int port, pid_t pid, const RunSettings&) {
  RunResult r;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  r.rss_idle_kb = ProcessRssKb(pid);
  std::vector<std::unique_ptr<Conn>> conns;
  conns.reserve(w.idle_connections);
  const double cpu0 = ProcessCpuMs(pid);
  for (int i = 0; i < w.idle_connections; ++i) {
    auto c = std::make_unique<Conn>(4096);
    if (!c->Open(port, &r.error)) {  // CONNECT + PING, waits for the PONG
      r.error = "connection " + std::to_string(i) + ": " + r.error;
      return r;
    }
    conns.push_back(std::move(c));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  r.rss_conns_kb = ProcessRssKb(pid);
  r.cpu_ms = ProcessCpuMs(pid) - cpu0;
  r.msgs = w.idle_connections;
  r.ok = r.rss_idle_kb > 0 && r.rss_conns_kb > 0;
  if (!r.ok) r.error = "could not read VmRSS";
  return r;
}

}  // namespace

CpuSnapshot CpuSnapshot::Take(pid_t pid) {
  return {ProcessCpuMs(pid), ProcessCpuMs(::getpid()), SystemBusyMs(), SystemNicedMs()};
}

bool SetCpu(RunResult& r, const CpuSnapshot& a, const CpuSnapshot& b) {
  if (a.server < 0 || b.server < 0) return false;
  r.cpu_ms = b.server - a.server;
  r.bench_cpu_ms = b.self - a.self;
  r.other_cpu_ms = std::max(0.0, (b.system - a.system) - r.cpu_ms - r.bench_cpu_ms);
  r.niced_cpu_ms = b.niced - a.niced;
  return true;
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(p * sorted.size()));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

std::vector<Workload> DefaultWorkloads() {
  std::vector<Workload> v;
  auto tp = [&](std::string name, std::string title, int subs, bool queue, size_t payload, uint64_t count) {
    Workload w;
    w.name = std::move(name);
    w.title = std::move(title);
    w.kind = WorkloadKind::kThroughput;
    w.subscribers = subs;
    w.queue = queue;
    w.payload = payload;
    w.count = count;
    w.warmup = std::max<uint64_t>(1000, count / 50);
    v.push_back(w);
  };
  tp("pub16", "publish only, 16 B, no subscribers", 0, false, 16, 20'000'000);
  tp("pubsub16", "1 publisher -> 1 subscriber, 16 B", 1, false, 16, 5'000'000);
  tp("pubsub1k", "1 publisher -> 1 subscriber, 1 KiB", 1, false, 1024, 1'000'000);
  tp("fanout4", "1 publisher -> 4 subscribers, 16 B", 4, false, 16, 2'000'000);
  tp("queue4", "1 publisher -> queue group of 4, 16 B", 4, true, 16, 4'000'000);
  Workload rr;
  rr.name = "reqrep";
  rr.title = "request/reply round trip, 16 B, 1 requester, 1 responder";
  rr.kind = WorkloadKind::kRequestReply;
  rr.payload = 16;
  rr.count = 20'000;
  rr.warmup = 2'000;
  v.push_back(rr);
  Workload mem;
  mem.name = "rss";
  mem.title = "server RSS idle, then with 1,000 idle connections";
  mem.kind = WorkloadKind::kMemory;
  mem.idle_connections = 1000;
  v.push_back(mem);
  for (auto& w : JetStreamWorkloads()) v.push_back(w);
  for (auto& w : JetStreamConsumeWorkloads()) v.push_back(w);
  return v;
}

RunResult RunWorkload(const Workload& w, int port, pid_t pid, const RunSettings& settings) {
  switch (w.kind) {
    case WorkloadKind::kThroughput:
      return RunThroughput(w, port, pid, settings);
    case WorkloadKind::kRequestReply:
      return RunRequestReply(w, port, pid, settings);
    case WorkloadKind::kMemory:
      return RunMemory(w, port, pid, settings);
    case WorkloadKind::kJsAsync:
    case WorkloadKind::kJsSync:
      return RunJetStream(w, port, pid, settings);
    case WorkloadKind::kJsConsume:
      return RunJsConsume({w}, port, pid, settings).front();
    case WorkloadKind::kJsConsumerMem:
      return RunJsConsumerMemory(w, port, pid, settings);
    case WorkloadKind::kDisk:
      break;  // no server: main.cc calls RunDisk
  }
  return {};
}

}  // namespace sluice::bench
