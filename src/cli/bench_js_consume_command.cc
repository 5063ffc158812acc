// sluice bench js-consume <stream> [--msgs N] [--pull [--batch N] | --push] [--ack explicit|none]
//                         [--seed [--size N] [--subject S] [--storage file|memory]] [--consumer NAME] [--keep]
//                         [--no-progress]
//
// Reads --msgs messages of a stream through a fresh consumer (ephemeral, or
// durable with --consumer) that starts at the first message, and reports
// msgs/s and MB/s of payload. --pull sends pull requests of --batch messages
// one after the other and reports the fetch latency (request → last message
// of the batch); --push has the server deliver to an inbox with flow control
// (answered) and heartbeats. With --ack explicit every message is
// acknowledged. --seed first publishes --msgs messages of --size bytes
// (creating the stream on --subject, default the stream's name, when it is
// missing; such a stream is deleted afterwards unless --keep); without it
// the stream must already hold --msgs messages. The consumer is deleted at
// the end (a named one is kept with --keep).
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>

#include "bench_js_common.h"
#include "bench_stats.h"
#include "commands.h"
#include "connection.h"
#include "duration.h"
#include "js_api.h"
#include "js_context.h"
#include "js_output.h"
#include "js_pull.h"
#include "message_output.h"
#include "progress_line.h"
#include "signals.h"

namespace sluice::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct JsConsumeOptions {
  std::string stream;
  uint64_t msgs = 100000;
  uint64_t size = 128;
  bool pull = false;
  bool push = false;
  int batch = 500;
  std::string ack = "explicit";
  bool seed = false;
  std::string subject;
  std::string storage = "file";
  std::string consumer;
  bool keep = false;
  bool no_progress = false;
};

// Publishes o.msgs messages of o.size bytes on `subject`, waiting for every ack.
void Seed(natsConnection* nc, const JsConsumeOptions& o, const std::string& subject, std::chrono::nanoseconds timeout) {
  AsyncAckCollector acks;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = ToMillis(timeout);
  acks.Attach(jo, 4096, timeout);
  JsCtxPtr js = OpenJetStream(nc, jo);
  std::atomic<uint64_t> sent{0};
  ProgressLine progress("Seeding", o.msgs, [&] { return sent.load(); }, !o.no_progress);
  PublishAsyncAndWait(js.get(), subject, std::string(o.size, 'x'), o.msgs, acks, sent, timeout, "seeding");
}

