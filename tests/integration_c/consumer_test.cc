// JetStream consumers through nats.c 3.4, against both servers started with
// -js -sd <temp dir>: js_Subscribe (push, manual ack), queue push
// subscriptions (nats.c 3.4 has no js_QueueSubscribe: jsSubOptions.Queue),
// the ordered consumer (jsSubOptions.Ordered), js_PullSubscribe with
// natsSubscription_Fetch, and natsMsg_Ack / AckSync / Nak / InProgress / Term.
// Waiting is for events with generous deadlines; nothing asserts speed.
#include <stdlib.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "helpers.h"

namespace sluice::itc {
namespace {

class ConsumerTest : public JetStreamFixture {
 protected:

  void AddStream(const char* name, const char* subject) {
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = name;
    const char* subjects[] = {subject};
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    ASSERT_EQ(js_AddStream(nullptr, js_, &cfg, nullptr, &jerr), NATS_OK) << nats_GetLastError(nullptr);
  }
  void Publish(const char* subject, int n) {
    for (int i = 1; i <= n; ++i) {
      std::string data = std::string("m").append(std::to_string(i));
      jsErrCode jerr = static_cast<jsErrCode>(0);
      ASSERT_EQ(js_Publish(nullptr, js_, subject, data.data(), static_cast<int>(data.size()), nullptr, &jerr), NATS_OK)
          << nats_GetLastError(nullptr);
    }
  }
  static uint64_t StreamSeq(natsMsg* m) {
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, m) != NATS_OK) return 0;
    uint64_t seq = meta->Sequence.Stream;
    jsMsgMetaData_Destroy(meta);
    return seq;
  }
  static uint64_t Delivered(natsMsg* m) {
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, m) != NATS_OK) return 0;
    uint64_t n = meta->NumDelivered;
    jsMsgMetaData_Destroy(meta);
    return n;
  }
  jsConsumerInfo* Info(const char* stream, const char* name) {
    jsConsumerInfo* ci = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    if (js_GetConsumerInfo(&ci, js_, stream, name, nullptr, &jerr) != NATS_OK) return nullptr;
    return ci;
  }
  // Polls consumer info until cond holds (waiting for an event, not a speed).
  template <typename Cond>
  bool WaitInfo(const char* stream, const char* name, Cond cond) {
    for (int i = 0; i < 500; ++i) {
      jsConsumerInfo* ci = Info(stream, name);
      bool ok = ci && cond(ci);
      if (ci) jsConsumerInfo_Destroy(ci);
      if (ok) return true;
      nats_Sleep(20);
    }
    return false;
  }

};

// Messages handed to an async js_Subscribe callback.
struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<natsMsg*> msgs;
  bool WaitFor(size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::milliseconds(kWaitMs * 2), [&] { return msgs.size() >= n; });
  }
  ~Inbox() {
    for (auto* m : msgs) natsMsg_Destroy(m);
  }
};

void OnMsg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* inbox = static_cast<Inbox*>(closure);
  std::lock_guard lock(inbox->mu);
  inbox->msgs.push_back(msg);
  inbox->cv.notify_all();
}

