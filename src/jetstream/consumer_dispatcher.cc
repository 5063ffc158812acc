// Dispatcher: the one thread that runs every consumer's deliveries, acks and
// timers. A round runs the posted tasks, commits the consumers they dirtied
// (those dirtied lazily, by plain acks, once no task waits or every
// kLazyCommitRounds rounds),
// re-checks push consumers' interest if the router's subscriptions changed,
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
  {
    std::lock_guard lock(mu_);
    push_.push_back(std::move(consumer));
    if (router) router_ = router;
    recheck_ = true;
    wake_ = true;
  }
  cv_.notify_one();
}

void Dispatcher::RecheckInterest() {
  {
    std::lock_guard lock(mu_);
    recheck_ = true;
    wake_ = true;
  }
  cv_.notify_one();
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
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  round_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  timers_.clear();
  push_.clear();
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

void Dispatcher::CheckInterests() {
  std::vector<std::weak_ptr<Consumer>> push;
  router::Router* router;
  bool forced;
  {
    std::lock_guard lock(mu_);
    router = router_;
    forced = recheck_;
    recheck_ = false;
    if (!router || push_.empty()) {
      push_without_interest_ = 0;
      return;
    }
    uint64_t generation = router->generation();
    if (!forced && generation == seen_generation_) return;
    seen_generation_ = generation;
    std::erase_if(push_, [](const std::weak_ptr<Consumer>& w) { return w.expired(); });
    push = push_;
  }
  size_t without = 0;
  for (auto& w : push) {
    if (auto c = w.lock()) without += !c->CheckInterest();
  }
  push_without_interest_ = without;
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
      // Subscriptions give no signal: poll the router's generation while a
      // push consumer waits for a subscriber.
      if (push_without_interest_ > 0) wait_ms = std::min<int64_t>(wait_ms, kInterestPollMs);
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
