// End-to-end tests of `sluice consumer …` and `sluice bench js-consume`
// against sluice-server and nats-server, both with JetStream.
#include <gtest/gtest.h>

#include "js_cli_fixture.h"

namespace sluice::testing {
namespace {

using json = nlohmann::json;

class CliConsumerTest : public JsCliTest {
 protected:
  void SetUp() override {
    JsCliTest::SetUp();
    if (HasFatalFailure()) return;
    Ok({"stream", "add", "ORDERS", "--subjects", "orders.>"});
    Ok({"pub", "orders.new", "order {{Count}}", "--count", "5"});
  }
};

TEST_P(CliConsumerTest, PullLifecycle) {
  json info = OkJson({"consumer", "add", "ORDERS", "C1", "--pull", "--filter", "orders.>", "--ack", "explicit",
                      "--wait", "30s", "--max-deliver", "5", "--max-pending", "100", "--max-waiting", "10",
                      "--description", "the first", "--inactive-threshold", "1h"});
  EXPECT_EQ(info["name"], "C1");
  EXPECT_EQ(info["stream_name"], "ORDERS");
  EXPECT_FALSE(info.contains("type"));
  const json& cfg = info["config"];
  EXPECT_EQ(cfg["durable_name"], "C1");
  EXPECT_EQ(cfg["filter_subject"], "orders.>");
  EXPECT_EQ(cfg["ack_policy"], "explicit");
  EXPECT_EQ(cfg["deliver_policy"], "all");
  EXPECT_EQ(cfg["ack_wait"], int64_t{30} * 1000000000);
  EXPECT_EQ(cfg["max_deliver"], 5);
  EXPECT_EQ(cfg["max_ack_pending"], 100);
  EXPECT_EQ(cfg["max_waiting"], 10);
  EXPECT_EQ(cfg["description"], "the first");
  EXPECT_FALSE(cfg.contains("deliver_subject"));
  EXPECT_EQ(info["num_pending"], 5);

  CliResult human = Ok({"consumer", "info", "ORDERS", "C1"});
  EXPECT_TRUE(Contains(human.out, "Consumer C1 of stream ORDERS")) << human.out;
  EXPECT_TRUE(Contains(human.out, "Pull mode: yes")) << human.out;
  EXPECT_TRUE(Contains(human.out, "Filter subject: orders.>")) << human.out;
  EXPECT_TRUE(Contains(human.out, "Unprocessed messages: 5")) << human.out;
  EXPECT_TRUE(Contains(human.out, "Acknowledgment floor: consumer sequence 0 stream sequence 0")) << human.out;

  EXPECT_EQ(OkJson({"consumer", "ls", "ORDERS", "--names"}), json::array({"C1"}));
  json ls = OkJson({"consumer", "ls", "ORDERS"});
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_EQ(ls[0]["name"], "C1");
  CliResult table = Ok({"consumer", "ls", "ORDERS"});
  EXPECT_TRUE(Contains(table.out, "C1")) << table.out;
  EXPECT_TRUE(Contains(table.out, "pull")) << table.out;

  // next: printed like sub, acknowledged.
  CliResult next = Ok({"consumer", "next", "ORDERS", "C1", "--count", "3", "--json"});
  std::vector<json> msgs = JsonLines(next.out);
  ASSERT_EQ(msgs.size(), 3u) << Describe(next);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(msgs[i]["seq"], i + 1);
    EXPECT_EQ(msgs[i]["stream_seq"], i + 1);
    EXPECT_EQ(msgs[i]["subject"], "orders.new");
    EXPECT_EQ(msgs[i]["data"], "order " + std::to_string(i + 1));
    EXPECT_EQ(msgs[i]["delivered"], 1);
    EXPECT_EQ(msgs[i]["pending"], 4 - i);
  }
  info = OkJson({"consumer", "info", "ORDERS", "C1"});
  EXPECT_EQ(info["delivered"]["stream_seq"], 3);
  EXPECT_EQ(info["ack_floor"]["stream_seq"], 3);
  EXPECT_EQ(info["num_ack_pending"], 0);
  EXPECT_EQ(info["num_pending"], 2);

