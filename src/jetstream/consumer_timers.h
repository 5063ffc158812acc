// RedeliveryTimers: the ack-wait / backoff / NAK-delay deadlines of one
// consumer's pending acks, as a min-heap of (deadline, stream sequence).
//
// A dispatcher round pops only what is due, so its cost is O(due · log n),
// not O(pending). Entries are never removed in place: an ack, a +WPI or a
// NAK leaves the old entry behind, and the owner's `is_current(seq,
// deadline)` (the pending ack still exists with that deadline) discards it
// when it surfaces. Compact() rebuilds the heap from the live set once stale
// entries outnumber live ones, so memory stays within 2× the pending acks
// plus a constant.
//
// Not thread-safe: the owning Consumer guards it with its mutex.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace sluice::jetstream {

class RedeliveryTimers {
 public:
  void Schedule(uint64_t seq, int64_t deadline_ns) {
    heap_.push_back({deadline_ns, seq});
    std::push_heap(heap_.begin(), heap_.end(), Later);
  }

  // Appends to `out` every current entry due at `now_ns`, earliest first.
  template <typename IsCurrent>
  void PopDue(int64_t now_ns, IsCurrent&& is_current, std::vector<uint64_t>& out) {
    while (!heap_.empty() && heap_.front().deadline <= now_ns) {
      Entry e = heap_.front();
      std::pop_heap(heap_.begin(), heap_.end(), Later);
      heap_.pop_back();
      if (is_current(e.seq, e.deadline)) out.push_back(e.seq);
    }
  }

  // The earliest current deadline (0: none); drops stale entries on top.
  template <typename IsCurrent>
  int64_t Next(IsCurrent&& is_current) {
    while (!heap_.empty()) {
      const Entry& e = heap_.front();
      if (is_current(e.seq, e.deadline)) return e.deadline;
      std::pop_heap(heap_.begin(), heap_.end(), Later);
      heap_.pop_back();
    }
    return 0;
  }

  // Rebuilds from the live (seq, deadline) pairs when stale entries dominate.
  // `for_each_live(fn)` calls fn(seq, deadline) for every armed pending ack.
  template <typename ForEachLive>
  void MaybeCompact(size_t live, ForEachLive&& for_each_live) {
    if (heap_.size() <= 2 * live + kSlack) return;
    heap_.clear();
    for_each_live([this](uint64_t seq, int64_t deadline) { heap_.push_back({deadline, seq}); });
    std::make_heap(heap_.begin(), heap_.end(), Later);
    heap_.shrink_to_fit();
  }

  void Clear() {
    heap_.clear();
    heap_.shrink_to_fit();
  }
  size_t size() const { return heap_.size(); }

 private:
  struct Entry {
    int64_t deadline;
    uint64_t seq;
  };
  static bool Later(const Entry& a, const Entry& b) {
    return a.deadline != b.deadline ? a.deadline > b.deadline : a.seq > b.seq;
  }
  static constexpr size_t kSlack = 1024;
  std::vector<Entry> heap_;
};

}  // namespace sluice::jetstream
