// One conformance suite, run against every backend: the memory store, the
// file store on the in-memory fault filesystem, the file store on disk.
#include <gtest/gtest.h>

#include "store/crc32c.h"
#include "store_test_util.h"

namespace sluice::store {
namespace {

using testing::TempDir;

// The *Buffered backends collect appends in a write buffer (one write(2) per
// sync round, see StoreConfig::write_buffer_bytes).
enum class Backend { kMemory, kFileFault, kFilePosix, kFileFaultBuffered, kFilePosixBuffered };

class ConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { Open(); }

  StoreConfig Config() {
    StoreConfig c;
    c.limits = limits_;
    c.clock = &clock_;
    c.segment_bytes = 4096;  // many segments, so segment skipping and rolls are exercised
    c.checkpoint_bytes = 2048;
    c.manual_sync = GetParam() == Backend::kFileFault || GetParam() == Backend::kFileFaultBuffered;
    if (GetParam() == Backend::kFileFaultBuffered || GetParam() == Backend::kFilePosixBuffered) {
      c.write_buffer_bytes = 1024;  // smaller than a segment: both flush paths run
    }
    return c;
  }
  void Open() {
    switch (GetParam()) {
      case Backend::kMemory: store_ = NewMemoryStore(Config()); break;
      case Backend::kFileFault:
      case Backend::kFileFaultBuffered: store_ = testing::MustOpen("/s", Config(), fault_fs_); break;
      case Backend::kFilePosix:
      case Backend::kFilePosixBuffered:
        store_ = testing::MustOpen(dir_.path() + "/s", Config(), PosixFileSystem());
        break;
    }
    ASSERT_NE(store_, nullptr);
  }
  // File backends: close, reopen, and check the state survived.
  void ReopenAndCompare() {
    if (GetParam() == Backend::kMemory) return;
    StoreState before = store_->State();
    ASSERT_TRUE(store_->Close().ok());
    store_.reset();
    Open();
    StoreState after = store_->State();
    EXPECT_EQ(before.msgs, after.msgs);
    EXPECT_EQ(before.bytes, after.bytes);
    EXPECT_EQ(before.first_seq, after.first_seq);
    EXPECT_EQ(before.last_seq, after.last_seq);
    EXPECT_EQ(before.first_ts, after.first_ts);
    EXPECT_EQ(before.num_deleted, after.num_deleted);
    EXPECT_EQ(before.num_subjects, after.num_subjects);
  }
  uint64_t Put(const std::string& subject, const std::string& payload = "x", const std::string& headers = "") {
    StatusOr<AppendResult> r = store_->Append(subject, headers, payload);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->seq : 0;
  }
  void SetLimits(const StreamLimits& l) {
    limits_ = l;
    ASSERT_TRUE(store_->UpdateLimits(l).ok());
  }

