// Pull consumers through JetStreamImpl::HandleApi with a fake Publisher, a
// capturing inbox sink on the router and a ManualClock: ack wait, backoff,
// max_deliver and inactive threshold without sleeping.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <malloc.h>
#include <unistd.h>

#include "jetstream/consumer_config.h"
#include "jetstream/consumer_timers.h"
#include "jetstream/jetstream_impl.h"
#include "consumer_fixture.h"

namespace sluice::jetstream {
namespace {

using json = nlohmann::json;

using test_support::ConsumerTest;
using test_support::Msg;
using test_support::Recorder;
using test_support::Only;
using test_support::Listen;

TEST(ConsumerConfigTest, DefaultsAndValidation) {
  ConsumerConfig c;
  ASSERT_TRUE(ParseConsumerConfig(json::parse(R"({"durable_name":"d","ack_policy":"explicit"})"), c).ok());
  NormalizeConsumer(c);
  EXPECT_EQ(c.ack_wait_ns, 30'000'000'000);
  EXPECT_EQ(c.max_ack_pending, 1000);
  EXPECT_EQ(c.max_waiting, 512);
  EXPECT_EQ(c.max_deliver, -1);
  EXPECT_EQ(c.inactive_threshold_ns, 0);
  StreamConfig s;
  s.subjects = {"a.>"};
  EXPECT_TRUE(ValidateConsumer(c, s).ok());
  auto code = [&](const std::string& body, Retention r = Retention::kLimits) {
    ConsumerConfig x;
    ApiError e = ParseConsumerConfig(json::parse(body), x);
    if (!e.ok()) return e.err_code;
    NormalizeConsumer(x);
    StreamConfig sc;
    sc.subjects = {"a.>"};
    sc.retention = r;
    return ValidateConsumer(x, sc).err_code;
  };
  EXPECT_EQ(code(R"({"deliver_policy":"nope"})"), 10025);
  EXPECT_EQ(code(R"({"filter_subject":"b"})"), 10093);
  EXPECT_EQ(code(R"({"filter_subjects":["a.x","a.*"]})"), 10138);
  EXPECT_EQ(code(R"({"deliver_policy":"by_start_time"})"), 10094);
  EXPECT_EQ(code(R"({"opt_start_seq":3})"), 10094);
  // nats-server 2.11: max_deliver may equal the number of backoff values (or be -1).
  EXPECT_EQ(code(R"({"ack_policy":"explicit","backoff":[1000,2000],"max_deliver":1})"), 10116);
  EXPECT_EQ(code(R"({"ack_policy":"explicit","backoff":[1000,2000],"max_deliver":2})"), 0);
  EXPECT_EQ(code(R"({"ack_policy":"explicit","backoff":[1000,2000]})"), 0);
  EXPECT_EQ(code(R"({"max_expires":10})"), 10115);
  EXPECT_EQ(code(R"({"durable_name":"a.b"})"), 10103);
  // Push consumers: nats-server's checks.
  EXPECT_EQ(code(R"({"deliver_subject":"x"})"), 0);
  EXPECT_EQ(code(R"({"deliver_subject":"x.*"})"), 10079);
  EXPECT_EQ(code(R"({"deliver_subject":"x..y"})"), 10112);
  EXPECT_EQ(code(R"({"deliver_subject":"a.b"})"), 10081);
  EXPECT_EQ(code(R"({"deliver_subject":"x","max_waiting":5})"), 10080);
  EXPECT_EQ(code(R"({"deliver_subject":"x","max_ack_pending":5})"), 10082);
  EXPECT_EQ(code(R"({"deliver_subject":"x","idle_heartbeat":50000000})"), 10083);
  EXPECT_EQ(code(R"({"deliver_subject":"x","flow_control":true})"), 10108);
  EXPECT_EQ(code(R"({"deliver_subject":"x","flow_control":true,"idle_heartbeat":100000000})"), 0);
  EXPECT_EQ(code(R"({"idle_heartbeat":1000000000})"), 10088);
  EXPECT_EQ(code(R"({"flow_control":true})"), 10089);
  EXPECT_EQ(code(R"({"rate_limit_bps":1000})"), 10086);
  EXPECT_EQ(code(R"({"replay_policy":"original"})"), 0);
  EXPECT_EQ(code(R"({"priority_groups":["g"],"priority_policy":"pinned_client"})"), 0);  // consumer_priority_test.cc
  EXPECT_EQ(code(R"({"deliver_subject":"x","priority_groups":["g"],"priority_policy":"overflow"})"), 10178);
  EXPECT_EQ(code(R"({"ack_policy":"none"})", Retention::kWorkQueue), 10084);
  EXPECT_EQ(code(R"({"ack_policy":"all"})", Retention::kWorkQueue), 10098);
  EXPECT_EQ(code(R"({"ack_policy":"explicit","deliver_policy":"new"})", Retention::kWorkQueue), 10101);
  int64_t ns = 0;
  ASSERT_TRUE(ParseTime("2024-05-01T10:00:00.5Z", ns));
  EXPECT_EQ(ns, 1714557600'500000000);
  ASSERT_TRUE(ParseTime("2024-05-01T12:00:00+02:00", ns));
  EXPECT_EQ(ns, 1714557600'000000000);
  EXPECT_FALSE(ParseTime("yesterday", ns));
}

TEST_F(ConsumerTest, PullAckRedeliveryAndMaxDeliver) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  Pub("s.a", "one");
  Pub("s.b", "two");
  json ci = Api("CONSUMER.CREATE.S.c",
                R"({"stream_name":"S","config":{"name":"c","durable_name":"c","ack_policy":"explicit","ack_wait":1000000000,"max_deliver":2,"backoff":[1000000000]}})");
  ASSERT_EQ(ci["error"], nullptr) << ci;
  EXPECT_EQ(ci["num_pending"], 2);
  Next("c", R"({"batch":2})");
  auto got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].subject, "s.a");
  EXPECT_TRUE(got[0].reply.starts_with("$JS.ACK.S.c.1.1.1.")) << got[0].reply;
  EXPECT_TRUE(got[0].reply.ends_with(".1")) << got[0].reply;
  EXPECT_TRUE(got[1].reply.ends_with(".0")) << got[1].reply;
  Ack(got[0], "+ACK", "ack.reply");
  auto sent = recorder_->TakePublished();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].subject, "ack.reply");
  EXPECT_EQ(sent[0].payload, "");
  // seq 2 not acked: due after ack_wait.
  Next("c", R"({"batch":1,"expires":5000000000})");
  EXPECT_TRUE(recorder_->TakeInbox().empty());
  clock_.Advance(1'000'000'001);
  Settle();
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].reply.starts_with("$JS.ACK.S.c.2.2.3.")) << got[0].reply;
  json info = Api("CONSUMER.INFO.S.c", "");
  EXPECT_EQ(info["num_redelivered"], 1);
  EXPECT_EQ(info["num_ack_pending"], 1);
  EXPECT_EQ(info["delivered"]["consumer_seq"], 3);
  EXPECT_EQ(info["ack_floor"]["stream_seq"], 1);
  // max_deliver 2 reached: never again.
  Next("c", R"({"batch":1,"expires":50000000000})");
  clock_.Advance(10'000'000'000);
  Settle();
  got = recorder_->TakeInbox();
  for (const auto& m : got) EXPECT_FALSE(m.header.empty()) << "delivery after max_deliver: " << m.reply;
}

