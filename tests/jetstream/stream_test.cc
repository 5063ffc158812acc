// The publish path on a memory stream, driven through the router with a
// fake Publisher and a ManualClock (dedup window expiry without sleeping).
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "memory_stream_fixture.h"

namespace sluice::jetstream {
namespace {

using StreamTest = test_support::MemoryStreamTest;

TEST_F(StreamTest, AcksAndDedupWithinTheWindow) {
  auto s = Make(R"({"name":"S","subjects":["s.>"],"storage":"memory","duplicate_window":1000000000})");
  EXPECT_EQ(Pub("s.a", "", "x"), nlohmann::json::parse(R"({"stream":"S","seq":1})"));
  EXPECT_EQ(Pub("s.a", Hdr("Nats-Msg-Id: m1\r\n"), "x"), nlohmann::json::parse(R"({"stream":"S","seq":2})"));
  EXPECT_EQ(Pub("s.a", Hdr("Nats-Msg-Id: m1\r\n"), "x"),
            nlohmann::json::parse(R"({"stream":"S","seq":2,"duplicate":true})"));
  // Header names are case-sensitive: not a dedup id.
  EXPECT_EQ(Pub("s.a", Hdr("nats-msg-id: m1\r\n"), "x")["seq"], 3);
  clock_.Advance(1'000'000'001);
  EXPECT_EQ(Pub("s.a", Hdr("Nats-Msg-Id: m1\r\n"), "x"), nlohmann::json::parse(R"({"stream":"S","seq":4})"));
  s->Close(false);
}

// Memory storage: every reply is ready at once and leaves from the
// publishing thread during the publish itself (on an event loop: in the
// output of the same read batch), never through the AckSender; a
// publisher's successes, duplicates and errors keep its order.
TEST_F(StreamTest, MemoryStreamRepliesLeaveFromThePublishingThreadInOrder) {
  AckSender sender;
  env_.ack_sender = &sender;
  auto s = Make(R"({"name":"S","subjects":["s.>"],"storage":"memory","max_msg_size":40})");
  std::vector<std::string> replies;
  for (int i = 0; i < 60; ++i) {
    std::string reply = "r." + std::to_string(i);
    std::string header = i % 3 == 1 && i % 10 != 9 ? Hdr("Nats-Msg-Id: dup\r\n") : "";
    std::string payload = i % 10 == 9 ? std::string(41, 'x') : "x";  // too big: an error reply
    router::Message m{"s.a", reply, header, payload};
    router_.Route(m, nullptr, true, cache_);
    replies.push_back(reply);
  }
  auto sent = publisher_.Take();  // nothing left for another thread to send
  ASSERT_EQ(sent.size(), replies.size());
  uint64_t last_seq = 0;
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(sent[i].subject, replies[i]);
    EXPECT_EQ(sent[i].thread, std::this_thread::get_id());
    auto ack = nlohmann::json::parse(sent[i].payload);
    if (i % 10 == 9) {
      EXPECT_TRUE(ack.contains("error")) << ack.dump();
    } else if (!ack.contains("duplicate")) {
      EXPECT_GT(ack["seq"].get<uint64_t>(), last_seq);
      last_seq = ack["seq"].get<uint64_t>();
    }
  }
  s->Close(false);
  env_.ack_sender = nullptr;
}

TEST_F(StreamTest, ExpectationsAndRefusals) {
  auto s = Make(R"({"name":"S","subjects":["s.>"],"storage":"memory","max_msgs":3,"discard":"new","max_msg_size":64})");
  Pub("s.a", Hdr("Nats-Msg-Id: first\r\n"), "1");
  auto e = Pub("s.a", Hdr("Nats-Expected-Last-Sequence: 5\r\n"), "2");
  EXPECT_EQ(e["error"]["err_code"], 10071);
  EXPECT_EQ(e["error"]["description"], "wrong last sequence: 1");
  EXPECT_EQ(e["stream"], "S");
  EXPECT_EQ(e["seq"], 0);
  EXPECT_EQ(Pub("s.a", Hdr("Nats-Expected-Stream: T\r\n"), "2")["error"]["err_code"], 10060);
  e = Pub("s.a", Hdr("Nats-Expected-Last-Msg-Id: other\r\n"), "2");
  EXPECT_EQ(e["error"]["description"], "wrong last msg ID: first");
  EXPECT_EQ(Pub("s.b", Hdr("Nats-Expected-Last-Subject-Sequence: 1\r\n"), "2")["error"]["description"],
            "wrong last sequence: 0");
  EXPECT_EQ(Pub("s.b", Hdr("Nats-Expected-Last-Subject-Sequence: 0\r\n"), "2")["seq"], 2);
  EXPECT_EQ(Pub("s.a", Hdr("Nats-Rollup: sub\r\n"), "2")["error"]["err_code"], 10111);
  EXPECT_EQ(Pub("s.a", "", std::string(65, 'x'))["error"]["err_code"], 10054);
  EXPECT_EQ(Pub("s.a", "", std::string(64, 'x'))["seq"], 3);
  auto ok3 = Pub("s.c", "", "3");
  EXPECT_EQ(ok3["error"]["err_code"], 10077) << ok3.dump();
  e = Pub("s.c", "", "4");
  EXPECT_EQ(e["error"]["err_code"], 10077);
  EXPECT_EQ(e["error"]["description"], "maximum messages exceeded");
  s->Close(false);
}

TEST_F(StreamTest, PubAckTextMatchesNatsServer) {
  EXPECT_EQ(FormatPubAck("ORDERS", "", 1, false), R"({"stream":"ORDERS", "seq":1})");
  EXPECT_EQ(FormatPubAck("ORDERS", "", 1, true), R"({"stream":"ORDERS", "seq":1,"duplicate": true})");
  EXPECT_EQ(FormatPubAck("ORDERS", "hub", 1, false), R"({"stream":"ORDERS", "domain":"hub", "seq":1})");
  EXPECT_EQ(FormatErrorAck("KV_cfg", MakeError(ErrorId::kStreamWrongLastSequence, "7")),
            R"({"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 7"},"stream":"KV_cfg","seq":0})");
}

TEST_F(StreamTest, SealedAndRollupAll) {
  auto s = Make(R"({"name":"S","subjects":["s.>"],"storage":"memory","allow_rollup_hdrs":true})");
  Pub("s.a", "", "1");
  Pub("s.b", "", "2");
  EXPECT_EQ(Pub("s.c", Hdr("Nats-Rollup: all\r\n"), "3")["seq"], 3);
  EXPECT_EQ(s->State().msgs, 1u);
  // An unknown rollup value: dropped without an ack (nats-server 2.9.10).
  EXPECT_TRUE(Pub("s.c", Hdr("Nats-Rollup: bogus\r\n"), "3").is_null());
  StreamConfig c = s->config();
  c.sealed = true;
  ASSERT_TRUE(s->Update(c).ok());
  EXPECT_TRUE(s->config().deny_delete);
  EXPECT_EQ(Pub("s.a", "", "x")["error"]["err_code"], 10109);
  uint64_t purged = 0;
  EXPECT_EQ(s->Purge({}, purged).err_code, 10109);
  s->Close(false);
}

}  // namespace
}  // namespace sluice::jetstream
