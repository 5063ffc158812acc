// End-to-end tests of the `sluice` CLI against sluice-server and nats-server.
// Every CLI run is a real child process; tests wait for what it prints
// ("Subscribing on", "Listening on", output lines), never for a fixed time.
#include <gtest/gtest.h>
#include <signal.h>

#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli_process.h"
#include "server_process.h"

namespace sluice::testing {
namespace {

using json = nlohmann::json;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::string Describe(const CliResult& r) {
  return "exit " + std::to_string(r.exit_code) + (r.timed_out ? " (timed out)" : "") + "\n--- stdout:\n" + r.out +
         "--- stderr:\n" + r.err;
}

class CliTest : public ::testing::TestWithParam<ServerKind> {
 protected:
  void SetUp() override { StartServer({}); }

  void StartServer(std::vector<std::string> extra) {
    server_.reset();
    server_ = ServerProcess::Start(GetParam(), std::move(extra));
    ASSERT_TRUE(server_) << "could not start " << ServerKindName(GetParam());
  }

  // args with "-s <server url>" in front.
  std::vector<std::string> S(std::vector<std::string> args) const {
    args.insert(args.begin(), {"-s", server_->url()});
    return args;
  }

  // Starts `sluice sub ...` and waits until it is subscribed.
  std::unique_ptr<CliProcess> StartSub(std::vector<std::string> args, const CliProcess::Env& env = {}) {
    auto sub = CliProcess::Start(args, env);
    EXPECT_TRUE(sub);
    if (sub) {
      EXPECT_TRUE(sub->WaitForStderr("Subscribing on")) << sub->err();
    }
    return sub;
  }

  std::unique_ptr<ServerProcess> server_;
};

TEST_P(CliTest, PubThenSubReceives) {
  auto sub = StartSub(S({"sub", "greet", "--count", "2", "--raw"}));
  CliResult pub = RunCli(S({"pub", "greet", "hello", "--count", "2"}));
  EXPECT_EQ(pub.exit_code, 0) << Describe(pub);
  EXPECT_NE(pub.err.find("Published 2 messages"), std::string::npos) << Describe(pub);
  CliResult r = sub->Wait();
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "hello\nhello\n");
}

TEST_P(CliTest, HumanOutputShowsSubjectHeadersAndBody) {
  auto sub = StartSub(S({"sub", "news.*", "--count", "1"}));
  CliResult pub = RunCli(S({"pub", "news.today", "the body", "-H", "X-Kind:daily"}));
  ASSERT_EQ(pub.exit_code, 0) << Describe(pub);
  CliResult r = sub->Wait();
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("[#1] Received on \"news.today\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("X-Kind: daily"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the body"), std::string::npos) << r.out;
}

TEST_P(CliTest, HeadersOnlyLeavesOutTheBody) {
  auto sub = StartSub(S({"sub", "h", "--count", "1", "--headers-only"}));
  ASSERT_EQ(RunCli(S({"pub", "h", "secret body", "--header", "A:1"})).exit_code, 0);
  CliResult r = sub->Wait();
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("A: 1"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("secret body"), std::string::npos) << r.out;
}

TEST_P(CliTest, JsonSubPrintsOneObjectPerMessage) {
  auto sub = StartSub(S({"sub", "j", "--count", "3", "--json"}));
  CliResult pub = RunCli(S({"pub", "j", "m{{Count}}", "--count", "3", "-H", "K:v{{Count}}", "--json"}));
  ASSERT_EQ(pub.exit_code, 0) << Describe(pub);
  json summary = json::parse(pub.out);
  EXPECT_EQ(summary["messages"], 3);
  EXPECT_EQ(summary["subject"], "j");
  CliResult r = sub->Wait();
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  for (int i = 0; i < 3; ++i) {
    json m = json::parse(lines[i]);
    const std::string n = std::to_string(i + 1);
    EXPECT_EQ(m["seq"], i + 1);
    EXPECT_EQ(m["subject"], "j");
    EXPECT_EQ(m["data"], "m" + n);
    EXPECT_EQ(m["size"], 2);
    EXPECT_EQ(m["headers"]["K"], json::array({"v" + n}));
  }
}

