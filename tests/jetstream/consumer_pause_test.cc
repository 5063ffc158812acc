// nats-server 2.11's consumer pause ($JS.API.CONSUMER.PAUSE, config
// pause_until, ADR-48) and ack sampling (sample_freq), through
// JetStreamImpl::HandleApi with the ConsumerTest fixture's ManualClock: the
// resume at the deadline is driven by advancing the clock, never by sleeping.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "consumer_fixture.h"
#include "jetstream/consumer_config.h"
#include "jetstream/wire.h"

namespace sluice::jetstream {
namespace {

using json = nlohmann::json;
using test_support::ConsumerTest;
using test_support::Msg;
using test_support::Recorder;
using test_support::Only;
using test_support::Listen;
using test_support::Deliveries;

constexpr int64_t kSecond = 1'000'000'000;

TEST(ConsumerPauseConfigTest, PauseUntilAndSampleFreqParsing) {
  ConsumerConfig c;
  ASSERT_TRUE(ParseConsumerConfig(json::parse(R"({"pause_until":"2030-01-01T02:00:00.250+02:00"})"), c).ok());
  EXPECT_TRUE(c.has_pause_until);
  EXPECT_EQ(c.pause_until, "2030-01-01T00:00:00.25Z");  // kept in UTC, as nats-server stores it
  EXPECT_EQ(ToJson(c)["pause_until"], "2030-01-01T00:00:00.25Z");
  EXPECT_TRUE(c.PausedAt(c.pause_until_ns - 1));
  EXPECT_FALSE(c.PausedAt(c.pause_until_ns));
  ConsumerConfig none;
  ASSERT_TRUE(ParseConsumerConfig(json::parse(R"({"pause_until":null})"), none).ok());
  EXPECT_FALSE(none.has_pause_until);
  EXPECT_FALSE(ToJson(none).contains("pause_until"));
  ConsumerConfig bad;
  EXPECT_EQ(ParseConsumerConfig(json::parse(R"({"pause_until":"tomorrow"})"), bad).err_code, 10025);
  EXPECT_EQ(ParseConsumerConfig(json::parse(R"({"pause_until":12})"), bad).err_code, 10025);

  auto sampling = [](const std::string& freq) {
    ConsumerConfig x;
    json body = {{"sample_freq", freq}};
    if (ApiError e = ParseConsumerConfig(body, x); !e.ok()) return e;
    NormalizeConsumer(x);
    StreamConfig s;
    s.subjects = {"a.>"};
    return ValidateConsumer(x, s);
  };
  for (const char* ok : {"50%", "50", "0", "100%", "250", "+7"}) EXPECT_TRUE(sampling(ok).ok()) << ok;
  ApiError e = sampling("abc");
  EXPECT_EQ(e.err_code, 10095);
  EXPECT_EQ(e.code, 400);
  EXPECT_EQ(e.description, R"(failed to parse consumer sampling configuration: strconv.Atoi: parsing "abc": invalid syntax)");
  EXPECT_EQ(sampling("-1").description, "failed to parse consumer sampling configuration: <nil>");
  EXPECT_EQ(sampling("%").err_code, 10095);
  EXPECT_EQ(sampling("5%%").err_code, 10095);
  ConsumerConfig p;
  p.sample_freq = "25%";
  EXPECT_EQ(p.SamplePercent(), 25);
}

TEST_F(ConsumerTest, PausedPullConsumerKeepsRequestsAndResumesAtTheDeadline) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  auto adv_sub = Listen(router_, std::make_shared<Recorder>(), "$JS.EVENT.ADVISORY.>");
  Pub("s.a", "one");
  Pub("s.b", "two");
  ASSERT_EQ(Api("CONSUMER.CREATE.S.c", R"({"stream_name":"S","config":{"name":"c","ack_policy":"explicit"}})")["error"],
            nullptr);
  recorder_->TakePublished();
  const int64_t t0 = clock_.NowNs();
  const std::string until = FormatTime(t0 + 10 * kSecond);
  Handle("$JS.API.CONSUMER.PAUSE.S.c", "api.reply", json{{"pause_until", until}}.dump());
  auto sent = recorder_->TakePublished();
  // As nats-server: the advisory goes out with the config change, before the reply.
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].subject, "api.reply");
  json r = json::parse(sent[1].payload);
  EXPECT_EQ(r["type"], "io.nats.jetstream.api.v1.consumer_pause_response");
  EXPECT_EQ(r["paused"], true) << r;
  EXPECT_EQ(r["pause_until"], until);
  EXPECT_EQ(r["pause_remaining"], 10 * kSecond);
  EXPECT_FALSE(r.contains("error"));
  auto adv = Only(sent, "$JS.EVENT.ADVISORY.");
  ASSERT_EQ(adv.size(), 1u);
  EXPECT_EQ(adv[0].subject, "$JS.EVENT.ADVISORY.CONSUMER.PAUSE.S.c");
  json a = json::parse(adv[0].payload);
  EXPECT_EQ(a["type"], "io.nats.jetstream.advisory.v1.consumer_pause");
  EXPECT_EQ(a["stream"], "S");
  EXPECT_EQ(a["consumer"], "c");
  EXPECT_EQ(a["paused"], true);
  EXPECT_EQ(a["pause_until"], until);

  json info = Api("CONSUMER.INFO.S.c", "");
  EXPECT_EQ(info["paused"], true);
  EXPECT_EQ(info["pause_remaining"], 10 * kSecond);
  EXPECT_EQ(info["config"]["pause_until"], until);

  // Requests wait while paused; one that expires meanwhile ends with its 408.
  Next("c", R"({"batch":1,"expires":2000000000})");
  Next("c", R"({"batch":2,"expires":60000000000})");
  EXPECT_TRUE(recorder_->TakeInbox().empty());
  EXPECT_EQ(Api("CONSUMER.INFO.S.c", "")["num_waiting"], 2);
  recorder_->TakePublished();
  clock_.Advance(3 * kSecond);
  Settle();
  EXPECT_TRUE(recorder_->TakeInbox().empty());
  auto got = recorder_->TakePublished();  // status messages go through the Publisher
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].subject, "inbox.1");
  EXPECT_TRUE(got[0].header.starts_with("NATS/1.0 408 Request Timeout")) << got[0].header;
  info = Api("CONSUMER.INFO.S.c", "");
  EXPECT_EQ(info["pause_remaining"], 7 * kSecond);
  EXPECT_EQ(info["num_waiting"], 1);

  // The deadline passes: the resume advisory, then the waiting request is served.
  clock_.Advance(7 * kSecond);
  Settle();
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].payload, "one");
  EXPECT_EQ(got[1].payload, "two");
  adv = Only(recorder_->TakePublished(), "$JS.EVENT.ADVISORY.");
  ASSERT_EQ(adv.size(), 1u);
  a = json::parse(adv[0].payload);
  EXPECT_EQ(a["paused"], false);
  EXPECT_EQ(a["pause_until"], until);
  info = Api("CONSUMER.INFO.S.c", "");
  EXPECT_FALSE(info.contains("paused"));
  EXPECT_FALSE(info.contains("pause_remaining"));
  EXPECT_EQ(info["config"]["pause_until"], until);  // a past deadline stays in the config
}