TEST_F(ConsumerTest, StatusMessages) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  ASSERT_EQ(Api("CONSUMER.CREATE.S.c", R"({"stream_name":"S","config":{"ack_policy":"explicit","max_waiting":1,"max_batch":10}})")["error"], nullptr);
  Next("c", R"({"batch":1,"no_wait":true})");
  auto got = recorder_->TakePublished();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].header, "NATS/1.0 404 No Messages\r\n\r\n");
  Next("c", R"({"batch":11})");
  got = recorder_->TakePublished();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].header, "NATS/1.0 409 Exceeded MaxRequestBatch of 10\r\n\r\n");
  Next("c", R"({"batch":1,"idle_heartbeat":1000000000,"expires":1500000000})");
  got = recorder_->TakePublished();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].header, "NATS/1.0 400 Bad Request - heartbeat value too large\r\n\r\n");
  Next("c", R"({"batch":3,"expires":4000000000,"idle_heartbeat":1000000000})");
  Next("c", R"({"batch":1})");
  got = recorder_->TakePublished();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].header, "NATS/1.0 409 Exceeded MaxWaiting\r\n\r\n");
  clock_.Advance(1'000'000'000);
  Settle();
  got = recorder_->TakePublished();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].header, "NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 0\r\nNats-Last-Stream: 0\r\n\r\n");
  clock_.Advance(3'000'000'000);
  Settle();
  got = recorder_->TakePublished();
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().header,
            "NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 3\r\nNats-Pending-Bytes: 0\r\n\r\n");
  // A waiting request sees 409 Consumer Deleted.
  Next("c", R"({"batch":1,"expires":4000000000})");
  recorder_->TakePublished();
  Handle("$JS.API.CONSUMER.DELETE.S.c", "api.reply", "");
  got = recorder_->TakePublished();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].header, "NATS/1.0 409 Consumer Deleted\r\n\r\n");
}

TEST_F(ConsumerTest, EphemeralRemovedAfterInactiveThreshold) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  json ci = Api("CONSUMER.CREATE.S", R"({"stream_name":"S","config":{"inactive_threshold":1000000000}})");
  ASSERT_EQ(ci["error"], nullptr);
  std::string name = ci["name"];
  EXPECT_EQ(name.size(), 8u);
  clock_.Advance(999'000'000);
  Settle();
  EXPECT_EQ(Api("CONSUMER.INFO.S." + name, "")["error"], nullptr);
  clock_.Advance(2'000'000);
  Settle();
  EXPECT_EQ(Api("CONSUMER.INFO.S." + name, "")["error"]["err_code"], 10014);
}

TEST_F(ConsumerTest, DurableStateSurvivesRestart) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"]})")["error"], nullptr);
  for (int i = 0; i < 4; ++i) Pub("s.x", std::string("m").append(std::to_string(i)));
  js_->dispatcher().Flush();
  ASSERT_EQ(Api("CONSUMER.DURABLE.CREATE.S.d", R"({"stream_name":"S","config":{"durable_name":"d","ack_policy":"explicit"}})")["error"], nullptr);
  Next("d", R"({"batch":3})");
  auto got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 3u);
  Ack(got[0], "+ACK", "r1");
  Ack(got[2], "+ACK", "r2");
  js_.reset();
  Start();
  json info = Api("CONSUMER.INFO.S.d", "");
  ASSERT_EQ(info["error"], nullptr) << info;
  EXPECT_EQ(info["num_ack_pending"], 1);
  EXPECT_EQ(info["config"]["ack_policy"], "explicit");
  Next("d", R"({"batch":5,"expires":1000000000})");
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0].reply.starts_with("$JS.ACK.S.d.2.2.")) << got[0].reply;
  EXPECT_TRUE(got[1].reply.starts_with("$JS.ACK.S.d.1.4.")) << got[1].reply;
}