int RunJsConsume(const GlobalOptions& global, const JsConsumeOptions& o) {
  CheckStreamName(o.stream);
  if (o.pull && o.push) throw UsageError("--pull and --push cannot be used together");
  if (!o.consumer.empty()) CheckStreamName(o.consumer);
  const bool push = o.push;
  InstallStopSignals();
  const auto timeout = global.Timeout();
  auto conn = Connection::Open(global, {.name = "sluice bench js-consume"});

  // The stream: use it, or create it when seeding (and delete it at the end).
  std::string subject = o.subject;
  BenchStream stream = BenchStream::Open(conn.get(),
                                         {.name = o.stream,
                                          .subject = subject.empty() ? o.stream : subject,
                                          .storage = o.storage,
                                          .create_if_missing = o.seed,
                                          .keep = o.keep},
                                         timeout);
  if (stream.created() && subject.empty()) subject = o.stream;

  if (o.seed) {
    if (subject.empty()) {
      for (auto& s : stream.info().value("config", ojson::object()).value("subjects", ojson::array())) {
        std::string one = s.is_string() ? s.get<std::string>() : "";
        if (!one.empty() && one.find('*') == std::string::npos && one.find('>') == std::string::npos) {
          subject = one;
          break;
        }
      }
      if (subject.empty()) throw UsageError("--seed: give --subject (the stream has only wildcard subjects)");
    }
    CheckSubject(subject);
    std::fprintf(stderr, "Seeding %s messages of %s bytes on \"%s\"\n", WithThousands(o.msgs).c_str(),
                 WithThousands(o.size).c_str(), subject.c_str());
    Seed(conn.get(), o, subject, timeout);
    stream.Refresh();
  }
  uint64_t stored = Num(stream.info().value("state", ojson::object()), "messages");
  if (stored < o.msgs) {
    throw CliError(fmt::format("stream {} holds {} messages, fewer than --msgs {} (add --seed to publish them first)",
                               o.stream, WithThousands(stored), WithThousands(o.msgs)));
  }

  // The consumer: push subscribes to its deliver subject before creating it.
  std::string inbox;
  SubscriptionPtr push_sub;
  if (push) {
    natsInbox* raw = nullptr;
    CheckNats(natsInbox_Create(&raw), "inbox");
    inbox = raw;
    natsInbox_Destroy(raw);
    push_sub = SubscribeSync(conn, inbox, "", 0);
  }
  ojson cfg;
  if (!o.consumer.empty()) {
    cfg["durable_name"] = o.consumer;
    cfg["name"] = o.consumer;
  }
  cfg["deliver_policy"] = "all";
  cfg["ack_policy"] = o.ack;
  cfg["max_deliver"] = -1;
  cfg["replay_policy"] = "instant";
  if (o.ack != "none") cfg["max_ack_pending"] = push ? 20000 : std::max(1000, o.batch * 2);
  if (push) {
    cfg["deliver_subject"] = inbox;
    cfg["flow_control"] = true;
    cfg["idle_heartbeat"] = int64_t{5'000'000'000};
  }
  ojson req;
  req["stream_name"] = o.stream;
  req["config"] = cfg;
  ojson created_consumer = JsRequest(
      conn.get(), o.consumer.empty() ? "CONSUMER.CREATE." + o.stream : "CONSUMER.CREATE." + o.stream + "." + o.consumer,
      req, timeout);
  const std::string consumer = Str(created_consumer, "name");
  struct ConsumerCleanup {
    natsConnection* nc;
    std::string api;
    bool active;
    std::chrono::nanoseconds timeout;
    ~ConsumerCleanup() {
      if (!active) return;
      try {
        JsRequest(nc, api, ojson(), timeout);
      } catch (...) {
      }
    }
  } consumer_cleanup{conn.get(), fmt::format("CONSUMER.DELETE.{}.{}", o.stream, consumer),
                     o.consumer.empty() || !o.keep, timeout};

  std::fprintf(stderr, "Consuming %s messages from stream %s (%s, ack %s%s)\n", WithThousands(o.msgs).c_str(),
               o.stream.c_str(), push ? "push" : "pull", o.ack.c_str(),
               push ? "" : fmt::format(", batches of {}", o.batch).c_str());
  const bool ack = o.ack != "none";
  std::atomic<uint64_t> got{0};
  uint64_t bytes = 0;
  std::vector<int64_t> fetch_samples;
  ProgressLine progress("Consuming", o.msgs, [&] { return got.load(); }, !o.no_progress);
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(timeout) + std::chrono::seconds(2);
  auto count = [&](natsMsg* m) {
    bytes += static_cast<uint64_t>(natsMsg_GetDataLength(m));
    if (ack) Ack(conn.get(), m);
    got.fetch_add(1, std::memory_order_relaxed);
  };
  auto t0 = Clock::now();
  if (!push) {
    PullReader reader(conn, o.stream, consumer);
    while (got.load() < o.msgs) {
      if (StopRequested()) throw CliError(fmt::format("interrupted after {} messages", WithThousands(got.load())));
      int want = static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(o.batch), o.msgs - got.load()));
      auto start = Clock::now();
      reader.Request(want, timeout);
      int in_batch = 0;
      while (in_batch < want) {
        auto d = reader.Next(wait);
        if (!d) break;
        if (d->status != 0) {
          if (d->status == 404 || d->status == 408) break;
          throw CliError(fmt::format("pull request ended: {} {}", d->status, d->description));
        }
        count(d->msg.get());
        ++in_batch;
      }
      if (in_batch == 0) {
        throw CliError(fmt::format("no messages for {} after {}", FormatDuration(timeout), WithThousands(got.load())));
      }
      fetch_samples.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
    }
  } else {
    while (got.load() < o.msgs) {
      if (StopRequested()) throw CliError(fmt::format("interrupted after {} messages", WithThousands(got.load())));
      natsMsg* raw = nullptr;
      natsStatus s = natsSubscription_NextMsg(&raw, push_sub.get(), ToMillis(timeout) + 2000);
      if (s == NATS_TIMEOUT) {
        throw CliError(fmt::format("no messages for {} after {}", FormatDuration(timeout), WithThousands(got.load())));
      }
      CheckNats(s, "reading the push consumer");
      MsgPtr msg(raw);
      if (StatusOf(raw) == 100) {
        // Flow control requests carry a reply subject: answer them; heartbeats do not.
        const char* reply = natsMsg_GetReply(raw);
        if (reply != nullptr && *reply != '\0') CheckNats(natsConnection_Publish(conn.get(), reply, nullptr, 0), "flow control");
        continue;
      }
      count(raw);
    }
  }
  if (ack) conn.Flush(timeout);  // every ack reached the server
  Throughput total{got.load(), bytes, std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0)};
  progress.Stop();

  ojson summary;
  summary["kind"] = "js-consume";
  summary["mode"] = push ? "push" : "pull";
  summary["ack"] = o.ack;
  summary["stream"] = o.stream;
  summary["consumer"] = consumer;
  summary["msgs"] = got.load();
  if (!push) summary["batch"] = o.batch;
  summary["consume"] = total.ToJson();
  std::string text = fmt::format("{:<14} {}\n", "JS consume:", total.ToText());
  if (!push) {
    Latency latency = Latency::FromSamples(fetch_samples);
    summary["fetch_latency_us"] = latency.ToJson();
    text += fmt::format("{:<14} {}\n", "Fetch latency:", latency.ToText());
  }
  PrintBenchSummary(global, summary, text);
  return 0;
}

}  // namespace

