#include "js_context.h"

#include <fmt/format.h>

#include "connection.h"

namespace sluice::cli {

JsCtxPtr OpenJetStream(natsConnection* nc, jsOptions& jo) {
  jsCtx* raw = nullptr;
  CheckNats(natsConnection_JetStream(&raw, nc, &jo), "cannot create the JetStream context");
  return JsCtxPtr(raw);
}

void AsyncAckCollector::Attach(jsOptions& jo, int64_t max_pending, std::chrono::nanoseconds stall_wait) {
  jo.PublishAsync.MaxPending = max_pending;
  jo.PublishAsync.AckHandler = &AsyncAckCollector::OnAck;
  jo.PublishAsync.AckHandlerClosure = this;
  jo.PublishAsync.StallWait = ToMillis(stall_wait);
}

std::string AsyncAckCollector::first_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_error_;
}

void AsyncAckCollector::OnAck(jsCtx*, natsMsg* msg, jsPubAck*, jsPubAckErr* pae, void* closure) {
  auto* self = static_cast<AsyncAckCollector*>(closure);
  if (pae == nullptr) {
    self->acked_.fetch_add(1, std::memory_order_relaxed);
  } else {
    self->failed_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(self->mu_);
    if (self->first_error_.empty()) {
      std::string text = pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err);
      self->first_error_ = pae->ErrCode ? fmt::format("{} ({})", text, static_cast<int>(pae->ErrCode)) : text;
    }
  }
  natsMsg_Destroy(msg);
}

}  // namespace sluice::cli