  CliResult one = Ok({"consumer", "next", "ORDERS", "C1", "--no-ack"});
  EXPECT_TRUE(Contains(one.out, "[#1] Received on \"orders.new\"")) << one.out;
  EXPECT_TRUE(Contains(one.out, "stream seq 4")) << one.out;
  EXPECT_TRUE(Contains(one.out, "order 4")) << one.out;
  info = OkJson({"consumer", "info", "ORDERS", "C1"});
  EXPECT_EQ(info["num_ack_pending"], 1);
  EXPECT_EQ(info["ack_floor"]["stream_seq"], 3);

  CliResult raw = Ok({"consumer", "next", "ORDERS", "C1", "--raw"});
  EXPECT_EQ(raw.out, "order 5\n");

  // Nothing left: exit 1 once the pull request expires.
  Fails({"consumer", "next", "ORDERS", "C1", "--timeout", "500ms"}, 1, "no messages from consumer C1");

  // rm asks without -f (stdin is a pipe here: refused).
  Fails({"consumer", "rm", "ORDERS", "C1"}, 1, "--force");
  CliResult rm = Ok({"consumer", "rm", "ORDERS", "C1", "-f"});
  EXPECT_TRUE(Contains(rm.err, "Deleted consumer C1 of stream ORDERS")) << Describe(rm);
  EXPECT_EQ(OkJson({"consumer", "ls", "ORDERS"}), json::array());
  CliResult empty = Ok({"consumer", "ls", "ORDERS"});
  EXPECT_TRUE(Contains(empty.err, "No consumers defined")) << Describe(empty);
}

TEST_P(CliConsumerTest, DeliverPolicies) {
  EXPECT_EQ(OkJson({"consumer", "add", "ORDERS", "LAST", "--deliver", "last"})["config"]["deliver_policy"], "last");
  EXPECT_EQ(OkJson({"consumer", "add", "ORDERS", "NEW", "--deliver", "new"})["config"]["deliver_policy"], "new");
  json lps = OkJson({"consumer", "add", "ORDERS", "LPS", "--deliver", "last-per-subject", "--filter", "orders.*"});
  EXPECT_EQ(lps["config"]["deliver_policy"], "last_per_subject");

  json seq = OkJson({"consumer", "add", "ORDERS", "SEQ", "--deliver", "3", "--ack", "all"});
  EXPECT_EQ(seq["config"]["deliver_policy"], "by_start_sequence");
  EXPECT_EQ(seq["config"]["opt_start_seq"], 3);
  EXPECT_EQ(seq["config"]["ack_policy"], "all");
  std::vector<json> got = JsonLines(Ok({"consumer", "next", "ORDERS", "SEQ", "--json"}).out);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["stream_seq"], 3);

  json since = OkJson({"consumer", "add", "ORDERS", "HOUR", "--deliver", "1h"});
  EXPECT_EQ(since["config"]["deliver_policy"], "by_start_time");
  EXPECT_TRUE(since["config"]["opt_start_time"].is_string());
  EXPECT_EQ(since["num_pending"], 5);  // everything was stored within the hour

  json at = OkJson({"consumer", "add", "ORDERS", "AT", "--deliver", "2001-02-03T04:05:06Z"});
  EXPECT_EQ(at["config"]["deliver_policy"], "by_start_time");

  json none = OkJson({"consumer", "add", "ORDERS", "NOACK", "--ack", "none", "--replay", "instant", "--headers-only"});
  EXPECT_EQ(none["config"]["ack_policy"], "none");
  EXPECT_EQ(none["config"]["headers_only"], true);

  json backoff = OkJson({"consumer", "add", "ORDERS", "BACK", "--backoff", "1s,5s", "--max-deliver", "4"});
  EXPECT_EQ(backoff["config"]["backoff"], json::array({int64_t{1000000000}, int64_t{5000000000}}));
  CliResult human = Ok({"consumer", "info", "ORDERS", "BACK"});
  EXPECT_TRUE(Contains(human.out, "Backoff: 1s, 5s")) << human.out;

