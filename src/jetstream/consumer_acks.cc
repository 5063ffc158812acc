// Acks and everything time-driven: +ACK/-NAK/+WPI/+TERM/+NXT on
// $JS.ACK.<stream>.<consumer>.>, flow-control replies, the redelivery
// timers (ack wait, backoff, NAK delay; max_deliver), pull-request expiry and
// heartbeats, push idle heartbeats, the inactive threshold, the state commit
// before AckSync replies, and the consumer advisories.
#include <fmt/format.h>

#include <random>

#include "jetstream/consumer.h"
#include "jetstream/consumer_status.h"
#include "jetstream/wire.h"

namespace sluice::jetstream {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// nats-server's advisory schema type for each subject kind.
const char* AdvisoryType(std::string_view kind) {
  if (kind == "MAX_DELIVERIES") return "io.nats.jetstream.advisory.v1.max_deliver";
  if (kind == "MSG_TERMINATED") return "io.nats.jetstream.advisory.v1.terminated";
  if (kind == "MSG_NAKED") return "io.nats.jetstream.advisory.v1.nak";
  if (kind == "PAUSE") return "io.nats.jetstream.advisory.v1.consumer_pause";
  if (kind == "PINNED") return "io.nats.jetstream.advisory.v1.consumer_group_pinned";
  if (kind == "UNPINNED") return "io.nats.jetstream.advisory.v1.consumer_group_unpinned";
  return "io.nats.jetstream.advisory.v1.consumer_action";  // CREATED, DELETED
}

}  // namespace

// ---- inputs from the router ----

bool Consumer::Deliver(router::Subscription& sub, const router::Message& m) {
  if (!env_.dispatcher) return true;
  std::weak_ptr<Consumer> weak = weak_from_this();
  if (sub.sink_flags & consumer_wire::kFlowControlSinkFlag) {
    env_.dispatcher->Post([weak, subject = std::string(m.subject)] {
      if (auto c = weak.lock()) c->HandleFlowControlReply(subject);
    });
    return true;
  }
  // Acks queue up here; only the first of a batch posts a task (one
  // allocation and one dispatcher wake-up per batch, not per ack).
  bool post;
  {
    std::lock_guard lock(acks_mu_);
    acks_in_.push_back({std::string(m.subject), std::string(m.reply), std::string(m.payload)});
    post = !acks_scheduled_;
    acks_scheduled_ = true;
  }
  if (post) {
    env_.dispatcher->Post([weak] {
      if (auto c = weak.lock()) c->DrainAcks();
    });
  }
  return true;
}

void Consumer::DrainAcks() {
  std::vector<AckIn> batch;
  {
    std::lock_guard lock(acks_mu_);
    batch.swap(acks_in_);
    acks_scheduled_ = false;  // an ack queued from now on posts a new task
  }
  std::vector<uint64_t> acked;
  bool dirty = false, confirm = false, pump = false;
  for (const auto& a : batch) pump |= HandleAck(a.subject, a.reply, a.body, acked, dirty, confirm);
  AfterAcks(acked);
  if (env_.dispatcher && (dirty || !acked.empty())) {
    // An AckSync reply leaves only after the commit that covers it; plain
    // acks are committed when the dispatcher is idle or every few rounds.
    if (confirm) env_.dispatcher->MarkDirty(shared_from_this());
    else env_.dispatcher->MarkDirtyLazy(shared_from_this());
  }
  if (pump) Pump();
}

void Consumer::HandleFlowControlReply(const std::string& subject) {
  {
    std::lock_guard lock(mu_);
    if (stopped_ || fc_.fcid.empty() || subject != fc_.fcid) return;  // only the latest request counts
    // Slow start: the window doubles with each answer up to the limit.
    if (fc_.maxpb < fc_.pblimit) fc_.maxpb = std::min(fc_.maxpb * 2, fc_.pblimit);
    fc_.pbytes = std::max<int64_t>(0, fc_.pbytes - fc_.fcsz);
    fc_.fcid.clear();
    fc_.fcsz = 0;
  }
  Pump();
}