TEST_F(ConsumerTest, WorkQueueAndInterestRetention) {
  ASSERT_EQ(Api("STREAM.CREATE.W", R"({"name":"W","subjects":["w.>"],"storage":"memory","retention":"workqueue"})")["error"], nullptr);
  ASSERT_EQ(Api("CONSUMER.CREATE.W.a", R"({"stream_name":"W","config":{"ack_policy":"explicit","filter_subject":"w.a"}})")["error"], nullptr);
  EXPECT_EQ(Api("CONSUMER.CREATE.W.b", R"({"stream_name":"W","config":{"ack_policy":"explicit","filter_subject":"w.*"}})")["error"]["err_code"], 10100);
  EXPECT_EQ(Api("CONSUMER.CREATE.W.b", R"({"stream_name":"W","config":{"ack_policy":"explicit"}})")["error"]["err_code"], 10099);
  ASSERT_EQ(Api("STREAM.CREATE.M", R"({"name":"M","subjects":["m.>"],"storage":"memory","max_consumers":1})")["error"], nullptr);
  ASSERT_EQ(Api("CONSUMER.CREATE.M.a", R"({"stream_name":"M","config":{}})")["error"], nullptr);
  EXPECT_EQ(Api("CONSUMER.CREATE.M.b", R"({"stream_name":"M","config":{}})")["error"]["err_code"], 10026);
  ASSERT_EQ(Api("STREAM.CREATE.I", R"({"name":"I","subjects":["i.>"],"storage":"memory","retention":"interest"})")["error"], nullptr);
  recorder_->TakePublished();
  router::Message m{"i.x", "pub.reply", "", "lost"};
  router_.Route(m, nullptr, true, cache_);
  std::vector<Msg> acks;
  // The PubAck leaves from the ack sender thread: wait for it (no timing asserted).
  for (int i = 0; i < 5000 && acks.empty(); ++i) {
    acks = recorder_->TakePublished();
    if (acks.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(json::parse(acks[0].payload)["seq"], 1);
  EXPECT_EQ(Api("STREAM.INFO.I", "")["state"]["messages"], 0);
  EXPECT_EQ(Api("STREAM.INFO.I", "")["state"]["last_seq"], 1);
}

TEST_F(ConsumerTest, NakDelayNextAckAllAndMaxBytes) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  for (int i = 0; i < 4; ++i) Pub("s.x", std::string("payload").append(std::to_string(i)));
  ASSERT_EQ(Api("CONSUMER.CREATE.S.c", R"({"stream_name":"S","config":{"ack_policy":"explicit"}})")["error"], nullptr);
  Next("c", "1");  // a bare integer is the batch
  auto got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);
  // -NAK with a delay: not redelivered before it.
  Ack(got[0], R"(-NAK {"delay":2000000000})");
  Next("c", R"({"batch":1,"expires":10000000000})");
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].reply.starts_with("$JS.ACK.S.c.1.2.2.")) << got[0].reply;
  // +NXT acks seq 2 and asks for the next message on the ack's reply.
  recorder_->TakePublished();
  router::Message nxt{got[0].reply, "inbox.nxt", "", "+NXT"};
  router_.Route(nxt, nullptr, true, cache_);
  Settle();
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].reply.starts_with("$JS.ACK.S.c.1.3.3.")) << got[0].reply;
  EXPECT_TRUE(recorder_->TakePublished().empty());  // +NXT gets messages, no empty confirmation
  clock_.Advance(2'000'000'000);
  Settle();
  Next("c", R"({"batch":1})");
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].reply.starts_with("$JS.ACK.S.c.2.1.4.")) << got[0].reply;
  // max_bytes smaller than the next message: 409 at once.
  Next("c", R"({"batch":1,"max_bytes":10,"expires":1000000000})");
  auto st = recorder_->TakePublished();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].header,
            "NATS/1.0 409 Message Size Exceeds MaxBytes\r\nNats-Pending-Messages: 1\r\nNats-Pending-Bytes: 10\r\n\r\n");

  // ack_policy all: one ack covers every earlier delivery.
  ASSERT_EQ(Api("CONSUMER.CREATE.S.all", R"({"stream_name":"S","config":{"ack_policy":"all"}})")["error"], nullptr);
  Handle("$JS.API.CONSUMER.MSG.NEXT.S.all", "inbox.2", R"({"batch":4})");
  Settle();
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 4u);
  Ack(got[2], "+ACK");
  json info = Api("CONSUMER.INFO.S.all", "");
  EXPECT_EQ(info["num_ack_pending"], 1);
  EXPECT_EQ(info["ack_floor"]["stream_seq"], 3);
}

TEST_F(ConsumerTest, PurgeAndInterestAfterConsumerDelete) {
  ASSERT_EQ(Api("STREAM.CREATE.I", R"({"name":"I","subjects":["i.>"],"storage":"memory","retention":"interest"})")["error"], nullptr);
  ASSERT_EQ(Api("CONSUMER.CREATE.I.a", R"({"stream_name":"I","config":{"ack_policy":"explicit"}})")["error"], nullptr);
  ASSERT_EQ(Api("CONSUMER.CREATE.I.b", R"({"stream_name":"I","config":{"ack_policy":"explicit"}})")["error"], nullptr);
  Pub("i.x", "1");
  Pub("i.x", "2");
  Handle("$JS.API.CONSUMER.MSG.NEXT.I.a", "inbox.a", R"({"batch":2})");
  Settle();
  auto got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 2u);
  Ack(got[0], "+ACK");
  Ack(got[1], "+ACK");
  EXPECT_EQ(Api("STREAM.INFO.I", "")["state"]["messages"], 2);  // b has not acked
  EXPECT_EQ(Api("CONSUMER.DELETE.I.b", "")["success"], true);
  EXPECT_EQ(Api("STREAM.INFO.I", "")["state"]["messages"], 0);

  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  ASSERT_EQ(Api("CONSUMER.CREATE.S.c", R"({"stream_name":"S","config":{"ack_policy":"explicit"}})")["error"], nullptr);
  Pub("s.x", "1");
  Pub("s.x", "2");
  Next("c", R"({"batch":1})");
  ASSERT_EQ(recorder_->TakeInbox().size(), 1u);
  Api("STREAM.PURGE.S", "");
  json info = Api("CONSUMER.INFO.S.c", "");
  EXPECT_EQ(info["num_ack_pending"], 0);
  EXPECT_EQ(info["num_pending"], 0);
  Pub("s.x", "3");
  Next("c", R"({"batch":1})");
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].reply.starts_with("$JS.ACK.S.c.1.3.2.")) << got[0].reply;
}