void AddBenchJsConsumeCommand(CLI::App& bench, const GlobalOptions& global, Action& action) {
  auto o = std::make_shared<JsConsumeOptions>();
  CLI::App* cmd = bench.add_subcommand("js-consume", "read a stream through a fresh consumer");
  cmd->add_option("stream", o->stream, "stream to read")->required();
  cmd->add_option("--msgs", o->msgs, "messages to consume")
      ->check(CLI::Range(uint64_t{1}, uint64_t{INT32_MAX}))
      ->capture_default_str();
  cmd->add_flag("--pull", o->pull, "a pull consumer fetching --batch at a time (the default)");
  cmd->add_flag("--push", o->push, "a push consumer with flow control");
  cmd->add_option("--batch", o->batch, "messages per pull request")->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--ack", o->ack, "explicit (every message) or none")->check(CLI::IsMember({"explicit", "none"}))
      ->capture_default_str();
  cmd->add_flag("--seed", o->seed, "publish --msgs messages of --size bytes first");
  cmd->add_option("--size", o->size, "payload bytes of the seeded messages")
      ->check(CLI::Range(uint64_t{0}, uint64_t{64} << 20))
      ->capture_default_str();
  cmd->add_option("--subject", o->subject, "subject to seed on (default: the stream's first literal subject)");
  cmd->add_option("--storage", o->storage, "storage of a stream --seed creates: file or memory")
      ->check(CLI::IsMember({"file", "memory"}))
      ->capture_default_str();
  cmd->add_option("--consumer", o->consumer, "a durable consumer of this name instead of an ephemeral one");
  cmd->add_flag("--keep", o->keep, "keep a stream --seed created, and a named consumer");
  cmd->add_flag("--no-progress", o->no_progress, "no progress line");
  RunOnSelect(cmd, global, action, o, RunJsConsume);
}

}  // namespace sluice::cli