// ---- acks ----

int64_t Consumer::BackoffFor(uint64_t deliveries) const {
  if (config_.backoff_ns.empty() || deliveries == 0) return config_.ack_wait_ns;
  size_t i = std::min<size_t>(deliveries - 1, config_.backoff_ns.size() - 1);
  return config_.backoff_ns[i];
}

bool Consumer::TimerIsCurrent(uint64_t seq, int64_t deadline) const {
  auto it = pending_.find(seq);
  return it != pending_.end() && it->second.deadline == deadline;
}

void Consumer::ScheduleRedeliveryLocked(uint64_t seq, PendingAck& p, int64_t deadline) {
  p.deadline = deadline;
  timers_.Schedule(seq, deadline);
  ArmTimerLocked(deadline);
}

void Consumer::CompactTimersLocked() {
  timers_.MaybeCompact(pending_.size(), [this](auto&& add) {
    for (const auto& [seq, p] : pending_) {
      if (p.deadline != 0) add(seq, p.deadline);
    }
  });
}

bool Consumer::AckLocked(uint64_t sseq, std::vector<uint64_t>& acked) {
  exhausted_.erase(sseq);
  auto it = pending_.find(sseq);
  if (it == pending_.end()) return false;
  pending_.erase(it);
  NoteChangedLocked(sseq);
  redeliver_.erase(sseq);
  acked.push_back(sseq);
  last_ack_ns_ = Now();
  dirty_ = true;
  return true;
}

void Consumer::ExhaustLocked(uint64_t seq, uint32_t deliveries, std::vector<Out>& out) {
  // nats-server: the message leaves the pending set (freeing max_ack_pending),
  // stays counted as redelivered, and the advisory goes out once.
  pending_.erase(seq);
  NoteChangedLocked(seq);
  redeliver_.erase(seq);
  exhausted_.insert(seq);
  dirty_ = true;
  ojson a;
  a["stream_seq"] = seq;
  a["deliveries"] = deliveries;
  AdvisoryLocked("MAX_DELIVERIES", std::move(a), out);
}

void Consumer::AdvisoryLocked(const char* kind, ojson fields, std::vector<Out>& out) {
  ojson j;
  j["type"] = AdvisoryType(kind);
  j["id"] = consumer_wire::RandomToken(22);
  j["timestamp"] = FormatTime(Now());
  j["stream"] = stream_name_;
  j["consumer"] = name_;
  for (auto it = fields.begin(); it != fields.end(); ++it) j[it.key()] = it.value();
  if (!env_.domain.empty()) j["domain"] = env_.domain;
  Out o;
  o.subject = fmt::format("$JS.EVENT.ADVISORY.CONSUMER.{}.{}.{}", kind, stream_name_, name_);
  o.payload = j.dump();
  o.advisory = true;  // published only if someone listens
  out.push_back(std::move(o));
}

void Consumer::PauseAdvisoryLocked(int64_t now, std::vector<Out>& out) {
  // nats-server's pause_until is a time.Time: always written, Go's zero
  // time when the deadline is unset.
  ojson a;
  a["paused"] = config_.PausedAt(now);
  a["pause_until"] = config_.has_pause_until ? config_.pause_until : std::string(kGoZeroTime);
  AdvisoryLocked("PAUSE", std::move(a), out);
}

// nats-server 2.11's priority-group advisories: always about the first
// group (the one 2.11 serves).
void Consumer::PinnedAdvisoryLocked(std::vector<Out>& out) {
  ojson a;
  a["group"] = config_.priority_groups.empty() ? std::string() : config_.priority_groups.front();
  a["pinned_id"] = pin_id_;
  AdvisoryLocked("PINNED", std::move(a), out);
}

void Consumer::UnpinnedAdvisoryLocked(const char* reason, std::vector<Out>& out) {
  ojson a;
  a["group"] = config_.priority_groups.empty() ? std::string() : config_.priority_groups.front();
  a["reason"] = reason;  // "admin" (CONSUMER.UNPIN) or "timeout"
  AdvisoryLocked("UNPINNED", std::move(a), out);
}

