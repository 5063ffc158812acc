// Faults through the filesystem seam: failed fsyncs, a full disk, short
// writes; group commit; power loss of un-synced data and directory entries.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <atomic>
#include <random>
#include <thread>

#include "store/group_commit.h"
#include "store/segment_io.h"
#include "store_test_util.h"

namespace sluice::store {
namespace {

StoreConfig ManualConfig(uint64_t segment_bytes = 1 << 20) {
  StoreConfig c;
  c.manual_sync = true;
  c.segment_bytes = segment_bytes;
  return c;
}

struct Acks {
  std::mutex mu;
  std::map<uint64_t, Status> done;
  DurableCallback cb() {
    return [this](uint64_t seq, const Status& st) {
      std::lock_guard<std::mutex> l(mu);
      done[seq] = st;
    };
  }
  std::set<uint64_t> ok() {
    std::lock_guard<std::mutex> l(mu);
    std::set<uint64_t> s;
    for (auto& [seq, st] : done) if (st.ok()) s.insert(seq);
    return s;
  }
};

TEST(FaultTest, FailedFsyncIsReportedAndWritesResume) {
  FaultFileSystem fs;
  auto s = testing::MustOpen("/s", ManualConfig(), fs);
  Acks acks;
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(s->Append("a", "", testing::Payload(i, 50), acks.cb()).ok());
  s->SyncPending();
  for (int i = 6; i <= 8; ++i) ASSERT_TRUE(s->Append("a", "", testing::Payload(i, 50), acks.cb()).ok());
  fs.FailSyncs(1);
  s->SyncPending();
  {
    std::lock_guard<std::mutex> l(acks.mu);
    ASSERT_EQ(acks.done.size(), 8u);
    for (int i = 1; i <= 5; ++i) EXPECT_TRUE(acks.done[i].ok());
    for (int i = 6; i <= 8; ++i) EXPECT_EQ(acks.done[i].code(), StatusCode::kIoError);
  }
  // Not acknowledged, so not served; the acknowledged ones still are.
  EXPECT_EQ(s->Load(6).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s->Load(5)->payload, testing::Payload(5, 50));
  EXPECT_EQ(s->WaitDurable(7).code(), StatusCode::kIoError);
  // Writes resume, in a new segment, without reusing sequences.
  StatusOr<AppendResult> r = s->Append("a", "", testing::Payload(9, 50), acks.cb());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->seq, 9u);
  s->SyncPending();
  EXPECT_TRUE(acks.ok().count(9));
  EXPECT_EQ(s->WaitDurable(7).code(), StatusCode::kIoError);  // still failed
  EXPECT_TRUE(s->WaitDurable(9).ok());
  EXPECT_TRUE(fs.Exists("/s/" + SegmentFileName(2)));
  // After power loss every acknowledged message is there.
  auto crashed = fs.CloneAfter(FaultFileSystem::Crash::kPowerLoss);
  auto r2 = testing::MustOpen("/s", ManualConfig(), *crashed);
  for (uint64_t q : acks.ok()) EXPECT_EQ(r2->Load(q)->payload, testing::Payload(q, 50)) << q;
  EXPECT_GE(r2->Append("a", "", "x")->seq, 10u);
}

TEST(FaultTest, SyncIntervalAcknowledgesAtOnceAndRisksPowerLoss) {
  FaultFileSystem fs;
  StoreConfig c;
  c.sync_interval_ns = 3600'000'000'000;  // an hour: no periodic fsync during the test
  auto s = testing::MustOpen("/s", c, fs);
  Acks acks;
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(s->Append("a", "", testing::Payload(i, 64), acks.cb()).ok());
  EXPECT_EQ(acks.ok().size(), 10u);  // acknowledged inside Append
  auto crash = fs.CloneAfter(FaultFileSystem::Crash::kProcessCrash);
  EXPECT_EQ(testing::MustOpen("/s", ManualConfig(), *crash)->State().msgs, 10u);  // SIGKILL loses nothing
  auto power = fs.CloneAfter(FaultFileSystem::Crash::kPowerLoss);
  EXPECT_EQ(testing::MustOpen("/s", ManualConfig(), *power)->State().msgs, 0u);  // what the setting risks
  ASSERT_TRUE(s->Close().ok());  // makes everything durable without waiting for the interval
  auto after = fs.CloneAfter(FaultFileSystem::Crash::kPowerLoss);
  EXPECT_EQ(testing::MustOpen("/s", ManualConfig(), *after)->State().msgs, 10u);
}

TEST(FaultTest, FullDiskRefusesThenResumes) {
  FaultFileSystem fs;
  auto s = testing::MustOpen("/s", ManualConfig(), fs);
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(s->Append("a", "", testing::Payload(i, 100)).ok());
  ASSERT_TRUE(s->Sync().ok());
  std::string seg;
  ASSERT_TRUE(fs.ReadWhole("/s/" + SegmentFileName(1), &seg));
  fs.SetSpaceLimit(seg.size() + 70);  // room for part of one record only
  StatusOr<AppendResult> r = s->Append("a", "", testing::Payload(11, 100));
  EXPECT_EQ(r.status().code(), StatusCode::kNoSpace);
  EXPECT_EQ(s->State().last_seq, 10u);
  EXPECT_EQ(s->Load(10)->payload, testing::Payload(10, 100));  // still readable
  std::string after;
  ASSERT_TRUE(fs.ReadWhole("/s/" + SegmentFileName(1), &after));
  EXPECT_EQ(after.size(), seg.size());  // the partial record was cut back
  fs.SetSpaceLimit(UINT64_MAX);
  r = s->Append("a", "", testing::Payload(11, 100));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->seq, 11u);
  ASSERT_TRUE(s->Sync().ok());
  s.reset();
  s = testing::MustOpen("/s", ManualConfig(), fs);
  EXPECT_EQ(s->State().msgs, 11u);
  EXPECT_EQ(s->State().lost_msgs, 0u);
}

