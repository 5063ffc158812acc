// Dispatcher: the one thread that runs every consumer's deliveries, acks and
// timers. A round runs the posted tasks, commits the consumers they dirtied
// (those dirtied lazily, by plain acks, once no task waits or every
// kLazyCommitRounds rounds), re-checks the interest of the push consumers
// whose deliver subject the router reported changed (OnInterestChanged),
// then pops the consumer timers that are due (a heap: O(due) per round).
#include <algorithm>
#include <memory>
#include <optional>

#include "jetstream/consumer.h"

namespace sluice::jetstream {

Dispatcher::Dispatcher(store::Clock* clock) : clock_(clock), thread_([this] { Run(); }) {}

Dispatcher::~Dispatcher() { Stop(); }

int64_t Dispatcher::Now() { return clock_ ? clock_->NowNs() : store::SystemClock().NowNs(); }

void Dispatcher::Post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void Dispatcher::ScheduleTimer(std::weak_ptr<Consumer> consumer, int64_t deadline_ns) {
  bool earliest;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    earliest = timers_.empty() || deadline_ns < timers_.front().deadline;
    timers_.push_back({deadline_ns, std::move(consumer)});
    std::push_heap(timers_.begin(), timers_.end(), Later);
    // A sooner deadline than the one the thread sleeps towards: wake it to
    // recompute its wait (it wakes by itself for later ones; a round in
    // progress recomputes it anyway).
    earliest = earliest && !OnThread();
    if (earliest) wake_ = true;
  }
  if (earliest) cv_.notify_one();
}

void Dispatcher::WatchInterest(std::weak_ptr<Consumer> consumer, router::Router* router) {
  if (router) {
    // Before the consumer goes into watched_: a subscription made from here
    // on is reported, one made before is seen by the check queued below.
    std::lock_guard lock(observer_mu_);
    if (!observed_ && !observer_closed_) {
      router->AddInterestObserver(this);
      observed_ = router;
    }
  }
  std::string subject;
  if (auto c = consumer.lock()) subject = c->config().deliver_subject;
  {
    std::lock_guard lock(watch_mu_);
    push_.push_back(consumer);
    watched_[subject].push_back(consumer);
    if (rebuilding_) added_while_rebuilding_.emplace_back(subject, consumer);
    to_check_.push_back(std::move(consumer));
    // Deleted consumers leave dead entries: drop them when push_ doubled.
    if (push_.size() >= prune_at_) recheck_all_ = true;
  }
  interest_pending_.store(true, std::memory_order_release);
  Wake();
}

void Dispatcher::RecheckInterest() {
  {
    std::lock_guard lock(watch_mu_);
    recheck_all_ = true;
  }
  interest_pending_.store(true, std::memory_order_release);
  Wake();
}

void Dispatcher::OnInterestChanged(const router::Subscription& subscription, bool /*added*/) {
  {
    std::lock_guard lock(watch_mu_);
    auto it = watched_.find(std::string_view(subscription.subject()));
    if (it == watched_.end()) return;
    to_check_.insert(to_check_.end(), it->second.begin(), it->second.end());
  }
  interest_pending_.store(true, std::memory_order_release);
  Wake();
}

void Dispatcher::Wake() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_one();
}

void Dispatcher::Flush() {
  if (std::this_thread::get_id() == thread_.get_id()) return;
  // The flush task notes the round it runs in (read under mu_ there: rounds
  // only end under mu_); we wait until that round has ended.
  auto ran_in = std::make_shared<std::optional<uint64_t>>();
  std::unique_lock lock(mu_);
  if (stopping_) return;
  tasks_.push_back([this, ran_in] {
    std::lock_guard l(mu_);
    *ran_in = rounds_done_;
  });
  cv_.notify_one();
  round_cv_.wait(lock, [&] { return stopping_ || (ran_in->has_value() && rounds_done_ > **ran_in); });
}

void Dispatcher::Stop() {
  {
    // First, so that no observer call reaches a dispatcher being destroyed.
    std::lock_guard lock(observer_mu_);
    if (observed_) observed_->RemoveInterestObserver(this);
    observed_ = nullptr;
    observer_closed_ = true;
  }
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  round_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(mu_);
    timers_.clear();
  }
  std::lock_guard lock(watch_mu_);
  push_.clear();
  watched_.clear();
  to_check_.clear();
}

void Dispatcher::MarkDirty(std::shared_ptr<Consumer> consumer) {
  for (auto& c : dirty_) {
    if (c == consumer) return;
  }
  dirty_.push_back(std::move(consumer));
}

