// Router: subscriptions, subject matching and fan-out.
//
// The router knows subjects, subscriptions and sinks. A sink is whatever
// receives a message for a subscription: a client connection today, a stream
// tomorrow. The router never includes server/ or jetstream/.
//
// Threads: Insert/Remove take the trie's exclusive lock. Match and Route may be
// called from any thread, each thread with its own MatchCache; a cache hit
// takes no lock (one atomic load of the generation). Lock order: the trie lock
// is a leaf lock; no sink code runs while it is held (docs/LOCKING.md).
// Interest observers (AddInterestObserver) are called after an insert or
// remove, on the changing thread, with the trie lock released.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "router/subject_trie.h"

namespace sluice::router {

// A message as the router sees it: views valid for the duration of Route().
struct Message {
  std::string_view subject;
  std::string_view reply;
  std::string_view header;   // whole header block, "" when none
  std::string_view payload;  // after the header block
};

class Subscription;

class SubscriberSink {
 public:
  virtual ~SubscriberSink() = default;
  // Called on the publisher's thread. Returns false when the sink refused the
  // message (closed, slow consumer); the router then tries another member
  // of a queue group.
  virtual bool Deliver(Subscription& subscription, const Message& message) = 0;
  // Several messages for one subscription, in order (an internal sender's
  // batch, e.g. a push consumer's deliveries): each is offered as by
  // Deliver. Returns how many were delivered. Called on the sender's thread.
  // The default delivers one at a time; a sink may take the batch at once.
  virtual size_t DeliverBatch(Subscription& subscription, const Message* messages, size_t count) {
    size_t n = 0;
    for (size_t i = 0; i < count; ++i) n += Deliver(subscription, messages[i]) ? 1 : 0;
    return n;
  }
  // A subscription reached its auto-unsubscribe limit and was removed from
  // the router. Called on the publisher's thread, at most once.
  virtual void OnSubscriptionExpired(Subscription& subscription) = 0;
};

class Subscription {
 public:
  Subscription(std::shared_ptr<SubscriberSink> sink, std::string subject, std::string queue, std::string sid)
      : sink_(std::move(sink)), subject_(std::move(subject)), queue_(std::move(queue)), sid_(std::move(sid)) {}

  SubscriberSink* sink() const { return sink_.get(); }
  const std::string& subject() const { return subject_; }
  const std::string& queue() const { return queue_; }
  const std::string& sid() const { return sid_; }

  // Auto-unsubscribe after this many deliveries in total (0 = no limit).
  void set_max_messages(uint64_t max) { max_messages_.store(max, std::memory_order_relaxed); }
  uint64_t max_messages() const { return max_messages_.load(std::memory_order_relaxed); }
  uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }

  bool closed() const { return closed_.load(std::memory_order_acquire); }

  // Bits the sink defines for itself (set before Insert, then read-only).
  uint32_t sink_flags = 0;
  void close() { closed_.store(true, std::memory_order_release); }

 private:
  friend class Router;
  friend class SubjectTrie;
  std::shared_ptr<SubscriberSink> sink_;
  std::string subject_;
  std::string queue_;
  std::string sid_;
  std::atomic<uint64_t> max_messages_{0};
  std::atomic<uint64_t> delivered_{0};
  std::atomic<bool> closed_{false};
  std::atomic<bool> expired_{false};
  size_t trie_slot_ = 0;  // index in its trie node's vector; guarded by the trie lock
};

// A per-thread cache of match results, owned by the caller of Match/Route.
class MatchCache {
 public:
  explicit MatchCache(size_t max_entries = 4096)
      : max_entries_(max_entries),
        random_state_(((reinterpret_cast<uintptr_t>(this) * 0x9E3779B97F4A7C15ull) ^
                       static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())) |
                      1) {}
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  size_t size() const { return entries_.size(); }

 private:
  friend class Router;
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  size_t max_entries_;
  uint64_t generation_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
  uint64_t random_state_;
  std::unordered_map<std::string, std::shared_ptr<const MatchResult>, StringHash, std::equal_to<>> entries_;
};

