#include "jetstream/dedup.h"

namespace sluice::jetstream {

std::optional<uint64_t> DedupWindow::Find(std::string_view id, int64_t now_ns) {
  Expire(now_ns);
  auto it = ids_.find(std::string(id));
  if (it == ids_.end()) return std::nullopt;
  return it->second.seq;
}

void DedupWindow::Record(std::string_view id, uint64_t seq, int64_t ts_ns) {
  ids_[std::string(id)] = Entry{seq, ts_ns};
  by_time_.emplace_back(ts_ns, std::string(id));
}

void DedupWindow::Clear() {
  ids_.clear();
  by_time_.clear();
}

void DedupWindow::Expire(int64_t now_ns) {
  int64_t cutoff = now_ns - window_ns_;
  while (!by_time_.empty() && by_time_.front().first <= cutoff) {
    auto it = ids_.find(by_time_.front().second);
    // Only drop the id when this queue entry is its newest record.
    if (it != ids_.end() && it->second.ts_ns <= cutoff) ids_.erase(it);
    by_time_.pop_front();
  }
}

}  // namespace sluice::jetstream