  TempDir dir_;
  FaultFileSystem fault_fs_;
  ManualClock clock_;
  StreamLimits limits_;
  std::unique_ptr<MessageStore> store_;
};

TEST_P(ConformanceTest, EmptyStore) {
  StoreState s = store_->State();
  EXPECT_EQ(s.msgs, 0u);
  EXPECT_EQ(s.first_seq, 0u);
  EXPECT_EQ(s.last_seq, 0u);
  EXPECT_EQ(store_->Load(1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->LoadNext("", 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->LoadLast("a").status().code(), StatusCode::kNotFound);
  ReopenAndCompare();
}

TEST_P(ConformanceTest, AppendAndLoad) {
  for (int i = 1; i <= 50; ++i) {
    clock_.Advance(1000);
    EXPECT_EQ(Put("orders." + std::to_string(i % 3), testing::Payload(i, i * 10), i % 2 ? "NATS/1.0\r\nA: b\r\n\r\n" : ""),
              uint64_t(i));
  }
  for (int i = 1; i <= 50; ++i) {
    StatusOr<StoredMessage> m = store_->Load(i);
    ASSERT_TRUE(m.ok()) << i;
    EXPECT_EQ(m->seq, uint64_t(i));
    EXPECT_EQ(m->subject, "orders." + std::to_string(i % 3));
    EXPECT_EQ(m->payload, testing::Payload(i, i * 10));
    EXPECT_EQ(m->headers, i % 2 ? "NATS/1.0\r\nA: b\r\n\r\n" : "");
  }
  StoreState s = store_->State();
  EXPECT_EQ(s.msgs, 50u);
  EXPECT_EQ(s.first_seq, 1u);
  EXPECT_EQ(s.last_seq, 50u);
  EXPECT_EQ(s.num_subjects, 3u);
  EXPECT_EQ(s.num_deleted, 0u);
  EXPECT_LT(s.first_ts, s.last_ts);
  // Sizes of jetstream-api.md §3.2.
  uint64_t want = 0;
  for (int i = 1; i <= 50; ++i) {
    size_t subj = ("orders." + std::to_string(i % 3)).size(), hdr = i % 2 ? 18 : 0, pay = i * 10;
    want += GetParam() == Backend::kMemory ? 16 + subj + hdr + pay : 30 + subj + pay + (hdr ? 4 + hdr : 0);
  }
  EXPECT_EQ(s.bytes, want);
  ReopenAndCompare();
  EXPECT_EQ(store_->Load(37)->payload, testing::Payload(37, 370));
  EXPECT_EQ(Put("orders.1"), 51u);
}

TEST_P(ConformanceTest, InvalidSubjectRefused) {
  EXPECT_EQ(store_->Append("a.*", "", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Append("", "", "x").status().code(), StatusCode::kInvalidArgument);
}

TEST_P(ConformanceTest, TimestampsNeverGoBackwards) {
  Put("a");
  clock_.Advance(-5'000'000'000);
  Put("a");
  EXPECT_GE(store_->Load(2)->timestamp_ns, store_->Load(1)->timestamp_ns);
}

TEST_P(ConformanceTest, InteriorDeletes) {
  for (int i = 1; i <= 20; ++i) Put("s." + std::to_string(i % 4));
  EXPECT_TRUE(store_->Delete(5).ok());
  EXPECT_TRUE(store_->Delete(6).ok());
  EXPECT_EQ(store_->Delete(5).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Delete(99).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Load(5).status().code(), StatusCode::kNotFound);
  StoreState s = store_->State();
  EXPECT_EQ(s.msgs, 18u);
  EXPECT_EQ(s.num_deleted, 2u);
  EXPECT_EQ(store_->LoadNext("", 5)->seq, 7u);
  EXPECT_TRUE(store_->Delete(1).ok());
  EXPECT_EQ(store_->State().first_seq, 2u);
  EXPECT_TRUE(store_->Delete(20).ok());
  s = store_->State();
  EXPECT_EQ(s.last_seq, 20u);  // sequences are never reused
  EXPECT_EQ(s.num_deleted, 3u);
  ReopenAndCompare();
  EXPECT_EQ(store_->Load(6).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Put("s.x"), 21u);
}

TEST_P(ConformanceTest, DeleteEverythingKeepsSequences) {
  for (int i = 1; i <= 5; ++i) Put("a");
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(store_->Delete(i).ok());
  StoreState s = store_->State();
  EXPECT_EQ(s.msgs, 0u);
  EXPECT_EQ(s.first_seq, 6u);
  EXPECT_EQ(s.last_seq, 5u);
  ReopenAndCompare();
  EXPECT_EQ(Put("a"), 6u);
}

TEST_P(ConformanceTest, LoadNextWithFilters) {
  // A rare subject among many others, across many segments.
  for (int i = 1; i <= 400; ++i) Put(i % 97 == 0 ? "rare.x" : "busy." + std::to_string(i % 5), testing::Payload(i, 40));
  StatusOr<StoredMessage> m = store_->LoadNext("rare.x", 1);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->seq, 97u);
  EXPECT_EQ(store_->LoadNext("rare.x", 98)->seq, 194u);
  EXPECT_EQ(store_->LoadNext("rare.*", 195)->seq, 291u);
  EXPECT_EQ(store_->LoadNext("rare.>", 389).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->LoadNext("busy.3", 1)->seq, 3u);
  EXPECT_EQ(store_->LoadNext("*.3", 4)->seq, 8u);
  EXPECT_EQ(store_->LoadNext(">", 400)->seq, 400u);
  EXPECT_EQ(store_->LoadNext("", 0)->seq, 1u);
  EXPECT_EQ(store_->LoadNext("nope", 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->LoadNext("nope.*", 1).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->Delete(194).ok());
  EXPECT_EQ(store_->LoadNext("rare.x", 98)->seq, 291u);
  ReopenAndCompare();
  EXPECT_EQ(store_->LoadNext("rare.x", 98)->seq, 291u);
  EXPECT_EQ(store_->LoadNext("*.x", 292)->seq, 388u);
}

TEST_P(ConformanceTest, LoadLastAndSubjectCounts) {
  Put("kv.a", "1");
  Put("kv.b", "2");
  Put("kv.a", "3");
  Put("other", "4");
  EXPECT_EQ(store_->LoadLast("kv.a")->payload, "3");
  EXPECT_EQ(store_->LoadLast("kv.*")->seq, 3u);
  EXPECT_EQ(store_->LoadLast(">")->seq, 4u);
  EXPECT_EQ(store_->LoadLast("kv.c").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->Delete(3).ok());
  EXPECT_EQ(store_->LoadLast("kv.a")->payload, "1");
  auto counts = store_->SubjectCounts("kv.*");
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts["kv.a"], 1u);
  EXPECT_EQ(counts["kv.b"], 1u);
  EXPECT_EQ(store_->SubjectCounts("").size(), 3u);
  ReopenAndCompare();
  EXPECT_EQ(store_->LoadLast("kv.a")->payload, "1");
}

TEST_P(ConformanceTest, ExpectedLastSequenceIsAtomic) {
  AppendOptions o;
  o.expected_last_seq = 0;
  EXPECT_TRUE(store_->Append("a", "", "x", {}, o).ok());
  EXPECT_EQ(store_->Append("a", "", "x", {}, o).status().code(), StatusCode::kWrongLastSequence);
  o.expected_last_seq = 1;
  EXPECT_TRUE(store_->Append("b", "", "x", {}, o).ok());
  AppendOptions per;
  per.expected_last_subject_seq = 1;
  EXPECT_TRUE(store_->Append("a", "", "x", {}, per).ok());  // seq 3
  EXPECT_EQ(store_->Append("a", "", "x", {}, per).status().code(), StatusCode::kWrongLastSequence);
  per.expected_last_subject_seq = 0;
  EXPECT_TRUE(store_->Append("c", "", "x", {}, per).ok());
  per.expected_subject = "b";
  per.expected_last_subject_seq = 2;
  EXPECT_TRUE(store_->Append("z", "", "x", {}, per).ok());
  EXPECT_EQ(store_->State().msgs, 5u);
}

TEST_P(ConformanceTest, PurgeAll) {
  for (int i = 1; i <= 30; ++i) Put("p." + std::to_string(i % 3));
  StatusOr<uint64_t> n = store_->Purge({});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 30u);
  StoreState s = store_->State();
  EXPECT_EQ(s.msgs, 0u);
  EXPECT_EQ(s.first_seq, 31u);
  EXPECT_EQ(s.last_seq, 30u);
  EXPECT_EQ(s.num_subjects, 0u);
  ReopenAndCompare();
  EXPECT_EQ(Put("p.1"), 31u);
  EXPECT_EQ(store_->State().first_seq, 31u);
}

TEST_P(ConformanceTest, PurgeOfNeverUsedStream) {
  ASSERT_TRUE(store_->Purge({}).ok());
  EXPECT_EQ(store_->State().first_seq, 1u);
  ReopenAndCompare();
}

TEST_P(ConformanceTest, PurgeUpToSequenceAndForward) {
  for (int i = 1; i <= 10; ++i) Put("a");
  EXPECT_EQ(*store_->Purge({"", 4, std::nullopt}), 3u);
  EXPECT_EQ(store_->State().first_seq, 4u);
  // Beyond last_seq + 1: sequences move forward.
  EXPECT_EQ(*store_->Purge({"", 100, std::nullopt}), 7u);
  StoreState s = store_->State();
  EXPECT_EQ(s.first_seq, 100u);
  EXPECT_EQ(s.last_seq, 99u);
  ReopenAndCompare();
  EXPECT_EQ(Put("a"), 100u);
}

TEST_P(ConformanceTest, PurgeKeep) {
  for (int i = 1; i <= 10; ++i) Put(i % 2 ? "odd" : "even");
  PurgeRequest keep3;
  keep3.keep = 3;
  EXPECT_EQ(*store_->Purge(keep3), 7u);
  EXPECT_EQ(store_->State().first_seq, 8u);
  PurgeRequest keep_more;
  keep_more.keep = 5;
  EXPECT_EQ(*store_->Purge(keep_more), 0u);
  PurgeRequest keep0;
  keep0.keep = 0;
  EXPECT_EQ(*store_->Purge(keep0), 3u);
  EXPECT_EQ(store_->State().msgs, 0u);
  ReopenAndCompare();
}

TEST_P(ConformanceTest, PurgeBySubjectFilter) {
  for (int i = 1; i <= 40; ++i) Put("f." + std::to_string(i % 4) + ".x", testing::Payload(i, 30));
  PurgeRequest r;
  r.filter = "f.1.x";
  EXPECT_EQ(*store_->Purge(r), 10u);
  EXPECT_EQ(store_->SubjectCounts("f.1.x").size(), 0u);
  r.filter = "f.2.*";
  r.up_to_seq = 20;  // only below 20: 2, 6, 10, 14, 18
  EXPECT_EQ(*store_->Purge(r), 5u);
  EXPECT_EQ(store_->SubjectCounts("")["f.2.x"], 5u);
  PurgeRequest k;
  k.filter = "f.3.>";
  k.keep = 2;
  EXPECT_EQ(*store_->Purge(k), 8u);
  EXPECT_EQ(store_->LoadNext("f.3.x", 0)->seq, 35u);
  PurgeRequest bad;
  bad.keep = 1;
  bad.up_to_seq = 3;
  EXPECT_EQ(store_->Purge(bad).status().code(), StatusCode::kInvalidArgument);
  StoreState s = store_->State();
  EXPECT_EQ(s.msgs, 40u - 10 - 5 - 8);
  EXPECT_EQ(s.first_seq, 4u);  // 1, 2 and 3 were purged
  ReopenAndCompare();
  EXPECT_EQ(store_->LoadNext("f.3.x", 0)->seq, 35u);
}

TEST_P(ConformanceTest, MaxMessagesDiscardOld) {
  StreamLimits l;
  l.max_msgs = 5;
  SetLimits(l);
  for (int i = 1; i <= 12; ++i) Put("a");
  StoreState s = store_->State();
  EXPECT_EQ(s.msgs, 5u);
  EXPECT_EQ(s.first_seq, 8u);
  ReopenAndCompare();
  EXPECT_EQ(store_->State().first_seq, 8u);
}

TEST_P(ConformanceTest, MaxMessagesDiscardNew) {
  StreamLimits l;
  l.max_msgs = 3;
  l.discard = DiscardPolicy::kNew;
  SetLimits(l);
  for (int i = 1; i <= 3; ++i) Put("a");
  EXPECT_EQ(store_->Append("a", "", "x").status().code(), StatusCode::kMaxMessages);
  EXPECT_EQ(store_->State().last_seq, 3u);  // a refusal consumes no sequence
  ASSERT_TRUE(store_->Delete(2).ok());
  EXPECT_EQ(Put("a"), 4u);
}

TEST_P(ConformanceTest, MaxBytesBothPolicies) {
  uint64_t one = GetParam() == Backend::kMemory ? 16 + 1 + 100 : 30 + 1 + 100;
  StreamLimits l;
  l.max_bytes = static_cast<int64_t>(one * 3);
  SetLimits(l);
  for (int i = 0; i < 5; ++i) Put("a", std::string(100, 'x'));
  EXPECT_EQ(store_->State().msgs, 3u);
  EXPECT_EQ(store_->State().bytes, one * 3);
  EXPECT_EQ(store_->Append("a", "", std::string(1000, 'x')).status().code(), StatusCode::kMaxBytes);
  l.discard = DiscardPolicy::kNew;
  SetLimits(l);
  EXPECT_EQ(store_->Append("a", "", std::string(100, 'x')).status().code(), StatusCode::kMaxBytes);
  EXPECT_TRUE(store_->Append("b", "", "").ok() == false);
  ReopenAndCompare();
}

TEST_P(ConformanceTest, MaxMessageSize) {
  StreamLimits l;
  l.max_msg_size = 10;
  SetLimits(l);
  EXPECT_TRUE(store_->Append("a", "", std::string(10, 'x')).ok());  // equal is allowed
  EXPECT_EQ(store_->Append("a", "hdr", std::string(8, 'x')).status().code(), StatusCode::kMaxMessageSize);
}

TEST_P(ConformanceTest, MaxPerSubjectDropsOldestOfSubject) {
  StreamLimits l;
  l.max_msgs_per_subject = 2;
  SetLimits(l);
  for (int i = 1; i <= 6; ++i) Put(i % 2 ? "k.a" : "k.b", std::to_string(i));
  auto counts = store_->SubjectCounts("");
  EXPECT_EQ(counts["k.a"], 2u);
  EXPECT_EQ(counts["k.b"], 2u);
  EXPECT_EQ(store_->LoadNext("k.a", 0)->payload, "3");
  EXPECT_EQ(store_->State().first_seq, 3u);
  // Lowering the limit applies at once.
  l.max_msgs_per_subject = 1;
  SetLimits(l);
  EXPECT_EQ(store_->State().msgs, 2u);
  EXPECT_EQ(store_->LoadLast("k.a")->payload, "5");
  ReopenAndCompare();
  EXPECT_EQ(store_->LoadLast("k.b")->payload, "6");
}

TEST_P(ConformanceTest, PerSubjectRemovalHappensBeforeDiscardNew) {
  StreamLimits l;
  l.max_msgs = 2;
  l.max_msgs_per_subject = 1;
  l.discard = DiscardPolicy::kNew;
  SetLimits(l);
  Put("a");
  Put("b");
  EXPECT_EQ(store_->Append("c", "", "x").status().code(), StatusCode::kMaxMessages);
  EXPECT_TRUE(store_->Append("a", "", "y").ok());  // replaces a's only message
  EXPECT_EQ(store_->State().msgs, 2u);
}

TEST_P(ConformanceTest, DiscardNewPerSubject) {
  StreamLimits l;
  l.max_msgs_per_subject = 1;
  l.discard = DiscardPolicy::kNew;
  l.discard_new_per_subject = true;
  SetLimits(l);
  Put("a");
  EXPECT_EQ(store_->Append("a", "", "x").status().code(), StatusCode::kMaxPerSubject);
  EXPECT_TRUE(store_->Append("b", "", "x").ok());
}

TEST_P(ConformanceTest, MaxAgeExpiryWithInjectedClock) {
  StreamLimits l;
  l.max_age_ns = 1'000'000'000;
  SetLimits(l);
  int64_t t0 = clock_.NowNs();
  for (int i = 0; i < 10; ++i) {
    Put("a");
    clock_.Advance(100'000'000);  // 100 ms apart
  }
  EXPECT_EQ(store_->NextExpiry(), t0 + 1'000'000'000);
  EXPECT_EQ(store_->ExpireOld(t0 + 1'000'000'000 - 1), 0u);
  EXPECT_EQ(store_->ExpireOld(t0 + 1'000'000'000), 1u);  // age == max_age expires
  EXPECT_EQ(store_->ExpireOld(t0 + 1'450'000'000), 4u);
  EXPECT_EQ(store_->State().first_seq, 6u);
  EXPECT_EQ(store_->NextExpiry(), t0 + 1'500'000'000);
  ReopenAndCompare();
  EXPECT_EQ(store_->ExpireOld(t0 + 10'000'000'000), 5u);
  EXPECT_EQ(store_->NextExpiry(), 0);
  EXPECT_EQ(store_->State().first_seq, 11u);
}

TEST_P(ConformanceTest, SkipSequence) {
  Put("a");
  EXPECT_EQ(*store_->SkipSequence(), 2u);
  EXPECT_EQ(Put("a"), 3u);
  EXPECT_EQ(store_->State().num_deleted, 1u);
  ReopenAndCompare();
  EXPECT_EQ(Put("a"), 4u);
}

TEST_P(ConformanceTest, DurableCallbacksFireInOrder) {
  std::vector<uint64_t> fired;
  std::mutex mu;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(store_->Append("a", "", "x", [&](uint64_t seq, const Status& st) {
      EXPECT_TRUE(st.ok());
      std::lock_guard<std::mutex> l(mu);
      fired.push_back(seq);
    }).ok());
  }
  ASSERT_TRUE(store_->Sync().ok());
  ASSERT_TRUE(store_->WaitDurable(20).ok());
  std::lock_guard<std::mutex> l(mu);
  ASSERT_EQ(fired.size(), 20u);
  for (size_t i = 0; i < fired.size(); ++i) EXPECT_EQ(fired[i], i + 1);
}

TEST_P(ConformanceTest, ClosedStoreRefuses) {
  ASSERT_TRUE(store_->Close().ok());
  EXPECT_EQ(store_->Append("a", "", "x").status().code(), StatusCode::kClosed);
  EXPECT_EQ(store_->Load(1).status().code(), StatusCode::kClosed);
}

TEST_P(ConformanceTest, IndexMemoryIsSmall) {
  uint64_t empty = store_->IndexMemoryBytes();
  EXPECT_LT(empty, 16u * 1024);
  for (int i = 0; i < 2000; ++i) Put("m", "p");
  uint64_t full = store_->IndexMemoryBytes();
  // Slots are 16 bytes; sealed segments are trimmed, the active one may have slack.
  EXPECT_LT(full - empty, 2000u * 40);
}

INSTANTIATE_TEST_SUITE_P(Backends, ConformanceTest,
                         ::testing::Values(Backend::kMemory, Backend::kFileFault, Backend::kFilePosix,
                                           Backend::kFileFaultBuffered, Backend::kFilePosixBuffered),
                         [](const ::testing::TestParamInfo<Backend>& i) {
                           switch (i.param) {
                             case Backend::kMemory: return "Memory";
                             case Backend::kFileFault: return "FileOnFaultFs";
                             case Backend::kFilePosix: return "FileOnDisk";
                             case Backend::kFileFaultBuffered: return "FileOnFaultFsBuffered";
                             case Backend::kFilePosixBuffered: return "FileOnDiskBuffered";
                           }
                           return "x";
                         });

TEST(Crc32c, KnownValuesAndBothPaths) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  std::string data = testing::Payload(7, 10007);
  EXPECT_EQ(Crc32cExtend(0, data.data(), data.size()), Crc32cExtendPortable(0, data.data(), data.size()));
  uint32_t part = Crc32cExtend(0, data.data(), 1234);
  EXPECT_EQ(Crc32cExtend(part, data.data() + 1234, data.size() - 1234), Crc32c(data));
  // Every length and alignment around the hardware path's block sizes (three
  // chains of 1 KiB, then of 128 B, then one), from a non-zero start.
  for (size_t len : {0, 1, 7, 8, 383, 384, 385, 391, 767, 768, 1000, 3071, 3072, 3073, 3079, 3455, 3456, 4132,
                     6143, 6144, 6145, 9999}) {
    for (size_t offset : {0, 1, 3, 5}) {
      EXPECT_EQ(Crc32cExtend(0x12345678u, data.data() + offset, len),
                Crc32cExtendPortable(0x12345678u, data.data() + offset, len))
          << "length " << len << " offset " << offset;
    }
  }
}

}  // namespace
}  // namespace sluice::store