TEST_F(ConsumerTest, DeliverPoliciesAndMaxAckPending) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  Pub("s.a", "a1");
  clock_.Advance(1'000'000'000);
  Pub("s.b", "b1");
  Pub("s.a", "a2");
  Pub("s.c", "c1");
  struct Case {
    std::string config;
    uint64_t num_pending, first_seq;
  };
  const Case cases[] = {
      {R"("deliver_policy":"all")", 4, 1},
      {R"("deliver_policy":"last")", 1, 4},
      {R"("deliver_policy":"last","filter_subject":"s.a")", 1, 3},
      {R"("deliver_policy":"new")", 0, 0},
      {R"("deliver_policy":"by_start_sequence","opt_start_seq":3)", 2, 3},
      {R"("deliver_policy":"by_start_time","opt_start_time":"2023-11-14T22:13:21Z")", 3, 2},
      {R"("deliver_policy":"last_per_subject")", 3, 2},
      {R"("filter_subjects":["s.a","s.c"])", 3, 1},
  };
  int i = 0;
  for (const auto& c : cases) {
    std::string name = std::string("p").append(std::to_string(i++));
    json ci = Api("CONSUMER.CREATE.S." + name,
                  R"({"stream_name":"S","config":{"ack_policy":"explicit",)" + c.config + "}}");
    ASSERT_EQ(ci["error"], nullptr) << c.config << " " << ci;
    EXPECT_EQ(ci["num_pending"], c.num_pending) << c.config;
    Handle("$JS.API.CONSUMER.MSG.NEXT.S." + name, "inbox.p", R"({"batch":1,"no_wait":true})");
    Settle();
    auto got = recorder_->TakeInbox();
    if (c.first_seq == 0) {
      EXPECT_TRUE(got.empty()) << c.config;
    } else {
      ASSERT_EQ(got.size(), 1u) << c.config;
      EXPECT_NE(got[0].reply.find(std::string(".1.").append(std::to_string(c.first_seq)).append(".1.")), std::string::npos)
          << c.config << " " << got[0].reply;
    }
  }
  // max_ack_pending 2: the third message waits for an ack.
  ASSERT_EQ(Api("CONSUMER.CREATE.S.m", R"({"stream_name":"S","config":{"ack_policy":"explicit","max_ack_pending":2}})")["error"], nullptr);
  Handle("$JS.API.CONSUMER.MSG.NEXT.S.m", "inbox.m", R"({"batch":3,"expires":10000000000})");
  Settle();
  auto got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 2u);
  Ack(got[0], "+ACK");
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].reply.find(".1.3.3."), std::string::npos) << got[0].reply;
}

// ---- push consumers ----

TEST(RedeliveryTimersTest, DueInOrderStaleSkippedAndCompacted) {
  RedeliveryTimers t;
  std::map<uint64_t, int64_t> live;
  for (uint64_t seq = 1; seq <= 10; ++seq) {
    live[seq] = 100 - static_cast<int64_t>(seq);
    t.Schedule(seq, live[seq]);
  }
  live[5] = 500;  // e.g. +WPI: the old entry goes stale
  t.Schedule(5, 500);
  live.erase(3);  // acked
  auto current = [&](uint64_t seq, int64_t d) { return live.count(seq) && live[seq] == d; };
  std::vector<uint64_t> due;
  t.PopDue(95, current, due);  // deadlines 90..99 -> seqs 10..1; only <= 95 (seqs 10..5)
  EXPECT_EQ(due, (std::vector<uint64_t>{10, 9, 8, 7, 6}));
  EXPECT_EQ(t.Next(current), 96);
  due.clear();
  t.PopDue(1000, current, due);
  EXPECT_EQ(due, (std::vector<uint64_t>{4, 2, 1, 5}));  // 3 was acked
  EXPECT_EQ(t.Next(current), 0);
  // Many stale entries: compaction rebuilds from the live set.
  for (uint64_t seq = 1; seq <= 5000; ++seq) t.Schedule(seq, 2000 + static_cast<int64_t>(seq));
  live.clear();
  live[4999] = 2000 + 4999;
  t.MaybeCompact(live.size(), [&](auto&& add) {
    for (auto& [seq, d] : live) add(seq, d);
  });
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.Next(current), 2000 + 4999);
}

