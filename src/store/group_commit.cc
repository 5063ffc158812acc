// GroupCommitter: a small timed work queue of stores that need an fsync
// round, and the leader rounds run by the threads that registered for them.
#include "store/group_commit.h"

namespace sluice::store {
namespace {

struct DeferredRound {
  GroupCommitter* committer;
  SyncTarget* target;
};

// Per thread: its leader, the rounds deferred to it (in deferral order), and
// whether it is inside LeadDeferredRounds.
thread_local RoundLeader* t_leader = nullptr;
thread_local std::vector<DeferredRound> t_deferred;
thread_local bool t_leading = false;

}  // namespace

GroupCommitter::GroupCommitter(int threads, bool leader_rounds)
    : thread_count_(threads < 1 ? 1 : threads), leader_rounds_(leader_rounds) {}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

bool GroupCommitter::QueueLocked(SyncTarget* target, Clock::time_point due) {
  if (threads_.empty()) {
    for (int i = 0; i < thread_count_; ++i) threads_.emplace_back([this] { Run(); });
  }
  auto it = queued_.find(target);
  if (it != queued_.end()) {
    if (it->second->first <= due) return false;
    queue_.erase(it->second);
    queued_.erase(it);
  }
  queued_[target] = queue_.emplace(due, target);
  return true;
}

void GroupCommitter::Schedule(SyncTarget* target, int64_t delay_ns, bool may_defer) {
  auto due = Clock::now() + std::chrono::nanoseconds(delay_ns);
  RoundLeader* leader = may_defer && leader_rounds_ ? t_leader : nullptr;
  bool first_deferral = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    if (deferred_.count(target) != 0) {
      // A leader thread runs it soon, covering this write too. A thread that
      // cannot lead must not wait for another's batch: the committer takes it.
      if (leader != nullptr) return;
      deferred_.erase(target);
      due = Clock::now();
    } else if (leader != nullptr && delay_ns == 0 && queued_.count(target) == 0 && running_.count(target) == 0) {
      deferred_.insert(target);
      first_deferral = t_deferred.empty();
      t_deferred.push_back(DeferredRound{this, target});
    }
    if (!first_deferral && deferred_.count(target) == 0) {
      if (!QueueLocked(target, due)) return;
    } else if (!first_deferral) {
      return;  // deferred behind an earlier deferral of this thread: already noted
    }
  }
  if (first_deferral) {
    leader->OnRoundDeferred();
  } else {
    cv_.notify_one();
  }
}

void GroupCommitter::Cancel(SyncTarget* target) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = queued_.find(target);
  if (it != queued_.end()) {
    queue_.erase(it->second);
    queued_.erase(it);
  }
  deferred_.erase(target);  // the leader's entry finds it gone and skips it
  done_cv_.wait(lock, [&] { return running_.count(target) == 0; });
}

void GroupCommitter::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [&] { return queue_.empty() && running_.empty(); });
}

void GroupCommitter::SetThreadLeader(RoundLeader* leader) { t_leader = leader; }

void GroupCommitter::LeadDeferredRounds() {
  if (t_leading) return;  // a round led here deferred another: the outer call takes it
  t_leading = true;
  thread_local std::vector<DeferredRound> work;
  bool may_run_inline = true;
  while (!t_deferred.empty()) {
    work.swap(t_deferred);
    // Hand the others over first, so the committer works while this thread
    // runs the first one itself.
    for (size_t i = 1; i < work.size(); ++i) work[i].committer->LeadRound(work[i].target, false);
    if (work[0].committer->LeadRound(work[0].target, may_run_inline)) may_run_inline = false;
    work.clear();
  }
  t_leading = false;
}

bool GroupCommitter::LeadRound(SyncTarget* target, bool may_run_inline) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    // Gone: cancelled, or handed to the committer by a thread that cannot lead.
    if (deferred_.erase(target) == 0 || stopping_) return false;
    if (!may_run_inline || running_.count(target) != 0) {
      bool wake = QueueLocked(target, Clock::now());
      lock.unlock();
      if (wake) cv_.notify_one();
      return false;
    }
    running_.insert(target);
  }
  const bool ran = target->RunLeaderRound();
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(running_.find(target));
    if (!ran && !stopping_) wake = QueueLocked(target, Clock::now());
  }
  done_cv_.notify_all();  // no system call unless a Cancel waits
  if (wake) cv_.notify_one();
  return ran;
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
    done_cv_.notify_all();
  }
}

}  // namespace sluice::store
