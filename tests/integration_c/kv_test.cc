// Key-Value through nats.c 3.4 (js_CreateKeyValue, kvStore_*), against both
// servers started with -js -sd <temp dir>: put, get (nats.c reads through
// DIRECT.GET when the bucket allows it), get revision, create-if-absent,
// update with revision (refused when stale), delete, purge, status, delete
// bucket. KvPushTest: keys, history, watch and purge deletes, which ride on
// ordered push consumers with flow control and heartbeats.
#include <stdlib.h>

#include <set>
#include <string>
#include <vector>

#include "helpers.h"

namespace sluice::itc {
namespace {

struct EntryDeleter {
  void operator()(kvEntry* e) const { kvEntry_Destroy(e); }
};
using Entry = std::unique_ptr<kvEntry, EntryDeleter>;

class KvTest : public JetStreamFixture {
 protected:
  void TearDown() override {
    if (kv_) kvStore_Destroy(kv_);
    kv_ = nullptr;
    JetStreamFixture::TearDown();
  }
  void CreateBucket(const char* name, uint8_t history) {
    kvConfig cfg;
    kvConfig_Init(&cfg);
    cfg.Bucket = name;
    cfg.History = history;
    ASSERT_EQ(js_CreateKeyValue(&kv_, js_, &cfg), NATS_OK) << nats_GetLastError(nullptr);
  }
  Entry Get(const char* key, uint64_t revision = 0) {
    kvEntry* e = nullptr;
    natsStatus s = revision ? kvStore_GetRevision(&e, kv_, key, revision) : kvStore_Get(&e, kv_, key);
    last_status_ = s;
    return Entry(s == NATS_OK ? e : nullptr);
  }
  static std::string Value(kvEntry* e) { return std::string(kvEntry_ValueString(e) ? kvEntry_ValueString(e) : ""); }

