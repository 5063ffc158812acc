// Pull requests ($JS.API.CONSUMER.MSG.NEXT): parsing, nats-server 2.11's
// checks and status replies in its order (409 Consumer is push based, 400 Bad
// Request, 409 Exceeded MaxRequestBatch / MaxRequestExpires /
// MaxRequestMaxBytes, the priority-group checks, 404 No Messages, 408
// Requests Pending, 409 Exceeded MaxWaiting), then queueing and the first
// deliveries; and which waiting request a priority-group consumer serves.
#include <fmt/format.h>

#include <algorithm>

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
  bool json_body = false;
  std::string group;
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
      // nats-server 2.11's priority-group fields (ADR-42).
      json_body = true;
      auto text = [&](const char* key) {
        auto it = j.find(key);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      group = text("group");
      w.pin_id = text("id");
      w.min_pending = num("min_pending");
      w.min_ack_pending = num("min_ack_pending");
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
    } else if ((json_body || config_.priority_policy != PriorityPolicy::kNone) &&
               !AdmitPriorityRequestLocked(w, json_body, group, now, out)) {
      // refused: its status is in `out`
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

bool Consumer::AdmitPriorityRequestLocked(Waiting& w, bool json_body, const std::string& group, int64_t now,
                                          std::vector<Out>& out) {
  auto status = [&](const std::string& line) { out.push_back({w.reply, "", consumer_wire::Status(line), "", ""}); };
  const PriorityPolicy policy = config_.priority_policy;
  if (json_body) {
    // As nats-server 2.11: these two answer 400 but the request still goes
    // on (and is served as any other).
    if ((w.min_pending != 0 || w.min_ack_pending != 0) && policy != PriorityPolicy::kOverflow)
      status("400 Bad Request - Not a Overflow Priority consumer");
    if (!w.pin_id.empty() && policy != PriorityPolicy::kPinnedClient)
      status("400 Bad Request - Not a Pinned Client Priority consumer");
  }
  if (policy == PriorityPolicy::kNone) return true;
  // A request without a JSON body names no group (nats-server skips its
  // checks for such a request, then fails on it).
  if (group.empty()) {
    status("400 Bad Request - Priority Group missing");
    return false;
  }
  const auto& groups = config_.priority_groups;
  if (std::find(groups.begin(), groups.end(), group) == groups.end()) {
    status("400 Bad Request - Invalid Priority Group");
    return false;
  }
  if (!pin_id_.empty()) {
    if (w.pin_id == pin_id_) {
      // The pinned client is still pulling: its pin lasts another priority_timeout.
      pin_deadline_ = now + config_.priority_timeout_ns;
      ArmTimerLocked(pin_deadline_);
    } else if (!w.pin_id.empty()) {
      status("423 Nats-Pin-Id mismatch");
      return false;
    }
  }
  return true;
}

bool Consumer::SelectPriorityRequestLocked(const Candidate& c, uint64_t pending_count, int64_t now,
                                           std::vector<Out>& out) {
  const bool pinned = config_.priority_policy == PriorityPolicy::kPinnedClient;
  // As nats-server, decided once per message: with no pin held, the first
  // request without an id takes a new one.
  const bool need_new_pin = pinned && pin_id_.empty();
  // nats-server compares min_pending with its pending count after taking
  // a first delivery off it: the count including c when c is fresh, one
  // more when c is a redelivery.
  const uint64_t pending_now = c.kind == Candidate::Kind::kRedelivery ? pending_count + 1 : pending_count;
  auto wrong_pin = [&] {
    out.push_back({waiting_.front().reply, "", consumer_wire::Status("423 Nats-Wrong-Pin-Id"), "", ""});
    waiting_.pop_front();
  };
  size_t passed_over = 0;
  auto pass_over = [&] {  // to the back of the queue; false when every request was looked at
    Waiting moved = std::move(waiting_.front());
    waiting_.pop_front();
    waiting_.push_back(std::move(moved));
    return ++passed_over < waiting_.size();
  };
  while (!waiting_.empty()) {
    Waiting& w = waiting_.front();
    if (need_new_pin) {
      if (!w.pin_id.empty()) {  // an old pin: the client starts over without it
        wrong_pin();
        continue;
      }
      pin_id_ = consumer_wire::RandomToken(22);
      pinned_ts_ = now;
      w.pin_id = pin_id_;
      pin_deadline_ = now + config_.priority_timeout_ns;
      ArmTimerLocked(pin_deadline_);
    } else if (pinned && !pin_id_.empty() && w.pin_id != pin_id_) {
      if (!w.pin_id.empty()) {
        wrong_pin();
        continue;
      }
      if (!pass_over()) return false;  // standing by while another client holds the pin
      continue;
    }
    if (config_.priority_policy == PriorityPolicy::kOverflow &&
        ((w.min_pending > 0 && static_cast<uint64_t>(w.min_pending) > pending_now) ||
         (w.min_ack_pending > 0 && static_cast<uint64_t>(w.min_ack_pending) > pending_.size()))) {
      if (!pass_over()) return false;
      continue;
    }
    if (!WaitingHasInterest(w.reply)) {
      waiting_.pop_front();  // nobody listens on its inbox any more
      continue;
    }
    if (need_new_pin) PinnedAdvisoryLocked(out);
    return true;
  }
  return false;
}

}  // namespace sluice::jetstream