TEST_F(ConsumerTest, PushDeliversWithHeartbeatsAndHeadersOnly) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  auto sub = Listen(router_, recorder_, "push.a");
  for (int i = 0; i < 3; ++i) Pub("s.x", std::string("m").append(std::to_string(i)));
  json ci = Api("CONSUMER.CREATE.S.p",
                R"({"stream_name":"S","config":{"ack_policy":"explicit","deliver_subject":"push.a","idle_heartbeat":1000000000}})");
  ASSERT_EQ(ci["error"], nullptr) << ci;
  Settle();
  auto got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].subject, "s.x");
  EXPECT_EQ(got[0].payload, "m0");
  EXPECT_TRUE(got[0].reply.starts_with("$JS.ACK.S.p.1.1.1.")) << got[0].reply;
  EXPECT_TRUE(got[2].reply.ends_with(".0")) << got[2].reply;
  json info = Api("CONSUMER.INFO.S.p", "");
  EXPECT_EQ(info["push_bound"], true);
  EXPECT_EQ(info["num_ack_pending"], 3);
  EXPECT_EQ(info["config"]["deliver_subject"], "push.a");
  EXPECT_EQ(info["config"]["idle_heartbeat"], 1000000000);
  // Idle for the interval: a heartbeat with the last sequences, no reply.
  clock_.Advance(1'000'000'000);
  Settle();
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].subject, "push.a");
  EXPECT_EQ(got[0].reply, "");
  EXPECT_EQ(got[0].header, "NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 3\r\nNats-Last-Stream: 3\r\n\r\n");
  // Explicit acks; ack wait redelivers the rest.
  Api("CONSUMER.DELETE.S.p", "");
  recorder_->TakeInbox();
  // headers_only: the size header, no body.
  ASSERT_EQ(Api("CONSUMER.CREATE.S.h",
                R"({"stream_name":"S","config":{"ack_policy":"none","deliver_subject":"push.a","headers_only":true}})")["error"],
            nullptr);
  Settle();
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].header, "NATS/1.0\r\nNats-Msg-Size: 2\r\n\r\n");
  EXPECT_EQ(got[0].payload, "");
}

TEST_F(ConsumerTest, PushWaitsForInterestAndEphemeralGoesWithoutIt) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  Pub("s.x", "one");
  json ci = Api("CONSUMER.CREATE.S", R"({"stream_name":"S","config":{"deliver_subject":"push.b"}})");
  ASSERT_EQ(ci["error"], nullptr) << ci;
  std::string name = ci["name"];
  EXPECT_EQ(ci.contains("push_bound"), false);
  EXPECT_EQ(ci["config"]["inactive_threshold"], 5000000000);
  Settle();
  EXPECT_TRUE(recorder_->TakeInbox().empty());
  // A wildcard subscriber is not interest (nats-server counts the literal subject only).
  auto wild = Listen(router_, recorder_, "push.*");
  Settle();
  EXPECT_TRUE(recorder_->TakeInbox().empty());
  router_.Remove(wild);
  auto sub = Listen(router_, recorder_, "push.b");
  Settle();
  auto got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "one");
  EXPECT_EQ(Api("CONSUMER.INFO.S." + name, "")["push_bound"], true);
  // No subscriber: nothing is sent, and the ephemeral goes after inactive_threshold.
  router_.Remove(sub);
  Settle();
  Pub("s.x", "two");
  Settle();
  EXPECT_TRUE(recorder_->TakeInbox().empty());
  clock_.Advance(4'000'000'000);
  Settle();
  EXPECT_EQ(Api("CONSUMER.INFO.S." + name, "")["error"], nullptr);
  clock_.Advance(1'000'000'001);
  Settle();
  EXPECT_EQ(Api("CONSUMER.INFO.S." + name, "")["error"]["err_code"], 10014);
}

TEST_F(ConsumerTest, PushDeliverGroupGoesToOneMember) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  auto other = std::make_shared<Recorder>();
  // A plain subscriber is no interest for a consumer with a deliver group.
  auto plain = Listen(router_, other, "push.q");
  ASSERT_EQ(Api("CONSUMER.CREATE.S.q",
                R"({"stream_name":"S","config":{"durable_name":"q","deliver_subject":"push.q","deliver_group":"g","ack_policy":"explicit"}})")["error"],
            nullptr);
  for (int i = 0; i < 10; ++i) Pub("s.x", std::to_string(i));
  Settle();
  EXPECT_TRUE(other->TakeInbox().empty());
  router_.Remove(plain);
  auto m1 = Listen(router_, recorder_, "push.q", "g");
  auto m2 = Listen(router_, other, "push.q", "g");
  Settle();
  Settle();
  auto a = recorder_->TakeInbox(), b = other->TakeInbox();
  EXPECT_EQ(a.size() + b.size(), 10u);
  EXPECT_EQ(Api("CONSUMER.INFO.S.q", "")["push_bound"], true);
}

TEST_F(ConsumerTest, FlowControlStallsUntilAnswered) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  auto sub = Listen(router_, recorder_, "push.fc");
  const std::string big(100 * 1024, 'x');
  for (int i = 0; i < 30; ++i) Pub("s.x", big);
  ASSERT_EQ(Api("CONSUMER.CREATE.S.f",
                R"({"stream_name":"S","config":{"deliver_subject":"push.fc","flow_control":true,"idle_heartbeat":1000000000}})")["error"],
            nullptr);
  Settle();
  auto got = recorder_->TakeInbox();
  // The window starts at 2 MiB (32 MiB / 16): delivery stops once past it,
  // with one request sent after half of it.
  std::vector<Msg> data, fc;
  for (auto& m : got) (m.header.starts_with("NATS/1.0 100 FlowControl Request") ? fc : data).push_back(m);
  ASSERT_EQ(fc.size(), 1u);
  EXPECT_EQ(fc[0].header, "NATS/1.0 100 FlowControl Request\r\n\r\n");
  EXPECT_EQ(fc[0].subject, "push.fc");
  EXPECT_TRUE(fc[0].reply.starts_with("$JS.FC.S.f.")) << fc[0].reply;
  EXPECT_GE(data.size(), 20u);
  EXPECT_LT(data.size(), 30u);
  // Stalled: the idle heartbeat names the request to answer.
  clock_.Advance(1'000'000'000);
  Settle();
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].header.find("Nats-Consumer-Stalled: " + fc[0].reply + "\r\n"), std::string::npos) << got[0].header;
  // The answer (an empty message to the reply subject) releases the rest.
  router::Message answer{fc[0].reply, "", "", ""};
  router_.Route(answer, nullptr, true, cache_);
  Settle();
  Settle();
  size_t total = data.size();
  for (auto& m : recorder_->TakeInbox()) total += !m.header.starts_with("NATS/1.0 100");
  EXPECT_EQ(total, 30u);
}