TEST(FaultTest, ShortWritesAreRetried) {
  FaultFileSystem fs;
  fs.SetShortWrites(true);
  auto s = testing::MustOpen("/s", ManualConfig(4096), fs);
  for (int i = 1; i <= 100; ++i) ASSERT_TRUE(s->Append("a.b", "", testing::Payload(i, 300)).ok());
  ASSERT_TRUE(s->Close().ok());
  s = testing::MustOpen("/s", ManualConfig(4096), fs);
  for (int i = 1; i <= 100; ++i) EXPECT_EQ(s->Load(i)->payload, testing::Payload(i, 300));
}

TEST(FaultTest, GroupCommitSharesOneFsync) {
  FaultFileSystem fs;
  auto s = testing::MustOpen("/s", ManualConfig(), fs);
  Acks acks;
  uint64_t before = fs.sync_count();
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(s->Append("a", "", "x", acks.cb()).ok());
  EXPECT_TRUE(acks.ok().empty());  // nothing is durable before the fsync
  EXPECT_EQ(s->SyncPending(), 500u);
  EXPECT_EQ(acks.ok().size(), 500u);
  EXPECT_LE(fs.sync_count() - before, 3u);  // the file, its directory (new segment), the parent (new store directory)
}

TEST(FaultTest, CommitterThreadCompletesConcurrentAppends) {
  FaultFileSystem fs;
  GroupCommitter committer(1);
  StoreConfig c;
  c.committer = &committer;
  c.segment_bytes = 64 * 1024;
  auto s = testing::MustOpen("/s", c, fs);
  Acks acks;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) ASSERT_TRUE(s->Append("t", "", std::string(64, 'x'), acks.cb()).ok());
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(s->Sync().ok());
  EXPECT_EQ(acks.ok().size(), 2000u);
  ASSERT_TRUE(s->Close().ok());
}

TEST(FaultTest, NewSegmentNeedsItsDirectorySynced) {
  FaultFileSystem fs;
  auto s = testing::MustOpen("/s", ManualConfig(2048), fs);
  Acks acks;
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(s->Append("a", "", testing::Payload(i, 500), acks.cb()).ok());
  // Several segments now exist; none is durable yet: power loss takes them all.
  auto lost = fs.CloneAfter(FaultFileSystem::Crash::kPowerLoss);
  auto r = testing::MustOpen("/s", ManualConfig(2048), *lost);
  EXPECT_EQ(r->State().msgs, 0u);
  EXPECT_TRUE(acks.ok().empty());
  s->SyncPending();
  EXPECT_EQ(acks.ok().size(), 10u);
  auto kept = fs.CloneAfter(FaultFileSystem::Crash::kPowerLoss);
  auto r2 = testing::MustOpen("/s", ManualConfig(2048), *kept);
  EXPECT_EQ(r2->State().msgs, 10u);
}

