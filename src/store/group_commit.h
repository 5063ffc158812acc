// GroupCommitter: the threads that run stores' fsync rounds. One committer
// can serve thousands of stores (the server keeps one for all streams); a
// store given none starts a private one-thread committer on its first write.
//
// A store Schedule()s itself when it has un-synced writes; a committer
// thread later calls its RunSyncRound(), which fsyncs everything written up
// to that moment and completes the appends it covered. Appends made while a
// round runs wait for the next one: that is the group commit.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace sluice::store {

class SyncTarget {
 public:
  virtual ~SyncTarget() = default;
  virtual void RunSyncRound() = 0;
};

class GroupCommitter {
 public:
  explicit GroupCommitter(int threads = 1);
  ~GroupCommitter();  // waits for running rounds, runs none of the queued ones
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Asks for a round of target at delay_ns from now (0: as soon as possible).
  // A target already queued keeps the earlier of the two times.
  void Schedule(SyncTarget* target, int64_t delay_ns = 0);
  // Forgets target; waits until a round of it that is running has returned.
  void Cancel(SyncTarget* target);

 private:
  void Run();
  using Clock = std::chrono::steady_clock;

  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<Clock::time_point, SyncTarget*> queue_;
  std::unordered_map<SyncTarget*, std::multimap<Clock::time_point, SyncTarget*>::iterator> queued_;
  std::unordered_multiset<SyncTarget*> running_;
  int thread_count_;
  std::vector<std::thread> threads_;  // started on the first Schedule
  bool stopping_ = false;
};

}  // namespace sluice::store