TEST_F(ConsumerTest, ReplayOriginalAndRateLimitHoldDeliveries) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory","max_msg_size":1000})")["error"], nullptr);
  auto sub = Listen(router_, recorder_, "push.r");
  Pub("s.x", "a");
  clock_.Advance(2'000'000'000);
  Pub("s.x", "b");
  clock_.Advance(3'000'000'000);
  Pub("s.x", "c");
  ASSERT_EQ(Api("CONSUMER.CREATE.S.r", R"({"stream_name":"S","config":{"deliver_subject":"push.r","replay_policy":"original"}})")["error"], nullptr);
  Settle();
  EXPECT_EQ(recorder_->TakeInbox().size(), 1u);
  clock_.Advance(1'900'000'000);
  Settle();
  EXPECT_TRUE(recorder_->TakeInbox().empty());
  clock_.Advance(200'000'000);
  Settle();
  auto got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "b");
  clock_.Advance(3'000'000'000);
  Settle();
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "c");
  // Past the stream's end at start: new messages flow at once.
  Pub("s.x", "d");
  Settle();
  EXPECT_EQ(recorder_->TakeInbox().size(), 1u);
  Api("CONSUMER.DELETE.S.r", "");

  // rate_limit_bps 8000 = 1000 bytes/s with a burst of max_msg_size (1000).
  for (int i = 0; i < 4; ++i) Pub("s.y", std::string(400, 'y'));
  ASSERT_EQ(Api("CONSUMER.CREATE.S.l",
                R"({"stream_name":"S","config":{"deliver_subject":"push.r","filter_subject":"s.y","rate_limit_bps":8000}})")["error"],
            nullptr);
  Settle();
  size_t first = recorder_->TakeInbox().size();
  EXPECT_GE(first, 1u);
  EXPECT_LE(first, 2u);
  clock_.Advance(10'000'000'000);
  Settle();
  Settle();
  Settle();
  EXPECT_EQ(first + recorder_->TakeInbox().size(), 4u);
}

TEST_F(ConsumerTest, AdvisoriesForMaxDeliverTermAndLifecycle) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  // Advisories are published (through the Publisher, here the recorder) only
  // while someone subscribes to them.
  auto adv_sub = Listen(router_, std::make_shared<Recorder>(), "$JS.EVENT.ADVISORY.>");
  auto advisories = [&] { return Only(recorder_->TakePublished(), "$JS.EVENT.ADVISORY."); };
  auto sub = Listen(router_, recorder_, "push.m");
  Pub("s.x", "1");
  Pub("s.x", "2");
  recorder_->TakePublished();
  Handle("$JS.API.CONSUMER.DURABLE.CREATE.S.m", "api.reply",
                  R"({"stream_name":"S","config":{"durable_name":"m","deliver_subject":"push.m","ack_policy":"explicit","ack_wait":1000000000,"max_deliver":2}})");
  Settle();
  auto created = advisories();
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0].subject, "$JS.EVENT.ADVISORY.CONSUMER.CREATED.S.m");
  json c = json::parse(created[0].payload);
  EXPECT_EQ(c["type"], "io.nats.jetstream.advisory.v1.consumer_action");
  EXPECT_EQ(c["action"], "create");
  EXPECT_EQ(c["stream"], "S");
  EXPECT_EQ(c["id"].get<std::string>().size(), 22u);
  EXPECT_TRUE(c.contains("timestamp"));
  auto got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 2u);
  // +TERM with a reason: the terminated advisory.
  Ack(got[1], "+TERM bad payload");
  auto term = advisories();
  ASSERT_EQ(term.size(), 1u);
  EXPECT_EQ(term[0].subject, "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.S.m");
  json t = json::parse(term[0].payload);
  EXPECT_EQ(t["type"], "io.nats.jetstream.advisory.v1.terminated");
  EXPECT_EQ(t["stream_seq"], 2);
  EXPECT_EQ(t["consumer_seq"], 2);
  EXPECT_EQ(t["deliveries"], 1);
  EXPECT_EQ(t["reason"], "bad payload");
  // Seq 1: redelivered once, then max_deliver is reached at the next expiry.
  clock_.Advance(1'000'000'000);
  Settle();
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].reply.starts_with("$JS.ACK.S.m.2.1.3.")) << got[0].reply;
  clock_.Advance(1'000'000'000);
  Settle();
  EXPECT_TRUE(recorder_->TakeInbox().empty());
  auto md = advisories();
  ASSERT_EQ(md.size(), 1u);
  EXPECT_EQ(md[0].subject, "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.S.m");
  json m = json::parse(md[0].payload);
  EXPECT_EQ(m["type"], "io.nats.jetstream.advisory.v1.max_deliver");
  EXPECT_EQ(m["stream"], "S");
  EXPECT_EQ(m["consumer"], "m");
  EXPECT_EQ(m["stream_seq"], 1);
  EXPECT_EQ(m["deliveries"], 2);
  json info = Api("CONSUMER.INFO.S.m", "");
  EXPECT_EQ(info["num_ack_pending"], 0);
  EXPECT_EQ(info["num_redelivered"], 1);
  Handle("$JS.API.CONSUMER.DELETE.S.m", "api.reply", "");
  auto deleted = advisories();
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(deleted[0].subject, "$JS.EVENT.ADVISORY.CONSUMER.DELETED.S.m");
  EXPECT_EQ(json::parse(deleted[0].payload)["action"], "delete");
  // Nobody listening: nothing is published.
  router_.Remove(adv_sub);
  Handle("$JS.API.CONSUMER.CREATE.S.n", "api.reply", R"({"stream_name":"S","config":{}})");
  EXPECT_TRUE(advisories().empty());
}