TEST_F(ConsumerTest, PauseRequestForms) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  Pub("s.a", "one");
  ASSERT_EQ(Api("CONSUMER.CREATE.S.c", R"({"stream_name":"S","config":{"name":"c","ack_policy":"explicit"}})")["error"],
            nullptr);
  auto code = [](const json& r) { return r.contains("error") ? r["error"]["err_code"].get<int>() : 0; };
  const std::string until = FormatTime(clock_.NowNs() + 60 * kSecond);
  const std::string pause = json{{"pause_until", until}}.dump();
  json r = Api("CONSUMER.PAUSE.X.c", pause);
  EXPECT_EQ(code(r), 10059);
  EXPECT_EQ(r["paused"], false);
  EXPECT_EQ(r["pause_until"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(code(Api("CONSUMER.PAUSE.S.nope", pause)), 10014);
  EXPECT_EQ(code(Api("CONSUMER.PAUSE.S.c", "[1]")), 10025);
  EXPECT_EQ(code(Api("CONSUMER.PAUSE.S.c", R"({"pause_until":"soon"})")), 10025);
  EXPECT_EQ(code(Api("CONSUMER.PAUSE.S.c", "{")), 10025);
  EXPECT_EQ(Api("CONSUMER.PAUSE.S.c.extra", pause), nullptr);  // not an API subject: no reply

  ASSERT_EQ(Api("CONSUMER.PAUSE.S.c", pause)["paused"], true);
  Next("c", R"({"batch":1,"expires":60000000000})");
  EXPECT_TRUE(recorder_->TakeInbox().empty());
  // An empty body resumes at once (a body that is not a JSON object does too).
  r = Api("CONSUMER.PAUSE.S.c", "");
  EXPECT_EQ(code(r), 0) << r;
  EXPECT_EQ(r["paused"], false);
  EXPECT_EQ(r["pause_until"], "0001-01-01T00:00:00Z");
  EXPECT_FALSE(r.contains("pause_remaining"));
  Settle();
  auto got = Deliveries(recorder_->TakeInbox());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "one");
  EXPECT_FALSE(Api("CONSUMER.INFO.S.c", "")["config"].contains("pause_until"));
  EXPECT_EQ(Api("CONSUMER.PAUSE.S.c", "not json")["paused"], false);
  EXPECT_EQ(Api("CONSUMER.PAUSE.S.c", R"({"pause_until":null})")["paused"], false);
  // A deadline in the past is kept but does not pause.
  const std::string past = FormatTime(clock_.NowNs() - kSecond);
  r = Api("CONSUMER.PAUSE.S.c", json{{"pause_until", past}}.dump());
  EXPECT_EQ(r["paused"], false);
  EXPECT_EQ(r["pause_until"], past);
  EXPECT_EQ(Api("CONSUMER.INFO.S.c", "")["config"]["pause_until"], past);
}

