// The consumer state journal (src/jetstream/consumer_state.h): records round
// trip, recovery stops at a torn or corrupt record, a missing journal, files
// of the previous version, compaction, and commits that stay O(change) with
// 100,000 pending acks. A crash is simulated by copying the consumer's state
// files while the server runs and putting them back after it stopped (its
// clean stop writes the state; the copy is what a SIGKILL would have left).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "consumer_fixture.h"
#include "jetstream/consumer.h"
#include "jetstream/consumer_state.h"
#include "store/fault_filesystem.h"
#include "store/filesystem.h"

namespace sluice::jetstream {
namespace {

using test_support::ConsumerTest;
using test_support::Msg;
using json = nlohmann::json;
namespace fs = std::filesystem;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void WriteAll(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << s;
}

StateDelta Delta(uint64_t n) {
  StateDelta d;
  d.next_sseq = n + 10;
  d.dseq = n + 5;
  d.delivered_sseq = n + 9;
  d.last_per_subject_left = static_cast<uint32_t>(n % 3);
  d.set = {{n, n + 1, 1}, {n + 100, n + 2, 7}};
  d.removed = {{n + 1000, 1}, {n + 2000, 50}};
  return d;
}

void ExpectSame(const StateDelta& a, const StateDelta& b) {
  EXPECT_EQ(a.next_sseq, b.next_sseq);
  EXPECT_EQ(a.dseq, b.dseq);
  EXPECT_EQ(a.delivered_sseq, b.delivered_sseq);
  EXPECT_EQ(a.last_per_subject_left, b.last_per_subject_left);
  ASSERT_EQ(a.set.size(), b.set.size());
  for (size_t i = 0; i < a.set.size(); ++i) {
    EXPECT_EQ(a.set[i].sseq, b.set[i].sseq);
    EXPECT_EQ(a.set[i].cseq, b.set[i].cseq);
    EXPECT_EQ(a.set[i].deliveries, b.set[i].deliveries);
  }
  ASSERT_EQ(a.removed.size(), b.removed.size());
  for (size_t i = 0; i < a.removed.size(); ++i) {
    EXPECT_EQ(a.removed[i].first, b.removed[i].first);
    EXPECT_EQ(a.removed[i].count, b.removed[i].count);
  }
}

class ConsumerJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sluice-journal-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "c.journal").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  // A journal of generation 7 with records Delta(1..n); returns the end
  // offset of each record.
  std::vector<uint64_t> WriteJournal(int n) {
    ConsumerJournal j(store::PosixFileSystem(), path_, true);
    EXPECT_TRUE(j.Reset(7).ok());
    std::vector<uint64_t> ends;
    for (int i = 1; i <= n; ++i) {
      EXPECT_TRUE(j.Append(Delta(i)).ok());
      ends.push_back(j.bytes());
    }
    return ends;
  }
  fs::path dir_;
  std::string path_;
};

TEST_F(ConsumerJournalTest, RecordsRoundTrip) {
  auto ends = WriteJournal(3);
  EXPECT_EQ(ends[0], ConsumerJournal::kHeaderBytes + EncodeRecord(Delta(1)).size());
  EXPECT_EQ(fs::file_size(path_), ends.back());
  JournalContents c = ReadJournal(store::PosixFileSystem(), path_, 7);
  EXPECT_TRUE(c.present);
  EXPECT_EQ(c.problem, "");
  ASSERT_EQ(c.records.size(), 3u);
  for (int i = 0; i < 3; ++i) ExpectSame(c.records[i], Delta(i + 1));
  // Another generation's journal (an older snapshot's) gives nothing.
  c = ReadJournal(store::PosixFileSystem(), path_, 8);
  EXPECT_FALSE(c.present);
  EXPECT_TRUE(c.records.empty());
  EXPECT_EQ(c.problem, "");
  // A missing journal: nothing, no problem.
  c = ReadJournal(store::PosixFileSystem(), (dir_ / "none.journal").string(), 7);
  EXPECT_FALSE(c.present);
  EXPECT_TRUE(c.records.empty());
  EXPECT_EQ(c.problem, "");
}