TEST_F(ConsumerTest, PullStatusesOfNatsServer211) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  for (int i = 0; i < 3; ++i) Pub("s.x", "abcdefghij");
  ASSERT_EQ(Api("CONSUMER.CREATE.S.c", R"({"stream_name":"S","config":{"ack_policy":"explicit","max_ack_pending":1}})")["error"], nullptr);
  // A waiting request for more than there is: a no_wait request gets 408 Requests Pending.
  Next("c", R"({"batch":10,"expires":10000000000})");
  EXPECT_EQ(recorder_->TakeInbox().size(), 1u);  // max_ack_pending 1
  recorder_->TakePublished();
  Next("c", R"({"batch":1,"no_wait":true})");
  auto st = recorder_->TakePublished();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].header, "NATS/1.0 408 Requests Pending\r\n\r\n");
  // A push consumer refuses pull requests.
  ASSERT_EQ(Api("CONSUMER.CREATE.S.p", R"({"stream_name":"S","config":{"deliver_subject":"push.none"}})")["error"], nullptr);
  Next("p", R"({"batch":1})");
  st = recorder_->TakePublished();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].header, "NATS/1.0 409 Consumer is push based\r\n\r\n");
  // max_bytes filled exactly: the request ends with that message, no 409.
  ASSERT_EQ(Api("CONSUMER.CREATE.S.b", R"({"stream_name":"S","config":{"ack_policy":"none"}})")["error"], nullptr);
  Handle("$JS.API.CONSUMER.MSG.NEXT.S.b", "inbox.b", R"({"batch":1,"no_wait":true})");
  Settle();
  auto one = recorder_->TakeInbox();
  ASSERT_EQ(one.size(), 1u);
  int64_t size = static_cast<int64_t>(one[0].subject.size() + one[0].reply.size() + one[0].payload.size());
  recorder_->TakePublished();
  Handle("$JS.API.CONSUMER.MSG.NEXT.S.b", "inbox.b",
                  fmt::format(R"({{"batch":5,"max_bytes":{},"expires":1000000000}})", size));
  Settle();
  EXPECT_EQ(recorder_->TakeInbox().size(), 1u);
  EXPECT_TRUE(recorder_->TakePublished().empty());
}

TEST_F(ConsumerTest, PushDurableSurvivesRestart) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"]})")["error"], nullptr);
  auto sub = Listen(router_, recorder_, "push.d");
  for (int i = 0; i < 3; ++i) Pub("s.x", std::to_string(i));
  js_->dispatcher().Flush();
  ASSERT_EQ(Api("CONSUMER.DURABLE.CREATE.S.d",
                R"({"stream_name":"S","config":{"durable_name":"d","deliver_subject":"push.d","ack_policy":"explicit"}})")["error"],
            nullptr);
  Settle();
  auto got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 3u);
  Ack(got[0], "+ACK", "r1");
  Ack(got[1], "+ACK", "r2");
  js_.reset();
  Start();
  Settle();
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);  // the unacknowledged one, redelivered
  EXPECT_TRUE(got[0].reply.starts_with("$JS.ACK.S.d.2.3.4.")) << got[0].reply;
  json info = Api("CONSUMER.INFO.S.d", "");
  EXPECT_EQ(info["config"]["deliver_subject"], "push.d");
  EXPECT_EQ(info["delivered"]["stream_seq"], 3);
}

// Bytes per consumer and per pending ack, from the process RSS (printed for
// src/jetstream/README.md; nothing is asserted about them).
int64_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}
// Bytes handed out by malloc (not returned), a steadier figure than RSS.
int64_t HeapBytes() { return static_cast<int64_t>(::mallinfo2().uordblks); }

class Sink : public router::SubscriberSink {
 public:
  bool Deliver(router::Subscription&, const router::Message&) override {
    delivered.fetch_add(1);
    return true;
  }
  void OnSubscriptionExpired(router::Subscription&) override {}
  std::atomic<uint64_t> delivered{0};
};