TEST_P(ConsumerTest, PushSubscribeWithManualAcks) {
  ASSERT_NO_FATAL_FAILURE(AddStream("PUSH", "push.*"));
  ASSERT_NO_FATAL_FAILURE(Publish("push.a", 5));
  Inbox inbox;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Config.Durable = "pd";
  so.Config.AckPolicy = js_AckExplicit;
  so.ManualAck = true;
  natsSubscription* sub = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_Subscribe(&sub, js_, "push.a", OnMsg, &inbox, nullptr, &so, &jerr), NATS_OK) << nats_GetLastError(nullptr);
  Sub guard(sub);
  ASSERT_TRUE(inbox.WaitFor(5));
  {
    std::lock_guard lock(inbox.mu);
    for (size_t i = 0; i < 5; ++i) EXPECT_EQ(StreamSeq(inbox.msgs[i]), i + 1);
    EXPECT_EQ(Data(inbox.msgs[0]), "m1");
    EXPECT_EQ(Subject(inbox.msgs[0]), "push.a");
    // Ack, AckSync, InProgress then Ack, Term; seq 5 is left pending.
    EXPECT_EQ(natsMsg_Ack(inbox.msgs[0], nullptr), NATS_OK);
    EXPECT_EQ(natsMsg_AckSync(inbox.msgs[1], nullptr, &jerr), NATS_OK) << nats_GetLastError(nullptr);
    EXPECT_EQ(natsMsg_InProgress(inbox.msgs[2], nullptr), NATS_OK);
    EXPECT_EQ(natsMsg_Ack(inbox.msgs[2], nullptr), NATS_OK);
    EXPECT_EQ(natsMsg_Term(inbox.msgs[3], nullptr), NATS_OK);
  }
  EXPECT_TRUE(WaitInfo("PUSH", "pd", [](jsConsumerInfo* ci) { return ci->NumAckPending == 1; }));
  jsConsumerInfo* ci = Info("PUSH", "pd");
  ASSERT_NE(ci, nullptr);
  EXPECT_TRUE(ci->PushBound);
  EXPECT_NE(ci->Config->DeliverSubject, nullptr);
  EXPECT_EQ(ci->Delivered.Consumer, 5u);
  EXPECT_EQ(ci->AckFloor.Stream, 4u);
  jsConsumerInfo_Destroy(ci);
  // A Nak: redelivered at once with a higher delivery count.
  {
    std::lock_guard lock(inbox.mu);
    EXPECT_EQ(natsMsg_Nak(inbox.msgs[4], nullptr), NATS_OK);
  }
  ASSERT_TRUE(inbox.WaitFor(6));
  std::lock_guard lock(inbox.mu);
  EXPECT_EQ(StreamSeq(inbox.msgs[5]), 5u);
  EXPECT_EQ(Delivered(inbox.msgs[5]), 2u);
  EXPECT_EQ(natsMsg_AckSync(inbox.msgs[5], nullptr, &jerr), NATS_OK);
}

TEST_P(ConsumerTest, QueuePushSubscriptionsShareMessages) {
  ASSERT_NO_FATAL_FAILURE(AddStream("Q", "q"));
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Queue = "workers";
  natsSubscription* a = nullptr;
  natsSubscription* b = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_SubscribeSync(&a, js_, "q", nullptr, &so, &jerr), NATS_OK) << nats_GetLastError(nullptr);
  Sub ga(a);
  ASSERT_EQ(js_SubscribeSync(&b, js_, "q", nullptr, &so, &jerr), NATS_OK) << nats_GetLastError(nullptr);
  Sub gb(b);
  ASSERT_NO_FATAL_FAILURE(Publish("q", 20));
  std::map<uint64_t, int> seen;
  int idle_rounds = 0;
  for (int got = 0; got < 20;) {
    bool any = false;
    for (natsSubscription* s : {a, b}) {
      natsMsg* m = nullptr;
      if (natsSubscription_NextMsg(&m, s, 50) == NATS_OK) {
        Msg guard(m);
        seen[StreamSeq(m)]++;
        EXPECT_EQ(natsMsg_Ack(m, nullptr), NATS_OK);
        ++got;
        any = true;
      }
    }
    // Both idle for a generous while (400 x 2 x 50 ms): give up.
    if (!any) {
      ASSERT_LT(++idle_rounds, 400) << "queue subscribers got " << got << " of 20";
    }
  }
  ASSERT_EQ(seen.size(), 20u);
  for (const auto& [seq, n] : seen) EXPECT_EQ(n, 1) << "seq " << seq;
  jsConsumerInfo* ci = Info("Q", "workers");
  ASSERT_NE(ci, nullptr);
  EXPECT_STREQ(ci->Config->DeliverGroup, "workers");
  jsConsumerInfo_Destroy(ci);
}