TEST_F(ConsumerJournalTest, RemovedRunsMergeConsecutiveSequences) {
  std::vector<StateDelta::Run> runs;
  AppendRemovedRuns({1, 2, 3, 7, 9, 10}, runs);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].first, 1u);
  EXPECT_EQ(runs[0].count, 3u);
  EXPECT_EQ(runs[1].first, 7u);
  EXPECT_EQ(runs[1].count, 1u);
  EXPECT_EQ(runs[2].first, 9u);
  EXPECT_EQ(runs[2].count, 2u);
}

TEST_F(ConsumerJournalTest, TornLastRecordIsDropped) {
  auto ends = WriteJournal(3);
  for (uint64_t cut : {ends[2] - 1, ends[1] + 5, ends[1] + 1}) {
    fs::resize_file(path_, cut);
    JournalContents c = ReadJournal(store::PosixFileSystem(), path_, 7);
    ASSERT_EQ(c.records.size(), 2u) << cut;
    EXPECT_TRUE(c.problem.starts_with("torn record")) << c.problem;
  }
  // Only the header: a journal with no record yet.
  fs::resize_file(path_, ConsumerJournal::kHeaderBytes);
  JournalContents c = ReadJournal(store::PosixFileSystem(), path_, 7);
  EXPECT_TRUE(c.present);
  EXPECT_TRUE(c.records.empty());
  EXPECT_EQ(c.problem, "");
  // A torn header (a new journal being started): nothing of it is used.
  fs::resize_file(path_, 9);
  c = ReadJournal(store::PosixFileSystem(), path_, 7);
  EXPECT_FALSE(c.present);
  EXPECT_TRUE(c.records.empty());
}

TEST_F(ConsumerJournalTest, CorruptRecordInTheMiddleEndsReplay) {
  auto ends = WriteJournal(3);
  std::string text = ReadAll(path_);
  text[ends[0] + 20] ^= 0x40;  // inside the second record's payload
  WriteAll(path_, text);
  JournalContents c = ReadJournal(store::PosixFileSystem(), path_, 7);
  ASSERT_EQ(c.records.size(), 1u);
  ExpectSame(c.records[0], Delta(1));
  EXPECT_TRUE(c.problem.starts_with("corrupt record")) << c.problem;
}

// Power loss: every record whose Append returned ok is there; a record whose
// fsync failed closes the journal (nothing may follow a possibly torn tail).
TEST(ConsumerJournalFaultTest, ConfirmedRecordsSurvivePowerLossAndAFailedSyncClosesTheJournal) {
  store::FaultFileSystem fs;
  ASSERT_TRUE(fs.MakeDirs("/obs").ok());
  ConsumerJournal j(fs, "/obs/c.journal", true);
  ASSERT_TRUE(j.Reset(3).ok());
  ASSERT_TRUE(j.Append(Delta(1)).ok());
  ASSERT_TRUE(j.Append(Delta(2)).ok());
  fs.FailSyncs(1);
  EXPECT_FALSE(j.Append(Delta(3)).ok());
  EXPECT_FALSE(j.usable());
  EXPECT_FALSE(j.Append(Delta(4)).ok());
  for (uint64_t seed : {0, 1, 2, 3}) {
    auto after = fs.CloneAfter(store::FaultFileSystem::Crash::kPowerLoss, seed);
    JournalContents c = ReadJournal(*after, "/obs/c.journal", 3);
    ASSERT_GE(c.records.size(), 2u) << seed;
    ASSERT_LE(c.records.size(), 3u) << seed;  // the unconfirmed third may or may not be there
    ExpectSame(c.records[0], Delta(1));
    ExpectSame(c.records[1], Delta(2));
  }
  // A fresh start (the snapshot that follows) makes it usable again.
  ASSERT_TRUE(j.Reset(4).ok());
  EXPECT_TRUE(j.Append(Delta(5)).ok());
  JournalContents c = ReadJournal(fs, "/obs/c.journal", 4);
  ASSERT_EQ(c.records.size(), 1u);
  ExpectSame(c.records[0], Delta(5));
}

