// TtlIndex: the per-message TTL timer index of one store (nats-server 2.11's
// `Nats-TTL`, ADR-43). It maps a message's sequence to the time it expires
// and answers "what is due at time t" and "when is the next expiry" without
// looking at the messages: expiry never scans the stream.
//
// Entries: (expires_ns, seq) ordered by time for the timer, plus seq ->
// expires_ns for removal when a message leaves for another reason (delete,
// purge, limits, rollup). A message whose TTL is "never" is kept apart: it
// never becomes due, and the age expiry (max_age) skips it.
//
// Not persisted: the owner (LogStore) fills it on Append and rebuilds it at
// recovery from the stored messages' `Nats-TTL` headers (see
// docs/storage-format.md, "Per-message TTL"). Not thread-safe: the LogStore
// calls it under its mu_.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace sluice::store {

class TtlIndex {
 public:
  // expires_ns: when the message with sequence seq expires (ns since the
  // epoch). Replaces an earlier entry of the same sequence.
  void Add(uint64_t seq, int64_t expires_ns);
  // The message never expires, not even by max_age.
  void AddNever(uint64_t seq);
  // Forgets seq (a no-op when it has no entry).
  void Remove(uint64_t seq);
  void Clear();

  bool empty() const { return by_seq_.empty() && never_.empty(); }
  size_t size() const { return by_seq_.size() + never_.size(); }
  bool IsNever(uint64_t seq) const { return !never_.empty() && never_.count(seq) > 0; }
  // The earliest expiry; 0 when no entry will expire.
  int64_t NextExpiry() const { return by_time_.empty() ? 0 : by_time_.begin()->first; }
  // Removes and returns the sequences due at now_ns (expires_ns <= now_ns),
  // in expiry order (ties by sequence).
  std::vector<uint64_t> TakeDue(int64_t now_ns);
  // Bytes held (for IndexMemoryBytes): an estimate of the node sizes.
  uint64_t MemoryBytes() const;

 private:
  std::set<std::pair<int64_t, uint64_t>> by_time_;  // (expires_ns, seq)
  std::unordered_map<uint64_t, int64_t> by_seq_;    // seq -> expires_ns
  std::unordered_set<uint64_t> never_;
};

}  // namespace sluice::store
