// sluice bench pub|sub|pubsub|req <subject> [--msgs N] [--size N] [--pub N] [--sub N] [--no-progress]
// (bench js-pub is in bench_js_command.cc)
//
//   pub     N publishers on their own connections send --msgs messages between them
//   sub     N subscribers each wait for --msgs messages (from someone else's publishers)
//   pubsub  both in one process: subscribers first, then publishers
//   req     --pub requesters send --msgs requests between them, one at a time each,
//           answered by --sub responders in a queue group (--sub 0: answered by
//           responders already running, e.g. `sluice reply`); latency percentiles
//
// Rates are payload messages and bytes per second; publishers are timed from
// their first publish to the flush after their last, subscribers from their
// first message to their last.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <latch>
#include <memory>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "bench_stats.h"
#include "body_template.h"
#include "commands.h"
#include "connection.h"
#include "duration.h"
#include "message_output.h"
#include "progress_line.h"
#include "signals.h"

namespace sluice::cli {
namespace {

using Clock = std::chrono::steady_clock;

enum class BenchKind { kPub, kSub, kPubSub, kReq };

const char* KindName(BenchKind k) {
  switch (k) {
    case BenchKind::kPub: return "pub";
    case BenchKind::kSub: return "sub";
    case BenchKind::kPubSub: return "pubsub";
    case BenchKind::kReq: return "req";
  }
  return "?";
}

struct BenchOptions {
  BenchKind kind = BenchKind::kPub;
  std::string subject;
  uint64_t msgs = 100000;
  uint64_t size = 128;
  uint64_t pubs = 1;
  uint64_t subs = 1;
  bool no_progress = false;
};

// n split into k shares, the first n % k of them one larger.
std::vector<uint64_t> Split(uint64_t n, uint64_t k) {
  std::vector<uint64_t> out(k, n / k);
  for (uint64_t i = 0; i < n % k; ++i) ++out[i];
  return out;
}

struct alignas(64) Counter {
  std::atomic<uint64_t> value{0};
};

std::string Plural(uint64_t n, const char* word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

// --- publishers and requesters: one thread and one connection each ---

class ClientThreads {
 public:
  ClientThreads(const GlobalOptions& global, uint64_t clients, uint64_t total, const char* name, bool send_asap)
      : shares_(Split(total, clients)), counters_(clients), results_(clients), errors_(clients) {
    for (uint64_t i = 0; i < clients; ++i) conns_.push_back(Connection::Open(global, {.name = name, .long_running = false, .send_asap = send_asap}));
  }

  uint64_t Done() const {
    uint64_t sum = 0;
    for (auto& c : counters_) sum += c.value.load(std::memory_order_relaxed);
    return sum;
  }

  // Runs body(i, connection, share, counter, result) on one thread per client,
  // all released together; returns the wall time from release to the last end.
  template <typename Body>
  std::chrono::nanoseconds Run(Body body) {
    std::latch start(static_cast<std::ptrdiff_t>(conns_.size()) + 1);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < conns_.size(); ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        try {
          body(i, conns_[i].get(), shares_[i], counters_[i].value, results_[i]);
        } catch (const std::exception& e) {
          errors_[i] = e.what();
        }
      });
    }
    auto t0 = Clock::now();
    start.count_down();
    for (auto& t : threads) t.join();
    auto wall = Clock::now() - t0;
    for (auto& e : errors_) {
      if (!e.empty()) throw CliError(e);
    }
    return std::chrono::duration_cast<std::chrono::nanoseconds>(wall);
  }

  const std::vector<Throughput>& results() const { return results_; }

 private:
  std::vector<Connection> conns_;
  std::vector<uint64_t> shares_;
  std::vector<Counter> counters_;
  std::vector<Throughput> results_;
  std::vector<std::string> errors_;
};

void PublishShare(natsConnection* nc, const std::string& subject, const std::string& payload, uint64_t share,
                  std::atomic<uint64_t>& counter, Throughput& result) {
  auto t0 = Clock::now();
  for (uint64_t i = 0; i < share; ++i) {
    natsStatus s = natsConnection_Publish(nc, subject.c_str(), payload.data(), static_cast<int>(payload.size()));
    if (s != NATS_OK) throw CliError(fmt::format("publish to \"{}\": {}", subject, NatsErrorText(s)));
    counter.store(i + 1, std::memory_order_relaxed);
  }
  natsStatus s = natsConnection_FlushTimeout(nc, 120000);
  if (s != NATS_OK) throw CliError(fmt::format("flush after publishing: {}", NatsErrorText(s)));
  result = {share, share * payload.size(), std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0)};
}

