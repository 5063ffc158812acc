// GroupCommitter: the threads that run stores' fsync rounds. One committer
// can serve thousands of stores (the server keeps one for all streams); a
// store given none starts a private one-thread committer on its first write.
//
// A store Schedule()s itself when it has un-synced writes; a committer
// thread later calls its RunSyncRound(), which fsyncs everything written up
// to that moment and completes the appends it covered. Appends made while a
// round runs wait for the next one: that is the group commit.
//
// Leader rounds. A thread that can run a round itself at a point of its
// choosing (an event loop, at the end of a read batch) registers a
// RoundLeader for itself. A Schedule(target, 0) made on that thread while no
// round of the target is queued or running is then deferred to that thread
// instead of waking a committer thread; the thread calls
// LeadDeferredRounds() soon after, which runs one small round inline
// (SyncTarget::RunLeaderRound decides what is small) and hands every other
// deferred round to the committer threads. A synchronous publisher's round
// then costs no thread hand-off, while a loaded store (a round already
// running, or many writes waiting) keeps the committer's pipelining. The
// price: the leading thread does nothing else during that one fsync.
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
  // On a leader thread: runs the round if it is small enough to hold that
  // thread up for; false when it did not run (a committer thread runs it).
  virtual bool RunLeaderRound() {
    RunSyncRound();
    return true;
  }
};

// A thread able to lead rounds (see the header comment).
class RoundLeader {
 public:
  virtual ~RoundLeader() = default;
  // The first round since the last LeadDeferredRounds() was deferred to this
  // thread. Called under a store's lock: only note it, call no store.
  virtual void OnRoundDeferred() = 0;
};

class GroupCommitter {
 public:
  // leader_rounds: a Schedule on a thread with a RoundLeader may be deferred
  // to that thread. Such a committer must outlive every leader thread's next
  // LeadDeferredRounds() (the server's outlives its event loops).
  explicit GroupCommitter(int threads = 1, bool leader_rounds = false);
  ~GroupCommitter();  // waits for running rounds, runs none of the queued ones
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Asks for a round of target at delay_ns from now (0: as soon as possible).
  // A target already queued keeps the earlier of the two times. may_defer
  // false: the caller is about to wait for the round, so it must not be
  // deferred to a leader (perhaps the caller's own thread).
  void Schedule(SyncTarget* target, int64_t delay_ns = 0, bool may_defer = true);
  // Forgets target; waits until a round of it that is running has returned.
  void Cancel(SyncTarget* target);
  // Waits until no round is queued or running. A round's appends are
  // durable (Sync returns) just before the round itself ends, so a test
  // that needs an idle committer (the next Schedule may be deferred) waits
  // here.
  void WaitIdle();

  // The calling thread's leader (nullptr: it never leads; the default).
  static void SetThreadLeader(RoundLeader* leader);
  // Runs the rounds deferred to the calling thread (at most one inline, the
  // rest handed to their committers); loops until none is left.
  static void LeadDeferredRounds();

 private:
  void Run();
  // Runs (or hands over) one round deferred to the calling thread.
  bool LeadRound(SyncTarget* target, bool may_run_inline);
  using Clock = std::chrono::steady_clock;
  // Queues target for the committer threads (mu_ held); false: it was
  // already queued as early, nobody needs waking.
  bool QueueLocked(SyncTarget* target, Clock::time_point due);

  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;       // committer threads wait for work
  std::condition_variable done_cv_;  // Cancel waits for a running round
  std::multimap<Clock::time_point, SyncTarget*> queue_;
  std::unordered_map<SyncTarget*, std::multimap<Clock::time_point, SyncTarget*>::iterator> queued_;
  std::unordered_multiset<SyncTarget*> running_;  // by a committer thread or a leader
  std::unordered_set<SyncTarget*> deferred_;      // to a leader thread, not yet run
  int thread_count_;
  const bool leader_rounds_;
  std::vector<std::thread> threads_;  // started on the first queued round
  bool stopping_ = false;
};

}  // namespace sluice::store
