// Leader rounds (store/group_commit.h): a thread registered as a RoundLeader
// gets the small sync rounds its appends ask for and runs them itself; big
// ones, rounds a waiting thread needs, and failures go to the committer.
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "store/fault_filesystem.h"
#include "store/group_commit.h"
#include "store/store.h"
#include "store_test_util.h"

namespace sluice::store {
namespace {

// Counts deferrals; registered for the test's thread while it lives.
class CountingLeader final : public RoundLeader {
 public:
  CountingLeader() { GroupCommitter::SetThreadLeader(this); }
  ~CountingLeader() override {
    GroupCommitter::LeadDeferredRounds();
    GroupCommitter::SetThreadLeader(nullptr);
  }
  void OnRoundDeferred() override { ++deferrals; }
  int deferrals = 0;
};

// Durable callbacks with the thread each ran on.
struct Acks {
  std::mutex mu;
  std::condition_variable cv;
  std::map<uint64_t, Status> done;
  std::map<uint64_t, std::thread::id> thread;
  DurableCallback cb() {
    return [this](uint64_t seq, const Status& st) {
      std::lock_guard<std::mutex> l(mu);
      done[seq] = st;
      thread[seq] = std::this_thread::get_id();
      cv.notify_all();
    };
  }
  size_t count() {
    std::lock_guard<std::mutex> l(mu);
    return done.size();
  }
  void WaitFor(size_t n) {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(30), [&] { return done.size() >= n; }));
  }
};

StoreConfig WithCommitter(GroupCommitter& committer) {
  StoreConfig c;
  c.committer = &committer;
  c.write_buffer_bytes = 1 << 20;  // as JetStream file streams
  return c;
}

// A new segment is a write of its own: the first append of a store (two
// writes) goes to the committer. Warm() makes that append, so the tests'
// own appends start at sequence 2. The committer is idle when it returns
// (Sync returns as the round reports durability, just before it ends).
void Warm(MessageStore& s, GroupCommitter& committer) {
  ASSERT_TRUE(s.Append("w", "", "w").ok());
  ASSERT_TRUE(s.Sync().ok());
  committer.WaitIdle();
}

// The set-up most tests share: a leader-rounds committer, a store on a
// fault filesystem (warmed first when asked: see Warm), then this thread
// registered as the leader, and the appends' durable callbacks.
struct LeaderRig {
  explicit LeaderRig(bool warm) : store(testing::MustOpen("/s", WithCommitter(committer), fs)) {
    if (warm) Warm(*store, committer);
    leader.emplace();
  }
  FaultFileSystem fs;
  GroupCommitter committer{1, /*leader_rounds=*/true};
  std::unique_ptr<MessageStore> store;
  std::optional<CountingLeader> leader;  // after Warm: its append is not deferred
  Acks acks;
};

TEST(LeaderRoundTest, SmallRoundRunsOnTheLeaderThread) {
  LeaderRig rig(/*warm=*/true);
  for (uint64_t round = 1; round <= 3; ++round) {
    ASSERT_TRUE(rig.store->Append("a", "", testing::Payload(round, 100), rig.acks.cb()).ok());
    EXPECT_EQ(rig.leader->deferrals, static_cast<int>(round));
    EXPECT_EQ(rig.acks.count(), round - 1);  // not durable before the leader's round
    uint64_t syncs = rig.fs.sync_count();
    GroupCommitter::LeadDeferredRounds();
    ASSERT_EQ(rig.acks.count(), round);  // done when LeadDeferredRounds returns
    EXPECT_TRUE(rig.acks.done[round + 1].ok());
    EXPECT_EQ(rig.acks.thread[round + 1], std::this_thread::get_id());
    EXPECT_GT(rig.fs.sync_count(), syncs);
  }
  GroupCommitter::LeadDeferredRounds();  // nothing deferred: nothing happens
  auto power = rig.fs.CloneAfter(FaultFileSystem::Crash::kPowerLoss);
  EXPECT_EQ(testing::MustOpen("/s", StoreConfig{}, *power)->State().msgs, 4u);
}

TEST(LeaderRoundTest, ManyWritesGoToTheCommitter) {
  LeaderRig rig(/*warm=*/false);
  for (int i = 1; i <= 50; ++i) ASSERT_TRUE(rig.store->Append("a", "", "x", rig.acks.cb()).ok());
  EXPECT_EQ(rig.leader->deferrals, 1);  // one round covers them all
  GroupCommitter::LeadDeferredRounds();
  rig.acks.WaitFor(50);
  for (auto& [seq, id] : rig.acks.thread) EXPECT_NE(id, std::this_thread::get_id()) << seq;
}