  kvStore* kv_ = nullptr;
  natsStatus last_status_ = NATS_OK;
};

TEST_P(KvTest, PutGetCreateUpdateDeletePurgeStatus) {
  CreateBucket("cfg", 5);
  uint64_t r1 = 0, r2 = 0, rev = 0;
  ASSERT_EQ(kvStore_PutString(&r1, kv_, "a.b", "one"), NATS_OK);
  EXPECT_EQ(r1, 1u);
  Entry e = Get("a.b");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(Value(e.get()), "one");
  EXPECT_EQ(kvEntry_Revision(e.get()), 1u);
  EXPECT_EQ(kvEntry_Operation(e.get()), kvOp_Put);
  EXPECT_STREQ(kvEntry_Key(e.get()), "a.b");
  EXPECT_STREQ(kvEntry_Bucket(e.get()), "cfg");
  ASSERT_EQ(kvStore_PutString(&r2, kv_, "a.b", "two"), NATS_OK);
  e = Get("a.b", r1);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(Value(e.get()), "one");
  EXPECT_EQ(Get("missing"), nullptr);
  EXPECT_EQ(last_status_, NATS_NOT_FOUND);
  // Create only when absent.
  EXPECT_NE(kvStore_CreateString(&rev, kv_, "a.b", "x"), NATS_OK);
  uint64_t rc = 0;
  ASSERT_EQ(kvStore_CreateString(&rc, kv_, "new", "fresh"), NATS_OK);
  // Compare-and-set.
  EXPECT_NE(kvStore_UpdateString(&rev, kv_, "new", "stale", rc - 1), NATS_OK);
  uint64_t ru = 0;
  ASSERT_EQ(kvStore_UpdateString(&ru, kv_, "new", "cas", rc), NATS_OK);
  EXPECT_GT(ru, rc);
  // Delete, then get says not found; the older revision stays readable.
  ASSERT_EQ(kvStore_Delete(kv_, "a.b"), NATS_OK);
  EXPECT_EQ(Get("a.b"), nullptr);
  EXPECT_EQ(last_status_, NATS_NOT_FOUND);
  e = Get("a.b", r2);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(Value(e.get()), "two");
  ASSERT_EQ(kvStore_CreateString(&rev, kv_, "a.b", "back"), NATS_OK);
  // Purge: one marker left.
  ASSERT_EQ(kvStore_PutString(&rev, kv_, "p", "1"), NATS_OK);
  ASSERT_EQ(kvStore_PutString(&rev, kv_, "p", "2"), NATS_OK);
  ASSERT_EQ(kvStore_Purge(kv_, "p", nullptr), NATS_OK);
  EXPECT_EQ(Get("p"), nullptr);
  // Status.
  kvStatus* st = nullptr;
  ASSERT_EQ(kvStore_Status(&st, kv_), NATS_OK);
  EXPECT_STREQ(kvStatus_Bucket(st), "cfg");
  EXPECT_EQ(kvStatus_History(st), 5);
  EXPECT_GT(kvStatus_Values(st), 0u);
  kvStatus_Destroy(st);
  // Delete the bucket.
  kvStore_Destroy(kv_);
  kv_ = nullptr;
  ASSERT_EQ(js_DeleteKeyValue(js_, "cfg"), NATS_OK);
  EXPECT_NE(js_KeyValue(&kv_, js_, "cfg"), NATS_OK);
  kv_ = nullptr;
}

TEST_P(KvTest, BucketTtlExpiresKeys) {
  kvConfig cfg;
  kvConfig_Init(&cfg);
  cfg.Bucket = "ttl";
  cfg.TTL = 1000000000;  // ns (the stream's max_age)
  ASSERT_EQ(js_CreateKeyValue(&kv_, js_, &cfg), NATS_OK) << nats_GetLastError(nullptr);
  kvStatus* st = nullptr;
  ASSERT_EQ(kvStore_Status(&st, kv_), NATS_OK);
  EXPECT_EQ(kvStatus_TTL(st), 1000000000);
  kvStatus_Destroy(st);
  uint64_t rev = 0;
  ASSERT_EQ(kvStore_PutString(&rev, kv_, "k", "v"), NATS_OK);
  // Wait for the event with a generous deadline (age expiry runs on a timer).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (Get("k") != nullptr) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the key did not expire";
    nats_Sleep(100);
  }
}

using KvPushTest = KvTest;

TEST_P(KvPushTest, KeysHistoryWatchPurgeDeletes) {
  CreateBucket("w", 10);
  uint64_t rev = 0;
  ASSERT_EQ(kvStore_PutString(&rev, kv_, "x.1", "old"), NATS_OK);
  ASSERT_EQ(kvStore_PutString(&rev, kv_, "x.1", "v1"), NATS_OK);
  ASSERT_EQ(kvStore_PutString(&rev, kv_, "y", "y1"), NATS_OK);
  ASSERT_EQ(kvStore_PutString(&rev, kv_, "gone", "g"), NATS_OK);
  ASSERT_EQ(kvStore_Delete(kv_, "gone"), NATS_OK);

  kvKeysList keys;
  ASSERT_EQ(kvStore_Keys(&keys, kv_, nullptr), NATS_OK) << nats_GetLastError(nullptr);
  std::set<std::string> names;
  for (int i = 0; i < keys.Count; ++i) names.insert(keys.Keys[i]);
  kvKeysList_Destroy(&keys);
  EXPECT_EQ(names, (std::set<std::string>{"x.1", "y"}));

  kvEntryList hist;
  ASSERT_EQ(kvStore_History(&hist, kv_, "x.1", nullptr), NATS_OK);
  ASSERT_EQ(hist.Count, 2);
  EXPECT_EQ(Value(hist.Entries[0]), "old");
  EXPECT_EQ(Value(hist.Entries[1]), "v1");
  kvEntryList_Destroy(&hist);

  kvWatcher* w = nullptr;
  ASSERT_EQ(kvStore_WatchAll(&w, kv_, nullptr), NATS_OK);
  std::vector<std::string> got;
  for (;;) {
    kvEntry* e = nullptr;
    ASSERT_EQ(kvWatcher_Next(&e, w, kWaitMs), NATS_OK);
    if (e == nullptr) break;  // the end of the initial values
    got.push_back(std::string(kvEntry_Key(e)) + "=" + Value(e));
    kvEntry_Destroy(e);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"x.1=v1", "y=y1", "gone="}));
  ASSERT_EQ(kvStore_PutString(&rev, kv_, "y", "y2"), NATS_OK);
  kvEntry* e = nullptr;
  ASSERT_EQ(kvWatcher_Next(&e, w, kWaitMs), NATS_OK);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(Value(e), "y2");
  kvEntry_Destroy(e);
  kvWatcher_Destroy(w);

  kvWatchOptions o;
  kvWatchOptions_Init(&o);
  o.IncludeHistory = true;
  ASSERT_EQ(kvStore_Watch(&w, kv_, "x.*", &o), NATS_OK);
  got.clear();
  for (;;) {
    ASSERT_EQ(kvWatcher_Next(&e, w, kWaitMs), NATS_OK);
    if (e == nullptr) break;
    got.push_back(Value(e));
    kvEntry_Destroy(e);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"old", "v1"}));
  kvWatcher_Destroy(w);

  kvPurgeOptions po;
  kvPurgeOptions_Init(&po);
  po.DeleteMarkersOlderThan = -1;
  ASSERT_EQ(kvStore_PurgeDeletes(kv_, &po), NATS_OK);
  jsStreamInfo* si = nullptr;
  ASSERT_EQ(js_GetStreamInfo(&si, js_, "KV_w", nullptr, nullptr), NATS_OK);
  EXPECT_EQ(si->State.Msgs, 4u);  // old, v1, y1, y2: the deleted key is gone
  jsStreamInfo_Destroy(si);
}

SLUICE_ITC_INSTANTIATE(KvTest);
SLUICE_ITC_INSTANTIATE(KvPushTest);

}  // namespace
}  // namespace sluice::itc