TEST_F(ConsumerTest, PausedPushConsumerSendsHeartbeatsButNoMessages) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  auto sink = std::make_shared<Recorder>();
  auto sub = Listen(router_, sink, "push.p");
  const std::string until = FormatTime(clock_.NowNs() + 5 * kSecond);
  json created = Api("CONSUMER.CREATE.S.p",
                     json{{"stream_name", "S"},
                          {"config",
                           {{"name", "p"},
                            {"deliver_subject", "push.p"},
                            {"ack_policy", "explicit"},
                            {"idle_heartbeat", kSecond},
                            {"pause_until", until}}}}
                         .dump());
  ASSERT_EQ(created["error"], nullptr) << created;
  EXPECT_EQ(created["paused"], true);
  EXPECT_EQ(created["config"]["pause_until"], until);
  Pub("s.a", "one");
  Settle();
  clock_.Advance(kSecond);
  Settle();
  auto got = sink->TakeInbox();
  ASSERT_FALSE(got.empty());
  for (const auto& m : got) EXPECT_TRUE(m.header.starts_with("NATS/1.0 100 Idle Heartbeat")) << m.payload;
  clock_.Advance(4 * kSecond);
  Settle();
  got = Deliveries(sink->TakeInbox());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "one");
}

TEST_F(ConsumerTest, CreateAndUpdateKeepPauseUntilAndAnnounceIt) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  auto adv_sub = Listen(router_, std::make_shared<Recorder>(), "$JS.EVENT.ADVISORY.CONSUMER.PAUSE.>");
  const std::string until = FormatTime(clock_.NowNs() + 30 * kSecond);
  auto create = [&](const std::string& description, const std::string& pause) {
    json config = {{"durable_name", "d"}, {"ack_policy", "explicit"}, {"description", description}};
    if (!pause.empty()) config["pause_until"] = pause;
    recorder_->TakePublished();
    Handle("$JS.API.CONSUMER.DURABLE.CREATE.S.d", "api.reply", json{{"stream_name", "S"}, {"config", config}}.dump());
    Settle();
    return recorder_->TakePublished();
  };
  auto sent = create("a", until);
  // The reply first, then the PAUSE advisory.
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].subject, "api.reply");
  EXPECT_EQ(sent[1].subject, "$JS.EVENT.ADVISORY.CONSUMER.PAUSE.S.d");
  // An update may not change pause_until: the current deadline stays.
  sent = create("b", FormatTime(clock_.NowNs() + 90 * kSecond));
  ASSERT_EQ(sent.size(), 2u);
  json reply = json::parse(sent[0].payload);
  EXPECT_EQ(reply["config"]["description"], "b");
  EXPECT_EQ(reply["config"]["pause_until"], until);
  EXPECT_EQ(reply["pause_remaining"], 30 * kSecond);
  sent = create("c", "");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(json::parse(sent[0].payload)["config"]["pause_until"], until);
  // Created with a deadline in the past: not paused, no advisory.
  recorder_->TakePublished();
  const std::string past = FormatTime(clock_.NowNs() - kSecond);
  Handle("$JS.API.CONSUMER.DURABLE.CREATE.S.old", "api.reply",
         json{{"stream_name", "S"}, {"config", {{"durable_name", "old"}, {"pause_until", past}}}}.dump());
  Settle();
  sent = recorder_->TakePublished();
  ASSERT_EQ(sent.size(), 1u);
  reply = json::parse(sent[0].payload);
  EXPECT_FALSE(reply.contains("paused"));
  EXPECT_EQ(reply["config"]["pause_until"], past);
}

