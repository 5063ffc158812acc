// Pull requests ($JS.API.CONSUMER.MSG.NEXT): parsing, nats-server 2.11's
// checks and status replies in its order (409 Consumer is push based, 400 Bad
// Request, 409 Exceeded MaxRequestBatch / MaxRequestExpires /
// MaxRequestMaxBytes, 404 No Messages, 408 Requests Pending, 409 Exceeded
// MaxWaiting), then queueing and the first deliveries.
#include <fmt/format.h>

#include "jetstream/consumer.h"
#include "jetstream/consumer_status.h"

namespace sluice::jetstream {
namespace {

using json = nlohmann::json;

// The text of Go's encoding/json error for the common cases (the 400 Bad
// Request detail nats-server sends): truncated input, else an unexpected character.
std::string GoDecoderError(const std::string& body, size_t byte) {
  if (byte == 0 || byte > body.size()) return "unexpected end of JSON input";
  return fmt::format("invalid character '{}' looking for beginning of value", body[byte - 1]);
}

}  // namespace

void Consumer::PullRequest(std::string reply, std::string payload) {
  if (!env_.dispatcher) return;
  std::weak_ptr<Consumer> weak = weak_from_this();
  env_.dispatcher->Post([weak, reply = std::move(reply), payload = std::move(payload)] {
    if (auto c = weak.lock()) c->HandlePull(reply, payload);
  });
}

Consumer::Out Consumer::RequestTimeout(const Waiting& w) {
  return {w.reply, "",
          consumer_wire::Status("408 Request Timeout",
                                consumer_wire::PendingHeaders(w.batch, w.has_max_bytes ? w.max_bytes : 0)),
          "", ""};
}

void Consumer::PruneWaitingLocked(int64_t now, std::vector<Out>& out) {
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->expires_at != 0 && now >= it->expires_at) {
      out.push_back(RequestTimeout(*it));
      it = waiting_.erase(it);
    } else if (!WaitingHasInterest(it->reply)) {
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
}

void Consumer::HandlePull(const std::string& reply, const std::string& payload) {
  if (reply.empty()) return;
  Outbox out;
  std::vector<uint64_t> acked;
  bool more = false;
  auto status = [&](const std::string& line, const std::string& extra = "") {
    out.push_back({reply, "", consumer_wire::Status(line, extra), "", ""});
  };
  Waiting w;
  w.reply = reply;
  int64_t expires = 0;
  std::string bad_request;
  size_t b = payload.find_first_not_of(" \t\r\n");
  std::string body = b == std::string::npos ? "" : payload.substr(b, payload.find_last_not_of(" \t\r\n") - b + 1);
  if (body.empty()) {
    w.batch = 1;
  } else if (body.front() == '{') {
    json j;
    try {
      j = json::parse(body);
    } catch (const json::parse_error& e) {
      bad_request = GoDecoderError(body, e.byte);
    }
    if (bad_request.empty() && !j.is_object()) bad_request = "invalid JSON";
    if (bad_request.empty()) {
      auto num = [&](const char* key) -> int64_t {
        auto it = j.find(key);
        return it != j.end() && it->is_number() ? it->get<int64_t>() : 0;
      };
      // nats-server takes the batch as given: 0 (or absent) still delivers
      // one message but reports 0 pending in its 408.
      w.batch = num("batch");
      expires = std::max<int64_t>(0, num("expires"));
      w.max_bytes = std::max<int64_t>(0, num("max_bytes"));
      w.has_max_bytes = w.max_bytes > 0;
      w.heartbeat_ns = std::max<int64_t>(0, num("idle_heartbeat"));
      auto nw = j.find("no_wait");
      w.no_wait = nw != j.end() && nw->is_boolean() && nw->get<bool>();
      if (w.heartbeat_ns > 0 && 2 * w.heartbeat_ns > expires) bad_request = "heartbeat value too large";
    }
  } else if (body.find_first_not_of("0123456789") == std::string::npos) {
    w.batch = std::stoll(body.substr(0, 18));
  }
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    const int64_t now = Now();
    if (push_) {
      status("409 Consumer is push based");
    } else if (!bad_request.empty()) {
      status("400 Bad Request - " + bad_request);
    } else if (config_.max_batch > 0 && w.batch > config_.max_batch) {
      status(fmt::format("409 Exceeded MaxRequestBatch of {}", config_.max_batch));
    } else if (config_.max_expires_ns > 0 && expires > config_.max_expires_ns) {
      status("409 Exceeded MaxRequestExpires of " + consumer_wire::GoDuration(config_.max_expires_ns));
    } else if (config_.max_bytes > 0 && w.max_bytes > config_.max_bytes) {
      status(fmt::format("409 Exceeded MaxRequestMaxBytes of {}", config_.max_bytes));
    } else {
      const bool full = config_.max_waiting > 0 && static_cast<int64_t>(waiting_.size()) >= config_.max_waiting;
      if (full) PruneWaitingLocked(now, out);
      bool answered = false;
      if (w.no_wait) {
        auto stream = stream_.lock();
        const uint64_t msgs_pending = (stream ? NumPendingLocked(*stream) : 0) + redeliver_.size();
        if (msgs_pending == 0 && expires == 0) {
          last_activity_ns_ = now;
          status("404 No Messages");
          answered = true;
        } else if (msgs_pending > 0) {
          // The requests already waiting would take what there is.
          PruneWaitingLocked(now, out);
          int64_t batch_pending = 0;
          for (const auto& q : waiting_) batch_pending += q.batch;
          if (static_cast<int64_t>(msgs_pending) < batch_pending) {
            last_activity_ns_ = now;
            status("408 Requests Pending");
            answered = true;
          }
        }
        // Else a one-shot: it waits for `expires` but ends at the first end of stream after a delivery.
      }
      if (!answered) {
        if (config_.max_waiting > 0 && static_cast<int64_t>(waiting_.size()) >= config_.max_waiting) {
          status("409 Exceeded MaxWaiting");
        } else {
          if (expires > 0) w.expires_at = now + expires;
          if (w.heartbeat_ns > 0) w.next_heartbeat = now + w.heartbeat_ns;
          ArmTimerLocked(w.expires_at);
          ArmTimerLocked(w.next_heartbeat);
          last_activity_ns_ = now;
          waiting_.push_back(std::move(w));
          more = PumpPullLocked(out, acked);
        }
      }
    }
  }
  Publish(out);
  AfterAcks(acked);
  if (!acked.empty() && !dir_.empty() && env_.dispatcher) env_.dispatcher->MarkDirty(shared_from_this());
  if (more) Kick();  // the rest of a large batch
}

}  // namespace sluice::jetstream