TEST_P(ConsumerTest, OrderedConsumerReadsInOrder) {
  ASSERT_NO_FATAL_FAILURE(AddStream("ORD", "ord.*"));
  constexpr int kCount = 1000;
  std::string payload(2048, 'o');
  for (int i = 0; i < kCount; ++i) {
    std::string subject = "ord." + std::to_string(i % 3);
    ASSERT_EQ(js_PublishAsync(js_, subject.c_str(), payload.data(), static_cast<int>(payload.size()), nullptr), NATS_OK);
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 30000;
  ASSERT_EQ(js_PublishAsyncComplete(js_, &po), NATS_OK);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Ordered = true;
  natsSubscription* sub = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_SubscribeSync(&sub, js_, "ord.*", nullptr, &so, &jerr), NATS_OK) << nats_GetLastError(nullptr);
  Sub guard(sub);
  for (int i = 1; i <= kCount; ++i) {
    Msg m = NextMsg(sub);
    ASSERT_NE(m, nullptr) << "ordered message " << i;
    ASSERT_EQ(StreamSeq(m.get()), static_cast<uint64_t>(i));
  }
  jsConsumerInfo* ci = nullptr;
  ASSERT_EQ(natsSubscription_GetConsumerInfo(&ci, sub, nullptr, &jerr), NATS_OK);
  EXPECT_EQ(ci->Config->AckPolicy, js_AckNone);
  EXPECT_TRUE(ci->Config->FlowControl);
  EXPECT_GT(ci->Config->Heartbeat, 0);
  jsConsumerInfo_Destroy(ci);
}

TEST_P(ConsumerTest, PullFetchAndAcks) {
  ASSERT_NO_FATAL_FAILURE(AddStream("PULL", "pull"));
  ASSERT_NO_FATAL_FAILURE(Publish("pull", 4));
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Config.AckWait = 30000000000LL;
  natsSubscription* sub = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_PullSubscribe(&sub, js_, "pull", "worker", nullptr, &so, &jerr), NATS_OK) << nats_GetLastError(nullptr);
  Sub guard(sub);
  natsMsgList list{};
  ASSERT_EQ(natsSubscription_Fetch(&list, sub, 4, 10000, &jerr), NATS_OK) << nats_GetLastError(nullptr);
  ASSERT_EQ(list.Count, 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(StreamSeq(list.Msgs[i]), static_cast<uint64_t>(i + 1));
  EXPECT_EQ(natsMsg_AckSync(list.Msgs[0], nullptr, &jerr), NATS_OK);
  EXPECT_EQ(natsMsg_InProgress(list.Msgs[1], nullptr), NATS_OK);
  EXPECT_EQ(natsMsg_Ack(list.Msgs[1], nullptr), NATS_OK);
  EXPECT_EQ(natsMsg_Term(list.Msgs[2], nullptr), NATS_OK);
  EXPECT_EQ(natsMsg_Nak(list.Msgs[3], nullptr), NATS_OK);
  natsMsgList_Destroy(&list);
  // The Nak'ed message comes back.
  natsMsgList again{};
  ASSERT_EQ(natsSubscription_Fetch(&again, sub, 1, 10000, &jerr), NATS_OK) << nats_GetLastError(nullptr);
  ASSERT_EQ(again.Count, 1);
  EXPECT_EQ(StreamSeq(again.Msgs[0]), 4u);
  EXPECT_EQ(Delivered(again.Msgs[0]), 2u);
  EXPECT_EQ(natsMsg_AckSync(again.Msgs[0], nullptr, &jerr), NATS_OK);
  natsMsgList_Destroy(&again);
  EXPECT_TRUE(WaitInfo("PULL", "worker", [](jsConsumerInfo* ci) { return ci->NumAckPending == 0 && ci->NumPending == 0; }));
  // Nothing left: a short fetch times out.
  natsMsgList none{};
  EXPECT_EQ(natsSubscription_Fetch(&none, sub, 1, 300, &jerr), NATS_TIMEOUT);
  natsMsgList_Destroy(&none);
}

SLUICE_ITC_INSTANTIATE(ConsumerTest);

}  // namespace
}  // namespace sluice::itc