void Consumer::SampleAckLocked(uint64_t sseq, uint64_t dseq, uint64_t dc, const PendingAck& p, std::vector<Out>& out) {
  // nats-server's shouldSample: never at <= 0, always at >= 100, else when
  // a draw in [0, 100) is <= the percentage.
  const int32_t percent = config_.SamplePercent();
  if (percent <= 0) return;
  if (percent < 100) {
    thread_local std::mt19937 rng{std::random_device{}()};
    if (static_cast<int32_t>(rng() % 100) > percent) return;
  }
  const int64_t now = Now();
  ojson j;
  j["type"] = "io.nats.jetstream.metric.v1.consumer_ack";
  j["id"] = consumer_wire::RandomToken(22);
  j["timestamp"] = FormatTime(now);
  j["stream"] = stream_name_;
  j["consumer"] = name_;
  j["consumer_seq"] = dseq;  // as the ack reply subject carries them
  j["stream_seq"] = sseq;
  j["ack_time"] = now - p.delivered_ns;  // ns since the latest delivery
  j["deliveries"] = dc;
  if (!env_.domain.empty()) j["domain"] = env_.domain;
  Out o;
  o.subject = fmt::format("$JS.EVENT.METRIC.CONSUMER.ACK.{}.{}", stream_name_, name_);
  o.payload = j.dump();
  o.advisory = true;  // published only if someone listens
  out.push_back(std::move(o));
}

bool Consumer::HandleAck(const std::string& subject, const std::string& reply, const std::string& body,
                         std::vector<uint64_t>& acked, bool& dirty, bool& confirm) {
  // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
  constexpr std::string_view kAckPrefix = "$JS.ACK.";
  std::string_view tokens[5];
  size_t ntokens = 0;
  {
    std::string_view rest = subject;
    if (rest.starts_with(kAckPrefix) && rest.substr(kAckPrefix.size()).starts_with(stream_name_) &&
        rest.size() > kAckPrefix.size() + stream_name_.size() && rest[kAckPrefix.size() + stream_name_.size()] == '.') {
      rest.remove_prefix(kAckPrefix.size() + stream_name_.size() + 1);
      if (rest.starts_with(name_) && rest.size() > name_.size() && rest[name_.size()] == '.') {
        rest.remove_prefix(name_.size() + 1);
        size_t start = 0;
        while (ntokens <= 5) {
          size_t dot = rest.find('.', start);
          if (ntokens < 5)
            tokens[ntokens] = rest.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
          ++ntokens;
          if (dot == std::string_view::npos) break;
          start = dot + 1;
        }
      }
    }
  }
  std::optional<uint64_t> sseq, dseq, dc;
  if (ntokens == 5) {
    dc = ParseUint(tokens[0]);
    sseq = ParseUint(tokens[1]);
    dseq = ParseUint(tokens[2]);
  }
  Outbox out;
  const size_t acked_before = acked.size();
  bool sync_reply = !reply.empty();
  bool pump = false;
  std::optional<std::string> next_request;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return false;
    const int64_t now = Now();
    // Any ack activity postpones the inactive-threshold deletion.
    if (push_) {
      if (!active_) inactive_since_ = now;
    } else {
      last_activity_ns_ = now;
    }
    if (sseq) {
      auto ack = [&] {
        if (config_.ack_policy == AckPolicy::kAll) {
          while (!pending_.empty() && pending_.begin()->first <= *sseq) AckLocked(pending_.begin()->first, acked);
        } else {
          // sample_freq: explicit acks of pending messages only (+ACK, +NXT), as nats-server.
          if (!config_.sample_freq.empty()) {
            if (auto it = pending_.find(*sseq); it != pending_.end())
              SampleAckLocked(*sseq, dseq.value_or(0), dc.value_or(0), it->second, out);
          }
          AckLocked(*sseq, acked);
        }
      };
      if (body.empty() || body == "+ACK" || body == "+OK") {
        ack();
      } else if (body.starts_with("-NAK")) {
        auto it = pending_.find(*sseq);
        if (it != pending_.end() && dseq && *dseq <= dseq_) {
          ojson a;
          a["consumer_seq"] = *dseq;
          a["stream_seq"] = *sseq;
          a["deliveries"] = dc.value_or(it->second.deliveries);
          AdvisoryLocked("MSG_NAKED", std::move(a), out);
          int64_t delay = 0;
          std::string_view arg = Trim(std::string_view(body).substr(4));
          if (!arg.empty() && arg.front() == '{') {
            json j = json::parse(arg, nullptr, false);
            if (j.is_object() && j.contains("delay") && j["delay"].is_number_integer()) delay = j["delay"].get<int64_t>();
          } else if (!arg.empty()) {
            delay = consumer_wire::ParseGoDuration(arg);
          }
          if (delay > 0) {
            redeliver_.erase(*sseq);
            ScheduleRedeliveryLocked(*sseq, it->second, now + delay);
          } else {
            it->second.deadline = 0;
            redeliver_.insert(*sseq);
            pump = true;
          }
        }
      } else if (body == "+WPI") {
        auto it = pending_.find(*sseq);
        if (it != pending_.end() && it->second.deadline != 0)
          ScheduleRedeliveryLocked(*sseq, it->second, now + BackoffFor(it->second.deliveries));
      } else if (body.starts_with("+TERM")) {
        auto it = pending_.find(*sseq);
        uint64_t deliveries = dc.value_or(it != pending_.end() ? it->second.deliveries : 0);
        AckLocked(*sseq, acked);
        ojson a;
        a["consumer_seq"] = dseq.value_or(0);
        a["stream_seq"] = *sseq;
        a["deliveries"] = deliveries;
        if (std::string_view reason = Trim(std::string_view(body).substr(5)); !reason.empty())
          a["reason"] = std::string(reason);
        AdvisoryLocked("MSG_TERMINATED", std::move(a), out);
      } else if (body.starts_with("+NXT")) {
        ack();
        sync_reply = false;
        if (!reply.empty()) next_request = body.size() > 5 ? body.substr(5) : "";
      }
    }
    if (acked.size() > acked_before) {
      pump = true;
      CompactTimersLocked();
    }
    if (sync_reply) sync_replies_.push_back(reply);
  }
  Publish(out);
  if (sync_reply || acked.size() > acked_before) dirty = true;
  if (sync_reply) confirm = true;
  if (next_request) {
    // In order: what this ack removed goes before the request is served.
    AfterAcks(acked);
    acked.clear();
    HandlePull(reply, *next_request);
    return false;
  }
  return pump;
}

