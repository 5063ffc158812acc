// JetStream streams through nats.c 3.4: js_AddStream, js_Publish (with msg
// id and expectations), js_GetStreamInfo, js_PublishAsync, js_DeleteStream,
// against both servers started with -js -sd <temp dir>.
#include <stdlib.h>

#include <string>

#include "helpers.h"

namespace sluice::itc {
namespace {

class JetStreamTest : public JetStreamFixture {
 protected:

};

TEST_P(JetStreamTest, AddStreamPublishAndInfo) {
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = "ORDERS";
  const char* subjects[] = {"orders.*"};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_AddStream(&si, js_, &cfg, nullptr, &jerr), NATS_OK) << nats_GetLastError(nullptr);
  ASSERT_NE(si, nullptr);
  EXPECT_STREQ(si->Config->Name, "ORDERS");
  EXPECT_EQ(si->Config->MaxMsgs, -1);
  EXPECT_EQ(si->Config->Duplicates, 120000000000LL);
  EXPECT_EQ(si->State.Msgs, 0u);
  jsStreamInfo_Destroy(si);

  // A different config under the same name.
  cfg.MaxMsgs = 5;
  si = nullptr;
  EXPECT_NE(js_AddStream(&si, js_, &cfg, nullptr, &jerr), NATS_OK);
  EXPECT_EQ(jerr, JSStreamNameExistErr);
  cfg.MaxMsgs = 0;

  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = "id-1";
  jsPubAck* pa = nullptr;
  ASSERT_EQ(js_Publish(&pa, js_, "orders.new", "hello", 5, &po, &jerr), NATS_OK) << nats_GetLastError(nullptr);
  EXPECT_STREQ(pa->Stream, "ORDERS");
  EXPECT_EQ(pa->Sequence, 1u);
  EXPECT_FALSE(pa->Duplicate);
  jsPubAck_Destroy(pa);
  pa = nullptr;
  ASSERT_EQ(js_Publish(&pa, js_, "orders.new", "hello", 5, &po, &jerr), NATS_OK);
  EXPECT_EQ(pa->Sequence, 1u);
  EXPECT_TRUE(pa->Duplicate);
  jsPubAck_Destroy(pa);
  pa = nullptr;

  jsPubOptions_Init(&po);
  po.ExpectLastSeq = 7;
  EXPECT_NE(js_Publish(&pa, js_, "orders.new", "x", 1, &po, &jerr), NATS_OK);
  EXPECT_EQ(jerr, JSStreamWrongLastSequenceErr);
  jsPubOptions_Init(&po);
  po.ExpectStream = "OTHER";
  EXPECT_NE(js_Publish(&pa, js_, "orders.new", "x", 1, &po, &jerr), NATS_OK);
  EXPECT_EQ(jerr, JSStreamNotMatchErr);

  // Async publishes, then the stream info counts them.
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(js_PublishAsync(js_, "orders.async", "a", 1, nullptr), NATS_OK);
  jsPubOptions_Init(&po);
  po.MaxWait = 30000;
  ASSERT_EQ(js_PublishAsyncComplete(js_, &po), NATS_OK);

  si = nullptr;
  ASSERT_EQ(js_GetStreamInfo(&si, js_, "ORDERS", nullptr, &jerr), NATS_OK);
  EXPECT_EQ(si->State.Msgs, 1001u);
  EXPECT_EQ(si->State.FirstSeq, 1u);
  EXPECT_EQ(si->State.LastSeq, 1001u);
  jsStreamInfo_Destroy(si);

  ASSERT_EQ(js_DeleteStream(js_, "ORDERS", nullptr, &jerr), NATS_OK);
  si = nullptr;
  EXPECT_EQ(js_GetStreamInfo(&si, js_, "ORDERS", nullptr, &jerr), NATS_NOT_FOUND);
}

SLUICE_ITC_INSTANTIATE(JetStreamTest);

}  // namespace
}  // namespace sluice::itc