// --- subscribers: nats.c delivers on its own thread per subscription ---

class SubscriberGroup {
 public:
  SubscriberGroup(const GlobalOptions& global, const BenchOptions& o, uint64_t expected) : subject_(o.subject) {
    try {
      Subscribe(global, o, expected);
    } catch (...) {
      Close();
      throw;
    }
  }

  ~SubscriberGroup() { Close(); }

  uint64_t Received() const {
    uint64_t sum = 0;
    for (auto& s : states_) sum += s->received.load(std::memory_order_relaxed);
    return sum;
  }

  // Until every subscriber has its messages. Throws when stopped by a signal
  // or when no message came for `stall` (after the first one, if
  // wait_for_first: a lone `bench sub` waits for its publisher as long as it takes).
  void Wait(std::chrono::nanoseconds stall, bool wait_for_first) {
    uint64_t last_seen = Received();
    auto last_change = Clock::now();
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      if (finished_ == states_.size()) return;
      cv_.wait_for(lock, std::chrono::milliseconds(200));
      if (finished_ == states_.size()) return;
      if (StopRequested()) throw CliError(fmt::format("interrupted after {} messages", WithThousands(Received())));
      uint64_t now_seen = Received();
      if (now_seen != last_seen) {
        last_seen = now_seen;
        last_change = Clock::now();
      } else if ((now_seen > 0 || !wait_for_first) && Clock::now() - last_change > stall) {
        std::string counts;
        for (auto& s : states_) {
          counts += fmt::format("{}{}", counts.empty() ? "" : ", ", WithThousands(s->received.load()));
        }
        throw CliError(fmt::format("no message on \"{}\" for {}: subscribers received {} of {} each", subject_,
                                   FormatDuration(stall), counts, WithThousands(states_.front()->expected)));
      }
    }
  }

  // Per subscriber, first message to last; call after Wait.
  std::vector<Throughput> Results() const {
    std::vector<Throughput> out;
    for (auto& s : states_) {
      out.push_back({s->received.load(std::memory_order_acquire), s->bytes,
                     std::chrono::duration_cast<std::chrono::nanoseconds>(s->last - s->first)});
    }
    return out;
  }

  Clock::time_point FirstAt() const {
    auto t = states_.front()->first;
    for (auto& s : states_) t = std::min(t, s->first);
    return t;
  }
  Clock::time_point LastAt() const {
    auto t = states_.front()->last;
    for (auto& s : states_) t = std::max(t, s->last);
    return t;
  }

 private:
  void Subscribe(const GlobalOptions& global, const BenchOptions& o, uint64_t expected) {
    const auto timeout = global.Timeout();
    for (uint64_t i = 0; i < o.subs; ++i) {
      states_.push_back(std::make_unique<State>(
          Connection::Open(global, {.name = "sluice bench sub", .long_running = true, .send_asap = false})));
      State* state = states_.back().get();
      state->group = this;
      state->expected = expected;
      natsSubscription* raw = nullptr;
      CheckNats(natsConnection_Subscribe(&raw, state->conn.get(), o.subject.c_str(), OnMsg, state),
                fmt::format("subscribe to \"{}\"", o.subject));
      state->sub.reset(raw);
      // Before AutoUnsubscribe, as nats.c asks: tells us when OnMsg can no longer run for this State.
      CheckNats(natsSubscription_SetOnCompleteCB(raw, OnComplete, state), "subscribe");
      state->subscribed = true;
      natsSubscription_SetPendingLimits(raw, -1, -1);
      CheckNats(natsSubscription_AutoUnsubscribe(raw, static_cast<int>(expected)), "auto-unsubscribe");
      state->conn.Flush(timeout);
    }
  }

  // Unsubscribes and waits until no delivery thread is in OnMsg any more, so
  // the States can be freed.
  void Close() {
    for (auto& s : states_) {
      if (s->sub) natsSubscription_Unsubscribe(s->sub.get());
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [this] {
      return std::all_of(states_.begin(), states_.end(), [](auto& s) { return !s->subscribed || s->completed; });
    });
  }

  static void OnComplete(void* closure) {
    auto* s = static_cast<State*>(closure);
    std::lock_guard<std::mutex> lock(s->group->mu_);
    s->completed = true;
    s->group->cv_.notify_all();
  }

  struct State {
    explicit State(Connection c) : conn(std::move(c)) {}
    Connection conn;
    SubscriptionPtr sub;
    SubscriberGroup* group = nullptr;
    uint64_t expected = 0;
    std::atomic<uint64_t> received{0};
    uint64_t bytes = 0;                 // written by the delivery thread only
    Clock::time_point first{}, last{};  // likewise; read after received == expected
    bool subscribed = false;            // OnComplete will be called (main thread only)
    bool completed = false;             // guarded by group->mu_
  };

  static void OnMsg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* s = static_cast<State*>(closure);
    auto now = Clock::now();
    uint64_t n = s->received.load(std::memory_order_relaxed) + 1;
    if (n <= s->expected) {
      if (n == 1) s->first = now;
      s->bytes += static_cast<uint64_t>(natsMsg_GetDataLength(msg));
      if (n == s->expected) s->last = now;
      s->received.store(n, std::memory_order_release);
      if (n == s->expected) {
        std::lock_guard<std::mutex> lock(s->group->mu_);
        ++s->group->finished_;
        s->group->cv_.notify_all();
      }
    }
    natsMsg_Destroy(msg);
  }

  std::string subject_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t finished_ = 0;  // guarded by mu_
  std::vector<std::unique_ptr<State>> states_;
};