void Consumer::AfterAcks(const std::vector<uint64_t>& removed) {
  if (removed.empty()) return;
  auto stream = stream_.lock();
  if (!stream) return;
  Retention retention = stream->config().retention;
  for (uint64_t seq : removed) {
    if (retention == Retention::kWorkQueue) stream->RemoveConsumed(seq);
    else if (retention == Retention::kInterest) stream->CheckInterest(seq);
  }
}

void Consumer::Commit() {
  std::vector<std::string> replies;
  {
    std::lock_guard lock(mu_);
    if (dirty_ && !dir_.empty() && !stopped_) {
      std::string error;
      if (!CommitStateLocked(error)) {
        if (env_.log) env_.log("consumer " + stream_name_ + " > " + name_ + ": cannot save state: " + error);
        return;  // no confirmation without durability
      }
    }
    dirty_ = false;
    replies.swap(sync_replies_);
  }
  if (env_.publisher) {
    for (const auto& r : replies) env_.publisher->Publish(r, "", "", "");
  }
}

// ---- timers ----

void Consumer::OnTimer(int64_t now) {
  Outbox out;
  std::vector<uint64_t> acked;
  bool reap = false, more = false;
  {
    std::lock_guard lock(mu_);
    if (stopped_ || timer_at_ == 0 || timer_at_ > now) return;  // a superseded heap entry
    timer_at_ = 0;
    int64_t next = 0;
    auto take = [&next](int64_t t) {
      if (t > 0 && (next == 0 || t < next)) next = t;
    };
    // Pull requests: interest, expiry, heartbeats.
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (!WaitingHasInterest(it->reply)) {
        it = waiting_.erase(it);
        continue;
      }
      if (it->expires_at != 0 && now >= it->expires_at) {
        out.push_back(RequestTimeout(*it));
        it = waiting_.erase(it);
        continue;
      }
      if (it->next_heartbeat != 0 && now >= it->next_heartbeat) {
        out.push_back({it->reply, "", HeartbeatHeaderLocked(), "", ""});
        it->next_heartbeat = now + it->heartbeat_ns;
      }
      take(it->next_heartbeat);
      take(it->expires_at);
      ++it;
    }
    // Redeliveries that are due: only the heap's front is examined.
    bool pump = !redeliver_.empty();
    // The pause deadline passed: the resume advisory, then deliveries go on.
    if (pause_wait_) {
      if (now >= config_.pause_until_ns) {
        pause_wait_ = false;
        PauseAdvisoryLocked(now, out);
        pump = true;
      } else {
        take(config_.pause_until_ns);
      }
    }
    // pinned_client: the pinned client sent no request for priority_timeout.
    if (pin_deadline_ != 0) {
      if (now >= pin_deadline_) {
        pin_deadline_ = 0;
        if (!pin_id_.empty()) {
          pin_id_.clear();
          UnpinnedAdvisoryLocked("timeout", out);
        }
        pump = true;  // a waiting request takes a new pin
      } else {
        take(pin_deadline_);
      }
    }
    std::vector<uint64_t> due;
    timers_.PopDue(now, [this](uint64_t seq, int64_t deadline) { return TimerIsCurrent(seq, deadline); }, due);
    for (uint64_t seq : due) {
      auto it = pending_.find(seq);
      if (config_.max_deliver > 0 && static_cast<int64_t>(it->second.deliveries) >= config_.max_deliver) {
        ExhaustLocked(seq, it->second.deliveries, out);
      } else {
        it->second.deadline = 0;
        redeliver_.insert(seq);
      }
      pump = true;
    }
    take(timers_.Next([this](uint64_t seq, int64_t deadline) { return TimerIsCurrent(seq, deadline); }));
    // Push idle heartbeats (only while someone listens).
    if (push_ && config_.idle_heartbeat_ns > 0) {
      if (heartbeat_due_ == 0) heartbeat_due_ = now + config_.idle_heartbeat_ns;
      if (now >= heartbeat_due_) {
        if (active_) out.push_back({config_.deliver_subject, "", HeartbeatHeaderLocked(), "", config_.deliver_subject});
        heartbeat_due_ = now + config_.idle_heartbeat_ns;
      }
      take(heartbeat_due_);
    }
    // Replay-original and rate-limit holds.
    for (int64_t hold : {replay_.hold_until, rate_.hold_until}) {
      if (hold == 0) continue;
      if (now >= hold) pump = true;
      else take(hold);
    }
    if (pump) more = push_ ? PumpPushLocked(out, acked) : PumpPullLocked(out, acked);
    // Inactive threshold: push without interest, pull without requests or acks.
    if (const int64_t threshold = config_.inactive_threshold_ns; threshold > 0) {
      if (push_) {
        if (!active_) {
          if (now - inactive_since_ >= threshold) reap = true;
          else take(inactive_since_ + threshold);
        }
      } else if (waiting_.empty()) {
        if (now - last_activity_ns_ >= threshold) reap = true;
        else take(last_activity_ns_ + threshold);
      } else {
        take(now + threshold);  // re-check once the requests are gone
      }
    }
    if (!reap) ArmTimerLocked(next);
  }
  Publish(out);
  AfterAcks(acked);
  if (!acked.empty() && !dir_.empty() && env_.dispatcher) env_.dispatcher->MarkDirty(shared_from_this());
  if (more) Kick();
  if (reap) {
    auto stream = stream_.lock();
    if (stream) stream->RemoveConsumer(name_);
    Stop(true, true);
    if (stream) stream->RecheckInterest();
  }
}

}  // namespace sluice::jetstream