TEST_F(ConsumerTest, MemoryPerConsumerAndPerPendingAck) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  int64_t before = RssBytes(), heap_before = HeapBytes();
  for (int i = 0; i < 1000; ++i) {
    json r = Api("CONSUMER.CREATE.S.c" + std::to_string(i),
                 R"({"stream_name":"S","config":{"ack_policy":"explicit","inactive_threshold":3600000000000}})");
    ASSERT_EQ(r["error"], nullptr);
  }
  Settle();
  int64_t per_consumer = (RssBytes() - before) / 1000;
  int64_t heap_per_consumer = (HeapBytes() - heap_before) / 1000;
  ASSERT_EQ(Api("STREAM.CREATE.P", R"({"name":"P","subjects":["p.>"],"storage":"memory"})")["error"], nullptr);
  constexpr int kPending = 100'000;
  for (int i = 0; i < kPending; ++i) Pub("p.x", "x");
  auto sink = std::make_shared<Sink>();
  auto drop = std::make_shared<router::Subscription>(sink, "drop.>", "", "drop");
  router_.Insert(drop);
  ASSERT_EQ(Api("CONSUMER.CREATE.P.big",
                R"({"stream_name":"P","config":{"ack_policy":"explicit","max_ack_pending":200000,"inactive_threshold":3600000000000}})")["error"],
            nullptr);
  Settle();
  int64_t before_acks = RssBytes(), heap_before_acks = HeapBytes();
  Handle("$JS.API.CONSUMER.MSG.NEXT.P.big", "drop.1", R"({"batch":100000,"expires":3600000000000})");
  for (int i = 0; i < 100000 && sink->delivered.load() < kPending; ++i) Settle();
  ASSERT_EQ(sink->delivered.load(), static_cast<uint64_t>(kPending));
  json info = Api("CONSUMER.INFO.P.big", "");
  EXPECT_EQ(info["num_ack_pending"], kPending);
  int64_t per_ack = (RssBytes() - before_acks) / kPending;
  int64_t heap_per_ack = (HeapBytes() - heap_before_acks) / kPending;
  std::cout << "[ memory ] per consumer: " << per_consumer << " bytes RSS, " << heap_per_consumer
            << " bytes heap; per pending ack: " << per_ack << " bytes RSS, " << heap_per_ack << " bytes heap\n";
  RecordProperty("bytes_per_consumer", std::to_string(per_consumer));
  RecordProperty("bytes_per_pending_ack", std::to_string(per_ack));
}

}  // namespace
}  // namespace sluice::jetstream

namespace sluice::jetstream {
namespace {

// Many batches through the read-ahead (stream reads a block at a time):
// deleted messages skipped, the filter honoured, consumer sequences without
// gaps, num_pending counting down, payloads and headers intact.
TEST_F(ConsumerTest, PushReadAheadAcrossBatchesWithDeletesAndFilter) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"file"})")["error"], nullptr);
  for (int i = 1; i <= 1200; ++i) {
    router::Message m{i % 2 ? "s.a" : "s.b", "", i % 3 == 0 ? "NATS/1.0\r\nK: v\r\n\r\n" : "", "p" + std::to_string(i)};
    router_.Route(m, nullptr, true, cache_);
  }
  for (int seq = 5; seq <= 1200; seq += 10) {
    ASSERT_EQ(Api("STREAM.MSG.DELETE.S", fmt::format(R"({{"seq":{}}})", seq))["success"], true);
  }
  auto sub = Listen(router_, recorder_, "push.ra");
  json ci = Api("CONSUMER.CREATE.S.ra",
                R"({"stream_name":"S","config":{"ack_policy":"none","deliver_subject":"push.ra","filter_subject":"s.a"}})");
  ASSERT_EQ(ci["error"], nullptr) << ci;
  Settle();
  auto got = recorder_->TakeInbox();
  std::vector<int> expected;
  for (int i = 1; i <= 1200; i += 2) {
    if (i % 10 != 5) expected.push_back(i);
  }
  ASSERT_EQ(got.size(), expected.size());
  for (size_t k = 0; k < got.size(); ++k) {
    const int seq = expected[k];
    EXPECT_EQ(got[k].subject, "s.a");
    EXPECT_EQ(got[k].payload, "p" + std::to_string(seq));
    EXPECT_EQ(got[k].header, seq % 3 == 0 ? "NATS/1.0\r\nK: v\r\n\r\n" : "");
    // $JS.ACK.S.ra.<delivered>.<sseq>.<cseq>.<ts>.<pending>
    EXPECT_TRUE(got[k].reply.starts_with(fmt::format("$JS.ACK.S.ra.1.{}.{}.", seq, k + 1))) << got[k].reply;
    EXPECT_TRUE(got[k].reply.ends_with(fmt::format(".{}", expected.size() - k - 1))) << got[k].reply;
  }
  json info = Api("CONSUMER.INFO.S.ra", "");
  EXPECT_EQ(info["num_pending"], 0);
  EXPECT_EQ(info["delivered"]["consumer_seq"], expected.size());
  EXPECT_EQ(info["delivered"]["stream_seq"], expected.back());
  // New messages after the backlog keep the sequences going.
  Pub("s.a", "late");
  Pub("s.b", "other");
  Settle();
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "late");
  EXPECT_TRUE(got[0].reply.starts_with(fmt::format("$JS.ACK.S.ra.1.1201.{}.", expected.size() + 1))) << got[0].reply;
}

// A pull request's batch and max_bytes bound what the read-ahead hands out:
// messages read ahead but not delivered are delivered to the next request.
TEST_F(ConsumerTest, PullReadAheadLeavesUndeliveredForTheNextRequest) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"file"})")["error"], nullptr);
  for (int i = 1; i <= 700; ++i) Pub("s.x", "m" + std::to_string(i));
  ASSERT_EQ(Api("CONSUMER.CREATE.S.pr", R"({"stream_name":"S","config":{"durable_name":"pr","ack_policy":"none"}})")["error"],
            nullptr);
  int next = 1;
  for (const char* body : {R"({"batch":3})", R"({"batch":300})", R"({"batch":1000,"max_bytes":200})",
                           R"({"batch":1000,"no_wait":true})"}) {
    Next("pr", body);
    for (const Msg& m : recorder_->TakeInbox()) {
      if (m.payload.empty()) continue;  // a status (408 / 409)
      EXPECT_EQ(m.payload, "m" + std::to_string(next)) << body;
      ++next;
    }
  }
  EXPECT_EQ(next, 701);
}

}  // namespace
}  // namespace sluice::jetstream