TEST_F(ConsumerTest, DurablePauseSurvivesRestart) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"]})")["error"], nullptr);
  Pub("s.a", "one");
  js_->dispatcher().Flush();
  ASSERT_EQ(Api("CONSUMER.DURABLE.CREATE.S.d", R"({"stream_name":"S","config":{"durable_name":"d","ack_policy":"explicit"}})")["error"],
            nullptr);
  const std::string until = FormatTime(clock_.NowNs() + 20 * kSecond);
  ASSERT_EQ(Api("CONSUMER.PAUSE.S.d", json{{"pause_until", until}}.dump())["paused"], true);
  js_.reset();
  Start();
  json info = Api("CONSUMER.INFO.S.d", "");
  ASSERT_EQ(info["error"], nullptr) << info;
  EXPECT_EQ(info["paused"], true);
  EXPECT_EQ(info["config"]["pause_until"], until);
  Next("d", R"({"batch":1,"expires":60000000000})");
  EXPECT_TRUE(recorder_->TakeInbox().empty());
  clock_.Advance(20 * kSecond);
  Settle();
  auto got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "one");
  // A resume is saved too.
  ASSERT_EQ(Api("CONSUMER.PAUSE.S.d", json{{"pause_until", FormatTime(clock_.NowNs() + 20 * kSecond)}}.dump())["paused"],
            true);
  ASSERT_EQ(Api("CONSUMER.PAUSE.S.d", "")["paused"], false);
  js_.reset();
  Start();
  info = Api("CONSUMER.INFO.S.d", "");
  EXPECT_FALSE(info.contains("paused"));
  EXPECT_FALSE(info["config"].contains("pause_until"));
}

TEST_F(ConsumerTest, SampleFreqPublishesAckMetrics) {
  ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"],"storage":"memory"})")["error"], nullptr);
  auto metric_sub = Listen(router_, std::make_shared<Recorder>(), "$JS.EVENT.METRIC.>");
  for (int i = 0; i < 3; ++i) Pub("s.a", std::to_string(i));
  json created = Api("CONSUMER.CREATE.S.all",
                     R"({"stream_name":"S","config":{"name":"all","ack_policy":"explicit","sample_freq":"100%"}})");
  ASSERT_EQ(created["error"], nullptr) << created;
  EXPECT_EQ(created["config"]["sample_freq"], "100%");
  EXPECT_EQ(Api("CONSUMER.CREATE.S.x", R"({"stream_name":"S","config":{"name":"x","sample_freq":"often"}})")["error"]["err_code"],
            10095);
  Next("all", R"({"batch":3})");
  auto got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 3u);
  recorder_->TakePublished();
  clock_.Advance(250'000'000);
  Ack(got[1], "+ACK");
  Ack(got[2], "+TERM");  // not sampled
  auto metrics = Only(recorder_->TakePublished(), "$JS.EVENT.METRIC.");
  ASSERT_EQ(metrics.size(), 1u);
  EXPECT_EQ(metrics[0].subject, "$JS.EVENT.METRIC.CONSUMER.ACK.S.all");
  json m = json::parse(metrics[0].payload);
  EXPECT_EQ(m["type"], "io.nats.jetstream.metric.v1.consumer_ack");
  EXPECT_EQ(m["stream"], "S");
  EXPECT_EQ(m["consumer"], "all");
  EXPECT_EQ(m["consumer_seq"], 2);
  EXPECT_EQ(m["stream_seq"], 2);
  EXPECT_EQ(m["ack_time"], 250'000'000);
  EXPECT_EQ(m["deliveries"], 1);
  EXPECT_FALSE(m.contains("domain"));
  // "0": never sampled.
  ASSERT_EQ(Api("CONSUMER.CREATE.S.none", R"({"stream_name":"S","config":{"name":"none","ack_policy":"explicit","sample_freq":"0"}})")["error"],
            nullptr);
  Next("none", R"({"batch":1})");
  got = recorder_->TakeInbox();
  ASSERT_EQ(got.size(), 1u);
  recorder_->TakePublished();
  Ack(got[0], "+ACK");
  EXPECT_TRUE(Only(recorder_->TakePublished(), "$JS.EVENT.METRIC.").empty());
}

}  // namespace
}  // namespace sluice::jetstream