class ConsumerStateTest : public ConsumerTest {
 protected:
  void TearDown() override {
    ConsumerJournal::SetCompactFloorForTesting(ConsumerJournal::kDefaultCompactFloorBytes);
    ConsumerTest::TearDown();
  }
  fs::path Obs() { return fs::path(dir_) / "S" / "obs"; }
  // Bytes a commit wrote, from the files: the journal's growth, or (a new
  // generation) the whole snapshot and the new journal.
  struct FilesState {
    uint64_t gen = 0, json_size = 0, journal_size = 0;
  };
  FilesState Files() {
    FilesState f;
    f.json_size = fs::file_size(Obs() / "d.json");
    f.gen = json::parse(ReadAll(Obs() / "d.json")).value("journal_gen", uint64_t{0});
    f.journal_size = fs::exists(Obs() / "d.journal") ? fs::file_size(Obs() / "d.journal") : 0;
    return f;
  }
  static uint64_t Written(const FilesState& a, const FilesState& b) {
    return b.gen != a.gen ? b.json_size + b.journal_size : b.journal_size - a.journal_size;
  }
  // What a SIGKILL now would leave of the consumer state files.
  std::map<std::string, std::string> CrashCopy() {
    Settle();
    std::map<std::string, std::string> files;
    for (const auto& e : fs::directory_iterator(Obs())) files[e.path().filename().string()] = ReadAll(e.path());
    return files;
  }
  // Stops the server, puts the copied files back, starts again.
  void RestartFrom(const std::map<std::string, std::string>& files) {
    js_.reset();
    fs::remove_all(Obs());
    fs::create_directories(Obs());
    for (const auto& [name, text] : files) WriteAll(Obs() / name, text);
    Start();
  }
  // "$JS.ACK.S.d.<deliveries>.<sseq>.<dseq>...": deliveries and sseq.
  static std::pair<int, int> Parse(const Msg& m) {
    std::vector<std::string> parts;
    size_t from = 0;
    for (size_t dot; (dot = m.reply.find('.', from)) != std::string::npos; from = dot + 1)
      parts.push_back(m.reply.substr(from, dot - from));
    return {std::stoi(parts[4]), std::stoi(parts[5])};
  }
  void CreateStreamAndDurable(int msgs, const std::string& extra_config) {
    ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"file"})")["error"], nullptr);
    for (int i = 0; i < msgs; ++i) {
      std::string body = "m";  // not "m" + to_string(): GCC 12 warns falsely (-Wrestrict, PR 105329)
      body += std::to_string(i + 1);
      Pub("s.x", body);
    }
    js_->dispatcher().Flush();
    json r = Api("CONSUMER.DURABLE.CREATE.S.d",
                 R"({"stream_name":"S","config":{"durable_name":"d","ack_policy":"explicit")" + extra_config + "}}");
    ASSERT_EQ(r["error"], nullptr) << r;
  }
};

// Every kind of change (deliveries, AckSync, plain ack, NAK, NAK with delay,
// TERM, redelivery counts, max_deliver) survives a crash through the journal.
TEST_F(ConsumerStateTest, EveryKindOfChangeSurvivesACrash) {
  CreateStreamAndDurable(8, R"(,"max_deliver":3,"ack_wait":60000000000)");
  const uint64_t snapshot_size = fs::file_size(Obs() / "d.json");
  Next("d", R"({"batch":7})");
  auto got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 7u);
  Ack(got[0], "+ACK", "sync1");            // seq 1: AckSync
  Ack(got[1], "+ACK");                     // seq 2: plain ack (committed lazily, by the Settle)
  Ack(got[2], "+TERM");                    // seq 3: terminated
  Ack(got[3], "-NAK");                     // seq 4: redelivered at once (deliveries 2)
  Ack(got[4], R"(-NAK {"delay":3600000000000})");  // seq 5: NAK with a long delay
  Next("d", R"({"batch":1})");
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(Parse(got[0]), std::make_pair(2, 4));
  Ack(got[0], "-NAK");
  Next("d", R"({"batch":1})");
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(Parse(got[0]), std::make_pair(3, 4));  // its last delivery (max_deliver 3)
  Ack(got[0], "+ACK", "sync2");                    // commits the whole round
  // Only the journal grew; the snapshot was not rewritten.
  EXPECT_EQ(fs::file_size(Obs() / "d.json"), snapshot_size);
  EXPECT_GT(fs::file_size(Obs() / "d.journal"), ConsumerJournal::kHeaderBytes);
  json before = Api("CONSUMER.INFO.S.d", "");
  RestartFrom(CrashCopy());
  json after = Api("CONSUMER.INFO.S.d", "");
  ASSERT_EQ(after["error"], nullptr) << after;
  EXPECT_EQ(after["num_ack_pending"], before["num_ack_pending"]);  // seqs 5, 6, 7
  EXPECT_EQ(after["num_ack_pending"], 3);
  EXPECT_EQ(after["delivered"]["consumer_seq"], before["delivered"]["consumer_seq"]);
  EXPECT_EQ(after["delivered"]["stream_seq"], before["delivered"]["stream_seq"]);
  EXPECT_EQ(after["ack_floor"]["stream_seq"], 4);
  // Every unacked message comes back (at once after a restart), with its
  // delivery count; seq 8 was never delivered.
  Next("d", R"({"batch":10,"no_wait":true})");
  got = recorder_->TakeInbox();
  std::vector<std::pair<int, int>> seen;
  for (const auto& m : got) {
    if (!m.reply.empty()) seen.push_back(Parse(m));
  }
  std::vector<std::pair<int, int>> want{{2, 5}, {2, 6}, {2, 7}, {1, 8}};
  EXPECT_EQ(seen, want);
}

