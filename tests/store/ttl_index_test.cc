// The per-message TTL timer index (store/ttl_index.h) and its hooks in the
// store: TTL expiry with a ManualClock on both backends, "never" against
// max_age, held last-of-subject messages (subject delete markers), removal
// by other means, recovery rebuilding the index from the headers, and no
// scan of the stream on expiry (reads counted through a FileSystem wrapper).
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "store/store.h"
#include "store/ttl_index.h"
#include "store_test_util.h"

namespace sluice::store {
namespace {

using testing::MustOpen;
using testing::TempDir;

constexpr int64_t kSec = 1'000'000'000;

// ---- the index alone ----

TEST(TtlIndex, TakesDueEntriesInExpiryOrder) {
  TtlIndex x;
  EXPECT_TRUE(x.empty());
  EXPECT_EQ(x.NextExpiry(), 0);
  x.Add(5, 300);
  x.Add(3, 100);
  x.Add(4, 100);
  x.Add(9, 200);
  EXPECT_EQ(x.size(), 4u);
  EXPECT_EQ(x.NextExpiry(), 100);
  EXPECT_TRUE(x.TakeDue(99).empty());
  EXPECT_EQ(x.TakeDue(200), (std::vector<uint64_t>{3, 4, 9}));
  EXPECT_EQ(x.NextExpiry(), 300);
  EXPECT_EQ(x.size(), 1u);
}

TEST(TtlIndex, RemoveAndReplace) {
  TtlIndex x;
  x.Add(1, 100);
  x.Add(2, 50);
  x.Remove(2);
  x.Remove(77);  // absent: no-op
  EXPECT_EQ(x.NextExpiry(), 100);
  x.Add(1, 500);  // replaces
  EXPECT_EQ(x.size(), 1u);
  EXPECT_TRUE(x.TakeDue(499).empty());
  EXPECT_EQ(x.TakeDue(500), std::vector<uint64_t>{1});
}

TEST(TtlIndex, NeverIsKeptApartAndNeverDue) {
  TtlIndex x;
  x.AddNever(7);
  EXPECT_FALSE(x.empty());
  EXPECT_TRUE(x.IsNever(7));
  EXPECT_EQ(x.NextExpiry(), 0);
  EXPECT_TRUE(x.TakeDue(INT64_MAX).empty());
  x.Add(7, 10);  // a later TTL replaces "never"
  EXPECT_FALSE(x.IsNever(7));
  x.Remove(7);
  EXPECT_TRUE(x.empty());
  x.AddNever(8);
  x.Clear();
  EXPECT_TRUE(x.empty());
}

// ---- through the store, both backends ----

std::string TtlHeaders(const std::string& value) { return "NATS/1.0\r\nNats-TTL: " + value + "\r\n\r\n"; }

// Test parser for the rebuild: "Nats-TTL: <seconds>" or "never".
int64_t ParseTestTtl(std::string_view headers) {
  auto at = headers.find("Nats-TTL: ");
  if (at == std::string_view::npos) return 0;
  auto value = headers.substr(at + 10, headers.find("\r\n", at) - at - 10);
  if (value == "never") return -1;
  return std::stoll(std::string(value)) * kSec;
}

class TtlStoreTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    config_.clock = &clock_;
    config_.manual_sync = true;
    config_.message_ttl = ParseTestTtl;
    Open();
  }
  void Open() {
    store_.reset();
    if (GetParam()) store_ = MustOpen(dir_.path(), config_, PosixFileSystem());
    else store_ = NewMemoryStore(config_);
    ASSERT_NE(store_, nullptr);
  }
  uint64_t Put(const std::string& subject, int64_t ttl_s) {
    AppendOptions o;
    o.ttl_ns = ttl_s < 0 ? -1 : ttl_s * kSec;
    std::string h = ttl_s == 0 ? "" : TtlHeaders(ttl_s < 0 ? "never" : std::to_string(ttl_s));
    auto r = store_->Append(subject, h, "v", {}, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    store_->SyncPending();
    return r.ok() ? r->seq : 0;
  }
  bool Has(uint64_t seq) { return store_->Load(seq).ok(); }

  TempDir dir_;
  ManualClock clock_;
  StoreConfig config_;
  std::unique_ptr<MessageStore> store_;
};

TEST_P(TtlStoreTest, ExpiresEachMessageAtItsOwnTime) {
  const int64_t t0 = clock_.NowNs();
  uint64_t a = Put("a", 5);
  uint64_t b = Put("b", 0);
  uint64_t c = Put("c", 2);
  EXPECT_EQ(store_->NextExpiry(), t0 + 2 * kSec);
  EXPECT_EQ(store_->ExpireOld(t0 + 2 * kSec - 1), 0u);
  EXPECT_EQ(store_->ExpireOld(t0 + 2 * kSec), 1u);  // an interior message: a tombstone
  EXPECT_TRUE(Has(a));
  EXPECT_TRUE(Has(b));
  EXPECT_FALSE(Has(c));
  EXPECT_EQ(store_->NextExpiry(), t0 + 5 * kSec);
  EXPECT_EQ(store_->ExpireOld(t0 + 60 * kSec), 1u);
  EXPECT_FALSE(Has(a));
  EXPECT_TRUE(Has(b));
  EXPECT_EQ(store_->NextExpiry(), 0);  // no max_age, no TTL left
  EXPECT_EQ(store_->State().msgs, 1u);
}

TEST_P(TtlStoreTest, RemovedMessagesLeaveTheIndex) {
  const int64_t t0 = clock_.NowNs();
  uint64_t a = Put("a", 3);
  Put("b", 4);
  ASSERT_TRUE(store_->Delete(a).ok());
  EXPECT_EQ(store_->NextExpiry(), t0 + 4 * kSec);
  PurgeRequest all;
  ASSERT_TRUE(store_->Purge(all).ok());
  EXPECT_EQ(store_->NextExpiry(), 0);
  EXPECT_EQ(store_->ExpireOld(t0 + 100 * kSec), 0u);
}

TEST_P(TtlStoreTest, NeverSurvivesMaxAgeAndTheWalkGoesPastIt) {
  StreamLimits l;
  l.max_age_ns = 10 * kSec;
  ASSERT_TRUE(store_->UpdateLimits(l).ok());
  const int64_t t0 = clock_.NowNs();
  uint64_t keep = Put("schema", -1);
  clock_.Advance(kSec);
  uint64_t old = Put("k", 0);
  EXPECT_EQ(store_->NextExpiry(), t0 + kSec + 10 * kSec);  // the "never" message is skipped
  EXPECT_EQ(store_->ExpireOld(t0 + 11 * kSec), 1u);
  EXPECT_TRUE(Has(keep));
  EXPECT_FALSE(Has(old));
  EXPECT_EQ(store_->NextExpiry(), 0);
  EXPECT_EQ(store_->ExpireOld(t0 + 1000 * kSec), 0u);
  EXPECT_TRUE(Has(keep));
}

TEST_P(TtlStoreTest, HoldsTheLastMessageOfASubject) {
  const int64_t t0 = clock_.NowNs();
  uint64_t a1 = Put("a", 2);
  uint64_t a2 = Put("a", 2);
  uint64_t b1 = Put("b", 2);
  uint64_t b2 = Put("b", 50);
  ExpiryResult r = store_->Expire(t0 + 3 * kSec, true);
  // a1 goes (a2 is left); a2 is then the last of "a": held. b1 goes, b2 is not due.
  EXPECT_EQ(r.removed, 2u);
  ASSERT_EQ(r.held.size(), 1u);
  EXPECT_EQ(r.held[0].seq, a2);
  EXPECT_EQ(r.held[0].subject, "a");
  EXPECT_FALSE(Has(a1));
  EXPECT_TRUE(Has(a2));
  EXPECT_FALSE(Has(b1));
  EXPECT_TRUE(Has(b2));
}

TEST_P(TtlStoreTest, HoldsUnderMaxAgeToo) {
  StreamLimits l;
  l.max_age_ns = 5 * kSec;
  ASSERT_TRUE(store_->UpdateLimits(l).ok());
  const int64_t t0 = clock_.NowNs();
  uint64_t a = Put("a", 0);
  uint64_t b1 = Put("b", 0);
  clock_.Advance(10 * kSec);
  uint64_t b2 = Put("b", 0);
  ExpiryResult r = store_->Expire(t0 + 6 * kSec, true);
  ASSERT_EQ(r.held.size(), 1u);  // "a" is held; b1 goes, b2 is young
  EXPECT_EQ(r.held[0].seq, a);
  EXPECT_EQ(r.removed, 1u);
  EXPECT_TRUE(Has(a));
  EXPECT_FALSE(Has(b1));
  EXPECT_TRUE(Has(b2));
}

TEST_P(TtlStoreTest, RollupOfTheSubjectDropsTheEntry) {
  const int64_t t0 = clock_.NowNs();
  Put("k", 2);
  Put("k", 0);
  PurgeRequest keep_last;
  keep_last.filter = "k";
  keep_last.keep = 1;
  ASSERT_TRUE(store_->Purge(keep_last).ok());
  EXPECT_EQ(store_->NextExpiry(), 0);
  EXPECT_EQ(store_->ExpireOld(t0 + 10 * kSec), 0u);
  EXPECT_EQ(store_->State().msgs, 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, TtlStoreTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "File" : "Memory"; });

// ---- recovery and no scan (file backend) ----

// Counts the reads of every file it opens.
class CountingFileSystem final : public FileSystem {
 public:
  class CountingFile final : public File {
   public:
    CountingFile(std::unique_ptr<File> f, std::atomic<uint64_t>* reads) : f_(std::move(f)), reads_(reads) {}
    StatusOr<size_t> Write(std::string_view data) override { return f_->Write(data); }
    StatusOr<size_t> Read(uint64_t offset, size_t n, char* out) override {
      reads_->fetch_add(1);
      return f_->Read(offset, n, out);
    }
    Status Sync() override { return f_->Sync(); }
    Status Truncate(uint64_t size) override { return f_->Truncate(size); }
    StatusOr<uint64_t> Size() override { return f_->Size(); }