TEST_P(CliTest, TemplatesExpand) {
  auto sub = StartSub(S({"sub", "t", "--count", "3", "--raw"}));
  CliResult pub = RunCli(S({"pub", "t", "n={{Count}} r={{Random(4,4)}} s={{ Random 2 3 }} id={{ID}} t={{Time}} u={{Unix}}",
                            "--count", "3"}));
  ASSERT_EQ(pub.exit_code, 0) << Describe(pub);
  CliResult r = sub->Wait();
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  std::regex shape(R"(n=(\d+) r=[A-Za-z0-9]{4} s=[A-Za-z0-9]{2,3} id=[A-Za-z0-9]{22} t=\d{1,2}:\d\d[AP]M u=\d{10,})");
  for (int i = 0; i < 3; ++i) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(lines[i], m, shape)) << lines[i];
    EXPECT_EQ(m[1], std::to_string(i + 1));
  }
}

TEST_P(CliTest, SizeGivesARandomBodyOfThatLength) {
  auto sub = StartSub(S({"sub", "sz", "--count", "1", "--json"}));
  ASSERT_EQ(RunCli(S({"pub", "sz", "--size", "300"})).exit_code, 0);
  CliResult r = sub->Wait();
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(json::parse(Lines(r.out).at(0))["size"], 300);
}

TEST_P(CliTest, BodyFromStdin) {
  auto sub = StartSub(S({"sub", "in", "--count", "1", "--raw"}));
  auto pub = CliProcess::Start(S({"pub", "in"}), {}, "from stdin");
  ASSERT_TRUE(pub);
  EXPECT_EQ(pub->Wait().exit_code, 0) << pub->err();
  EXPECT_EQ(sub->Wait().out, "from stdin\n");
}

TEST_P(CliTest, QueueGroupGivesEachMessageToOneMember) {
  auto a = StartSub(S({"sub", "work", "--queue", "workers", "--json"}));
  auto b = StartSub(S({"sub", "work", "--queue", "workers", "--json"}));
  auto all = StartSub(S({"sub", "work", "--count", "20", "--raw"}));  // not in the group: gets every message
  ASSERT_EQ(RunCli(S({"pub", "work", "job {{Count}}", "--count", "20"})).exit_code, 0);
  CliResult every = all->Wait();
  ASSERT_EQ(every.exit_code, 0) << Describe(every);
  ASSERT_EQ(Lines(every.out).size(), 20u);
  // Wait until the two members have printed 20 messages between them.
  for (int rounds = 0; rounds < 200; ++rounds) {
    size_t total = Lines(a->out()).size() + Lines(b->out()).size();
    if (total >= 20) break;
    a->WaitForStdoutLines(Lines(a->out()).size() + 1, std::chrono::milliseconds(100));
  }
  a->Signal(SIGTERM);
  b->Signal(SIGTERM);
  CliResult ra = a->Wait(), rb = b->Wait();
  EXPECT_EQ(ra.exit_code, 0) << Describe(ra);
  EXPECT_EQ(rb.exit_code, 0) << Describe(rb);
  std::multiset<std::string> bodies;
  for (const auto* r : {&ra, &rb}) {
    for (const auto& line : Lines(r->out)) bodies.insert(json::parse(line)["data"].get<std::string>());
  }
  EXPECT_EQ(bodies.size(), 20u) << "a:\n" << ra.out << "b:\n" << rb.out;
  for (int i = 1; i <= 20; ++i) EXPECT_EQ(bodies.count("job " + std::to_string(i)), 1u) << i;
}

TEST_P(CliTest, SubStopsCleanlyOnSigterm) {
  auto sub = StartSub(S({"sub", "forever"}));
  sub->Signal(SIGTERM);
  CliResult r = sub->Wait();
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
}

TEST_P(CliTest, RequestReplyRoundTrip) {
  auto reply = CliProcess::Start(S({"reply", "svc", "pong {{Count}}: {{Request}}", "--count", "2"}));
  ASSERT_TRUE(reply);
  ASSERT_TRUE(reply->WaitForStderr("Listening on")) << reply->err();

  CliResult r1 = RunCli(S({"req", "svc", "ping"}));
  EXPECT_EQ(r1.exit_code, 0) << Describe(r1);
  EXPECT_EQ(r1.out, "pong 1: ping\n");
  EXPECT_NE(r1.err.find("Received with rtt"), std::string::npos) << r1.err;

  CliResult r2 = RunCli(S({"--json", "req", "svc", "hi", "-H", "Trace:abc"}));
  ASSERT_EQ(r2.exit_code, 0) << Describe(r2);
  json j = json::parse(r2.out);
  EXPECT_EQ(j["data"], "pong 2: hi");
  EXPECT_GE(j["rtt_ns"].get<int64_t>(), 0);

  CliResult rr = reply->Wait();
  EXPECT_EQ(rr.exit_code, 0) << Describe(rr);
  EXPECT_NE(rr.out.find("Received on \"svc\""), std::string::npos) << rr.out;
  EXPECT_NE(rr.out.find("Trace: abc"), std::string::npos) << rr.out;
}

