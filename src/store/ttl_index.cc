#include "store/ttl_index.h"

namespace sluice::store {

void TtlIndex::Add(uint64_t seq, int64_t expires_ns) {
  Remove(seq);
  by_time_.emplace(expires_ns, seq);
  by_seq_.emplace(seq, expires_ns);
}

void TtlIndex::AddNever(uint64_t seq) {
  Remove(seq);
  never_.insert(seq);
}

void TtlIndex::Remove(uint64_t seq) {
  if (auto it = by_seq_.find(seq); it != by_seq_.end()) {
    by_time_.erase({it->second, seq});
    by_seq_.erase(it);
    return;
  }
  never_.erase(seq);
}

void TtlIndex::Clear() {
  by_time_.clear();
  by_seq_.clear();
  never_.clear();
}

std::vector<uint64_t> TtlIndex::TakeDue(int64_t now_ns) {
  std::vector<uint64_t> due;
  auto it = by_time_.begin();
  while (it != by_time_.end() && it->first <= now_ns) {
    due.push_back(it->second);
    by_seq_.erase(it->second);
    it = by_time_.erase(it);
  }
  return due;
}

uint64_t TtlIndex::MemoryBytes() const {
  // A red-black tree node (3 pointers + colour + the pair) and a hash node
  // (next pointer + key + value, plus its bucket) per entry.
  constexpr uint64_t kTreeNode = 48, kHashNode = 32, kSetNode = 24;
  return by_time_.size() * kTreeNode + by_seq_.size() * kHashNode + never_.size() * kSetNode;
}

}  // namespace sluice::store
