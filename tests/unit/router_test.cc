// SubjectTrie and Router: the trie against a brute-force matcher, the match
// cache across changes, Route()'s delivery rules, auto-unsubscribe, threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/subject.h"
#include "router/router.h"
#include "router/subject_trie.h"

namespace sluice::router {
namespace {

using SubPtr = std::shared_ptr<Subscription>;

// ------------------------------------------------------------------ helpers

struct Normalized {
  std::vector<const Subscription*> plain;                          // sorted
  std::map<std::string, std::vector<const Subscription*>> groups;  // name -> sorted members
  bool operator==(const Normalized&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Normalized& n) {
  os << "plain:";
  for (auto* s : n.plain) os << ' ' << s->subject() << '#' << s->sid();
  for (const auto& [name, members] : n.groups) {
    os << " | " << name << ":";
    for (auto* s : members) os << ' ' << s->subject() << '#' << s->sid();
  }
  return os;
}

Normalized Normalize(const MatchResult& r) {
  Normalized n;
  for (const auto& s : r.plain) {
    EXPECT_TRUE(s->queue().empty()) << "queue subscription in plain";
    n.plain.push_back(s.get());
  }
  std::sort(n.plain.begin(), n.plain.end());
  for (const auto& group : r.queue_groups) {
    EXPECT_FALSE(group.empty()) << "empty queue group in a match";
    if (group.empty()) continue;
    const std::string& name = group.front()->queue();
    EXPECT_EQ(n.groups.count(name), 0u) << "queue group " << name << " split over two entries";
    auto& members = n.groups[name];
    for (const auto& s : group) {
      EXPECT_EQ(s->queue(), name) << "mixed names in one group";
      members.push_back(s.get());
    }
    std::sort(members.begin(), members.end());
  }
  return n;
}

Normalized BruteForce(const std::vector<SubPtr>& live, std::string_view subject) {
  Normalized n;
  for (const auto& s : live) {
    if (!SubjectMatchesFilter(s->subject(), subject)) continue;
    if (s->queue().empty()) {
      n.plain.push_back(s.get());
    } else {
      n.groups[s->queue()].push_back(s.get());
    }
  }
  std::sort(n.plain.begin(), n.plain.end());
  for (auto& [name, members] : n.groups) std::sort(members.begin(), members.end());
  return n;
}

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  size_t Below(size_t n) { return static_cast<size_t>(rng_() % n); }

  std::string Literal() {
    static const char* kTokens[] = {"a", "b", "c"};
    std::string s;
    size_t depth = 1 + Below(4);
    for (size_t i = 0; i < depth; ++i) {
      if (i) s += '.';
      s += kTokens[Below(3)];
    }
    return s;
  }

  std::string Filter() {
    static const char* kTokens[] = {"a", "b", "c"};
    std::string s;
    size_t depth = 1 + Below(4);
    for (size_t i = 0; i < depth; ++i) {
      if (i) s += '.';
      size_t r = Below(10);
      if (i + 1 == depth && r == 0) {
        s += '>';
      } else if (r < 3) {
        s += '*';
      } else {
        s += kTokens[Below(3)];
      }
    }
    return s;
  }

  std::string Queue() {
    size_t r = Below(10);
    return r < 6 ? "" : r < 8 ? "q1" : "q2";
  }

 private:
  std::mt19937_64 rng_;
};

class RecordingSink : public SubscriberSink {
 public:
  bool Deliver(Subscription& subscription, const Message& message) override {
    std::lock_guard lock(mutex_);
    deliveries.push_back({subscription.sid(), std::string(message.subject), std::string(message.payload)});
    return accept.load();
  }
  void OnSubscriptionExpired(Subscription& subscription) override {
    std::lock_guard lock(mutex_);
    expired.push_back(subscription.sid());
  }
  size_t CountFor(const std::string& sid) {
    std::lock_guard lock(mutex_);
    return std::count_if(deliveries.begin(), deliveries.end(), [&](const auto& d) { return d.sid == sid; });
  }
  size_t Total() {
    std::lock_guard lock(mutex_);
    return deliveries.size();
  }