TEST_P(CliTest, QueueGroupReplies) {
  auto reply = CliProcess::Start(S({"reply", "qsvc", "ok", "--queue", "q", "--count", "1"}));
  ASSERT_TRUE(reply);
  ASSERT_TRUE(reply->WaitForStderr("Listening on \"qsvc\" in group \"q\"")) << reply->err();
  CliResult r = RunCli(S({"req", "qsvc", "--raw"}));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "ok\n");
  EXPECT_EQ(reply->Wait().exit_code, 0);
}

TEST_P(CliTest, RequestWithoutRespondersFails) {
  CliResult r = RunCli(S({"req", "nobody.home", "x"}));
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find("no responders"), std::string::npos) << r.err;
}

TEST_P(CliTest, RequestTimesOutWhenNobodyAnswers) {
  auto sub = StartSub(S({"sub", "silent", "--count", "1"}));  // listens, never answers
  CliResult r = RunCli(S({"req", "silent", "x", "--timeout", "300ms"}));
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find("no reply on \"silent\""), std::string::npos) << r.err;
  EXPECT_EQ(sub->Wait().exit_code, 0);
}

TEST_P(CliTest, BenchPubSubJsonSummary) {
  CliResult r = RunCli(S({"bench", "pubsub", "b", "--msgs", "2000", "--size", "32", "--pub", "2", "--sub", "2",
                          "--json"}));
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  json j = json::parse(r.out);
  EXPECT_EQ(j["bench"], "pubsub");
  EXPECT_EQ(j["pub"]["msgs"], 2000);
  EXPECT_EQ(j["pub"]["bytes"], 2000 * 32);
  EXPECT_EQ(j["pub"]["clients"].size(), 2u);
  EXPECT_EQ(j["sub"]["msgs"], 4000);
  EXPECT_EQ(j["sub"]["clients"].size(), 2u);
  EXPECT_GT(j["pub"]["msgs_per_sec"].get<double>(), 0);
  EXPECT_GT(j["sub"]["mb_per_sec"].get<double>(), 0);
}