// An internal party told when subscriptions change (a push consumer waits
// for a subscriber on its deliver subject). Called on the thread that
// inserted or removed the subscription (a client's event loop, or the
// publisher's thread for an auto-unsubscribe), after the change is visible
// to Match and with no trie lock held, but under the router's observer lock
// (shared): an observer must be quick, must not take a lock that a caller of
// Insert/Remove/Route may hold, and must not add or remove observers. Posting
// a task to another thread is the expected use.
class InterestObserver {
 public:
  virtual ~InterestObserver() = default;
  virtual void OnInterestChanged(const Subscription& subscription, bool added) = 0;
};

struct RouteOutcome {
  size_t delivered = 0;
};

class Router {
 public:
  Router();

  // False when the subject is not a valid subscription subject.
  bool Insert(const std::shared_ptr<Subscription>& subscription);
  // Removes it (idempotent) and marks it closed.
  void Remove(const std::shared_ptr<Subscription>& subscription);

  std::shared_ptr<const MatchResult> Match(std::string_view subject, MatchCache& cache);
  // A match that bypasses every cache: for one-off subjects (a PubAck to a
  // request's unique inbox) that would only evict useful cache entries.
  MatchResult MatchUncached(std::string_view subject) const;

  // Delivers `message` to every matching plain subscription and to one member
  // of each matching queue group. With `echo` false, subscriptions whose sink
  // is `publisher` are skipped.
  RouteOutcome Route(const Message& message, const SubscriberSink* publisher, bool echo, MatchCache& cache);
  // The same with a match result the caller already holds (e.g. memoised per
  // publisher while generation() is unchanged).
  RouteOutcome RouteTo(const MatchResult& result, const Message& message, const SubscriberSink* publisher, bool echo,
                       MatchCache& cache);

  // RouteTo for several messages in order (echo on). When the result is one
  // plain subscription without an auto-unsubscribe limit (a push consumer's
  // deliver subject), its sink gets them in one DeliverBatch call.
  void RouteBatchTo(const MatchResult& result, const Message* messages, size_t count, MatchCache& cache);

  // Registers an observer of every later insert and remove (a change racing
  // with this call may go unreported: read the state after adding). The
  // observer must outlive its registration.
  void AddInterestObserver(InterestObserver* observer);
  // After it returns no call to the observer runs or starts. Never call it
  // from an observer, nor while holding a lock an observer takes.
  void RemoveInterestObserver(InterestObserver* observer);

  // Changes with every insert and remove: a result obtained at generation g
  // is current while generation() == g.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  size_t subscription_count() const;
  uint64_t inserts() const { return inserts_.load(std::memory_order_relaxed); }
  uint64_t removes() const { return removes_.load(std::memory_order_relaxed); }

  // Calls fn(const Subscription&) for every subscription, under the shared lock.
  template <typename Fn>
  void ForEachSubscription(Fn&& fn) const {
    std::shared_lock lock(mutex_);
    trie_.ForEach(fn);
  }

 private:
  void SyncCacheLocked(MatchCache& cache);
  void NoteChangeLocked(const std::string& subject);
  bool DeliverTo(Subscription& sub, const Message& message);
  // Tells the observers; called with no trie lock held. One atomic load
  // when there is none.
  void NotifyObservers(const Subscription& sub, bool added) {
    if (has_observers_.load(std::memory_order_acquire)) NotifyObserversSlow(sub, added);
  }
  void NotifyObserversSlow(const Subscription& sub, bool added);

  static constexpr size_t kChangeLogSize = 1024;
  static constexpr uint64_t kMaxSelectiveInvalidations = 64;

  mutable std::shared_mutex mutex_;  // guards trie_ and change_log_
  SubjectTrie trie_;
  std::atomic<uint64_t> generation_{0};
  std::vector<std::string> change_log_;  // subject changed at generation g is at g % size
  std::atomic<uint64_t> inserts_{0};
  std::atomic<uint64_t> removes_{0};
  // Guards observers_; taken shared while observers run, exclusive to add or
  // remove one. Taken after no router lock (the trie lock is released first).
  mutable std::shared_mutex observers_mu_;
  std::vector<InterestObserver*> observers_;
  std::atomic<bool> has_observers_{false};  // !observers_.empty()
};

}  // namespace sluice::router
