// Pull consumers through JetStreamImpl::HandleApi with a fake Publisher, a
// capturing inbox sink on the router and a ManualClock: ack wait, backoff,
// max_deliver and inactive threshold without sleeping.
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <thread>
#include <nlohmann/json.hpp>

#include "jetstream/consumer_config.h"
#include "jetstream/jetstream_impl.h"

namespace sluice::jetstream {
namespace {

using json = nlohmann::json;

struct Msg {
  std::string subject, reply, header, payload;
};

class Recorder : public Publisher, public router::SubscriberSink {
 public:
  void Publish(std::string_view subject, std::string_view reply, std::string_view header,
               std::string_view payload) override {
    std::lock_guard lock(mu);
    published.push_back({std::string(subject), std::string(reply), std::string(header), std::string(payload)});
  }
  bool Deliver(router::Subscription&, const router::Message& m) override {
    std::lock_guard lock(mu);
    inbox.push_back({std::string(m.subject), std::string(m.reply), std::string(m.header), std::string(m.payload)});
    return true;
  }
  void OnSubscriptionExpired(router::Subscription&) override {}
  std::vector<Msg> TakeInbox() {
    std::lock_guard lock(mu);
    return std::exchange(inbox, {});
  }
  std::vector<Msg> TakePublished() {
    std::lock_guard lock(mu);
    return std::exchange(published, {});
  }
  std::mutex mu;
  std::vector<Msg> published, inbox;
};

class ConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / (std::string("sluice-consumer-test-").append(std::to_string(::getpid())) + "-" +
                                                      ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    recorder_ = std::make_shared<Recorder>();
    inbox_sub_ = std::make_shared<router::Subscription>(recorder_, "inbox.>", "", "1");
    router_.Insert(inbox_sub_);
    Start();
  }
  void TearDown() override {
    js_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Start() {
    Config c;
    c.store_dir = dir_.string();
    js_ = std::make_unique<JetStreamImpl>(c, router_, *recorder_, &clock_);
    std::string error;
    ASSERT_TRUE(js_->Init(error)) << error;
  }
  json Api(const std::string& subject, const std::string& body) {
    recorder_->TakePublished();
    js_->HandleApi({"$JS.API." + subject, "api.reply", body});
    auto sent = recorder_->TakePublished();
    if (sent.empty()) return nullptr;
    return json::parse(sent.back().payload);
  }
  void Pub(const std::string& subject, const std::string& payload) {
    router::Message m{subject, "", "", payload};
    router_.Route(m, nullptr, true, cache_);
  }
  void Settle() {
    js_->dispatcher().Wake();
    js_->dispatcher().Flush();
    js_->dispatcher().Flush();
  }
  void Next(const std::string& consumer, const std::string& body) {
    js_->HandleApi({"$JS.API.CONSUMER.MSG.NEXT.S." + consumer, "inbox.1", body});
    Settle();
  }
  void Ack(const Msg& m, const std::string& body, const std::string& reply = "") {
    router::Message a{m.reply, reply, "", body};
    router_.Route(a, nullptr, true, cache_);
    Settle();
  }

  std::filesystem::path dir_;
  store::ManualClock clock_;
  router::Router router_;
  router::MatchCache cache_;
  std::shared_ptr<Recorder> recorder_;
  std::shared_ptr<router::Subscription> inbox_sub_;
  std::unique_ptr<JetStreamImpl> js_;
};

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
  EXPECT_EQ(code(R"({"ack_policy":"explicit","backoff":[1000,2000],"max_deliver":2})"), 10116);
  EXPECT_EQ(code(R"({"max_expires":10})"), 10115);
  EXPECT_EQ(code(R"({"durable_name":"a.b"})"), 10103);
  EXPECT_EQ(code(R"({"deliver_subject":"x"})"), 10012);
  EXPECT_EQ(code(R"({"replay_policy":"original"})"), 10012);
  EXPECT_EQ(code(R"({"priority_groups":["g"],"priority_policy":"pinned_client"})"), 10012);
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
  js_->HandleApi({"$JS.API.CONSUMER.DELETE.S.c", "api.reply", ""});
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
  js_->HandleApi({"$JS.API.CONSUMER.MSG.NEXT.S.all", "inbox.2", R"({"batch":4})"});
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
  js_->HandleApi({"$JS.API.CONSUMER.MSG.NEXT.I.a", "inbox.a", R"({"batch":2})"});
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
    js_->HandleApi({"$JS.API.CONSUMER.MSG.NEXT.S." + name, "inbox.p", R"({"batch":1,"no_wait":true})"});
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
  js_->HandleApi({"$JS.API.CONSUMER.MSG.NEXT.S.m", "inbox.m", R"({"batch":3,"expires":10000000000})"});
  Settle();
  auto got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 2u);
  Ack(got[0], "+ACK");
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].reply.find(".1.3.3."), std::string::npos) << got[0].reply;
}

}  // namespace
}  // namespace sluice::jetstream