// Randomized power loss: appends, deletes, syncs and checkpoints at random;
// at random moments the power goes; every acknowledged record must be back,
// intact, and new sequences must come after every acknowledged one.
// Odd seeds buffer appends (StoreConfig::write_buffer_bytes).
TEST(FaultTest, RandomizedPowerLoss) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    std::mt19937_64 rng(seed);
    FaultFileSystem fs;
    StoreConfig c = ManualConfig(1024 + rng() % 8192);
    c.checkpoint_bytes = 512 + rng() % 4096;
    if (seed % 2) c.write_buffer_bytes = 256 + rng() % 4096;
    auto s = testing::MustOpen("/s", c, fs);
    Acks acks;
    std::set<uint64_t> deleted;
    int steps = 50 + rng() % 200;
    for (int i = 0; i < steps; ++i) {
      int op = rng() % 10;
      if (op < 7) {
        uint64_t n = s->State().last_seq + 1;
        ASSERT_TRUE(s->Append("p." + std::to_string(n % 5), "", testing::Payload(n, 1 + rng() % 700), acks.cb()).ok());
      } else if (op < 9) {
        s->SyncPending();
      } else {
        uint64_t last = s->State().last_seq;
        if (last > 0) {
          uint64_t q = 1 + rng() % last;
          if (s->Delete(q).ok()) deleted.insert(q);  // Delete syncs in "always" mode
        }
      }
    }
    std::set<uint64_t> durable = acks.ok();
    auto crashed = fs.CloneAfter(FaultFileSystem::Crash::kPowerLoss, rng() % 2 ? rng() : 0);
    auto r = testing::MustOpen("/s", c, *crashed);
    ASSERT_NE(r, nullptr);
    for (uint64_t q : durable) {
      if (deleted.count(q)) continue;
      StatusOr<StoredMessage> m = r->Load(q);
      ASSERT_TRUE(m.ok()) << "seed " << seed << " seq " << q << " " << m.status().ToString();
      EXPECT_EQ(m->payload, testing::Payload(q, m->payload.size()));
    }
    for (uint64_t q : deleted) EXPECT_FALSE(r->Load(q).ok()) << "seed " << seed << " deleted " << q;
    EXPECT_EQ(r->State().lost_msgs, 0u);
    uint64_t max_durable = durable.empty() ? 0 : *durable.rbegin();
    EXPECT_GT(r->Append("p.0", "", "x")->seq, max_durable);
    s.reset();
  }
}

// The same with a committer thread and concurrent appenders; the power goes
// while they run.
TEST(FaultTest, PowerLossWhileAppending) {
  for (int round = 0; round < 5; ++round) {
    FaultFileSystem fs;
    GroupCommitter committer(1);
    StoreConfig c;
    c.committer = &committer;
    c.segment_bytes = 16 * 1024;
    c.checkpoint_bytes = 4096;
    if (round % 2) c.write_buffer_bytes = 8192;
    auto s = testing::MustOpen("/s", c, fs);
    Acks acks;
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&] {
        while (!stop) {
          StatusOr<AppendResult> r = s->Append("w", "", std::string(200, 'w'), acks.cb());
          if (!r.ok()) break;
        }
      });
    }
    while (acks.ok().size() < 200u * (round + 1)) std::this_thread::yield();
    std::set<uint64_t> durable = acks.ok();
    auto crashed = fs.CloneAfter(FaultFileSystem::Crash::kPowerLoss, round + 1);
    stop = true;
    for (auto& t : threads) t.join();
    s.reset();
    auto r = testing::MustOpen("/s", StoreConfig{}, *crashed);
    for (uint64_t q : durable) ASSERT_TRUE(r->Load(q).ok()) << q;
    EXPECT_GT(r->Append("w", "", "x")->seq, *durable.rbegin());
  }
}

// Write buffer: appends reach the file in the sync round, are readable
// before that, and a full disk still refuses the append itself.
TEST(FaultTest, BufferedAppendsAreWrittenByTheSyncRound) {
  FaultFileSystem fs;
  StoreConfig c = ManualConfig();
  c.write_buffer_bytes = 1 << 20;
  auto s = testing::MustOpen("/s", c, fs);
  Acks acks;
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(s->Append("a", "", testing::Payload(i, 100), acks.cb()).ok());
  std::string seg;
  ASSERT_TRUE(fs.ReadWhole("/s/" + SegmentFileName(1), &seg));
  EXPECT_EQ(seg.size(), kSegmentHeaderSize);  // nothing written yet
  EXPECT_EQ(s->Load(7)->payload, testing::Payload(7, 100));  // served from the buffer
  EXPECT_EQ(s->LoadLast("a")->seq, 20u);
  EXPECT_EQ(s->SyncPending(), 20u);
  EXPECT_EQ(acks.ok().size(), 20u);
  ASSERT_TRUE(fs.ReadWhole("/s/" + SegmentFileName(1), &seg));
  EXPECT_GT(seg.size(), 20u * 100);
  auto power = fs.CloneAfter(FaultFileSystem::Crash::kPowerLoss);
  EXPECT_EQ(testing::MustOpen("/s", c, *power)->State().msgs, 20u);
}