  struct Delivery {
    std::string sid, subject, payload;
  };
  std::mutex mutex_;
  std::vector<Delivery> deliveries;
  std::vector<std::string> expired;
  std::atomic<bool> accept{true};
};

SubPtr MakeSub(std::shared_ptr<SubscriberSink> sink, std::string subject, std::string queue, std::string sid) {
  return std::make_shared<Subscription>(std::move(sink), std::move(subject), std::move(queue), std::move(sid));
}

Message Msg(std::string_view subject, std::string_view payload = "x") { return Message{subject, "", "", payload}; }

// ------------------------------------------------------------- trie vs brute

TEST(SubjectTrie, MatchesLikeBruteForceOnRandomSubscriptions) {
  Gen gen(1);
  SubjectTrie trie;
  std::vector<SubPtr> live;
  for (int i = 0; i < 3000; ++i) {
    auto s = MakeSub(nullptr, gen.Filter(), gen.Queue(), std::to_string(i));
    ASSERT_TRUE(IsValidSubject(s->subject())) << s->subject();
    trie.Insert(s);
    live.push_back(s);
  }
  EXPECT_EQ(trie.size(), live.size());
  size_t non_empty = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string subject = gen.Literal();
    Normalized want = BruteForce(live, subject);
    Normalized got = Normalize(trie.Match(subject));
    ASSERT_EQ(got, want) << "subject " << subject;
    if (!want.groups.empty() && !want.plain.empty()) ++non_empty;
  }
  EXPECT_GT(non_empty, 100u);  // the alphabet is small enough for wildcards to hit
}

TEST(SubjectTrie, MatchesLikeBruteForceAcrossInsertsAndRemoves) {
  Gen gen(2);
  SubjectTrie trie;
  std::vector<SubPtr> live;
  int next_sid = 0;
  for (int round = 0; round < 200; ++round) {
    size_t changes = 1 + gen.Below(30);
    for (size_t c = 0; c < changes; ++c) {
      if (!live.empty() && gen.Below(100) < 45) {
        size_t k = gen.Below(live.size());
        ASSERT_TRUE(trie.Remove(*live[k]));
        EXPECT_FALSE(trie.Remove(*live[k])) << "second remove of the same subscription";
        live[k] = live.back();
        live.pop_back();
      } else {
        auto s = MakeSub(nullptr, gen.Filter(), gen.Queue(), std::to_string(next_sid++));
        trie.Insert(s);
        live.push_back(s);
      }
    }
    ASSERT_EQ(trie.size(), live.size());
    for (int q = 0; q < 30; ++q) {
      std::string subject = gen.Literal();
      ASSERT_EQ(Normalize(trie.Match(subject)), BruteForce(live, subject)) << "round " << round << " " << subject;
    }
  }
  // Remove everything: no match anywhere, and the trie is empty.
  for (auto& s : live) ASSERT_TRUE(trie.Remove(*s));
  EXPECT_EQ(trie.size(), 0u);
  for (int q = 0; q < 100; ++q) {
    MatchResult r = trie.Match(gen.Literal());
    EXPECT_TRUE(r.plain.empty());
    EXPECT_TRUE(r.queue_groups.empty());
  }
}

TEST(SubjectTrie, RemoveOfUnknownSubscriptionIsRefused) {
  SubjectTrie trie;
  auto a = MakeSub(nullptr, "foo.bar", "", "1");
  auto b = MakeSub(nullptr, "foo.bar", "", "2");  // same subject, never inserted
  auto c = MakeSub(nullptr, "foo.*", "q", "3");
  trie.Insert(a);
  EXPECT_FALSE(trie.Remove(*b));
  EXPECT_FALSE(trie.Remove(*c));
  EXPECT_EQ(trie.size(), 1u);
  EXPECT_EQ(trie.Match("foo.bar").plain.size(), 1u);
  EXPECT_TRUE(trie.Remove(*a));
}

TEST(SubjectTrie, QueueGroupsAreGroupedByNameAcrossSubjects) {
  SubjectTrie trie;
  auto s1 = MakeSub(nullptr, "foo.*", "q1", "1");
  auto s2 = MakeSub(nullptr, "foo.bar", "q1", "2");
  auto s3 = MakeSub(nullptr, "foo.>", "q1", "3");
  auto s4 = MakeSub(nullptr, ">", "q2", "4");
  auto s5 = MakeSub(nullptr, "foo.bar", "", "5");
  for (auto& s : {s1, s2, s3, s4, s5}) trie.Insert(s);
  MatchResult r = trie.Match("foo.bar");
  Normalized n = Normalize(r);
  ASSERT_EQ(r.queue_groups.size(), 2u);
  EXPECT_EQ(n.groups["q1"].size(), 3u);
  EXPECT_EQ(n.groups["q2"].size(), 1u);
  EXPECT_EQ(n.plain.size(), 1u);
  MatchResult other = trie.Match("foo.baz");
  EXPECT_EQ(Normalize(other).groups["q1"].size(), 2u);  // foo.* and foo.>
}

TEST(SubjectTrie, SubjectWithAnEmptyTokenMatchesNothing) {
  // A non-pedantic client may publish to "foo."; nats-server 2.9.10 delivers
  // it to no one, not even to ">" (checked against the Debian package).
  SubjectTrie trie;
  for (const char* f : {">", "foo.>", "*.*", "*.*.*", "foo.*", "*", "*.foo", "foo.*.bar"})
    trie.Insert(MakeSub(nullptr, f, "", f));
  trie.Insert(MakeSub(nullptr, ">", "q", "queued"));
  for (const char* subject : {"foo.", ".foo", "foo..bar", ".", "..", "foo.bar.", "a..b.c"}) {
    MatchResult r = trie.Match(subject);
    EXPECT_TRUE(r.plain.empty()) << subject << ": " << Normalize(r);
    EXPECT_TRUE(r.queue_groups.empty()) << subject;
  }
  EXPECT_EQ(trie.Match("foo.bar").plain.size(), 4u);  // >, foo.>, *.*, foo.*
}

TEST(SubjectTrie, ForEachVisitsEverySubscription) {
  SubjectTrie trie;
  Gen gen(3);
  std::set<const Subscription*> inserted;
  std::vector<SubPtr> keep;
  for (int i = 0; i < 200; ++i) {
    auto s = MakeSub(nullptr, gen.Filter(), gen.Queue(), std::to_string(i));
    trie.Insert(s);
    keep.push_back(s);
    inserted.insert(s.get());
  }
  std::multiset<const Subscription*> seen;
  auto fn = [&](const Subscription& s) { seen.insert(&s); };
  trie.ForEach(fn);
  EXPECT_EQ(seen.size(), inserted.size());
  EXPECT_EQ(std::set<const Subscription*>(seen.begin(), seen.end()), inserted);
}

// ------------------------------------------------------------ router + cache

TEST(RouterCache, OneCacheStaysCorrectAcrossManyChanges) {
  Gen gen(4);
  Router router;
  MatchCache cache(64);  // small: eviction happens too
  std::vector<SubPtr> live;
  std::vector<std::string> hot;  // a working set so that the cache hits
  for (int i = 0; i < 40; ++i) hot.push_back(gen.Literal());
  int next_sid = 0;
  for (int round = 0; round < 400; ++round) {
    // Few changes (selective invalidation) most rounds, many (> 64) sometimes.
    size_t changes = round % 10 == 9 ? 70 + gen.Below(100) : gen.Below(4);
    for (size_t c = 0; c < changes; ++c) {
      if (!live.empty() && gen.Below(100) < 45) {
        size_t k = gen.Below(live.size());
        router.Remove(live[k]);
        EXPECT_TRUE(live[k]->closed());
        live[k] = live.back();
        live.pop_back();
      } else {
        auto s = MakeSub(nullptr, gen.Filter(), gen.Queue(), std::to_string(next_sid++));
        ASSERT_TRUE(router.Insert(s));
        live.push_back(s);
      }
    }
    ASSERT_EQ(router.subscription_count(), live.size());
    for (int q = 0; q < 40; ++q) {
      std::string subject = gen.Below(4) == 0 ? gen.Literal() : hot[gen.Below(hot.size())];
      auto got = router.Match(subject, cache);
      ASSERT_EQ(Normalize(*got), BruteForce(live, subject)) << "round " << round << " subject " << subject;
    }
  }
  EXPECT_GT(cache.hits(), 1000u);
  EXPECT_GT(cache.misses(), 100u);
  EXPECT_LE(cache.size(), 64u);
}

TEST(RouterCache, WildcardInsertInvalidatesCachedLiteralMatches) {
  Router router;
  MatchCache cache;
  auto sink = std::make_shared<RecordingSink>();
  ASSERT_TRUE(router.Insert(MakeSub(sink, "a.b", "", "1")));
  EXPECT_EQ(router.Match("a.b", cache)->plain.size(), 1u);
  EXPECT_EQ(router.Match("a.c", cache)->plain.size(), 0u);
  auto wild = MakeSub(sink, "a.*", "", "2");
  ASSERT_TRUE(router.Insert(wild));
  EXPECT_EQ(router.Match("a.b", cache)->plain.size(), 2u);
  EXPECT_EQ(router.Match("a.c", cache)->plain.size(), 1u);
  router.Remove(wild);
  EXPECT_EQ(router.Match("a.b", cache)->plain.size(), 1u);
  EXPECT_EQ(router.Match("a.c", cache)->plain.size(), 0u);
}

TEST(RouterCache, TwoCachesSeeTheSameChanges) {
  Router router;
  MatchCache c1, c2;
  auto sink = std::make_shared<RecordingSink>();
  EXPECT_EQ(router.Match("x.y", c1)->plain.size(), 0u);
  EXPECT_EQ(router.Match("x.y", c2)->plain.size(), 0u);
  auto s = MakeSub(sink, "x.>", "", "1");
  router.Insert(s);
  EXPECT_EQ(router.Match("x.y", c1)->plain.size(), 1u);
  EXPECT_EQ(router.Match("x.y", c2)->plain.size(), 1u);
}

TEST(Router, InsertRefusesInvalidSubjects) {
  Router router;
  for (std::string_view bad : {"", "foo.", "foo..bar", "foo.>.bar", "a b"}) {
    EXPECT_FALSE(router.Insert(MakeSub(nullptr, std::string(bad), "", "1"))) << bad;
  }
  EXPECT_EQ(router.subscription_count(), 0u);
  EXPECT_EQ(router.inserts(), 0u);
}

TEST(Router, RemoveIsIdempotentAndCounted) {
  Router router;
  auto s = MakeSub(nullptr, "a", "", "1");
  router.Insert(s);
  router.Remove(s);
  router.Remove(s);
  EXPECT_TRUE(s->closed());
  EXPECT_EQ(router.subscription_count(), 0u);
  EXPECT_EQ(router.inserts(), 1u);
  EXPECT_EQ(router.removes(), 1u);
}

// --------------------------------------------------------------------- Route

TEST(RouterRoute, EveryPlainSubscriptionGetsTheMessage) {
  Router router;
  MatchCache cache;
  auto s1 = std::make_shared<RecordingSink>();
  auto s2 = std::make_shared<RecordingSink>();
  router.Insert(MakeSub(s1, "foo.bar", "", "1"));
  router.Insert(MakeSub(s1, "foo.*", "", "2"));  // same connection, second sid: a second copy
  router.Insert(MakeSub(s2, ">", "", "3"));
  router.Insert(MakeSub(s2, "foo.baz", "", "4"));  // does not match
  RouteOutcome out = router.Route(Msg("foo.bar", "hello"), nullptr, true, cache);
  EXPECT_EQ(out.delivered, 3u);
  EXPECT_EQ(s1->CountFor("1"), 1u);
  EXPECT_EQ(s1->CountFor("2"), 1u);
  EXPECT_EQ(s2->CountFor("3"), 1u);
  EXPECT_EQ(s2->CountFor("4"), 0u);
  EXPECT_EQ(s1->deliveries[0].payload, "hello");
  EXPECT_EQ(s1->deliveries[0].subject, "foo.bar");
}

TEST(RouterRoute, OneDeliveryPerQueueGroupPerMessage) {
  Router router;
  MatchCache cache;
  auto sink = std::make_shared<RecordingSink>();
  // q1 spans three different subjects: one group.
  router.Insert(MakeSub(sink, "foo.*", "q1", "a"));
  router.Insert(MakeSub(sink, "foo.bar", "q1", "b"));
  router.Insert(MakeSub(sink, "foo.>", "q1", "c"));
  router.Insert(MakeSub(sink, "foo.bar", "q2", "d"));
  router.Insert(MakeSub(sink, "*.bar", "q2", "e"));
  router.Insert(MakeSub(sink, "foo.bar", "", "p"));
  const int kMessages = 3000;
  for (int i = 0; i < kMessages; ++i) {
    size_t before = sink->Total();
    RouteOutcome out = router.Route(Msg("foo.bar"), nullptr, true, cache);
    ASSERT_EQ(out.delivered, 3u);
    ASSERT_EQ(sink->Total() - before, 3u);
  }
  size_t q1 = sink->CountFor("a") + sink->CountFor("b") + sink->CountFor("c");
  size_t q2 = sink->CountFor("d") + sink->CountFor("e");
  EXPECT_EQ(q1, static_cast<size_t>(kMessages));
  EXPECT_EQ(q2, static_cast<size_t>(kMessages));
  EXPECT_EQ(sink->CountFor("p"), static_cast<size_t>(kMessages));
  // Every member gets a share (the pick is random; 3000 draws make a zero share
  // practically impossible).
  for (const char* sid : {"a", "b", "c", "d", "e"}) EXPECT_GT(sink->CountFor(sid), 100u) << sid;
}

TEST(RouterRoute, RefusingQueueMemberPassesTheMessageOn) {
  Router router;
  MatchCache cache;
  auto refuses = std::make_shared<RecordingSink>();
  refuses->accept = false;
  auto accepts = std::make_shared<RecordingSink>();
  router.Insert(MakeSub(refuses, "job", "workers", "r"));
  router.Insert(MakeSub(accepts, "job", "workers", "a"));
  for (int i = 0; i < 200; ++i) {
    RouteOutcome out = router.Route(Msg("job"), nullptr, true, cache);
    ASSERT_EQ(out.delivered, 1u);
  }
  EXPECT_EQ(accepts->Total(), 200u);
}

TEST(RouterRoute, EchoFalseSkipsThePublishersOwnSubscriptions) {
  Router router;
  MatchCache cache;
  auto me = std::make_shared<RecordingSink>();
  auto other = std::make_shared<RecordingSink>();
  router.Insert(MakeSub(me, "chat", "", "1"));
  router.Insert(MakeSub(other, "chat", "", "2"));
  router.Insert(MakeSub(me, "chat", "solo", "3"));  // a group with only my member
  router.Insert(MakeSub(me, "chat", "mixed", "4"));
  router.Insert(MakeSub(other, "chat", "mixed", "5"));

  RouteOutcome out = router.Route(Msg("chat"), me.get(), false, cache);
  EXPECT_EQ(me->Total(), 0u);
  EXPECT_EQ(other->CountFor("2"), 1u);
  EXPECT_EQ(other->CountFor("5"), 1u);
  EXPECT_EQ(out.delivered, 2u);

  for (int i = 0; i < 100; ++i) router.Route(Msg("chat"), me.get(), false, cache);
  EXPECT_EQ(me->Total(), 0u);  // never, whatever member the group picks first
  EXPECT_EQ(other->CountFor("5"), 101u);

  // echo=true: the publisher's own subscriptions get it.
  out = router.Route(Msg("chat"), me.get(), true, cache);
  EXPECT_EQ(me->CountFor("1"), 1u);
  EXPECT_EQ(me->CountFor("3"), 1u);
  EXPECT_EQ(out.delivered, 4u);
}

TEST(RouterRoute, RemovedSubscriptionGetsNothingEvenThroughTheCache) {
  Router router;
  MatchCache cache;
  auto sink = std::make_shared<RecordingSink>();
  auto s = MakeSub(sink, "a.b", "", "1");
  router.Insert(s);
  router.Route(Msg("a.b"), nullptr, true, cache);
  auto held = router.Match("a.b", cache);  // a result that still lists it
  router.Remove(s);
  RouteOutcome out = router.Route(Msg("a.b"), nullptr, true, cache);
  EXPECT_EQ(out.delivered, 0u);
  EXPECT_EQ(sink->Total(), 1u);
  EXPECT_EQ(held->plain.size(), 1u);  // the old result stays valid to read
}

TEST(RouterRoute, AutoUnsubscribeDeliversExactlyNThenExpiresOnce) {
  Router router;
  MatchCache cache;
  auto sink = std::make_shared<RecordingSink>();
  auto limited = MakeSub(sink, "t.*", "", "lim");
  auto forever = MakeSub(sink, "t.x", "", "all");
  limited->set_max_messages(3);
  router.Insert(limited);
  router.Insert(forever);
  for (int i = 0; i < 10; ++i) router.Route(Msg("t.x"), nullptr, true, cache);
  EXPECT_EQ(sink->CountFor("lim"), 3u);
  EXPECT_EQ(sink->CountFor("all"), 10u);
  EXPECT_EQ(limited->delivered(), 3u);
  ASSERT_EQ(sink->expired.size(), 1u);
  EXPECT_EQ(sink->expired[0], "lim");
  EXPECT_TRUE(limited->closed());
  EXPECT_EQ(router.subscription_count(), 1u);
  // Removing it again (as UNSUB would) changes nothing.
  router.Remove(limited);
  EXPECT_EQ(router.subscription_count(), 1u);
  EXPECT_EQ(sink->expired.size(), 1u);
}

TEST(RouterRoute, AutoUnsubscribeInAQueueGroup) {
  Router router;
  MatchCache cache;
  auto sink = std::make_shared<RecordingSink>();
  auto limited = MakeSub(sink, "w", "q", "lim");
  limited->set_max_messages(2);
  router.Insert(limited);
  router.Insert(MakeSub(sink, "w", "q", "other"));
  for (int i = 0; i < 200; ++i) {
    RouteOutcome out = router.Route(Msg("w"), nullptr, true, cache);
    ASSERT_EQ(out.delivered, 1u) << i;
  }
  EXPECT_EQ(sink->CountFor("lim"), 2u);
  EXPECT_EQ(sink->CountFor("other"), 198u);
  EXPECT_EQ(sink->expired, std::vector<std::string>{"lim"});
}

TEST(RouterRoute, AutoUnsubscribeIsExactUnderConcurrentPublishers) {
  Router router;
  auto sink = std::make_shared<RecordingSink>();
  auto limited = MakeSub(sink, "c", "", "lim");
  limited->set_max_messages(500);
  router.Insert(limited);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      MatchCache cache;
      for (int i = 0; i < 400; ++i) router.Route(Msg("c"), nullptr, true, cache);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(sink->CountFor("lim"), 500u);
  EXPECT_EQ(sink->expired.size(), 1u);
  EXPECT_EQ(router.subscription_count(), 0u);
}

TEST(RouterConcurrency, RoutingWhileSubscriptionsChange) {
  Router router;
  auto sink = std::make_shared<RecordingSink>();
  std::atomic<bool> stop{false};
  // Stable subscriptions: each must get every message published to it.
  auto stable = MakeSub(sink, "s.>", "", "stable");
  router.Insert(stable);
  std::atomic<uint64_t> published{0};
  auto routing = [&](uint64_t seed) {
    Gen gen(seed);
    MatchCache cache(128);
    while (!stop.load()) {
      std::string subject = std::string("s.").append(gen.Literal());
      router.Route(Msg(subject), nullptr, true, cache);
      published.fetch_add(1);
    }
  };
  std::thread r1(routing, 11), r2(routing, 12);
  {
    Gen gen(13);
    std::vector<SubPtr> live;
    // Keep changing until both routers have done a fair amount of work.
    for (int i = 0; i < 2000000 && (i < 20000 || published.load() < 20000); ++i) {
      if (!live.empty() && gen.Below(2) == 0) {
        size_t k = gen.Below(live.size());
        router.Remove(live[k]);
        live[k] = live.back();
        live.pop_back();
      } else {
        auto s = MakeSub(sink, std::string("s.").append(gen.Filter()), gen.Queue(), std::to_string(i));
        if (gen.Below(5) == 0) s->set_max_messages(1 + gen.Below(3));
        router.Insert(s);
        live.push_back(s);
      }
    }
    stop = true;
    r1.join();
    r2.join();
    for (auto& s : live) router.Remove(s);
  }
  EXPECT_EQ(router.subscription_count(), 1u);
  EXPECT_EQ(sink->CountFor("stable"), published.load());
  MatchCache fresh;
  RouteOutcome out = router.Route(Msg("s.a"), nullptr, true, fresh);
  EXPECT_EQ(out.delivered, 1u);
}

// ------------------------------------------------------- interest observers

struct RecordingObserver : InterestObserver {
  void OnInterestChanged(const Subscription& s, bool added) override {
    std::lock_guard lock(mu);
    events.push_back((added ? "+" : "-") + s.subject() + (s.queue().empty() ? "" : " " + s.queue()));
  }
  std::mutex mu;
  std::vector<std::string> events;
};

TEST(RouterObserver, ToldOfInsertRemoveAndAutoUnsubscribe) {
  Router router;
  auto sink = std::make_shared<RecordingSink>();
  auto early = std::make_shared<Subscription>(sink, "before.observer", "", "0");
  router.Insert(early);  // made before the observer: not reported
  RecordingObserver obs;
  router.AddInterestObserver(&obs);
  auto a = std::make_shared<Subscription>(sink, "deliver.a", "", "1");
  auto q = std::make_shared<Subscription>(sink, "deliver.*", "g", "2");
  ASSERT_TRUE(router.Insert(a));
  ASSERT_TRUE(router.Insert(q));
  router.Remove(a);
  router.Remove(a);  // already gone: no second report
  auto bad = std::make_shared<Subscription>(sink, "bad..subject", "", "3");
  EXPECT_FALSE(router.Insert(bad));  // refused: nothing changed
  // Auto-unsubscribe on the publisher's thread is a removal too.
  auto once = std::make_shared<Subscription>(sink, "once", "", "4");
  once->set_max_messages(1);
  router.Insert(once);
  MatchCache cache;
  Message m{"once", "", "", "x"};
  router.Route(m, nullptr, true, cache);
  router.Route(m, nullptr, true, cache);
  EXPECT_EQ(obs.events, (std::vector<std::string>{"+deliver.a", "+deliver.* g", "-deliver.a", "+once", "-once"}));
  router.RemoveInterestObserver(&obs);
  router.Remove(q);
  router.Remove(early);
  EXPECT_EQ(obs.events.size(), 5u);
}

TEST(RouterObserver, SeesTheChangeInMatchAndMayRunConcurrently) {
  Router router;
  auto sink = std::make_shared<RecordingSink>();
  struct Checker : InterestObserver {
    Router* router;
    std::atomic<int> seen{0}, wrong{0};
    void OnInterestChanged(const Subscription& s, bool added) override {
      // The change is visible to Match when the observer runs.
      MatchResult r = router->MatchUncached(s.subject());
      bool present = std::any_of(r.plain.begin(), r.plain.end(), [&](const SubPtr& p) { return p.get() == &s; });
      if (present != added) ++wrong;
      ++seen;
    }
  } checker;
  checker.router = &router;
  router.AddInterestObserver(&checker);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto s = std::make_shared<Subscription>(sink, "t" + std::to_string(t) + "." + std::to_string(i), "", "x");
        router.Insert(s);
        router.Remove(s);
      }
    });
  }
  for (auto& th : threads) th.join();
  router.RemoveInterestObserver(&checker);
  EXPECT_EQ(checker.seen.load(), 4 * 200 * 2);
  EXPECT_EQ(checker.wrong.load(), 0);
}

}  // namespace
}  // namespace sluice::router