TEST_P(CliTest, BenchPubPrintsRates) {
  CliResult r = RunCli(S({"bench", "pub", "bp", "--msgs", "5000", "--no-progress"}));
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("Pub:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("msgs/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MB/s"), std::string::npos) << r.out;
  // stderr is a pipe here, not a terminal: no progress line, so no carriage returns.
  CliResult again = RunCli(S({"bench", "pub", "bp", "--msgs", "5000"}));
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_EQ(again.err.find('\r'), std::string::npos) << again.err;
}

TEST_P(CliTest, GlobalFlagsMayFollowTheSubcommand) {
  auto sub = StartSub({"sub", "late", "--count", "1", "-s", server_->url(), "--json"});
  CliResult pub = RunCli({"pub", "late", "x", "--server", server_->url(), "--timeout", "10s"});
  EXPECT_EQ(pub.exit_code, 0) << Describe(pub);
  CliResult r = sub->Wait();
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(json::parse(r.out)["data"], "x");
}

TEST_P(CliTest, BenchSubReceivesFromBenchPub) {
  auto sub = CliProcess::Start(S({"bench", "sub", "bs", "--msgs", "3000", "--sub", "2"}));
  ASSERT_TRUE(sub);
  ASSERT_TRUE(sub->WaitForStderr("Subscribing on")) << sub->err();
  CliResult pub = RunCli(S({"bench", "pub", "bs", "--msgs", "3000", "--pub", "3"}));
  ASSERT_EQ(pub.exit_code, 0) << Describe(pub);
  CliResult r = sub->Wait();
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("Sub:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("6,000 msgs"), std::string::npos) << r.out;
}

TEST_P(CliTest, BenchReqReportsLatencyPercentiles) {
  CliResult r = RunCli(S({"bench", "req", "br", "--msgs", "300", "--size", "16"}));
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  for (const char* word : {"Req:", "msgs/s", "Latency:", "p50", "p90", "p99 ", "p99.9"}) {
    EXPECT_NE(r.out.find(word), std::string::npos) << word << "\n" << r.out;
  }
  CliResult rj = RunCli(S({"--json", "bench", "req", "br", "--msgs", "100", "--pub", "2", "--sub", "2"}));
  ASSERT_EQ(rj.exit_code, 0) << Describe(rj);
  json j = json::parse(rj.out);
  EXPECT_EQ(j["req"]["msgs"], 100);
  EXPECT_EQ(j["latency_us"]["samples"], 100);
  const auto& l = j["latency_us"];
  EXPECT_LE(l["min"].get<double>(), l["p50"].get<double>());
  EXPECT_LE(l["p50"].get<double>(), l["p90"].get<double>());
  EXPECT_LE(l["p90"].get<double>(), l["p99"].get<double>());
  EXPECT_LE(l["p99"].get<double>(), l["p99_9"].get<double>());
  EXPECT_LE(l["p99_9"].get<double>(), l["max"].get<double>());
}

TEST_P(CliTest, BenchReqUsesRunningResponders) {
  auto reply = CliProcess::Start(S({"reply", "ext", "r", "--count", "50"}));
  ASSERT_TRUE(reply);
  ASSERT_TRUE(reply->WaitForStderr("Listening on")) << reply->err();
  CliResult r = RunCli(S({"bench", "req", "ext", "--msgs", "50", "--sub", "0"}));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(reply->Wait().exit_code, 0);
}

TEST_P(CliTest, NatsUrlIsHonoured) {
  CliProcess::Env env{{"NATS_URL", server_->url()}};
  auto sub = StartSub({"sub", "env", "--count", "1", "--raw"}, env);
  CliResult pub = RunCli({"pub", "env", "via NATS_URL"}, env);
  EXPECT_EQ(pub.exit_code, 0) << Describe(pub);
  EXPECT_EQ(sub->Wait().out, "via NATS_URL\n");

  // -s wins over NATS_URL.
  CliProcess::Env bad{{"NATS_URL", "nats://127.0.0.1:" + std::to_string(FreeLoopbackPort())}};
  EXPECT_EQ(RunCli(S({"pub", "env", "x"}), bad).exit_code, 0);
  CliResult unreachable = RunCli({"pub", "env", "x"}, bad);
  EXPECT_EQ(unreachable.exit_code, 1) << Describe(unreachable);
}

TEST_P(CliTest, UserAndPassword) {
  StartServer({"--user", "a", "--pass", "b"});
  CliResult denied = RunCli(S({"pub", "secure", "x"}));
  EXPECT_EQ(denied.exit_code, 1) << Describe(denied);
  EXPECT_NE(denied.err.find("Authorization Violation"), std::string::npos) << denied.err;
  CliResult wrong = RunCli(S({"pub", "secure", "x", "--user", "a", "--password", "nope"}));
  EXPECT_EQ(wrong.exit_code, 1) << Describe(wrong);

  auto sub = StartSub(S({"--user", "a", "--password", "b", "sub", "secure", "--count", "1", "--raw"}));
  CliResult pub = RunCli(S({"pub", "secure", "let me in", "--user", "a", "--password", "b"}));
  EXPECT_EQ(pub.exit_code, 0) << Describe(pub);
  EXPECT_EQ(sub->Wait().out, "let me in\n");
  // The same credentials from the environment.
  CliResult env_pub = RunCli(S({"pub", "secure", "x"}), {{"NATS_USER", "a"}, {"NATS_PASSWORD", "b"}});
  EXPECT_EQ(env_pub.exit_code, 0) << Describe(env_pub);
}

TEST_P(CliTest, Token) {
  StartServer({"--auth", "s3cret"});
  CliResult denied = RunCli(S({"pub", "t", "x", "--token", "wrong"}));
  EXPECT_EQ(denied.exit_code, 1) << Describe(denied);
  CliResult ok = RunCli(S({"pub", "t", "x", "--token", "s3cret"}));
  EXPECT_EQ(ok.exit_code, 0) << Describe(ok);
}

TEST_P(CliTest, ServerInfoAndCheckFromTheMonitoringPort) {
  const int monitor_port = FreeLoopbackPort();
  StartServer({"-m", std::to_string(monitor_port)});
  const std::string monitor = "http://127.0.0.1:" + std::to_string(monitor_port);

  CliResult check = RunCli({"server", "check", "--monitor", monitor});
  if (GetParam() == ServerKind::kSluice && check.err.find("cannot connect") != std::string::npos) {
    GTEST_SKIP() << "sluice-server does not serve the monitoring port yet";
  }
  EXPECT_EQ(check.exit_code, 0) << Describe(check);
  EXPECT_EQ(check.out, "OK: " + monitor + "/healthz: status ok\n");

  CliResult check_json = RunCli({"--json", "server", "check", "--monitor", monitor});
  ASSERT_EQ(check_json.exit_code, 0) << Describe(check_json);
  EXPECT_EQ(json::parse(check_json.out)["healthy"], true);

  CliResult info = RunCli({"server", "info", "--monitor", monitor});
  EXPECT_EQ(info.exit_code, 0) << Describe(info);
  EXPECT_NE(info.out.find("Server information for"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("Version:"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("Connections:"), std::string::npos) << info.out;

  CliResult info_json = RunCli({"server", "info", "--monitor", monitor, "--json"});
  ASSERT_EQ(info_json.exit_code, 0) << Describe(info_json);
  json varz = json::parse(info_json.out);
  EXPECT_TRUE(varz.contains("server_id")) << info_json.out;
  EXPECT_EQ(varz["port"], server_->port());
}

INSTANTIATE_TEST_SUITE_P(Servers, CliTest, ::testing::Values(ServerKind::kSluice, ServerKind::kNatsServer),
                         [](const auto& info) { return info.param == ServerKind::kSluice ? "sluice" : "nats_server"; });

// --- without a server ---

TEST(CliUsage, BadFlagsExitTwoWithAMessage) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const Case cases[] = {
      {{}, "A subcommand is required"},
      {{"--nope", "pub", "x"}, "--nope"},
      {{"pub"}, "subject is required"},
      {{"pub", "x", "--count", "abc"}, "--count"},
      {{"pub", "x", "--count", "0"}, "--count"},
      {{"--timeout", "soon", "pub", "x"}, "invalid duration"},
      {{"pub", "x", "--sleep", "-1s"}, "invalid duration"},
      {{"pub", "x", "{{Nope}}"}, "unknown function"},
      {{"pub", "x", "{{Count"}, "not closed"},
      {{"pub", "x", "body", "--size", "3"}, "not both"},
      {{"pub", "x", "y", "-H", "novalue"}, "Key:Value"},
      {{"pub", "a b", "y"}, "invalid subject"},
      {{"sub", "a..b"}, "invalid subject"},
      {{"req", ""}, "invalid subject"},
      {{"bench"}, "choose one of: pub, sub, pubsub, req"},
      {{"bench", "fast", "x"}, "fast"},
      {{"server"}, "choose one of: info, check"},
      {{"server", "status"}, "status"},
      {{"stream"}, "choose one of: add, ls, info, rm, purge, get"},
      {{"stream", "add"}, "name is required"},
      {{"bench", "js-pub", "x", "--outstanding", "0"}, "--outstanding"},
      {{"server", "check", "--monitor", "https://127.0.0.1:1"}, "https"},
  };
  for (const auto& c : cases) {
    CliResult r = RunCli(c.args);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_NE(r.err.find(c.message), std::string::npos) << "expected \"" << c.message << "\" in\n" << Describe(r);
  }
}

TEST(CliUsage, HelpExitsZero) {
  CliResult r = RunCli({"--help"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  for (const char* word : {"pub", "sub", "req", "reply", "bench", "server", "stream", "--server", "NATS_URL", "--json"}) {
    EXPECT_NE(r.out.find(word), std::string::npos) << word;
  }
}

TEST(CliUsage, UnreachableServerExitsOne) {
  const std::string url = "nats://127.0.0.1:" + std::to_string(FreeLoopbackPort());
  CliResult r = RunCli({"-s", url, "pub", "x", "y"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find("cannot connect to " + url), std::string::npos) << r.err;

  CliResult m = RunCli({"server", "check", "--monitor", "http://127.0.0.1:" + std::to_string(FreeLoopbackPort())});
  EXPECT_EQ(m.exit_code, 1) << Describe(m);
  EXPECT_NE(m.err.find("cannot connect"), std::string::npos) << m.err;
}

}  // namespace
}  // namespace sluice::testing