// Space is reserved ahead of the buffer (64 KiB at least), so the disk may
// fill a little earlier; the append that finds no space is refused itself.
TEST(FaultTest, BufferedFullDiskRefusesThenResumes) {
  FaultFileSystem fs;
  StoreConfig c = ManualConfig();
  c.write_buffer_bytes = 4096;
  auto s = testing::MustOpen("/s", c, fs);
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(s->Append("a", "", testing::Payload(i, 100)).ok());
  ASSERT_TRUE(s->Sync().ok());
  fs.SetSpaceLimit(1);  // no new space at all; what is reserved stays usable
  uint64_t last = 10;
  StatusOr<AppendResult> r = s->Append("a", "", testing::Payload(last + 1, 100));
  while (r.ok()) {
    ASSERT_EQ(r->seq, ++last);
    ASSERT_LT(last, 100000u);
    r = s->Append("a", "", testing::Payload(last + 1, 100));
  }
  EXPECT_EQ(r.status().code(), StatusCode::kNoSpace);
  EXPECT_EQ(s->State().last_seq, last);
  EXPECT_EQ(s->Load(last)->payload, testing::Payload(last, 100));
  ASSERT_TRUE(s->Sync().ok());  // the reserved space takes the buffered records
  fs.SetSpaceLimit(UINT64_MAX);
  r = s->Append("a", "", testing::Payload(last + 1, 100));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->seq, last + 1);
  ASSERT_TRUE(s->Sync().ok());
  s.reset();
  s = testing::MustOpen("/s", c, fs);
  EXPECT_EQ(s->State().msgs, last + 1);
  EXPECT_EQ(s->State().lost_msgs, 0u);
  EXPECT_EQ(s->Load(last)->payload, testing::Payload(last, 100));
}

// A buffered write that fails after its appends returned fails them like a
// failed fsync: no acknowledgement, messages withdrawn, a new segment.
TEST(FaultTest, FailedBufferedWriteFailsTheUnacknowledged) {
  FaultFileSystem fs;
  StoreConfig c = ManualConfig();
  c.write_buffer_bytes = 1 << 20;
  auto s = testing::MustOpen("/s", c, fs);
  Acks acks;
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(s->Append("a", "", testing::Payload(i, 50), acks.cb()).ok());
  EXPECT_EQ(s->SyncPending(), 5u);
  for (int i = 6; i <= 8; ++i) ASSERT_TRUE(s->Append("a", "", testing::Payload(i, 50), acks.cb()).ok());
  fs.FailWrites(1);
  EXPECT_EQ(s->SyncPending(), 3u);
  for (int i = 6; i <= 8; ++i) EXPECT_EQ(acks.done[i].code(), StatusCode::kIoError);
  EXPECT_EQ(s->WaitDurable(7).code(), StatusCode::kIoError);
  EXPECT_FALSE(s->Load(7).ok());
  EXPECT_EQ(s->Load(5)->payload, testing::Payload(5, 50));
  StatusOr<AppendResult> r = s->Append("a", "", testing::Payload(9, 50), acks.cb());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->seq, 9u);
  EXPECT_EQ(s->SyncPending(), 1u);
  EXPECT_TRUE(acks.done[9].ok());
  s.reset();
  s = testing::MustOpen("/s", c, fs);
  EXPECT_EQ(s->State().msgs, 6u);
  EXPECT_EQ(s->State().last_seq, 9u);
  EXPECT_EQ(s->State().lost_msgs, 0u);
  EXPECT_EQ(s->Load(9)->payload, testing::Payload(9, 50));
}

// The same when the buffer fills inside Append: the failure reaches every
// unacknowledged append at once, the current one included.
TEST(FaultTest, FailedBufferedWriteInsideAppend) {
  FaultFileSystem fs;
  StoreConfig c = ManualConfig();
  c.write_buffer_bytes = 1000;
  auto s = testing::MustOpen("/s", c, fs);
  Acks acks;
  ASSERT_TRUE(s->Append("a", "", testing::Payload(1, 100), acks.cb()).ok());
  EXPECT_EQ(s->SyncPending(), 1u);
  fs.FailWrites(1);
  uint64_t n = 1;
  while (acks.done.size() == 1) {  // until the buffer's write fails
    ++n;
    ASSERT_TRUE(s->Append("a", "", testing::Payload(n, 100), acks.cb()).ok());
    ASSERT_LT(n, 100u);
  }
  for (uint64_t q = 2; q <= n; ++q) EXPECT_EQ(acks.done[q].code(), StatusCode::kIoError) << q;
  EXPECT_EQ(s->State().msgs, 1u);
  ASSERT_TRUE(s->Append("a", "", testing::Payload(n + 1, 100), acks.cb()).ok());
  ASSERT_TRUE(s->Sync().ok());
  EXPECT_TRUE(acks.done[n + 1].ok());
}

}  // namespace
}  // namespace sluice::store
