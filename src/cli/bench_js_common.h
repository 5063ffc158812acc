// What `bench js-pub` and `bench js-consume` share: the stream they use or
// create (and then delete), publishing a run of messages asynchronously, and
// printing the summary.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "cli_common.h"
#include "js_api.h"
#include "js_context.h"

namespace sluice::cli {

// The stream a benchmark runs against. Open() uses an existing stream, or
// creates it on `subject` with `storage` when allowed; a stream it created is
// deleted when the BenchStream goes, unless kept.
class BenchStream {
 public:
  struct Spec {
    std::string name;
    std::string subject;           // for a stream this creates
    std::string storage = "file";  // for a stream this creates
    bool create_if_missing = true;
    bool keep = false;  // keep a stream this created
  };
  // Throws JsApiError (stream not found when it may not create it) or CliError.
  static BenchStream Open(natsConnection* nc, const Spec& spec, std::chrono::nanoseconds timeout);
  BenchStream(BenchStream&& other) noexcept;
  BenchStream& operator=(BenchStream&&) = delete;
  ~BenchStream();

  const ojson& info() const { return info_; }  // STREAM.INFO (or the create reply)
  bool created() const { return created_; }
  void Refresh();  // STREAM.INFO again

 private:
  BenchStream(natsConnection* nc, std::string name, std::chrono::nanoseconds timeout)
      : nc_(nc), name_(std::move(name)), timeout_(timeout) {}

  natsConnection* nc_;
  std::string name_;
  std::chrono::nanoseconds timeout_;
  ojson info_;
  bool created_ = false;
  bool delete_at_end_ = false;
};

// Publishes `count` copies of `payload` on `subject` with js_PublishAsync
// (the context's MaxPending bounds what is outstanding; `acks` must be
// attached to it), then waits for every acknowledgement. `sent` counts the
// publishes handed to nats.c. Stops early on the first failed ack, and
// throws CliError when interrupted, stalled, unanswered or when an ack failed
// ("<what> failed: <first error>").
void PublishAsyncAndWait(jsCtx* js, const std::string& subject, const std::string& payload, uint64_t count,
                         AsyncAckCollector& acks, std::atomic<uint64_t>& sent, std::chrono::nanoseconds timeout,
                         const std::string& what);

// --json: the summary as one line; otherwise the human text.
void PrintBenchSummary(const GlobalOptions& global, const ojson& summary, const std::string& text);

}  // namespace sluice::cli
