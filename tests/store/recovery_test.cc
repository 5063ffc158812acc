// Recovery and corruption: every case of docs/storage-format.md.
#include <gtest/gtest.h>

#include <cstring>

#include "store/crc32c.h"
#include "store/record_format.h"
#include "store/segment_io.h"
#include "store_test_util.h"

namespace sluice::store {
namespace {

class RecoveryTest : public ::testing::Test {
 protected:
  StoreConfig Config() {
    StoreConfig c;
    c.clock = &clock_;
    c.manual_sync = true;
    c.segment_bytes = segment_bytes_;
    c.checkpoint_bytes = checkpoint_bytes_;
    c.log = [this](std::string_view line) { log_.emplace_back(line); };
    return c;
  }
  std::unique_ptr<MessageStore> Open() { return testing::MustOpen("/s", Config(), fs_); }
  // Appends n messages seq 1..n with deterministic payloads, synced.
  void Fill(MessageStore& s, int n, size_t size = 100, int from = 1) {
    for (int i = from; i < from + n; ++i) ASSERT_TRUE(s.Append("sub." + std::to_string(i % 7), "", testing::Payload(i, size)).ok());
    ASSERT_TRUE(s.Sync().ok());
  }
  void ExpectIntact(MessageStore& s, uint64_t seq) {
    StatusOr<StoredMessage> m = s.Load(seq);
    ASSERT_TRUE(m.ok()) << seq << " " << m.status().ToString();
    EXPECT_EQ(m->payload, testing::Payload(seq, m->payload.size()));
    EXPECT_EQ(m->subject, "sub." + std::to_string(seq % 7));
  }
  std::string Seg(uint32_t id) { return "/s/" + SegmentFileName(id); }
  std::string Idx(uint32_t id) { return "/s/" + CheckpointFileName(id); }
  std::string Read(const std::string& p) {
    std::string d;
    EXPECT_TRUE(fs_.ReadWhole(p, &d)) << p;
    return d;
  }
  // Offset of the record holding seq in the segment bytes.
  static size_t OffsetOf(const std::string& seg, uint64_t seq) {
    size_t found = std::string::npos;
    ScanRecords(seg, kSegmentHeaderSize, [&](uint64_t off, const RecordView& r) {
      if (r.type == RecordType::kMessage && r.seq == seq) found = off;
    }, [](uint64_t, uint64_t) {});
    return found;
  }

