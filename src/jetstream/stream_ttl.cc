// Stream: expiry by max_age and by per-message TTL, and the subject delete
// markers of nats-server 2.11 (ADR-43). Runs on the JetStream timer thread
// (JetStreamImpl::TimerLoop) or a test's thread, under Stream::mu_.
//
// When expiry would remove the last message of a subject and the stream has
// subject_delete_marker_ttl, the store keeps that message and reports it;
// the stream then appends a marker on the subject (headers
// `Nats-Marker-Reason: MaxAge`, `Nats-TTL: <marker TTL>`, `Nats-Rollup: sub`,
// no payload), which itself expires after the marker TTL, and rolls the
// subject up to it, which removes the expired message. A marker or a KV
// purge that expires as the last of its subject is just removed. Consumers
// (KV watchers) see the marker as a new message: nats.js reads reason MaxAge
// as a PURGE of the key. Markers become durable like any append (the group
// commit); their durable callback only marks the stream's ack queue, which
// is drained after mu_ is released.
#include <fmt/format.h>

#include "jetstream/consumer.h"
#include "jetstream/msg_ttl.h"
#include "jetstream/stream.h"

namespace sluice::jetstream {
namespace {

// Set while this thread appends a marker under Stream::mu_: a durable
// callback run inside Append (memory storage, sync_interval) must not
// publish acks with the lock held.
thread_local bool t_placing_marker = false;

}  // namespace

bool Stream::PlaceMarkerLocked(const store::ExpiredLast& held) {
  auto m = store_->Load(held.seq);
  if (!m.ok()) return false;
  if (!ExpiryPlacesMarker(m->headers)) {
    (void)store_->Delete(held.seq);
    return false;
  }
  const int64_t ttl_s = config_.subject_delete_marker_ttl_ns / kSecondNs;
  std::shared_ptr<AckQueue> acks = acks_;
  std::string stream_name = name_;
  auto on_durable = [acks, stream_name](uint64_t seq, const store::Status& status) {
    acks->MarkDurable(seq, status.ok() ? std::string()
                                       : FormatErrorAck(stream_name, MakeError(ErrorId::kStreamStoreFailed,
                                                                               status.ToString())));
    if (!t_placing_marker) acks->Drain();
  };
  store::AppendOptions options;
  options.ttl_ns = ttl_s * kSecondNs;
  t_placing_marker = true;
  auto appended = store_->Append(held.subject, MaxAgeMarkerHeaders(config_.subject_delete_marker_ttl_ns), "",
                                 std::move(on_durable), options);
  t_placing_marker = false;
  if (!appended.ok()) {
    if (env_.log) env_.log(fmt::format("stream {}: cannot place a subject delete marker on {}: {}", name_,
                                       held.subject, appended.status().ToString()));
    (void)store_->Delete(held.seq);
    return false;
  }
  last_appended_seq_ = appended->seq;
  last_msg_id_.clear();
  store::PurgeRequest rollup;
  rollup.filter = held.subject;
  rollup.keep = 1;
  (void)store_->Purge(rollup);
  return true;
}

int64_t Stream::RunExpiry(int64_t now_ns) {
  bool placed = false;
  int64_t next = 0;
  {
    std::lock_guard lock(mu_);
    if (closed_ || !store_ || (config_.max_age_ns <= 0 && !config_.allow_msg_ttl)) return 0;
    next = store_->NextExpiry();
    if (next != 0 && next <= now_ns) {
      const bool markers = config_.subject_delete_marker_ttl_ns > 0;
      store::ExpiryResult result = store_->Expire(now_ns, markers);
      for (const auto& held : result.held) placed = PlaceMarkerLocked(held) || placed;
      SyncUsageLocked();
      next = store_->NextExpiry();
    }
  }
  if (placed) {
    if (env_.ack_sender) env_.ack_sender->Wake(acks_);
    else acks_->Drain();
    for (auto& c : Consumers()) c->Kick();
  }
  return next;
}

}  // namespace sluice::jetstream
