// GroupCommitter: a small timed work queue of stores that need an fsync round.
#include "store/group_commit.h"

namespace sluice::store {

GroupCommitter::GroupCommitter(int threads) : thread_count_(threads < 1 ? 1 : threads) {}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void GroupCommitter::Schedule(SyncTarget* target, int64_t delay_ns) {
  auto due = Clock::now() + std::chrono::nanoseconds(delay_ns);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    if (threads_.empty()) {
      for (int i = 0; i < thread_count_; ++i) threads_.emplace_back([this] { Run(); });
    }
    auto it = queued_.find(target);
    if (it != queued_.end()) {
      if (it->second->first <= due) return;
      queue_.erase(it->second);
      queued_.erase(it);
    }
    queued_[target] = queue_.emplace(due, target);
  }
  cv_.notify_one();
}

void GroupCommitter::Cancel(SyncTarget* target) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = queued_.find(target);
  if (it != queued_.end()) {
    queue_.erase(it->second);
    queued_.erase(it);
  }
  cv_.wait(lock, [&] { return running_.count(target) == 0; });
}

void GroupCommitter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto first = queue_.begin();
    if (first->first > Clock::now()) {
      cv_.wait_until(lock, first->first);
      continue;
    }
    SyncTarget* target = first->second;
    queue_.erase(first);
    queued_.erase(target);
    running_.insert(target);
    lock.unlock();
    target->RunSyncRound();
    lock.lock();
    running_.erase(running_.find(target));
    cv_.notify_all();
  }
}

}  // namespace sluice::store
