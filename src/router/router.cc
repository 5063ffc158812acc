#include "router/router.h"

#include "core/subject.h"

namespace sluice::router {

Router::Router() : change_log_(kChangeLogSize) {}

void Router::NoteChangeLocked(const std::string& subject) {
  uint64_t g = generation_.load(std::memory_order_relaxed) + 1;
  change_log_[g % kChangeLogSize] = subject;
  generation_.store(g, std::memory_order_release);
}

bool Router::Insert(const std::shared_ptr<Subscription>& sub) {
  if (!IsValidSubject(sub->subject())) return false;
  {
    std::unique_lock lock(mutex_);
    trie_.Insert(sub);
    NoteChangeLocked(sub->subject());
    inserts_.fetch_add(1, std::memory_order_relaxed);
  }
  NotifyObservers(*sub, true);
  return true;
}

void Router::Remove(const std::shared_ptr<Subscription>& sub) {
  sub->close();
  {
    std::unique_lock lock(mutex_);
    if (!trie_.Remove(*sub)) return;
    NoteChangeLocked(sub->subject());
    removes_.fetch_add(1, std::memory_order_relaxed);
  }
  NotifyObservers(*sub, false);
}

void Router::AddInterestObserver(InterestObserver* observer) {
  std::unique_lock lock(observers_mu_);
  observers_.push_back(observer);
  has_observers_.store(true, std::memory_order_release);
}

void Router::RemoveInterestObserver(InterestObserver* observer) {
  std::unique_lock lock(observers_mu_);
  std::erase(observers_, observer);
  has_observers_.store(!observers_.empty(), std::memory_order_release);
}

void Router::NotifyObserversSlow(const Subscription& sub, bool added) {
  std::shared_lock lock(observers_mu_);
  for (InterestObserver* o : observers_) o->OnInterestChanged(sub, added);
}

size_t Router::subscription_count() const {
  std::shared_lock lock(mutex_);
  return trie_.size();
}

// Drops the cache entries that changes since the cache's generation may have
// made stale: exactly the matching ones for a few changes, all for many.
void Router::SyncCacheLocked(MatchCache& cache) {
  const uint64_t now = generation_.load(std::memory_order_relaxed);
  if (cache.generation_ == now) return;
  const uint64_t behind = now - cache.generation_;
  if (behind > kMaxSelectiveInvalidations || behind >= kChangeLogSize) {
    cache.entries_.clear();
  } else {
    for (uint64_t g = cache.generation_ + 1; g <= now && !cache.entries_.empty(); ++g) {
      const std::string& changed = change_log_[g % kChangeLogSize];
      if (SubjectHasWildcard(changed)) {
        for (auto it = cache.entries_.begin(); it != cache.entries_.end();) {
          if (SubjectMatchesFilter(changed, it->first)) {
            it = cache.entries_.erase(it);
          } else {
            ++it;
          }
        }
      } else {
        cache.entries_.erase(changed);
      }
    }
  }
  cache.generation_ = now;
}

std::shared_ptr<const MatchResult> Router::Match(std::string_view subject, MatchCache& cache) {
  if (cache.generation_ == generation_.load(std::memory_order_acquire)) {
    auto it = cache.entries_.find(subject);
    if (it != cache.entries_.end()) {
      ++cache.hits_;
      return it->second;
    }
  }
  ++cache.misses_;
  std::shared_lock lock(mutex_);
  SyncCacheLocked(cache);
  auto it = cache.entries_.find(subject);
  if (it != cache.entries_.end()) return it->second;
  auto result = std::make_shared<const MatchResult>(trie_.Match(subject));
  if (cache.entries_.size() >= cache.max_entries_) {
    // Evict about a quarter, oldest-bucket-first; cheap and good enough.
    size_t drop = cache.max_entries_ / 4 + 1;
    for (auto e = cache.entries_.begin(); e != cache.entries_.end() && drop > 0; --drop) e = cache.entries_.erase(e);
  }
  cache.entries_.emplace(std::string(subject), result);
  return result;
}

MatchResult Router::MatchUncached(std::string_view subject) const {
  std::shared_lock lock(mutex_);
  return trie_.Match(subject);
}

bool Router::DeliverTo(Subscription& sub, const Message& message) {
  if (sub.closed()) return false;
  const uint64_t max = sub.max_messages();
  if (max == 0) {
    if (!sub.sink_->Deliver(sub, message)) return false;
    // A statistic only: no locked read-modify-write on the hot path. Two
    // publishers on two loops racing here may lose a count, nothing else.
    sub.delivered_.store(sub.delivered_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return true;
  }
  const uint64_t n = sub.delivered_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (n > max) return false;
  bool ok = sub.sink_->Deliver(sub, message);
  if (n == max && !sub.expired_.exchange(true)) {
    sub.close();
    bool removed = false;
    {
      std::unique_lock lock(mutex_);
      if (trie_.Remove(sub)) {
        NoteChangeLocked(sub.subject());
        removes_.fetch_add(1, std::memory_order_relaxed);
        removed = true;
      }
    }
    if (removed) NotifyObservers(sub, false);
    sub.sink_->OnSubscriptionExpired(sub);
  }
  return ok;
}

RouteOutcome Router::Route(const Message& message, const SubscriberSink* publisher, bool echo, MatchCache& cache) {
  auto result = Match(message.subject, cache);
  return RouteTo(*result, message, publisher, echo, cache);
}

RouteOutcome Router::RouteTo(const MatchResult& result, const Message& message, const SubscriberSink* publisher,
                             bool echo, MatchCache& cache) {
  RouteOutcome outcome;
  for (const auto& sub : result.plain) {
    if (!echo && sub->sink() == publisher) continue;
    if (DeliverTo(*sub, message)) ++outcome.delivered;
  }
  for (const auto& group : result.queue_groups) {
    const size_t n = group.size();
    if (n == 0) continue;
    // xorshift64: a random starting member, then the next ones if it refuses.
    uint64_t x = cache.random_state_;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    cache.random_state_ = x;
    const size_t start = static_cast<size_t>(x % n);
    for (size_t i = 0; i < n; ++i) {
      Subscription& sub = *group[(start + i) % n];
      if (!echo && sub.sink() == publisher) continue;
      if (DeliverTo(sub, message)) {
        ++outcome.delivered;
        break;
      }
    }
  }
  return outcome;
}

void Router::RouteBatchTo(const MatchResult& result, const Message* messages, size_t count, MatchCache& cache) {
  if (result.plain.size() == 1 && result.queue_groups.empty()) {
    Subscription& sub = *result.plain.front();
    if (sub.max_messages() == 0) {
      if (sub.closed()) return;
      const size_t n = sub.sink_->DeliverBatch(sub, messages, count);
      // A statistic only, as in DeliverTo.
      sub.delivered_.store(sub.delivered_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
      return;
    }
  }
  for (size_t i = 0; i < count; ++i) RouteTo(result, messages[i], nullptr, true, cache);
}

}  // namespace sluice::router