  EXPECT_EQ(OkJson({"consumer", "ls", "ORDERS", "--names"}).size(), 8u);
}

TEST_P(CliConsumerTest, Ephemeral) {
  json info = OkJson({"consumer", "add", "ORDERS", "--inactive-threshold", "1m", "--filter", "orders.new"});
  std::string name = info["name"];
  EXPECT_FALSE(name.empty());
  EXPECT_FALSE(info["config"].contains("durable_name"));
  EXPECT_EQ(info["config"]["inactive_threshold"], int64_t{60} * 1000000000);
  std::vector<json> got = JsonLines(Ok({"consumer", "next", "ORDERS", name, "--count", "5", "--json"}).out);
  EXPECT_EQ(got.size(), 5u);
}

TEST_P(CliConsumerTest, PushConsumer) {
  CliResult r = Run({"consumer", "add", "ORDERS", "P1", "--target", "deliver.p1", "--deliver-group", "workers",
                     "--heartbeat", "5s", "--flow-control", "--json"});
  if (IsSluice() && PushUnsupported(r)) GTEST_SKIP() << "push consumers are not built in Sluice yet: " << r.err;
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  json info = json::parse(r.out);
  EXPECT_EQ(info["config"]["deliver_subject"], "deliver.p1");
  EXPECT_EQ(info["config"]["deliver_group"], "workers");
  EXPECT_EQ(info["config"]["idle_heartbeat"], int64_t{5} * 1000000000);
  EXPECT_EQ(info["config"]["flow_control"], true);
  CliResult human = Ok({"consumer", "info", "ORDERS", "P1"});
  EXPECT_TRUE(Contains(human.out, "Delivery subject: deliver.p1")) << human.out;
  EXPECT_TRUE(Contains(human.out, "Deliver group: workers")) << human.out;
  Fails({"consumer", "next", "ORDERS", "P1"}, 1, "is a push consumer");
}

TEST_P(CliConsumerTest, SeveralFilters) {
  Ok({"pub", "orders.old", "x"});
  CliResult r = Run({"consumer", "add", "ORDERS", "MULTI", "--filter", "orders.new", "--filter", "orders.old", "--json"});
  if (!IsSluice()) {
    // nats-server 2.9.10 ignores filter_subjects: the CLI says so and removes the consumer.
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_TRUE(Contains(r.err, "several --filter")) << Describe(r);
    EXPECT_EQ(OkJson({"consumer", "ls", "ORDERS", "--names"}), json::array());
    return;
  }
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  json info = json::parse(r.out);
  EXPECT_EQ(info["config"]["filter_subjects"], json::array({"orders.new", "orders.old"}));
  EXPECT_EQ(info["num_pending"], 6);
  CliResult human = Ok({"consumer", "info", "ORDERS", "MULTI"});
  EXPECT_TRUE(Contains(human.out, "Filter subjects: orders.new, orders.old")) << human.out;
}

