// nats.c's JetStream context as an owned handle, and the collector of the
// PubAcks of asynchronous publishes (bench js-pub, bench js-consume --seed,
// obj put).
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace sluice::cli {

struct JsCtxDeleter {
  void operator()(jsCtx* js) const { jsCtx_Destroy(js); }
};
using JsCtxPtr = std::unique_ptr<jsCtx, JsCtxDeleter>;

// A JetStream context on `nc` with `jo`; throws CliError when nats.c refuses.
JsCtxPtr OpenJetStream(natsConnection* nc, jsOptions& jo);

// Counts the PubAcks of js_PublishAsync and keeps the first error's text.
// Attach() points a jsOptions at it; nats.c then calls it on its own threads,
// so the counters are atomics and the text is guarded by a mutex. The
// collector must outlive the context it is attached to.
class AsyncAckCollector {
 public:
  // At most `max_pending` publishes unacknowledged; a publish stalls up to
  // `stall_wait` for room before failing with NATS_TIMEOUT.
  void Attach(jsOptions& jo, int64_t max_pending, std::chrono::nanoseconds stall_wait);

  uint64_t acked() const { return acked_.load(std::memory_order_relaxed); }
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  // "<error text> (<err_code>)" of the first failed publish, or "".
  std::string first_error() const;

 private:
  static void OnAck(jsCtx*, natsMsg* msg, jsPubAck*, jsPubAckErr* pae, void* closure);

  std::atomic<uint64_t> acked_{0};
  std::atomic<uint64_t> failed_{0};
  mutable std::mutex mu_;
  std::string first_error_;  // guarded by mu_
};

}  // namespace sluice::cli
