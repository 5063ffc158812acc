#include "bench_js_common.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "connection.h"
#include "duration.h"
#include "message_output.h"
#include "progress_line.h"
#include "signals.h"

namespace sluice::cli {

BenchStream BenchStream::Open(natsConnection* nc, const Spec& spec, std::chrono::nanoseconds timeout) {
  BenchStream stream(nc, spec.name, timeout);
  try {
    stream.info_ = JsRequest(nc, "STREAM.INFO." + spec.name, ojson(), timeout);
  } catch (const JsApiError& e) {
    if (e.err_code() != kErrStreamNotFound || !spec.create_if_missing) throw;
    CheckSubject(spec.subject);
    ojson cfg;
    cfg["name"] = spec.name;
    cfg["subjects"] = ojson::array({spec.subject});
    cfg["storage"] = spec.storage;
    stream.info_ = JsRequest(nc, "STREAM.CREATE." + spec.name, cfg, timeout);
    stream.created_ = true;
    stream.delete_at_end_ = !spec.keep;
    std::fprintf(stderr, "Created stream %s on \"%s\" (%s storage)\n", spec.name.c_str(), spec.subject.c_str(),
                 spec.storage.c_str());
  }
  return stream;
}

BenchStream::BenchStream(BenchStream&& other) noexcept
    : nc_(other.nc_), name_(std::move(other.name_)), timeout_(other.timeout_), info_(std::move(other.info_)),
      created_(other.created_), delete_at_end_(other.delete_at_end_) {
  other.delete_at_end_ = false;
}

BenchStream::~BenchStream() {
  if (!delete_at_end_) return;
  try {
    JsRequest(nc_, "STREAM.DELETE." + name_, ojson(), timeout_);
    std::fprintf(stderr, "Deleted stream %s\n", name_.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sluice: could not delete stream %s: %s\n", name_.c_str(), e.what());
  }
}

void BenchStream::Refresh() { info_ = JsRequest(nc_, "STREAM.INFO." + name_, ojson(), timeout_); }

void PublishAsyncAndWait(jsCtx* js, const std::string& subject, const std::string& payload, uint64_t count,
                         AsyncAckCollector& acks, std::atomic<uint64_t>& sent, std::chrono::nanoseconds timeout,
                         const std::string& what) {
  for (uint64_t i = 0; i < count; ++i) {
    if (StopRequested()) throw CliError(fmt::format("interrupted after {} messages", WithThousands(i)));
    natsStatus s = js_PublishAsync(js, subject.c_str(), payload.data(), static_cast<int>(payload.size()), nullptr);
    if (s == NATS_TIMEOUT) {
      throw CliError(fmt::format("no acknowledgements for {} after {} messages", FormatDuration(timeout),
                                 WithThousands(i)));
    }
    if (s == NATS_NO_RESPONDERS) throw CliError(fmt::format("no stream stores \"{}\" (no responders)", subject));
    CheckNats(s, fmt::format("publish to \"{}\"", subject));
    sent.store(i + 1, std::memory_order_relaxed);
    if (acks.failed() > 0) break;
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = std::max<int64_t>(ToMillis(timeout), 60000);
  natsStatus s = js_PublishAsyncComplete(js, &po);
  if (s == NATS_TIMEOUT) throw CliError("timed out waiting for the last acknowledgements");
  CheckNats(s, "waiting for the acknowledgements");
  if (acks.failed() > 0) {
    throw CliError(fmt::format("{}: {} publishes failed, the first with: {}", what, WithThousands(acks.failed()),
                               acks.first_error()));
  }
}

void PrintBenchSummary(const GlobalOptions& global, const ojson& summary, const std::string& text) {
  if (global.json) {
    std::printf("%s\n", JsonLine(summary).c_str());
  } else {
    std::fputs(text.c_str(), stdout);
  }
  std::fflush(stdout);
}

}  // namespace sluice::cli