TEST(LeaderRoundTest, WaitingThreadTakesTheRoundFromItsLeader) {
  LeaderRig rig(/*warm=*/false);
  ASSERT_TRUE(rig.store->Append("a", "", "x", rig.acks.cb()).ok());
  EXPECT_EQ(rig.leader->deferrals, 1);
  // The leader itself waits: the committer runs the round (no deadlock).
  ASSERT_TRUE(rig.store->WaitDurable(1).ok());
  ASSERT_TRUE(rig.store->Append("a", "", "y", rig.acks.cb()).ok());
  ASSERT_TRUE(rig.store->Sync().ok());
  EXPECT_EQ(rig.acks.count(), 2u);
  GroupCommitter::LeadDeferredRounds();  // both handed over: nothing left to lead
  // Another thread (not a leader) waiting takes it over as well.
  ASSERT_TRUE(rig.store->Append("a", "", "z", rig.acks.cb()).ok());
  std::thread([&] { ASSERT_TRUE(rig.store->Sync().ok()); }).join();
  EXPECT_EQ(rig.acks.count(), 3u);
  GroupCommitter::LeadDeferredRounds();
}

TEST(LeaderRoundTest, FailedFsyncOnTheLeaderFailsTheAppendAndWritesResume) {
  LeaderRig rig(/*warm=*/true);
  ASSERT_TRUE(rig.store->Append("a", "", testing::Payload(1, 50), rig.acks.cb()).ok());
  GroupCommitter::LeadDeferredRounds();
  ASSERT_TRUE(rig.acks.done[2].ok());
  rig.fs.FailSyncs(1);
  ASSERT_TRUE(rig.store->Append("a", "", testing::Payload(2, 50), rig.acks.cb()).ok());
  GroupCommitter::LeadDeferredRounds();
  rig.acks.WaitFor(2);
  EXPECT_EQ(rig.acks.done[3].code(), StatusCode::kIoError);  // no acknowledgement
  EXPECT_FALSE(rig.store->Load(3).ok());                           // withdrawn
  StatusOr<AppendResult> r = rig.store->Append("a", "", testing::Payload(3, 50), rig.acks.cb());
  ASSERT_TRUE(r.ok());
  GroupCommitter::LeadDeferredRounds();
  rig.acks.WaitFor(3);
  EXPECT_TRUE(rig.acks.done[r->seq].ok());
  auto power = rig.fs.CloneAfter(FaultFileSystem::Crash::kPowerLoss);
  auto back = testing::MustOpen("/s", StoreConfig{}, *power);
  EXPECT_TRUE(back->Load(2).ok());
  EXPECT_TRUE(back->Load(r->seq).ok());
}

TEST(LeaderRoundTest, ClosedStoreIsSkipped) {
  FaultFileSystem fs;
  GroupCommitter committer(1, /*leader_rounds=*/true);
  CountingLeader leader;
  Acks acks;
  {
    auto s = testing::MustOpen("/s", WithCommitter(committer), fs);
    ASSERT_TRUE(s->Append("a", "", "x", acks.cb()).ok());
    EXPECT_EQ(leader.deferrals, 1);
    ASSERT_TRUE(s->Close().ok());  // syncs through the committer and cancels
    EXPECT_EQ(acks.count(), 1u);
  }
  GroupCommitter::LeadDeferredRounds();  // the store is gone: its entry is skipped
  auto power = fs.CloneAfter(FaultFileSystem::Crash::kPowerLoss);
  EXPECT_EQ(testing::MustOpen("/s", StoreConfig{}, *power)->State().msgs, 1u);
}

TEST(LeaderRoundTest, CommitterWithoutLeaderRoundsNeverDefers) {
  FaultFileSystem fs;
  GroupCommitter committer(1);
  StoreConfig c;
  c.committer = &committer;
  auto s = testing::MustOpen("/s", c, fs);
  CountingLeader leader;
  Acks acks;
  ASSERT_TRUE(s->Append("a", "", "x", acks.cb()).ok());
  EXPECT_EQ(leader.deferrals, 0);
  acks.WaitFor(1);
  EXPECT_NE(acks.thread[1], std::this_thread::get_id());
}

// Two stores deferred in one batch: one round runs here, the other on the
// committer, so the leader never holds up for more than one fsync.
TEST(LeaderRoundTest, AtMostOneInlineRoundPerCall) {
  FaultFileSystem fs;
  GroupCommitter committer(1, /*leader_rounds=*/true);
  auto a = testing::MustOpen("/a", WithCommitter(committer), fs);
  auto b = testing::MustOpen("/b", WithCommitter(committer), fs);
  Warm(*a, committer);
  Warm(*b, committer);
  CountingLeader leader;
  Acks acks_a, acks_b;
  ASSERT_TRUE(a->Append("a", "", "x", acks_a.cb()).ok());
  ASSERT_TRUE(b->Append("b", "", "y", acks_b.cb()).ok());
  EXPECT_EQ(leader.deferrals, 1);  // noted once per batch
  GroupCommitter::LeadDeferredRounds();
  acks_a.WaitFor(1);
  acks_b.WaitFor(1);
  EXPECT_EQ(acks_a.thread[2], std::this_thread::get_id());
  EXPECT_NE(acks_b.thread[2], std::this_thread::get_id());
}

}  // namespace
}  // namespace sluice::store