// A file of the previous version (no "journal_gen", no journal) loads; the
// first commit after it writes a snapshot of the new version.
TEST_F(ConsumerStateTest, PreviousVersionFileLoads) {
  CreateStreamAndDurable(5, "");
  js_.reset();
  const std::string old_file =
      R"({"config":{"durable_name":"d","deliver_policy":"all","ack_policy":"explicit","ack_wait":30000000000,)"
      R"("max_deliver":-1,"replay_policy":"instant","max_waiting":512,"max_ack_pending":1000,"num_replicas":0},)"
      R"("created":1700000000000000000,"state":{"next_sseq":4,"dseq":4,"delivered_sseq":3,)"
      R"("pending":[[1,1,1],[3,4,2]]}})"
      "\n";
  WriteAll(Obs() / "d.json", old_file);
  fs::remove(Obs() / "d.journal");
  Start();
  json info = Api("CONSUMER.INFO.S.d", "");
  ASSERT_EQ(info["error"], nullptr) << info;
  EXPECT_EQ(info["num_ack_pending"], 2);
  EXPECT_EQ(info["num_redelivered"], 1);
  EXPECT_EQ(info["delivered"]["consumer_seq"], 4);
  Next("d", R"({"batch":2})");
  auto got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(Parse(got[0]), std::make_pair(2, 1));
  EXPECT_EQ(Parse(got[1]), std::make_pair(3, 3));
  Ack(got[0], "+ACK", "sync");
  json snapshot = json::parse(ReadAll(Obs() / "d.json"));
  EXPECT_GE(snapshot.value("journal_gen", uint64_t{0}), 1u);
  RestartFrom(CrashCopy());
  info = Api("CONSUMER.INFO.S.d", "");
  EXPECT_EQ(info["num_ack_pending"], 1);
}

// A journal lost (or never started) leaves the snapshot's state; a corrupt
// record in the middle keeps what came before it (logged).
TEST_F(ConsumerStateTest, MissingJournalAndCorruptRecordRecoverTheSnapshotAndPrefix) {
  CreateStreamAndDurable(6, "");
  Next("d", R"({"batch":6})");
  auto got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 6u);
  Ack(got[0], "+ACK", "s1");
  auto after_first = CrashCopy();
  Ack(got[1], "+ACK", "s2");
  Ack(got[2], "+ACK", "s3");
  auto files = CrashCopy();
  // The journal's records: header, then one per commit; corrupt the second.
  std::string journal = files["d.journal"];
  const size_t first_end = after_first["d.journal"].size();
  ASSERT_GT(journal.size(), first_end + 12);
  journal[first_end + 10] ^= 0x01;
  auto corrupt = files;
  corrupt["d.journal"] = journal;
  RestartFrom(corrupt);
  EXPECT_EQ(Api("CONSUMER.INFO.S.d", "")["num_ack_pending"], 5);  // only the first record's ack
  auto missing = files;
  missing.erase("d.journal");
  RestartFrom(missing);
  // The snapshot written at creation: nothing delivered yet.
  json info = Api("CONSUMER.INFO.S.d", "");
  EXPECT_EQ(info["num_ack_pending"], 0);
  EXPECT_EQ(info["delivered"]["consumer_seq"], 0);
  RestartFrom(files);
  EXPECT_EQ(Api("CONSUMER.INFO.S.d", "")["num_ack_pending"], 3);
}