TEST_P(CliConsumerTest, Errors) {
  Fails({"consumer", "info", "NOPE", "C"}, 1, "stream not found (10059)");
  Fails({"consumer", "add", "NOPE", "C"}, 1, "stream not found (10059)");
  Fails({"consumer", "ls", "NOPE"}, 1, "stream not found (10059)");
  Fails({"consumer", "info", "ORDERS", "NOPE"}, 1, "consumer not found (10014)");
  Fails({"consumer", "next", "ORDERS", "NOPE"}, 1, "consumer not found (10014)");
  Fails({"consumer", "rm", "ORDERS", "NOPE", "-f"}, 1, "consumer not found (10014)");
  // The server's own judgement reaches the user with its code. (More backoff
  // values than deliveries: refused by 2.9.10 and 2.11 alike; 2.9.10 also
  // refuses as many values as deliveries, 2.11 does not.)
  Fails({"consumer", "add", "ORDERS", "B", "--backoff", "1s,2s,3s", "--max-deliver", "2"}, 1, "(10116)");
  Fails({"consumer", "add", "ORDERS", "F", "--filter", "elsewhere.>"}, 1, "(100");

  // Usage errors: exit 2 before talking to the server.
  for (auto args : std::vector<std::vector<std::string>>{
           {"consumer"},
           {"consumer", "add"},
           {"consumer", "info", "ORDERS"},
           {"consumer", "rm", "ORDERS"},
           {"consumer", "next", "ORDERS"},
           {"consumer", "add", "ORDERS", "C", "--wait", "soon"},
           {"consumer", "add", "ORDERS", "C", "--backoff", "1s,later"},
           {"consumer", "add", "ORDERS", "C", "--inactive-threshold", "x"},
           {"consumer", "add", "ORDERS", "C", "--deliver", "sometime"},
           {"consumer", "add", "ORDERS", "C", "--deliver", "0"},
           {"consumer", "add", "ORDERS", "C", "--ack", "maybe"},
           {"consumer", "add", "ORDERS", "C", "--replay", "slow"},
           {"consumer", "add", "ORDERS", "C", "--pull", "--target", "x"},
           {"consumer", "add", "ORDERS", "C", "--heartbeat", "5s"},
           {"consumer", "add", "ORDERS", "C", "--target", "x", "--flow-control"},
           {"consumer", "add", "ORDERS", "a.b"},
           {"consumer", "next", "ORDERS", "C", "--count", "0"}}) {
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
  }
  EXPECT_EQ(OkJson({"consumer", "ls", "ORDERS"}), json::array());
}

TEST_P(CliConsumerTest, BenchJsConsumePull) {
  json pull = OkJson({"bench", "js-consume", "BENCH", "--seed", "--msgs", "2000", "--size", "64", "--batch", "100",
                      "--no-progress"});
  EXPECT_EQ(pull["mode"], "pull");
  EXPECT_EQ(pull["ack"], "explicit");
  EXPECT_EQ(pull["consume"]["msgs"], 2000);
  EXPECT_EQ(pull["consume"]["bytes"], 2000 * 64);
  EXPECT_EQ(pull["fetch_latency_us"]["samples"], 20);
  for (const char* p : {"p50", "p90", "p99"}) EXPECT_TRUE(pull["fetch_latency_us"][p].is_number()) << p;
  // The stream it created is gone again.
  EXPECT_EQ(OkJson({"stream", "ls", "--names"}), json::array({"ORDERS"}));

  // An existing stream with enough messages, a named consumer kept afterwards.
  CliResult human = Ok({"bench", "js-consume", "ORDERS", "--msgs", "5", "--consumer", "BC", "--keep", "--ack", "none",
                        "--no-progress"});
  EXPECT_TRUE(Contains(human.out, "JS consume:")) << Describe(human);
  EXPECT_TRUE(Contains(human.out, "msgs/s")) << Describe(human);
  EXPECT_TRUE(Contains(human.out, "Fetch latency:")) << Describe(human);
  EXPECT_EQ(OkJson({"consumer", "ls", "ORDERS", "--names"}), json::array({"BC"}));

  Fails({"bench", "js-consume", "ORDERS", "--msgs", "50", "--no-progress"}, 1, "fewer than --msgs");
  Fails({"bench", "js-consume", "NOPE", "--msgs", "5", "--no-progress"}, 1, "stream not found (10059)");
  CliResult both = Run({"bench", "js-consume", "ORDERS", "--pull", "--push"});
  EXPECT_EQ(both.exit_code, 2) << Describe(both);
}

TEST_P(CliConsumerTest, BenchJsConsumePush) {
  CliResult r = Run({"bench", "js-consume", "PBENCH", "--seed", "--msgs", "2000", "--push", "--no-progress", "--json"});
  if (IsSluice() && PushUnsupported(r)) GTEST_SKIP() << "push consumers are not built in Sluice yet: " << r.err;
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  json push = json::parse(r.out);
  EXPECT_EQ(push["mode"], "push");
  EXPECT_EQ(push["consume"]["msgs"], 2000);
  EXPECT_FALSE(push.contains("fetch_latency_us"));
}

INSTANTIATE_TEST_SUITE_P(Servers, CliConsumerTest, ::testing::Values(ServerKind::kSluice, ServerKind::kNatsServer),
                         ServerParamName);

}  // namespace
}  // namespace sluice::testing