// --- responders for bench req: echo the request back ---

void EchoRequest(natsConnection* nc, natsSubscription*, natsMsg* msg, void*) {
  const char* reply = natsMsg_GetReply(msg);
  if (reply != nullptr && *reply != '\0') {
    natsConnection_Publish(nc, reply, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
  }
  natsMsg_Destroy(msg);
}

class ResponderGroup {
 public:
  ResponderGroup(const GlobalOptions& global, const BenchOptions& o) {
    for (uint64_t i = 0; i < o.subs; ++i) {
      conns_.push_back(Connection::Open(global, {.name = "sluice bench responder", .long_running = true, .send_asap = true}));
      natsSubscription* raw = nullptr;
      CheckNats(natsConnection_QueueSubscribe(&raw, conns_.back().get(), o.subject.c_str(), "sluice-bench",
                                              EchoRequest, nullptr),
                fmt::format("subscribe to \"{}\"", o.subject));
      subs_.emplace_back(raw);
      natsSubscription_SetPendingLimits(raw, -1, -1);
      conns_.back().Flush(global.Timeout());
    }
  }
  ~ResponderGroup() {
    for (auto& s : subs_) natsSubscription_Unsubscribe(s.get());
  }

 private:
  std::vector<Connection> conns_;
  std::vector<SubscriptionPtr> subs_;
};

// --- output ---

Throughput Total(const std::vector<Throughput>& parts, std::chrono::nanoseconds wall) {
  Throughput t;
  for (auto& p : parts) {
    t.msgs += p.msgs;
    t.bytes += p.bytes;
  }
  t.elapsed = wall;
  return t;
}

nlohmann::ordered_json SideJson(const Throughput& total, const std::vector<Throughput>& parts) {
  nlohmann::ordered_json j = total.ToJson();
  j["clients"] = nlohmann::ordered_json::array();
  for (auto& p : parts) j["clients"].push_back(p.ToJson());
  return j;
}

std::string SideText(const char* label, const Throughput& total, const std::vector<Throughput>& parts) {
  std::string out = fmt::format("{:<10} {}\n", label, total.ToText());
  if (parts.size() > 1) {
    for (size_t i = 0; i < parts.size(); ++i) out += fmt::format("  [{}] {}\n", i + 1, parts[i].ToText());
  }
  return out;
}

// --- the four benchmarks ---

int RunBench(const GlobalOptions& global, const BenchOptions& o) {
  CheckSubject(o.subject);
  const auto timeout = global.Timeout();
  const bool publishes = o.kind == BenchKind::kPub || o.kind == BenchKind::kPubSub || o.kind == BenchKind::kReq;
  const bool subscribes = o.kind == BenchKind::kSub || o.kind == BenchKind::kPubSub;
  if (publishes && o.pubs == 0) throw UsageError("--pub must be at least 1");
  if (subscribes && o.subs == 0) throw UsageError("--sub must be at least 1");
  if (o.msgs > static_cast<uint64_t>(INT32_MAX)) throw UsageError("--msgs must be at most 2147483647");
  InstallStopSignals();

  const std::string payload = RandomAlphanumeric(o.size);
  nlohmann::ordered_json summary{{"bench", KindName(o.kind)}, {"subject", o.subject}, {"msgs", o.msgs}, {"size", o.size}};
  std::string text;
  std::string clients;
  if (publishes) {
    summary[o.kind == BenchKind::kReq ? "requesters" : "publishers"] = o.pubs;
    clients = Plural(o.pubs, o.kind == BenchKind::kReq ? "requester" : "publisher");
  }
  if (subscribes || (o.kind == BenchKind::kReq)) {
    summary[o.kind == BenchKind::kReq ? "responders" : "subscribers"] = o.subs;
    std::string s = o.kind == BenchKind::kReq
                        ? (o.subs == 0 ? std::string("external responders") : Plural(o.subs, "responder"))
                        : Plural(o.subs, "subscriber");
    clients += (clients.empty() ? "" : ", ") + s;
  }
  text = fmt::format("Bench {} on \"{}\": {} messages of {} bytes, {}\n", KindName(o.kind), o.subject,
                     WithThousands(o.msgs), WithThousands(o.size), clients);

  if (o.kind == BenchKind::kSub || o.kind == BenchKind::kPubSub) {
    SubscriberGroup subs(global, o, o.msgs);
    std::unique_ptr<ClientThreads> pubs;
    if (o.kind == BenchKind::kPubSub) pubs = std::make_unique<ClientThreads>(global, o.pubs, o.msgs, "sluice bench pub", false);
    if (o.kind == BenchKind::kSub) {
      std::fprintf(stderr, "Subscribing on %s, waiting for %s messages on each of %s\n", o.subject.c_str(),
                   WithThousands(o.msgs).c_str(), Plural(o.subs, "subscriber").c_str());
    }
    ProgressLine progress(o.kind == BenchKind::kSub ? "Receiving" : "Pub/Sub", o.msgs * o.subs,
                          [&] { return subs.Received(); }, !o.no_progress);
    std::chrono::nanoseconds pub_wall{0};
    auto t0 = Clock::now();
    if (pubs) {
      pub_wall = pubs->Run([&](size_t, natsConnection* nc, uint64_t share, std::atomic<uint64_t>& counter,
                               Throughput& result) { PublishShare(nc, o.subject, payload, share, counter, result); });
    }
    subs.Wait(timeout, /*wait_for_first=*/o.kind == BenchKind::kSub);
    progress.Stop();
    auto sub_parts = subs.Results();
    auto sub_total = Total(sub_parts, std::chrono::duration_cast<std::chrono::nanoseconds>(subs.LastAt() - subs.FirstAt()));
    if (pubs) {
      auto pub_total = Total(pubs->results(), pub_wall);
      summary["pub"] = SideJson(pub_total, pubs->results());
      text += SideText("Pub:", pub_total, pubs->results());
      // Everything that crossed the server, both ways, from the first publish to the last delivery.
      Throughput overall{pub_total.msgs + sub_total.msgs, pub_total.bytes + sub_total.bytes,
                         std::chrono::duration_cast<std::chrono::nanoseconds>(subs.LastAt() - t0)};
      summary["sub"] = SideJson(sub_total, sub_parts);
      summary["overall"] = overall.ToJson();
      text += SideText("Sub:", sub_total, sub_parts);
      text += SideText("Overall:", overall, {});
    } else {
      summary["sub"] = SideJson(sub_total, sub_parts);
      text += SideText("Sub:", sub_total, sub_parts);
    }
  } else if (o.kind == BenchKind::kPub) {
    ClientThreads pubs(global, o.pubs, o.msgs, "sluice bench pub", false);
    ProgressLine progress("Publishing", o.msgs, [&] { return pubs.Done(); }, !o.no_progress);
    auto wall = pubs.Run([&](size_t, natsConnection* nc, uint64_t share, std::atomic<uint64_t>& counter,
                             Throughput& result) { PublishShare(nc, o.subject, payload, share, counter, result); });
    progress.Stop();
    auto total = Total(pubs.results(), wall);
    summary["pub"] = SideJson(total, pubs.results());
    text += SideText("Pub:", total, pubs.results());
  } else {  // req
    ResponderGroup responders(global, o);
    ClientThreads requesters(global, o.pubs, o.msgs, "sluice bench req", true);
    std::vector<std::vector<int64_t>> samples(o.pubs);
    ProgressLine progress("Requesting", o.msgs, [&] { return requesters.Done(); }, !o.no_progress);
    const int64_t timeout_ms = ToMillis(timeout);
    auto wall = requesters.Run([&](size_t i, natsConnection* nc, uint64_t share, std::atomic<uint64_t>& counter,
                                   Throughput& result) {
      samples[i].reserve(share);
      auto t0 = Clock::now();
      for (uint64_t n = 0; n < share; ++n) {
        if (StopRequested()) throw CliError("interrupted");
        natsMsg* reply = nullptr;
        auto start = Clock::now();
        natsStatus s = natsConnection_Request(&reply, nc, o.subject.c_str(), payload.data(),
                                              static_cast<int>(payload.size()), timeout_ms);
        auto end = Clock::now();
        if (s == NATS_NO_RESPONDERS) throw CliError(fmt::format("no responders are listening on \"{}\"", o.subject));
        if (s == NATS_TIMEOUT) {
          throw CliError(fmt::format("no reply on \"{}\" within {}", o.subject, FormatDuration(timeout)));
        }
        if (s != NATS_OK) throw CliError(fmt::format("request on \"{}\": {}", o.subject, NatsErrorText(s)));
        natsMsg_Destroy(reply);
        samples[i].push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
        counter.store(n + 1, std::memory_order_relaxed);
      }
      result = {share, share * payload.size(), std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0)};
    });
    progress.Stop();
    std::vector<int64_t> all;
    for (auto& s : samples) all.insert(all.end(), s.begin(), s.end());
    Latency latency = Latency::FromSamples(all);
    auto total = Total(requesters.results(), wall);
    summary["req"] = SideJson(total, requesters.results());
    summary["latency_us"] = latency.ToJson();
    text += SideText("Req:", total, requesters.results());
    text += fmt::format("{:<10} {}\n", "Latency:", latency.ToText());
  }

  if (global.json) {
    std::printf("%s\n", JsonLine(summary).c_str());
  } else {
    std::fputs(text.c_str(), stdout);
  }
  return 0;
}

}  // namespace

void AddBenchCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  CLI::App* bench = app.add_subcommand("bench", "measure message rates and request latency");
  RequireOneOf(*bench, "pub, sub, pubsub, req, js-pub, js-consume");
  struct Kind {
    const char* name;
    BenchKind kind;
    const char* help;
  };
  const Kind kinds[] = {
      {"pub", BenchKind::kPub, "publishers only"},
      {"sub", BenchKind::kSub, "subscribers only: waits for --msgs messages on each from other publishers"},
      {"pubsub", BenchKind::kPubSub, "publishers and subscribers in one run"},
      {"req", BenchKind::kReq, "request/reply round trips with latency percentiles"},
  };
  for (const auto& k : kinds) {
    auto o = std::make_shared<BenchOptions>();
    o->kind = k.kind;
    if (k.kind == BenchKind::kReq) o->msgs = 10000;
    CLI::App* cmd = bench->add_subcommand(k.name, k.help);
    cmd->add_option("subject", o->subject, "subject to use")->required();
    cmd->add_option("--msgs", o->msgs, "messages (requests) to send in all")
        ->check(CLI::Range(uint64_t{1}, uint64_t{INT32_MAX}))
        ->capture_default_str();
    cmd->add_option("--size", o->size, "payload bytes")->check(CLI::Range(uint64_t{0}, uint64_t{64} << 20))
        ->capture_default_str();
    cmd->add_option("--pub", o->pubs, "publishers (requesters for req)")
        ->check(CLI::Range(uint64_t{0}, uint64_t{1000}))
        ->capture_default_str();
    cmd->add_option("--sub", o->subs, "subscribers (responders for req; 0: use running ones)")
        ->check(CLI::Range(uint64_t{0}, uint64_t{1000}))
        ->capture_default_str();
    cmd->add_flag("--no-progress", o->no_progress, "no progress line");
    RunOnSelect(cmd, global, action, o, RunBench);
  }
  AddBenchJsPubCommand(*bench, global, action);
  AddBenchJsConsumeCommand(*bench, global, action);
}

}  // namespace sluice::cli