   private:
    std::unique_ptr<File> f_;
    std::atomic<uint64_t>* reads_;
  };
  StatusOr<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) override {
    auto f = PosixFileSystem().Open(path, mode);
    if (!f.ok()) return f.status();
    return std::unique_ptr<File>(std::make_unique<CountingFile>(std::move(*f), &reads));
  }
  Status Rename(const std::string& a, const std::string& b) override { return PosixFileSystem().Rename(a, b); }
  Status Remove(const std::string& p) override { return PosixFileSystem().Remove(p); }
  Status MakeDirs(const std::string& p) override { return PosixFileSystem().MakeDirs(p); }
  Status SyncDir(const std::string& p) override { return PosixFileSystem().SyncDir(p); }
  Status List(const std::string& d, std::vector<std::string>* n) override { return PosixFileSystem().List(d, n); }
  bool Exists(const std::string& p) override { return PosixFileSystem().Exists(p); }
  std::atomic<uint64_t> reads{0};
};

TEST(TtlStoreRecovery, RebuildsTheIndexFromHeaders) {
  TempDir dir;
  ManualClock clock;
  StoreConfig cfg;
  cfg.clock = &clock;
  cfg.manual_sync = true;
  cfg.message_ttl = ParseTestTtl;
  const int64_t t0 = clock.NowNs();
  uint64_t a = 0, never = 0, plain = 0;
  {
    auto s = MustOpen(dir.path(), cfg, PosixFileSystem());
    AppendOptions o;
    o.ttl_ns = 5 * kSec;
    a = s->Append("a", TtlHeaders("5"), "x", {}, o)->seq;
    o.ttl_ns = -1;
    never = s->Append("n", TtlHeaders("never"), "x", {}, o)->seq;
    plain = s->Append("p", "NATS/1.0\r\nOther: 1\r\n\r\n", "x", {}, {})->seq;
    ASSERT_TRUE(s->Close().ok());
  }
  auto s = MustOpen(dir.path(), cfg, PosixFileSystem());
  EXPECT_EQ(s->NextExpiry(), t0 + 5 * kSec);
  EXPECT_EQ(s->ExpireOld(t0 + 5 * kSec), 1u);
  EXPECT_FALSE(s->Load(a).ok());
  EXPECT_TRUE(s->Load(never).ok());
  EXPECT_TRUE(s->Load(plain).ok());
  ASSERT_TRUE(s->Close().ok());
  // The expiry's tombstone survives a restart too.
  auto again = MustOpen(dir.path(), cfg, PosixFileSystem());
  EXPECT_FALSE(again->Load(a).ok());
  EXPECT_EQ(again->State().msgs, 2u);
  StreamLimits l;
  l.max_age_ns = kSec;
  clock.Advance(10 * kSec);
  ASSERT_TRUE(again->UpdateLimits(l).ok());  // runs age expiry: "never" stays (rebuilt as never)
  EXPECT_TRUE(again->Load(never).ok());
  EXPECT_FALSE(again->Load(plain).ok());
}

