// Push consumers learn of subscribers on their deliver subject from the
// router's InterestObserver: delivery starts when a subscriber appears with
// nothing waking the dispatcher but the SUB itself, stops when it goes, and
// an ephemeral goes inactive_threshold after its last subscriber left
// (ManualClock).
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "consumer_fixture.h"

namespace sluice::jetstream {
namespace {

using test_support::ConsumerTest;
using test_support::json;

// A deliver-subject subscriber whose test thread can wait for a delivery.
class WaitingSink : public router::SubscriberSink {
 public:
  bool Deliver(router::Subscription&, const router::Message& m) override {
    {
      std::lock_guard lock(mu_);
      payloads_.emplace_back(m.payload);
    }
    cv_.notify_all();
    return true;
  }
  void OnSubscriptionExpired(router::Subscription&) override {}
  // Waits (generous deadline: no speed is asserted) for n deliveries.
  bool WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return payloads_.size() >= n; });
  }
  std::vector<std::string> payloads() {
    std::lock_guard lock(mu_);
    return payloads_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> payloads_;
};

class ConsumerInterestTest : public ConsumerTest {};

TEST_F(ConsumerInterestTest, SubscriberStartsDeliveryAndItsLossStopsIt) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  Pub("s.x", "one");
  json ci = Api("CONSUMER.CREATE.S.d", R"({"stream_name":"S","config":{"durable_name":"d","deliver_subject":"dl.d"}})");
  ASSERT_EQ(ci["error"], nullptr) << ci;
  EXPECT_FALSE(ci.contains("push_bound"));
  Settle();
  auto sink = std::make_shared<WaitingSink>();
  // A subscription on another subject (a wildcard over it) starts nothing;
  // it only receives deliveries while someone is bound.
  auto wild_sink = std::make_shared<WaitingSink>();
  auto other = std::make_shared<router::Subscription>(wild_sink, "dl.*", "", "w");
  router_.Insert(other);
  Settle();
  EXPECT_TRUE(wild_sink->payloads().empty());
  // The SUB alone wakes the dispatcher: no Wake, no Flush here.
  auto sub = std::make_shared<router::Subscription>(sink, "dl.d", "", "1");
  router_.Insert(sub);
  ASSERT_TRUE(sink->WaitFor(1));
  EXPECT_EQ(sink->payloads()[0], "one");
  EXPECT_EQ(Api("CONSUMER.INFO.S.d", "")["push_bound"], true);
  // New messages flow while it is bound.
  Pub("s.x", "two");
  ASSERT_TRUE(sink->WaitFor(2));
  // The last subscriber goes: no more deliveries, push_bound false.
  router_.Remove(sub);
  js_->dispatcher().Flush();
  Pub("s.x", "three");
  Settle();
  EXPECT_EQ(sink->payloads().size(), 2u);
  EXPECT_FALSE(Api("CONSUMER.INFO.S.d", "").contains("push_bound"));
  // A new subscriber gets what was missed.
  auto again = std::make_shared<router::Subscription>(sink, "dl.d", "", "2");
  router_.Insert(again);
  ASSERT_TRUE(sink->WaitFor(3));
  EXPECT_EQ(sink->payloads()[2], "three");
  router_.Remove(again);
  router_.Remove(other);
}

TEST_F(ConsumerInterestTest, QueueGroupMemberIsInterestForADeliverGroup) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  Pub("s.x", "one");
  ASSERT_EQ(Api("CONSUMER.CREATE.S.q",
                R"({"stream_name":"S","config":{"durable_name":"q","deliver_subject":"dl.q","deliver_group":"g"}})")["error"],
            nullptr);
  Settle();
  auto sink = std::make_shared<WaitingSink>();
  auto member = std::make_shared<router::Subscription>(sink, "dl.q", "g", "1");
  router_.Insert(member);
  ASSERT_TRUE(sink->WaitFor(1));
  EXPECT_EQ(Api("CONSUMER.INFO.S.q", "")["push_bound"], true);
  router_.Remove(member);
}

TEST_F(ConsumerInterestTest, EphemeralGoesInactiveThresholdAfterItsSubscriberLeft) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  auto sink = std::make_shared<WaitingSink>();
  auto sub = std::make_shared<router::Subscription>(sink, "dl.e", "", "1");
  router_.Insert(sub);
  json ci = Api("CONSUMER.CREATE.S",
                R"({"stream_name":"S","config":{"deliver_subject":"dl.e","inactive_threshold":2000000000}})");
  ASSERT_EQ(ci["error"], nullptr) << ci;
  const std::string name = ci["name"];
  Settle();
  // Bound: time passing does not remove it.
  clock_.Advance(10'000'000'000);
  Settle();
  ASSERT_EQ(Api("CONSUMER.INFO.S." + name, "")["error"], nullptr);
  // The subscriber goes; the round that runs this Flush has seen it (the
  // removal queued the check before the flush task was posted).
  router_.Remove(sub);
  js_->dispatcher().Flush();
  clock_.Advance(1'999'000'000);
  Settle();
  EXPECT_EQ(Api("CONSUMER.INFO.S." + name, "")["error"], nullptr);
  clock_.Advance(1'000'000);
  Settle();
  EXPECT_EQ(Api("CONSUMER.INFO.S." + name, "")["error"]["err_code"], 10014);
}

TEST_F(ConsumerInterestTest, DeliverSubjectUpdateFollowsTheNewSubject) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  Pub("s.x", "one");
  ASSERT_EQ(Api("CONSUMER.CREATE.S.u", R"({"stream_name":"S","config":{"durable_name":"u","deliver_subject":"dl.old"}})")["error"],
            nullptr);
  json up = Api("CONSUMER.CREATE.S.u", R"({"stream_name":"S","config":{"durable_name":"u","deliver_subject":"dl.new"}})");
  ASSERT_EQ(up["error"], nullptr) << up;
  Settle();
  auto sink = std::make_shared<WaitingSink>();
  auto sub = std::make_shared<router::Subscription>(sink, "dl.new", "", "1");
  router_.Insert(sub);
  ASSERT_TRUE(sink->WaitFor(1));
  router_.Remove(sub);
}

TEST_F(ConsumerInterestTest, ManyPushConsumersEachStartOnTheirOwnSubscriber) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  Pub("s.x", "one");
  // More than the first prune point, with deletions: the index is rebuilt.
  for (int i = 0; i < 40; ++i) {
    const std::string n = std::to_string(i);
    ASSERT_EQ(Api("CONSUMER.CREATE.S.c" + n,
                  R"({"stream_name":"S","config":{"durable_name":"c)" + n + R"(","deliver_subject":"dl.c)" + n + R"("}})")["error"],
              nullptr);
    if (i % 3 == 0) Api("CONSUMER.DELETE.S.c" + n, "");
  }
  Settle();
  for (int i = 1; i < 40; i += 3) {
    auto sink = std::make_shared<WaitingSink>();
    auto sub = std::make_shared<router::Subscription>(sink, "dl.c" + std::to_string(i), "", "1");
    router_.Insert(sub);
    ASSERT_TRUE(sink->WaitFor(1)) << i;
    router_.Remove(sub);
  }
}

}  // namespace
}  // namespace sluice::jetstream