void Dispatcher::MarkDirtyLazy(std::shared_ptr<Consumer> consumer) {
  for (auto& c : lazy_) {
    if (c == consumer) return;
  }
  lazy_.push_back(std::move(consumer));
}

void Dispatcher::CommitLazy() {
  auto lazy = std::move(lazy_);
  lazy_.clear();
  lazy_rounds_ = 0;
  for (auto& c : lazy) c->Commit();
}

bool Dispatcher::HasInterest(router::Router& router, const std::string& subject) {
  auto result = router.Match(subject, cache_);
  return !result->plain.empty() || !result->queue_groups.empty();
}

void Dispatcher::CommitDirty() {
  // Commit may publish AckSync replies: no dispatcher lock is held here.
  auto dirty = std::move(dirty_);
  dirty_.clear();
  for (auto& c : dirty) c->Commit();
}

void Dispatcher::RebuildWatched(const std::vector<std::weak_ptr<Consumer>>& push) {
  // Reads each deliver subject outside watch_mu_ (config() takes the
  // consumer's lock), then swaps the index in. The checks that follow read
  // the router after the swap, so a subscription is either reported to the
  // new index or seen by them.
  decltype(watched_) rebuilt;
  for (const auto& w : push) {
    if (auto c = w.lock()) rebuilt[c->config().deliver_subject].push_back(w);
  }
  std::lock_guard lock(watch_mu_);
  for (auto& [subject, w] : added_while_rebuilding_) rebuilt[subject].push_back(std::move(w));
  added_while_rebuilding_.clear();
  rebuilding_ = false;
  watched_ = std::move(rebuilt);
}

void Dispatcher::CheckInterests() {
  if (!interest_pending_.exchange(false, std::memory_order_acq_rel)) return;
  std::vector<std::weak_ptr<Consumer>> check;
  bool all;
  {
    std::lock_guard lock(watch_mu_);
    all = recheck_all_;
    recheck_all_ = false;
    if (all) {
      std::erase_if(push_, [](const std::weak_ptr<Consumer>& w) { return w.expired(); });
      prune_at_ = std::max<size_t>(16, push_.size() * 2);
      check = push_;
      to_check_.clear();
      rebuilding_ = true;
    } else {
      check = std::move(to_check_);
      to_check_.clear();
    }
  }
  if (all) RebuildWatched(check);
  // A consumer may be listed more than once (several changes): checking it
  // again is harmless (CheckInterest acts on a change of state only).
  for (auto& w : check) {
    if (auto c = w.lock()) c->CheckInterest();
  }
}

void Dispatcher::RunDueTimers() {
  std::vector<std::weak_ptr<Consumer>> due;
  int64_t now = Now();
  {
    std::lock_guard lock(mu_);
    while (!timers_.empty() && timers_.front().deadline <= now) {
      std::pop_heap(timers_.begin(), timers_.end(), Later);
      due.push_back(std::move(timers_.back().consumer));
      timers_.pop_back();
    }
  }
  // A consumer may appear more than once (re-armed earlier); OnTimer skips
  // calls before its armed deadline.
  for (auto& w : due) {
    if (auto c = w.lock()) c->OnTimer(now);
  }
}

void Dispatcher::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    if (tasks_.empty() && !wake_ && !stopping_) {
      // Real time bounds the wait also under a manual clock (tests wake us).
      int64_t wait_ms = 1000;
      if (!timers_.empty()) {
        int64_t delta = timers_.front().deadline - Now();
        wait_ms = std::min<int64_t>(wait_ms, std::max<int64_t>(delta / 1'000'000, 0) + 1);
      }
      cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [this] { return stopping_ || wake_ || !tasks_.empty(); });
    }
    if (stopping_) {
      // Run what is queued (e.g. a Flush), then leave.
      auto tasks = std::move(tasks_);
      lock.unlock();
      for (auto& t : tasks) t();
      CommitDirty();
      CommitLazy();
      return;
    }
    wake_ = false;
    auto tasks = std::move(tasks_);
    tasks_.clear();
    lock.unlock();
    for (auto& t : tasks) t();
    CommitDirty();
    CheckInterests();
    RunDueTimers();
    CommitDirty();
    lock.lock();
    if (!lazy_.empty() && ((tasks_.empty() && !wake_) || ++lazy_rounds_ >= kLazyCommitRounds)) {
      // Out of work (or busy for long): commit the plain acks' state.
      lock.unlock();
      CommitLazy();
      lock.lock();
    }
    ++rounds_done_;
    round_cv_.notify_all();
  }
}

}  // namespace sluice::jetstream
