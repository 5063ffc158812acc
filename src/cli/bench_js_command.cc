// sluice bench js-pub <subject> [--stream NAME] [--msgs N] [--size N] [--async [--outstanding N]] [--keep]
//                     [--storage file|memory] [--no-progress]
//
// Publishes --msgs messages into a JetStream stream through nats.c's
// JetStream API and waits for every acknowledgement. The stream (default
// "benchstream") is created on <subject> with file storage when it does not
// exist, and deleted afterwards unless --keep (a stream that existed before is
// left alone). Sync publishes one message at a time and reports latency
// percentiles of publish→ack; --async keeps up to --outstanding unacknowledged.
#include <fmt/format.h>

#include <atomic>
#include <memory>
#include <mutex>

#include <nlohmann/json.hpp>

#include "bench_js_common.h"
#include "bench_stats.h"
#include "commands.h"
#include "connection.h"
#include "duration.h"
#include "js_api.h"
#include "js_context.h"
#include "message_output.h"
#include "progress_line.h"
#include "signals.h"

namespace sluice::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct JsPubOptions {
  std::string subject;
  std::string stream = "benchstream";
  std::string storage = "file";
  uint64_t msgs = 100000;
  uint64_t size = 128;
  bool async = false;
  int64_t outstanding = 4096;
  bool keep = false;
  bool no_progress = false;
};

std::string PublishError(natsStatus s, int code, const std::string& subject) {
  if (s == NATS_NO_RESPONDERS) return fmt::format("no stream stores \"{}\" (no responders)", subject);
  std::string text = NatsErrorText(s);
  return code ? fmt::format("publish to \"{}\": {} ({})", subject, text, code)
              : fmt::format("publish to \"{}\": {}", subject, text);
}

int RunJsPub(const GlobalOptions& global, const JsPubOptions& o) {
  CheckSubject(o.subject);
  CheckStreamName(o.stream);
  InstallStopSignals();
  const auto timeout = global.Timeout();
  auto conn = Connection::Open(global, {.name = "sluice bench js-pub", .long_running = false, .send_asap = !o.async});

  // The stream: use it if it is there, else create it (and delete it at the end).
  BenchStream stream = BenchStream::Open(
      conn.get(), {.name = o.stream, .subject = o.subject, .storage = o.storage, .keep = o.keep}, timeout);

  AsyncAckCollector acks;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = ToMillis(timeout);
  if (o.async) acks.Attach(jo, o.outstanding, timeout);
  JsCtxPtr js = OpenJetStream(conn.get(), jo);

  std::string payload(o.size, '\0');
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (auto& c : payload) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[x % 62];
  }

  std::fprintf(stderr, "Publishing %s messages of %s bytes into stream %s (%s)\n", WithThousands(o.msgs).c_str(),
               WithThousands(o.size).c_str(), o.stream.c_str(),
               o.async ? fmt::format("async, {} outstanding", o.outstanding).c_str() : "sync");
  std::atomic<uint64_t> sent{0};
  ProgressLine progress("Publishing", o.msgs, [&] { return o.async ? acks.acked() : sent.load(); },
                        !o.no_progress);
  std::vector<int64_t> samples;
  auto t0 = Clock::now();
  if (o.async) {
    PublishAsyncAndWait(js.get(), o.subject, payload, o.msgs, acks, sent, timeout, "js-pub");
  } else {
    samples.reserve(o.msgs);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = ToMillis(timeout);
    for (uint64_t i = 0; i < o.msgs; ++i) {
      if (StopRequested()) throw CliError(fmt::format("interrupted after {} messages", WithThousands(i)));
      jsPubAck* pa = nullptr;
      jsErrCode code = static_cast<jsErrCode>(0);
      auto start = Clock::now();
      natsStatus s = js_Publish(&pa, js.get(), o.subject.c_str(), payload.data(), static_cast<int>(payload.size()),
                                &po, &code);
      auto end = Clock::now();
      if (s != NATS_OK) throw CliError(PublishError(s, static_cast<int>(code), o.subject));
      jsPubAck_Destroy(pa);
      samples.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
      sent.store(i + 1, std::memory_order_relaxed);
    }
  }
  Throughput total{o.msgs, o.msgs * o.size, std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0)};
  progress.Stop();

  nlohmann::ordered_json summary;
  summary["kind"] = "js-pub";
  summary["mode"] = o.async ? "async" : "sync";
  summary["stream"] = o.stream;
  summary["subject"] = o.subject;
  summary["msgs"] = o.msgs;
  summary["size"] = o.size;
  if (o.async) summary["outstanding"] = o.outstanding;
  summary["pub"] = total.ToJson();
  std::string text = fmt::format("{:<10} {}\n", "JS pub:", total.ToText());
  if (!o.async) {
    Latency latency = Latency::FromSamples(samples);
    summary["latency_us"] = latency.ToJson();
    text += fmt::format("{:<10} {}\n", "Latency:", latency.ToText());
  }
  PrintBenchSummary(global, summary, text);
  return 0;
}

}  // namespace

void AddBenchJsPubCommand(CLI::App& bench, const GlobalOptions& global, Action& action) {
  auto o = std::make_shared<JsPubOptions>();
  CLI::App* cmd = bench.add_subcommand("js-pub", "publish into a JetStream stream and wait for the acks");
  cmd->add_option("subject", o->subject, "subject to publish on")->required();
  cmd->add_option("--stream", o->stream, "stream to publish into (created on the subject if missing)")
      ->capture_default_str();
  cmd->add_option("--storage", o->storage, "storage of a stream this command creates: file or memory")
      ->check(CLI::IsMember({"file", "memory"}))
      ->capture_default_str();
  cmd->add_option("--msgs", o->msgs, "messages to publish")
      ->check(CLI::Range(uint64_t{1}, uint64_t{INT32_MAX}))
      ->capture_default_str();
  cmd->add_option("--size", o->size, "payload bytes")->check(CLI::Range(uint64_t{0}, uint64_t{64} << 20))
      ->capture_default_str();
  cmd->add_flag("--async", o->async, "publish without waiting for each ack (default: one at a time, with latency)");
  cmd->add_option("--outstanding", o->outstanding, "most unacknowledged messages with --async")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  cmd->add_flag("--keep", o->keep, "keep a stream this command created");
  cmd->add_flag("--no-progress", o->no_progress, "no progress line");
  RunOnSelect(cmd, global, action, o, RunJsPub);
}

}  // namespace sluice::cli