TEST(TtlStoreRecovery, ExpiryDoesNotScanTheStream) {
  TempDir dir;
  ManualClock clock;
  CountingFileSystem fs;
  StoreConfig cfg;
  cfg.clock = &clock;
  cfg.manual_sync = true;
  const int64_t t0 = clock.NowNs();
  auto s = MustOpen(dir.path(), cfg, fs);
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(s->Append("bulk." + std::to_string(i % 50), "", "p", {}, {}).ok());
  AppendOptions o;
  o.ttl_ns = 2 * kSec;
  uint64_t victim = s->Append("ttl", TtlHeaders("2"), "x", {}, o)->seq;
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(s->Append("bulk." + std::to_string(i % 50), "", "p", {}, {}).ok());
  s->SyncPending();
  uint64_t before = fs.reads.load();
  EXPECT_EQ(s->NextExpiry(), t0 + 2 * kSec);
  EXPECT_EQ(s->ExpireOld(t0 + 2 * kSec), 1u);
  EXPECT_EQ(s->NextExpiry(), 0);
  // Neither the timer query nor the expiry read a message record.
  EXPECT_EQ(fs.reads.load(), before);
  EXPECT_FALSE(s->Load(victim).ok());
  EXPECT_EQ(s->State().msgs, 10000u);
}

}  // namespace
}  // namespace sluice::store