// Past its bound the journal is folded into a fresh snapshot (a new
// generation); the state is the same either way.
TEST_F(ConsumerStateTest, JournalCompactsIntoANewSnapshot) {
  ConsumerJournal::SetCompactFloorForTesting(256);
  CreateStreamAndDurable(40, "");
  Next("d", R"({"batch":40})");
  auto got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 40u);
  const uint64_t gen0 = json::parse(ReadAll(Obs() / "d.json"))["journal_gen"];
  uint64_t max_journal = 0;
  for (int i = 0; i < 30; ++i) {
    Ack(got[i], "+ACK", "sync" + std::to_string(i));
    max_journal = std::max<uint64_t>(max_journal, fs::file_size(Obs() / "d.journal"));
  }
  const uint64_t gen1 = json::parse(ReadAll(Obs() / "d.json"))["journal_gen"];
  EXPECT_GT(gen1, gen0 + 1);  // compacted more than once
  // Bounded by the larger of the floor and the snapshot, plus one record.
  EXPECT_LT(max_journal, 256 + fs::file_size(Obs() / "d.json") + 2048);
  RestartFrom(CrashCopy());
  json info = Api("CONSUMER.INFO.S.d", "");
  EXPECT_EQ(info["num_ack_pending"], 10);
  EXPECT_EQ(info["ack_floor"]["stream_seq"], 30);
}

// 100,000 pending acks: after the first commits (the deliveries, then a
// snapshot), each AckSync commit writes one small record, not the pending
// list. Prints bytes and time per commit of a journal record and of a
// snapshot (what every commit wrote before the journal) at 1k and 100k.
TEST_F(ConsumerStateTest, CommitsStayOChangeWith100kPendingAcks) {
  for (int pending : {1'000, 100'000}) {
    if (pending != 1'000) {
      ASSERT_EQ(Api("STREAM.DELETE.S", "")["error"], nullptr);
    }
    CreateStreamAndDurable(pending, R"(,"max_ack_pending":-1)");
    Handle("$JS.API.CONSUMER.MSG.NEXT.S.d", "inbox.1", R"({"batch":100000})");
    std::vector<Msg> got;
    for (int i = 0; i < 10000 && got.size() < static_cast<size_t>(pending); ++i) {
      Settle();
      for (auto& m : recorder_->TakeInbox()) got.push_back(std::move(m));
    }
    ASSERT_EQ(got.size(), static_cast<size_t>(pending));
    Ack(got[0], "+ACK", "warm1");  // records the deliveries
    Ack(got[1], "+ACK", "warm2");  // may compact them into a snapshot
    constexpr int kCommits = 200;
    uint64_t journal_bytes = 0, max_commit = 0;
    int64_t journal_ns = 0;
    for (int i = 0; i < kCommits; ++i) {
      FilesState a = Files();
      auto t0 = std::chrono::steady_clock::now();
      std::string reply = "s";  // not "s" + to_string(): GCC 12 warns falsely (-Wrestrict, PR 105329)
      reply += std::to_string(i);
      Ack(got[2 + 2 * i], "+ACK", reply);
      journal_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
      uint64_t w = Written(a, Files());
      journal_bytes += w;
      max_commit = std::max(max_commit, w);
    }
    // One ack per commit: a 45-byte record frame and fields + 12 bytes per removed run.
    EXPECT_LE(max_commit, 128u) << "pending " << pending;
    // A snapshot, as every commit wrote before (a config update writes one).
    FilesState a = Files();
    auto t1 = std::chrono::steady_clock::now();
    json r = Api("CONSUMER.DURABLE.CREATE.S.d",
                 R"({"stream_name":"S","config":{"durable_name":"d","ack_policy":"explicit","max_ack_pending":-1,"description":"x"}})");
    ASSERT_EQ(r["error"], nullptr) << r;
    auto snapshot_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t1).count();
    const uint64_t snapshot_bytes = Written(a, Files());
    std::cout << "[ commit ] " << pending << " pending: journal record " << journal_bytes / kCommits << " B, "
              << journal_ns / kCommits / 1000 << " us per AckSync round trip; snapshot " << snapshot_bytes << " B, "
              << snapshot_ns / 1000 << " us\n";
    RestartFrom(CrashCopy());
    json info = Api("CONSUMER.INFO.S.d", "");
    EXPECT_EQ(info["num_ack_pending"], pending - 2 - kCommits);
  }
}

}  // namespace
}  // namespace sluice::jetstream
