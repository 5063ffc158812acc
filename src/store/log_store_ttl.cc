// LogStore: expiry by age (max_age) and by per-message TTL (the TtlIndex
// timer index), and the TTL index rebuild after recovery.
//
// Removal and durability: messages due by age that are the oldest live
// messages go with a floor record, as before; any other expired message
// (TTL-due, or due by age behind a "never" or held message) gets a tombstone
// record, written in one batch. Like ExpireOld always did, expiry schedules a
// sync and returns without waiting for it: the removal is visible at once
// and durable after the next group commit. A tombstone write that fails
// leaves its messages in place and due again at the next call.
#include <algorithm>
#include <unordered_map>

#include "store/log_store.h"

namespace sluice::store {

uint64_t LogStore::ExpireOld(int64_t now_ns) { return Expire(now_ns, false).removed; }

ExpiryResult LogStore::Expire(int64_t now_ns, bool hold_last_of_subject) {
  std::lock_guard<std::mutex> lock(mu_);
  ExpiryResult result;
  if (closed_ || msgs_ == 0) return result;
  std::vector<uint64_t> front;   // the oldest live messages, due by age: removed with a floor
  std::vector<uint64_t> marked;  // every other removal: tombstones
  std::unordered_map<uint32_t, uint64_t> leaving;  // subject id -> messages of it removed in this call
  // A due message is held when, without the ones already leaving, it is
  // the only message of its subject (nats-server's "last" for markers).
  auto hold = [&](const Slot& s, uint64_t seq) {
    if (!hold_last_of_subject) return false;
    uint64_t left = subjects_[s.subject].count - leaving[s.subject];
    if (left != 1) return false;
    result.held.push_back(ExpiredLast{seq, *subjects_[s.subject].name});
    return true;
  };
  if (limits_.max_age_ns > 0) {
    const int64_t cutoff = now_ns - limits_.max_age_ns;
    bool at_front = true;
    // A walk from the front that stops at the first message younger than
    // the cutoff: timestamps never go backwards.
    ForEachMatch("", 0, [&](Segment& seg, size_t idx, uint64_t seq) {
      const Slot& s = seg.slots[idx];
      // The resident timestamp is rounded down to the ms: decide from it when
      // it is clear, read the record when the message is within 1 ms of the cutoff.
      int64_t lo = seg.base_ts + int64_t{s.ts_ms} * 1'000'000;
      if (lo > cutoff) return false;
      if (lo + 999'999 > cutoff && ExactTs(seg, idx) > cutoff) return false;
      if (ttl_.IsNever(seq) || hold(s, seq)) {
        at_front = false;
        return true;
      }
      (at_front ? front : marked).push_back(seq);
      leaving[s.subject]++;
      return true;
    });
  }
  std::vector<uint64_t> due = ttl_.TakeDue(now_ns);
  if (!due.empty()) {
    std::sort(due.begin(), due.end());  // holds and markers oldest first
    std::vector<uint64_t> by_age = front;
    by_age.insert(by_age.end(), marked.begin(), marked.end());
    std::sort(by_age.begin(), by_age.end());
    for (uint64_t seq : due) {
      Located loc;
      if (!LocateLive(seq, &loc) || std::binary_search(by_age.begin(), by_age.end(), seq)) continue;
      const Slot& s = loc.seg->slots[loc.idx];
      if (hold(s, seq)) continue;
      marked.push_back(seq);
      leaving[s.subject]++;
    }
  }
  for (uint64_t seq : front) {
    Located loc;
    if (!LocateLive(seq, &loc)) continue;
    RemoveSlot(*loc.seg, loc.idx);
    first_seq_ = seq + 1;
    result.removed++;
    floor_dirty_ = true;
  }
  if (!marked.empty()) {
    Status st;
    if (io_->persistent()) {
      std::string buf;
      int64_t now = clock_->NowNs();
      for (uint64_t seq : marked) EncodeMarker(&buf, RecordType::kTombstone, seq, now);
      st = WriteRecords(buf);
    }
    for (uint64_t seq : marked) {
      Located loc;
      if (!LocateLive(seq, &loc)) continue;
      if (!st.ok()) {
        if (!ttl_.IsNever(seq)) ttl_.Add(seq, now_ns);  // due again at the next call (no-op for age)
        continue;
      }
      RemoveSlot(*loc.seg, loc.idx);
      result.removed++;
    }
  }
  if (result.removed > 0) {
    AfterRemovals();
    ScheduleSyncLocked();
  }
  return result;
}

int64_t LogStore::NextExpiry() {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t next = 0;
  if (limits_.max_age_ns > 0) {
    // The oldest message that max_age can remove (messages that never
    // expire are skipped: a walk over them only).
    ForEachMatch("", 0, [&](Segment& seg, size_t idx, uint64_t seq) {
      if (ttl_.IsNever(seq)) return true;
      next = ExactTs(seg, idx) + limits_.max_age_ns;
      return false;
    });
  }
  int64_t ttl_next = ttl_.NextExpiry();
  if (ttl_next != 0 && (next == 0 || ttl_next < next)) next = ttl_next;
  return next;
}

void LogStore::RebuildTtlIndex() {
  std::lock_guard<std::mutex> lock(mu_);
  ttl_.Clear();
  if (!config_.message_ttl || msgs_ == 0) return;
  // Only messages with headers can carry Nats-TTL; collect them first (a
  // read that finds a corrupt record removes its slot).
  std::vector<uint64_t> with_headers;
  ForEachMatch("", 0, [&](Segment& seg, size_t idx, uint64_t seq) {
    if (seg.slots[idx].len_flags & kHasHeaders) with_headers.push_back(seq);
    return true;
  });
  for (uint64_t seq : with_headers) {
    Located loc;
    if (!LocateLive(seq, &loc)) continue;
    auto m = ReadSlot(*loc.seg, loc.idx);
    if (!m.ok()) continue;
    int64_t ttl = config_.message_ttl(m->headers);
    if (ttl > 0) ttl_.Add(seq, m->timestamp_ns + ttl);
    else if (ttl < 0) ttl_.AddNever(seq);
  }
}

}  // namespace sluice::store
