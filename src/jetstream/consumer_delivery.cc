// Deliveries: choosing the next message (due redeliveries first, then the
// last-per-subject list, then new messages), the ack reply, push delivery
// with flow control, replay original and the rate limit, pull delivery to
// waiting requests, and publishing a batch outside the consumer lock.
//
// Batching: one lock hold loads up to kBatchMessages / kBatchBytes; the
// batch is then routed with one match of the deliver subject. A Pump runs a
// few batches, then re-posts itself so other consumers and acks interleave.
#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "jetstream/consumer.h"
#include "jetstream/consumer_status.h"

namespace sluice::jetstream {
namespace {

constexpr size_t kBatchMessages = 256;
constexpr size_t kBatchBytes = 1 << 20;
constexpr int kBatchesPerPump = 4;
// nats-server delays a replayed message only when the original gap exceeds this.
constexpr int64_t kReplayMinDelayNs = 1'000'000;

void ToHeadersOnly(std::string& header, std::string& payload) {
  std::string base = header.empty() ? std::string("NATS/1.0\r\n") : header.substr(0, header.size() - 2);
  header = base + fmt::format("Nats-Msg-Size: {}\r\n\r\n", payload.size());
  payload.clear();
}

// The read-ahead of the thread running a pump batch (the dispatcher): fresh
// messages copied out of the store a block at a time, subject, headers and
// payload back to back in `arena`. One consumer's batch uses it at a time
// and empties it when it ends (Consumer::DropReadAheadLocked).
struct ReadAhead {
  struct Entry {
    uint64_t seq = 0;
    int64_t timestamp_ns = 0;
    size_t at = 0;
    uint32_t subject_len = 0, headers_len = 0, payload_len = 0;
  };
  std::string arena;
  std::vector<Entry> msgs;
  size_t pos = 0;
  void Clear() {
    if (arena.capacity() > (4u << 20)) std::string().swap(arena);  // after a batch of huge messages
    arena.clear();
    msgs.clear();
    pos = 0;
  }
};
thread_local ReadAhead t_read_ahead;

// An Outbox arena kept for the next Outbox on this thread (at most one, of
// at most kSpareArenaMax bytes; a nested Outbox simply starts empty).
constexpr size_t kSpareArenaMax = 4u << 20;
thread_local std::string t_spare_arena;

}  // namespace

Consumer::Outbox::Outbox() { arena.swap(t_spare_arena); }

Consumer::Outbox::~Outbox() {
  if (arena.capacity() <= kSpareArenaMax && arena.capacity() > t_spare_arena.capacity()) {
    arena.clear();
    t_spare_arena.swap(arena);
  }
}

void Consumer::Kick() {
  if (!env_.dispatcher || kick_scheduled_.exchange(true)) return;
  std::weak_ptr<Consumer> weak = weak_from_this();
  env_.dispatcher->Post([weak] {
    if (auto c = weak.lock()) {
      c->kick_scheduled_ = false;
      c->Pump();
    }
  });
}

void Consumer::Pump() {
  bool progressed = false;  // ack none: the delivered position moved
  for (int i = 0; i < kBatchesPerPump; ++i) {
    Outbox out;
    std::vector<uint64_t> acked;
    bool more;
    {
      std::lock_guard lock(mu_);
      more = push_ ? PumpPushLocked(out, acked) : PumpPullLocked(out, acked);
    }
    Publish(out);
    AfterAcks(acked);
    progressed |= !acked.empty();
    if (!more) {
      if (progressed || pumps_since_commit_ > 0) CommitProgress(true);
      return;
    }
  }
  if (progressed) CommitProgress(false);
  Kick();  // more to send: after what else is queued
}

void Consumer::CommitProgress(bool settled) {
  if (dir_.empty() || !env_.dispatcher) return;
  // Nobody waits for the confirmation of an ack-none delivery: while a
  // backlog drains, its position is written every kProgressCommitPumps pumps
  // (not after every dispatcher round, each a file write + 2 fsyncs); it is
  // written as soon as the consumer stops with nothing more to send, and at Stop.
  if (!settled && ++pumps_since_commit_ < kProgressCommitPumps) return;
  pumps_since_commit_ = 0;
  env_.dispatcher->MarkDirty(shared_from_this());
}

void Consumer::Publish(Outbox& out) {
  const bool on_dispatcher = env_.dispatcher && env_.dispatcher->OnThread();
  std::shared_ptr<const router::MatchResult> route;
  std::string_view route_subject;
  std::vector<router::Message> batch;
  for (auto& o : out) {
    if (o.count > 0) {  // a run of deliveries: one match, one hand-over per destination
      if (!env_.router || !on_dispatcher) continue;
      router::MatchCache& cache = env_.dispatcher->cache();
      if (!route || route_subject != o.route) {
        route = env_.router->Match(o.route, cache);
        route_subject = o.route;
      }
      const std::string_view arena(out.arena);
      batch.clear();
      for (size_t k = o.first; k < o.first + o.count; ++k) {
        const Delivery& d = out.deliveries[k];
        batch.push_back({arena.substr(d.subject, d.subject_len), arena.substr(d.reply, d.reply_len),
                         arena.substr(d.header, d.header_len), arena.substr(d.payload, d.payload_len)});
      }
      env_.router->RouteBatchTo(*route, batch.data(), batch.size(), cache);
      continue;
    }
    if (o.advisory) {
      if (!env_.publisher || !env_.router) continue;
      bool interest;
      if (on_dispatcher) {
        interest = env_.dispatcher->HasInterest(*env_.router, o.subject);
      } else {
        router::MatchResult r = env_.router->MatchUncached(o.subject);
        interest = !r.plain.empty() || !r.queue_groups.empty();
      }
      if (interest) env_.publisher->Publish(o.subject, "", "", o.payload);
      continue;
    }
    if (o.route.empty()) {
      if (env_.publisher) env_.publisher->Publish(o.subject, o.reply, o.header, o.payload);
      continue;
    }
    if (!env_.router || !on_dispatcher) continue;  // routed sends belong to the dispatcher thread
    router::MatchCache& cache = env_.dispatcher->cache();
    if (!route || route_subject != o.route) {
      route = env_.router->Match(o.route, cache);
      route_subject = o.route;
    }
    router::Message msg{o.subject, o.reply, o.header, o.payload};
    env_.router->RouteTo(*route, msg, nullptr, true, cache);
  }
  out.clear();
  out.arena.clear();
  out.deliveries.clear();
}

// ---- the next message ----

std::optional<Consumer::Candidate> Consumer::NextLocked(Stream& stream, const std::vector<std::string>& filters,
                                                        std::vector<Out>& out, Halt& halt, size_t want,
                                                        size_t want_bytes) {
  halt = Halt::kNone;
  while (!redeliver_.empty()) {
    uint64_t seq = *redeliver_.begin();
    auto it = pending_.find(seq);
    if (it == pending_.end()) {
      redeliver_.erase(redeliver_.begin());
      continue;
    }
    if (config_.max_deliver > 0 && static_cast<int64_t>(it->second.deliveries) >= config_.max_deliver) {
      ExhaustLocked(seq, it->second.deliveries, out);  // e.g. a NAK of its last delivery
      continue;
    }
    auto m = stream.LoadSeq(seq);
    if (!m.ok()) {  // removed from the stream meanwhile
      redeliver_.erase(redeliver_.begin());
      pending_.erase(it);
      NoteChangedLocked(seq);
      dirty_ = true;
      continue;
    }
    Candidate c = OwnedCandidate(std::move(*m));
    c.deliveries = it->second.deliveries + 1;
    c.kind = Candidate::Kind::kRedelivery;
    return c;
  }
  if (config_.ack_policy != AckPolicy::kNone && config_.max_ack_pending > 0 &&
      static_cast<int64_t>(pending_.size()) >= config_.max_ack_pending) {
    halt = Halt::kMaxAckPending;
    return std::nullopt;
  }
  while (!last_per_subject_.empty()) {
    auto m = stream.LoadSeq(last_per_subject_.front());
    if (m.ok()) {
      Candidate c = OwnedCandidate(std::move(*m));
      c.kind = Candidate::Kind::kLastPerSubject;
      return c;
    }
    last_per_subject_.pop_front();
  }
  // Fresh messages: from the read-ahead, refilled a block at a time.
  ReadAhead& ra = t_read_ahead;
  while (ra.pos < ra.msgs.size() && ra.msgs[ra.pos].seq < next_sseq_) ++ra.pos;
  if (ra.pos == ra.msgs.size()) {
    ra.Clear();
    stream.LoadNextBatch(filters, next_sseq_, std::max<size_t>(want, 1), want_bytes,
                         [&ra](const store::MessageView& v) {
                           ra.msgs.push_back({v.seq, v.timestamp_ns, ra.arena.size(),
                                              static_cast<uint32_t>(v.subject.size()),
                                              static_cast<uint32_t>(v.headers.size()),
                                              static_cast<uint32_t>(v.payload.size())});
                           ra.arena.append(v.subject).append(v.headers).append(v.payload);
                           return true;
                         });
  }
  if (ra.pos == ra.msgs.size()) {
    halt = Halt::kEndOfStream;
    npc_.valid = false;  // recounted on demand: cheap at the end of the stream
    return std::nullopt;
  }
  // Taken: a caller that does not deliver it and goes on drops the read-ahead.
  const ReadAhead::Entry& e = ra.msgs[ra.pos++];
  const std::string_view arena(ra.arena);
  Candidate c;
  c.seq = e.seq;
  c.timestamp_ns = e.timestamp_ns;
  c.subject = arena.substr(e.at, e.subject_len);
  c.headers = arena.substr(e.at + e.subject_len, e.headers_len);
  c.payload = arena.substr(e.at + e.subject_len + e.headers_len, e.payload_len);
  return c;
}

void Consumer::DropReadAheadLocked() { t_read_ahead.Clear(); }

Consumer::Candidate Consumer::OwnedCandidate(store::StoredMessage m) {
  Candidate c;
  c.owned = std::make_unique<store::StoredMessage>(std::move(m));
  c.seq = c.owned->seq;
  c.timestamp_ns = c.owned->timestamp_ns;
  c.subject = c.owned->subject;  // views into the heap object: stable when c moves
  c.headers = c.owned->headers;
  c.payload = c.owned->payload;
  return c;
}

void Consumer::AppendAckReplyLocked(std::string& to, const Candidate& c, uint64_t pending_left) const {
  // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts_ns>.<pending>
  char numbers[5 * 21];
  char* end = fmt::format_to(numbers, FMT_COMPILE("{}.{}.{}.{}.{}"), c.deliveries, c.seq, dseq_ + 1,
                             c.timestamp_ns, pending_left);
  to.append(ack_prefix_);
  to.append(numbers, static_cast<size_t>(end - numbers));
}

Consumer::Delivery Consumer::FormatDeliveryLocked(Outbox& out, const Candidate& c, uint64_t pending_left,
                                                  std::string_view pin_id) const {
  std::string& a = out.arena;
  Delivery d;
  d.subject = static_cast<uint32_t>(a.size());
  d.subject_len = static_cast<uint32_t>(c.subject.size());
  a.append(c.subject);
  d.reply = static_cast<uint32_t>(a.size());
  AppendAckReplyLocked(a, c, pending_left);
  d.reply_len = static_cast<uint32_t>(a.size() - d.reply);
  d.header = static_cast<uint32_t>(a.size());
  if (config_.headers_only) {
    std::string header(c.headers), payload(c.payload);
    ToHeadersOnly(header, payload);
    a.append(header);
  } else {
    a.append(c.headers);
  }
  if (!pin_id.empty()) {
    // pinned_client: one more header line, as the block's last ("NATS/1.0\r\n"
    // when the message had none).
    if (a.size() == d.header) a.append("NATS/1.0\r\n");
    else a.resize(a.size() - 2);  // the block's closing CRLF
    a.append("Nats-Pin-Id: ");
    a.append(pin_id);
    a.append("\r\n\r\n");
  }
  d.header_len = static_cast<uint32_t>(a.size() - d.header);
  d.payload = static_cast<uint32_t>(a.size());
  if (!config_.headers_only) a.append(c.payload);
  d.payload_len = static_cast<uint32_t>(a.size() - d.payload);
  return d;
}

void Consumer::QueueDelivery(Outbox& out, const Delivery& d, const std::string& route) {
  out.deliveries.push_back(d);
  if (!out.empty()) {
    Out& last = out.back();
    if (last.count > 0 && last.first + last.count == out.deliveries.size() - 1 && last.route == route) {
      ++last.count;
      return;
    }
  }
  Out run;
  run.route = route;
  run.first = out.deliveries.size() - 1;
  run.count = 1;
  out.push_back(std::move(run));
}

void Consumer::CommitDeliveryLocked(const Candidate& c, int64_t now, std::vector<uint64_t>& acked) {
  const uint64_t seq = c.seq;
  ++dseq_;
  switch (c.kind) {
    case Candidate::Kind::kRedelivery: redeliver_.erase(seq); break;
    case Candidate::Kind::kLastPerSubject: last_per_subject_.pop_front(); break;
    case Candidate::Kind::kFresh:
      if (npc_.valid && seq <= npc_.last_seq && npc_.count > 0) --npc_.count;
      next_sseq_ = seq + 1;
      break;
  }
  if (c.kind != Candidate::Kind::kRedelivery) delivered_sseq_ = std::max(delivered_sseq_, seq);
  last_delivered_ns_ = now;
  replay_.last_ts = c.timestamp_ns;
  if (config_.ack_policy != AckPolicy::kNone) {
    PendingAck& p = pending_[seq];
    p.cseq = dseq_;
    p.deliveries = c.deliveries;
    p.delivered_ns = now;
    NoteChangedLocked(seq);
    ScheduleRedeliveryLocked(seq, p, now + BackoffFor(c.deliveries));
  } else {
    acked.push_back(seq);
    dirty_ = true;
  }
}

bool Consumer::ReplayAllowsLocked(const Candidate& c, int64_t now) {
  if (!replay_.replaying || replay_.last_ts == 0) return true;
  const int64_t delay = c.timestamp_ns - replay_.last_ts;
  if (delay <= kReplayMinDelayNs) return true;
  if (replay_.hold_until != 0 && replay_.hold_seq == c.seq) {
    if (now < replay_.hold_until) return false;
    replay_.hold_until = 0;
    return true;
  }
  // nats-server waits the original gap from the moment it is ready to send.
  replay_.hold_until = now + delay;
  replay_.hold_seq = c.seq;
  ArmTimerLocked(replay_.hold_until);
  return false;
}

bool Consumer::RateAllowsLocked(size_t size, int64_t now) {
  if (config_.rate_limit_bps == 0) return true;
  // nats-server: a token bucket of bps/8 bytes per second whose burst is the
  // stream's max_msg_size, else the server's max_payload; it starts full.
  const double rate = static_cast<double>(std::max<uint64_t>(config_.rate_limit_bps / 8, 1));
  if (rate_.hold_until > now) return false;
  if (rate_.at == 0) {
    int64_t burst = env_.max_payload > 0 ? env_.max_payload : 1024 * 1024;
    if (auto stream = stream_.lock()) {
      if (int64_t m = stream->config().max_msg_size; m > 0) burst = m;
    }
    rate_.burst = static_cast<double>(burst);
    rate_.tokens = rate_.burst;
    rate_.at = now;
  }
  rate_.tokens = std::min(rate_.burst, rate_.tokens + static_cast<double>(now - rate_.at) * rate / 1e9);
  rate_.at = now;
  const double need = std::min(static_cast<double>(size), rate_.burst);
  if (rate_.tokens + 1e-6 >= need) {
    rate_.tokens -= need;
    rate_.hold_until = 0;
    return true;
  }
  rate_.hold_until = now + static_cast<int64_t>(std::ceil((need - rate_.tokens) / rate * 1e9));
  ArmTimerLocked(rate_.hold_until);
  return false;
}

void Consumer::EndOfBacklogLocked() {
  // nats-server leaves replay mode once past the stream's last sequence at start.
  if (replay_.replaying && next_sseq_ > replay_.until_seq) replay_.replaying = false;
}

// ---- push ----

bool Consumer::PumpPushLocked(Outbox& out, std::vector<uint64_t>& acked) {
  if (stopped_ || !active_) return false;
  // Paused (nats-server 2.11): nothing is delivered; heartbeats and ack
  // timers go on (OnTimer), and the resume at the deadline pumps again.
  if (config_.has_pause_until && config_.PausedAt(Now())) return false;
  auto stream = stream_.lock();
  if (!stream) return false;
  if (fc_.maxpb > 0 && fc_.pbytes > fc_.maxpb) return false;  // waiting for a flow-control reply
  struct EndBatch {
    Consumer* c;
    ~EndBatch() { c->DropReadAheadLocked(); }
  } end_batch{this};
  const int64_t now = Now();
  const auto filters = config_.Filters();
  const std::string deliver = config_.deliver_subject;
  std::optional<uint64_t> pending_count;
  size_t n = 0, bytes = 0;
  while (true) {
    if (n >= kBatchMessages || bytes >= kBatchBytes) return true;
    Halt halt;
    // Read ahead no further than the batch and the flow-control window allow.
    size_t want_bytes = kBatchBytes - bytes;
    if (fc_.maxpb > 0) want_bytes = std::min<size_t>(want_bytes, static_cast<size_t>(std::max<int64_t>(fc_.maxpb - fc_.pbytes, 1)));
    auto c = NextLocked(*stream, filters, out, halt, kBatchMessages - n, want_bytes);
    if (!c) {
      EndOfBacklogLocked();
      break;
    }
    if (!ReplayAllowsLocked(*c, now)) break;
    if (!pending_count) pending_count = NumPendingLocked(*stream);
    const bool redelivery = c->kind == Candidate::Kind::kRedelivery;
    const size_t mark = out.arena.size();
    const Delivery d =
        FormatDeliveryLocked(out, *c, redelivery ? *pending_count : (*pending_count > 0 ? *pending_count - 1 : 0));
    if (!RateAllowsLocked(d.subject_len + d.reply_len + d.header_len + d.payload_len, now)) {
      out.arena.resize(mark);
      break;
    }
    CommitDeliveryLocked(*c, now, acked);
    if (!redelivery && *pending_count > 0) --*pending_count;
    const int64_t size = static_cast<int64_t>(deliver.size() + d.reply_len + d.header_len + d.payload_len);
    QueueDelivery(out, d, deliver);
    ++n;
    bytes += static_cast<size_t>(size);
    FlowControlAfterLocked(size, out);
    if (config_.idle_heartbeat_ns > 0) heartbeat_due_ = now + config_.idle_heartbeat_ns;
    if (fc_.maxpb > 0 && fc_.pbytes > fc_.maxpb) break;  // stalled until the client answers
  }
  return false;
}

void Consumer::FlowControlAfterLocked(int64_t size, std::vector<Out>& out) {
  if (fc_.maxpb == 0) return;
  fc_.pbytes += size;
  if (fc_.fcid.empty()) {
    // nats-server asks once more than half the window is outstanding.
    if (fc_.pbytes > fc_.maxpb / 2) {
      fc_.fcid = "$JS.FC." + stream_name_ + "." + name_ + "." + consumer_wire::RandomToken(4);
      fc_.fcsz = fc_.pbytes;
      out.push_back({config_.deliver_subject, fc_.fcid, consumer_wire::kFlowControlRequest, "",
                     config_.deliver_subject});
    }
  } else if (fc_.pbytes - fc_.fcsz >= fc_.maxpb) {
    fc_.fcsz += size;
  }
}

std::string Consumer::HeartbeatHeaderLocked() const {
  std::string extra = fmt::format("Nats-Last-Consumer: {}\r\nNats-Last-Stream: {}\r\n", dseq_,
                                  next_sseq_ > 0 ? next_sseq_ - 1 : 0);
  if (push_ && !fc_.fcid.empty()) extra += "Nats-Consumer-Stalled: " + fc_.fcid + "\r\n";
  return consumer_wire::Status("100 Idle Heartbeat", extra);
}

bool Consumer::CheckInterest() {
  std::string subject, group;
  {
    std::lock_guard lock(mu_);
    if (stopped_ || !push_) return true;
    subject = config_.deliver_subject;
    group = config_.deliver_group;
  }
  const bool bound = InterestIn(subject, group, env_.dispatcher ? &env_.dispatcher->cache() : nullptr);
  bool kick = false;
  {
    std::lock_guard lock(mu_);
    if (stopped_ || config_.deliver_subject != subject || config_.deliver_group != group) return bound;
    if (bound == active_) return bound;
    active_ = bound;
    const int64_t now = Now();
    if (!bound) {
      inactive_since_ = now;
      if (config_.inactive_threshold_ns > 0) ArmTimerLocked(now + config_.inactive_threshold_ns);
    } else {
      if (config_.idle_heartbeat_ns > 0) {
        heartbeat_due_ = now + config_.idle_heartbeat_ns;
        ArmTimerLocked(heartbeat_due_);
      }
      kick = true;
    }
  }
  if (kick) Kick();
  return bound;
}

// ---- pull ----

bool Consumer::WaitingHasInterest(const std::string& reply) {
  if (!env_.router || !env_.dispatcher) return true;
  return env_.dispatcher->HasInterest(*env_.router, reply);
}

void Consumer::EndServedOneShotsLocked(std::vector<Out>& out) {
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->no_wait && it->delivered > 0) {
      out.push_back(RequestTimeout(*it));
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
}

bool Consumer::PumpPullLocked(Outbox& out, std::vector<uint64_t>& acked) {
  if (stopped_ || waiting_.empty()) return false;
  if (config_.has_pause_until && config_.PausedAt(Now())) {
    // Paused: requests stay queued (they expire and get their heartbeats as
    // usual, OnTimer) and are served after the resume. As nats-server, whose
    // paused loop checks its requests as at the end of the stream, a one-shot
    // (no_wait) request that already got messages ends now with its 408.
    EndServedOneShotsLocked(out);
    return false;
  }
  auto stream = stream_.lock();
  if (!stream) return false;
  struct EndBatch {
    Consumer* c;
    ~EndBatch() { c->DropReadAheadLocked(); }
  } end_batch{this};
  const auto filters = config_.Filters();
  const int64_t now = Now();
  std::optional<uint64_t> pending_count;
  size_t n = 0, bytes = 0;
  Halt halt = Halt::kNone;
  while (!waiting_.empty()) {
    if (n >= kBatchMessages || bytes >= kBatchBytes) return true;
    // Read ahead no further than the waiting requests and max_ack_pending allow.
    size_t want = kBatchMessages - n;
    int64_t asked = 0;
    for (const Waiting& w : waiting_) {
      asked += w.batch;
      if (asked >= static_cast<int64_t>(want)) break;
    }
    want = std::min<size_t>(want, static_cast<size_t>(std::max<int64_t>(asked, 1)));
    if (config_.ack_policy != AckPolicy::kNone && config_.max_ack_pending > 0) {
      const int64_t room = config_.max_ack_pending - static_cast<int64_t>(pending_.size());
      want = std::min<size_t>(want, static_cast<size_t>(std::max<int64_t>(room, 1)));
    }
    auto c = NextLocked(*stream, filters, out, halt, want, kBatchBytes - bytes);
    if (!c) break;
    // Priority groups: which request may take it (consumers without a
    // policy pay this one test per message).
    if (config_.priority_policy != PriorityPolicy::kNone) {
      if (!pending_count) pending_count = NumPendingLocked(*stream);
      if (!SelectPriorityRequestLocked(*c, *pending_count, now, out)) break;  // c stays unsent (EndBatch drops it)
    }
    if (!WaitingHasInterest(waiting_.front().reply)) {
      waiting_.pop_front();  // nobody listens on its inbox any more
      DropReadAheadLocked();  // c was taken from it: read again
      continue;
    }
    if (!ReplayAllowsLocked(*c, now)) break;
    Waiting& w = waiting_.front();
    if (!pending_count) pending_count = NumPendingLocked(*stream);
    const bool redelivery = c->kind == Candidate::Kind::kRedelivery;
    const size_t mark = out.arena.size();
    // pinned_client: every message carries the pin (nats-server counts
    // max_bytes without that header line).
    const std::string_view pin =
        config_.priority_policy == PriorityPolicy::kPinnedClient ? std::string_view(pin_id_) : std::string_view();
    const Delivery d = FormatDeliveryLocked(
        out, *c, redelivery ? *pending_count : (*pending_count > 0 ? *pending_count - 1 : 0), pin);
    const int64_t size = static_cast<int64_t>(d.subject_len + d.reply_len + d.header_len + d.payload_len);
    int64_t counted = size;
    if (!pin.empty()) {
      counted -= static_cast<int64_t>(pin.size() + sizeof("Nats-Pin-Id: \r\n") - 1);
      if (!config_.headers_only && c->headers.empty()) counted -= static_cast<int64_t>(sizeof("NATS/1.0\r\n\r\n") - 1);
    }
    if (w.has_max_bytes) {
      if (counted > w.max_bytes) {
        out.arena.resize(mark);
        out.push_back({w.reply, "",
                       consumer_wire::Status("409 Message Size Exceeds MaxBytes",
                                             consumer_wire::PendingHeaders(w.batch, w.max_bytes)),
                       "", ""});
        waiting_.pop_front();
        DropReadAheadLocked();  // c was taken from it: read again
        continue;
      }
      w.max_bytes -= counted;
      if (w.max_bytes == 0) w.batch = 1;  // this one fills it: the request ends with it
    }
    CommitDeliveryLocked(*c, now, acked);
    if (!redelivery && *pending_count > 0) --*pending_count;
    // To the request's inbox, shown with the stored message's subject.
    QueueDelivery(out, d, w.reply);
    ++n;
    bytes += static_cast<size_t>(size);
    last_activity_ns_ = now;
    --w.batch;
    ++w.delivered;
    if (w.batch <= 0) {
      if (w.has_max_bytes && w.max_bytes > 0)
        out.push_back({w.reply, "",
                       consumer_wire::Status("409 Batch Completed", consumer_wire::PendingHeaders(w.batch, w.max_bytes)), "",
                       ""});
      waiting_.pop_front();
    } else {
      if (w.heartbeat_ns > 0) w.next_heartbeat = now + w.heartbeat_ns;
      if (waiting_.size() > 1) {  // nats-server serves waiting requests round-robin
        Waiting moved = std::move(waiting_.front());
        waiting_.pop_front();
        waiting_.push_back(std::move(moved));
      }
    }
  }
  // One-shot (no_wait) requests that got something end at the end of the stream.
  if (halt == Halt::kEndOfStream) EndServedOneShotsLocked(out);
  if (halt != Halt::kNone) EndOfBacklogLocked();
  return false;
}

}  // namespace sluice::jetstream