  FaultFileSystem fs_;
  ManualClock clock_;
  uint64_t segment_bytes_ = 1 << 20;
  uint64_t checkpoint_bytes_ = 1 << 30;  // no periodic checkpoint unless a test asks
  std::vector<std::string> log_;
};

TEST_F(RecoveryTest, CleanReopenUsesCheckpoints) {
  segment_bytes_ = 8192;
  auto s = Open();
  Fill(*s, 300);
  ASSERT_TRUE(s->Close().ok());
  s = Open();
  EXPECT_EQ(s->State().msgs, 300u);
  for (uint64_t q = 1; q <= 300; q += 17) ExpectIntact(*s, q);
  for (const std::string& l : log_) EXPECT_EQ(l.find("rebuilding"), std::string::npos) << l;
}

TEST_F(RecoveryTest, BadCrcInTheMiddleIsSkippedAndCounted) {
  auto s = Open();
  Fill(*s, 50);
  s.reset();  // crash-like: the store is dropped, the active segment has no checkpoint
  fs_.FailSyncs(0);
  std::string seg = Read(Seg(1));
  size_t off = OffsetOf(seg, 20);
  ASSERT_NE(off, std::string::npos);
  seg[off + kRecordHeaderSize + 12] ^= 0x01;  // flip one bit of the payload
  fs_.WriteWhole(Seg(1), seg);
  (void)fs_.Remove(Idx(1));
  s = Open();
  StoreState st = s->State();
  EXPECT_EQ(st.msgs, 49u);
  EXPECT_EQ(st.lost_msgs, 1u);
  ASSERT_EQ(st.lost_seqs.size(), 1u);
  EXPECT_EQ(st.lost_seqs[0], 20u);
  EXPECT_GT(st.lost_bytes, 0u);
  EXPECT_EQ(s->Load(20).status().code(), StatusCode::kNotFound);
  for (uint64_t q = 21; q <= 50; ++q) ExpectIntact(*s, q);
  EXPECT_EQ(s->Append("sub.1", "", "x")->seq, 51u);
  bool reported = false;
  for (const std::string& l : log_) reported |= l.find("corrupt") != std::string::npos;
  EXPECT_TRUE(reported);
}

TEST_F(RecoveryTest, BadLengthInTheMiddleIsSkipped) {
  auto s = Open();
  Fill(*s, 40);
  s.reset();
  std::string seg = Read(Seg(1));
  size_t off = OffsetOf(seg, 10);
  seg[off + 8] = static_cast<char>(0xFF);  // length field
  seg[off + 9] = static_cast<char>(0x7F);
  fs_.WriteWhole(Seg(1), seg);
  (void)fs_.Remove(Idx(1));
  s = Open();
  EXPECT_EQ(s->State().msgs, 39u);
  EXPECT_EQ(s->State().lost_msgs, 1u);
  for (uint64_t q = 11; q <= 40; ++q) ExpectIntact(*s, q);
}

TEST_F(RecoveryTest, TruncatedTailIsCut) {
  auto s = Open();
  Fill(*s, 30);
  s.reset();
  std::string seg = Read(Seg(1));
  size_t off = OffsetOf(seg, 30);
  fs_.WriteWhole(Seg(1), seg.substr(0, off + 50));  // half of the last record
  s = Open();
  EXPECT_EQ(s->State().msgs, 29u);
  EXPECT_EQ(s->State().lost_msgs, 0u);  // a torn tail was never complete
  for (uint64_t q = 1; q <= 29; ++q) ExpectIntact(*s, q);
  EXPECT_EQ(Read(Seg(1)).size(), off);
  EXPECT_EQ(s->Append("sub.2", "", testing::Payload(30, 100))->seq, 30u);
}

TEST_F(RecoveryTest, ZeroFilledTailIsCut) {
  auto s = Open();
  Fill(*s, 30);
  s.reset();
  std::string seg = Read(Seg(1));
  size_t size = seg.size();
  fs_.WriteWhole(Seg(1), seg + std::string(8192, '\0'));
  s = Open();
  EXPECT_EQ(s->State().msgs, 30u);
  EXPECT_EQ(Read(Seg(1)).size(), size);
  EXPECT_EQ(s->Append("sub.3", "", "x")->seq, 31u);
}

TEST_F(RecoveryTest, TornWriteAfterPowerLoss) {
  auto s = Open();
  Fill(*s, 20);
  for (int i = 21; i <= 40; ++i) ASSERT_TRUE(s->Append("sub." + std::to_string(i % 7), "", testing::Payload(i, 100)).ok());
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    auto crashed = fs_.CloneAfter(FaultFileSystem::Crash::kPowerLoss, seed);
    auto r = testing::MustOpen("/s", Config(), *crashed);
    ASSERT_NE(r, nullptr);
    StoreState st = r->State();
    EXPECT_GE(st.msgs, 20u);
    EXPECT_EQ(st.lost_msgs, 0u);
    for (uint64_t q = 1; q <= st.last_seq; ++q) {
      StatusOr<StoredMessage> m = r->Load(q);
      ASSERT_TRUE(m.ok()) << q;
      EXPECT_EQ(m->payload, testing::Payload(q, 100));
    }
  }
}

TEST_F(RecoveryTest, MissingIndexIsRebuilt) {
  segment_bytes_ = 4096;
  auto s = Open();
  Fill(*s, 200);
  ASSERT_TRUE(s->Delete(7).ok());
  ASSERT_TRUE(s->Close().ok());
  s.reset();
  std::vector<std::string> names;
  ASSERT_TRUE(fs_.List("/s", &names).ok());
  int removed = 0;
  for (const std::string& n : names) {
    if (n.size() > 4 && n.substr(n.size() - 4) == ".idx") removed += fs_.Remove("/s/" + n).ok();
  }
  EXPECT_GT(removed, 3);
  s = Open();
  EXPECT_EQ(s->State().msgs, 199u);
  EXPECT_EQ(s->Load(7).status().code(), StatusCode::kNotFound);
  for (uint64_t q = 8; q <= 200; q += 11) ExpectIntact(*s, q);
  EXPECT_TRUE(fs_.Exists(Idx(1)));  // rewritten for the next start
}

TEST_F(RecoveryTest, StaleOrCorruptCheckpointIsRebuilt) {
  checkpoint_bytes_ = 2048;
  auto s = Open();
  Fill(*s, 100);  // periodic checkpoints of the active segment
  ASSERT_TRUE(fs_.Exists(Idx(1)));
  std::string old_idx = Read(Idx(1));
  Fill(*s, 100, 100, 101);  // more data: the saved checkpoint is now older than the segment
  s.reset();
  // 1. An older checkpoint: the tail after it is scanned.
  fs_.WriteWhole(Idx(1), old_idx);
  s = Open();
  EXPECT_EQ(s->State().msgs, 200u);
  s.reset();
  // 2. A checkpoint describing more than the file holds (the file lost its tail).
  std::string seg = Read(Seg(1));
  fs_.WriteWhole(Seg(1), seg.substr(0, OffsetOf(seg, 150)));
  fs_.WriteWhole(Idx(1), Read(Idx(1)));
  s = Open();
  EXPECT_EQ(s->State().msgs, 149u);
  s.reset();
  // 3. A corrupt checkpoint.
  std::string idx = Read(Idx(1));
  idx[idx.size() / 2] ^= 0x40;
  fs_.WriteWhole(Idx(1), idx);
  s = Open();
  EXPECT_EQ(s->State().msgs, 149u);
  ExpectIntact(*s, 149);
}

TEST_F(RecoveryTest, CorruptRecordUnderValidCheckpointFoundOnRead) {
  segment_bytes_ = 4096;
  auto s = Open();
  Fill(*s, 100);
  ASSERT_TRUE(s->Close().ok());
  s.reset();
  std::string seg = Read(Seg(1));
  size_t off = OffsetOf(seg, 3);
  seg[off + kRecordHeaderSize + 20] ^= 0x10;
  fs_.WriteWhole(Seg(1), seg);
  s = Open();
  EXPECT_EQ(s->Load(3).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(s->State().lost_msgs, 1u);
  EXPECT_EQ(s->LoadNext("", 3)->seq, 4u);
}

TEST_F(RecoveryTest, SegmentCreatedButNeverWritten) {
  auto s = Open();
  Fill(*s, 10);
  s.reset();
  fs_.WriteWhole(Seg(2), std::string(10, '\0'));  // a header that never made it
  s = Open();
  EXPECT_EQ(s->State().msgs, 10u);
  EXPECT_FALSE(fs_.Exists(Seg(2)));
  EXPECT_EQ(s->Append("sub.1", "", "x")->seq, 11u);
}

// Found by fuzz/fuzz_store_record.cc: a record with non-zero flags, or a
// marker with a body, decoded (with a valid CRC) although no writer makes one
// and it did not re-encode to the same bytes. Such records are corrupt now.
TEST(RecordFormat, OnlyWhatTheEncoderWritesDecodes) {
  auto reseal = [](std::string& rec) {
    uint32_t crc = Crc32cExtend(0, rec.data() + 8, rec.size() - 8);
    std::memcpy(rec.data() + 4, &crc, 4);
  };
  RecordView view;
  std::string msg;
  EncodeMessage(&msg, 1, 5, "orders.1", "NATS/1.0\r\nNats-TTL: 5\r\n\r\n", "hello");
  ASSERT_EQ(ParseRecord(msg, &view), ParseResult::kOk);
  std::string flagged = msg;
  flagged[13] = 0x4c;
  reseal(flagged);
  EXPECT_EQ(ParseRecord(flagged, &view), ParseResult::kBadLength);

  std::string tomb;
  EncodeMarker(&tomb, RecordType::kTombstone, 7, 5);
  ASSERT_EQ(ParseRecord(tomb, &view), ParseResult::kOk);
  std::string with_body = tomb + "x";
  const uint32_t len = static_cast<uint32_t>(with_body.size());
  std::memcpy(with_body.data() + 8, &len, 4);
  reseal(with_body);
  EXPECT_EQ(ParseRecord(with_body, &view), ParseResult::kBadLength);
}

}  // namespace
}  // namespace sluice::store
