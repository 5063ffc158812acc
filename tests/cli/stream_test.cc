// End-to-end tests of `sluice stream …` and `sluice bench js-pub` against
// sluice-server and nats-server, both with JetStream (-js -sd <temp dir>).
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>

#include <nlohmann/json.hpp>

#include "cli_process.h"
#include "server_process.h"

namespace sluice::testing {
namespace {

using json = nlohmann::json;

std::string Describe(const CliResult& r) {
  return "exit " + std::to_string(r.exit_code) + (r.timed_out ? " (timed out)" : "") + "\n--- stdout:\n" + r.out +
         "--- stderr:\n" + r.err;
}

bool Contains(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

// Runs the CLI on a pseudo-terminal (so stdin is a terminal), answers
// `answer` once "[y/N]" appears, and returns the exit code and everything it
// wrote (stdout and stderr together, as the terminal shows them).
struct TtyResult {
  int exit_code = -1;
  std::string output;
};

TtyResult RunOnTerminal(const std::vector<std::string>& args, const std::string& answer) {
  TtyResult result;
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  if (pid < 0) return result;
  if (pid == 0) {
    std::vector<std::string> argv_s = {CliBinary()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool answered = false;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{master, POLLIN, 0};
    if (poll(&p, 1, 1000) <= 0) continue;
    char buf[4096];
    ssize_t n = read(master, buf, sizeof(buf));
    if (n <= 0) break;  // EIO once the child has exited and closed the terminal
    result.output.append(buf, static_cast<size_t>(n));
    if (!answered && result.output.find("[y/N]") != std::string::npos) {
      std::string line = answer + "\n";
      EXPECT_EQ(write(master, line.data(), line.size()), static_cast<ssize_t>(line.size()));
      answered = true;
    }
  }
  close(master);
  int status = 0;
  if (std::chrono::steady_clock::now() >= deadline) kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class CliStreamTest : public ::testing::TestWithParam<ServerKind> {
 protected:
  void SetUp() override {
    server_ = ServerProcess::Start(GetParam(), {"-js", "-sd", "{tmp}"});
    ASSERT_TRUE(server_) << "could not start " << ServerKindName(GetParam());
  }

  CliResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"-s", server_->url()});
    return RunCli(args);
  }

  // Runs and expects exit 0.
  CliResult Ok(std::vector<std::string> args) {
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return r;
  }

  json OkJson(std::vector<std::string> args) {
    args.push_back("--json");
    CliResult r = Ok(args);
    json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << Describe(r);
    return j;
  }

  std::unique_ptr<ServerProcess> server_;
};

TEST_P(CliStreamTest, Lifecycle) {
  CliResult add = Ok({"stream", "add", "ORDERS", "--subjects", "orders.*,returns.>", "--max-age", "1h", "--max-bytes",
                      "1GB", "--max-msgs-per-subject", "100", "--dupe-window", "30s", "--description", "the orders"});
  EXPECT_TRUE(Contains(add.out, "Stream ORDERS")) << add.out;
  EXPECT_TRUE(Contains(add.out, "orders.*, returns.>")) << add.out;
  EXPECT_TRUE(Contains(add.out, "Maximum age: 1h")) << add.out;
  EXPECT_TRUE(Contains(add.out, "Maximum bytes: 1.0 GiB")) << add.out;

  CliResult ls = Ok({"stream", "ls"});
  EXPECT_TRUE(Contains(ls.out, "ORDERS")) << ls.out;
  EXPECT_TRUE(Contains(ls.out, "orders.*, returns.>")) << ls.out;
  EXPECT_EQ(Ok({"stream", "ls", "--names"}).out, "ORDERS\n");
  json ls_json = OkJson({"stream", "ls"});
  ASSERT_TRUE(ls_json.is_array());
  ASSERT_EQ(ls_json.size(), 1u);
  EXPECT_EQ(ls_json[0]["config"]["name"], "ORDERS");
  EXPECT_EQ(OkJson({"stream", "ls", "--names"}), json::array({"ORDERS"}));
  EXPECT_EQ(OkJson({"stream", "ls", "--subject", "other.x"}), json::array());
  EXPECT_EQ(OkJson({"stream", "ls", "--subject", "orders.new"}).size(), 1u);

  json info = OkJson({"stream", "info", "ORDERS"});
  const json& cfg = info["config"];
  EXPECT_EQ(cfg["name"], "ORDERS");
  EXPECT_EQ(cfg["subjects"], json::array({"orders.*", "returns.>"}));
  EXPECT_EQ(cfg["storage"], "file");
  EXPECT_EQ(cfg["retention"], "limits");
  EXPECT_EQ(cfg["discard"], "old");
  EXPECT_EQ(cfg["max_age"], int64_t{3600} * 1000000000);
  EXPECT_EQ(cfg["max_bytes"], int64_t{1} << 30);
  EXPECT_EQ(cfg["max_msgs"], -1);
  EXPECT_EQ(cfg["max_msgs_per_subject"], 100);
  EXPECT_EQ(cfg["duplicate_window"], int64_t{30} * 1000000000);
  EXPECT_EQ(cfg["description"], "the orders");
  EXPECT_EQ(cfg["num_replicas"], 1);
  EXPECT_EQ(info["state"]["messages"], 0);
  EXPECT_FALSE(info.contains("type"));

  Ok({"pub", "orders.new", "order {{Count}}", "--count", "10", "-H", "X-Kind:test"});
  info = OkJson({"stream", "info", "ORDERS"});
  EXPECT_EQ(info["state"]["messages"], 10);
  EXPECT_EQ(info["state"]["last_seq"], 10);
  CliResult human = Ok({"stream", "info", "ORDERS"});
  EXPECT_TRUE(Contains(human.out, "Messages: 10")) << human.out;
  EXPECT_TRUE(Contains(human.out, "Last sequence: 10 @")) << human.out;

  CliResult get = Ok({"stream", "get", "ORDERS", "3"});
  EXPECT_TRUE(Contains(get.out, "message 3 on subject \"orders.new\"")) << get.out;
  EXPECT_TRUE(Contains(get.out, "X-Kind: test")) << get.out;
  EXPECT_TRUE(Contains(get.out, "order 3")) << get.out;
  json m = OkJson({"stream", "get", "ORDERS", "3"});
  EXPECT_EQ(m["seq"], 3);
  EXPECT_EQ(m["subject"], "orders.new");
  EXPECT_EQ(m["data"], "order 3");
  EXPECT_EQ(m["headers"]["X-Kind"], json::array({"test"}));
  EXPECT_TRUE(m["time"].is_string());

  Ok({"pub", "orders.old", "the old one"});
  Ok({"pub", "orders.new", "the newest"});
  json last = OkJson({"stream", "get", "ORDERS", "--last-for", "orders.new"});
  EXPECT_EQ(last["seq"], 12);
  EXPECT_EQ(last["data"], "the newest");
  last = OkJson({"stream", "get", "ORDERS", "--last-for", "orders.old"});
  EXPECT_EQ(last["seq"], 11);
  EXPECT_FALSE(last.contains("headers"));

  CliResult miss = Run({"stream", "get", "ORDERS", "99"});
  EXPECT_EQ(miss.exit_code, 1) << Describe(miss);
  EXPECT_TRUE(Contains(miss.err, "no message found (10037)")) << Describe(miss);

  // Purge and rm refuse without -f when stdin is not a terminal (it is a pipe here).
  CliResult refused = Run({"stream", "purge", "ORDERS", "--keep", "2"});
  EXPECT_EQ(refused.exit_code, 1) << Describe(refused);
  EXPECT_TRUE(Contains(refused.err, "--force")) << Describe(refused);
  EXPECT_EQ(OkJson({"stream", "info", "ORDERS"})["state"]["messages"], 12);

  json purged = OkJson({"stream", "purge", "ORDERS", "--keep", "2", "-f"});
  EXPECT_EQ(purged["purged"], 10);
  info = OkJson({"stream", "info", "ORDERS"});
  EXPECT_EQ(info["state"]["messages"], 2);
  EXPECT_EQ(info["state"]["first_seq"], 11);
  EXPECT_EQ(info["state"]["last_seq"], 12);

  json filtered = OkJson({"stream", "purge", "ORDERS", "--subject", "orders.old", "-f"});
  EXPECT_EQ(filtered["purged"], 1);

  refused = Run({"stream", "rm", "ORDERS"});
  EXPECT_EQ(refused.exit_code, 1) << Describe(refused);
  EXPECT_TRUE(Contains(refused.err, "--force")) << Describe(refused);
  EXPECT_EQ(OkJson({"stream", "ls", "--names"}), json::array({"ORDERS"}));

  CliResult rm = Ok({"stream", "rm", "ORDERS", "-f"});
  EXPECT_TRUE(Contains(rm.err, "Deleted stream ORDERS")) << Describe(rm);
  EXPECT_EQ(OkJson({"stream", "ls"}), json::array());
  CliResult empty = Ok({"stream", "ls"});
  EXPECT_EQ(empty.out, "");
  EXPECT_TRUE(Contains(empty.err, "No streams defined")) << Describe(empty);
}

TEST_P(CliStreamTest, MemoryWorkqueueAndFlags) {
  json info = OkJson({"stream", "add", "WQ", "--subjects", "jobs.>", "--storage", "memory", "--retention",
                      "workqueue", "--max-msgs", "1000", "--max-msg-size", "1KB", "--discard", "new", "--deny-delete",
                      "--allow-direct"});
  const json& cfg = info["config"];
  EXPECT_EQ(cfg["storage"], "memory");
  EXPECT_EQ(cfg["retention"], "workqueue");
  EXPECT_EQ(cfg["max_msgs"], 1000);
  EXPECT_EQ(cfg["max_msg_size"], 1024);
  EXPECT_EQ(cfg["discard"], "new");
  EXPECT_EQ(cfg["deny_delete"], true);
  EXPECT_EQ(cfg["allow_direct"], true);
  EXPECT_EQ(cfg["allow_rollup_hdrs"], false);

  // Without --subjects the stream stores its own name.
  json plain = OkJson({"stream", "add", "PLAIN", "--deny-purge"});
  EXPECT_EQ(plain["config"]["subjects"], json::array({"PLAIN"}));
  CliResult denied = Run({"stream", "purge", "PLAIN", "-f"});
  EXPECT_EQ(denied.exit_code, 1) << Describe(denied);
  EXPECT_TRUE(Contains(denied.err, "stream purge not permitted (10110)")) << Describe(denied);
}

TEST_P(CliStreamTest, SizesAndLongDurations) {
  json cfg = OkJson({"stream", "add", "S", "--max-bytes", "512KB", "--max-msg-size", "2k", "--max-age", "7d",
                     "--dupe-window", "1m30s"})["config"];
  EXPECT_EQ(cfg["max_bytes"], 512 * 1024);
  EXPECT_EQ(cfg["max_msg_size"], 2048);
  EXPECT_EQ(cfg["max_age"], int64_t{7} * 24 * 3600 * 1000000000);
  EXPECT_EQ(cfg["duplicate_window"], int64_t{90} * 1000000000);
  CliResult human = Ok({"stream", "info", "S"});
  EXPECT_TRUE(Contains(human.out, "Maximum age: 7d")) << human.out;
  EXPECT_TRUE(Contains(human.out, "Duplicate window: 1m30s")) << human.out;
  EXPECT_TRUE(Contains(human.out, "Maximum bytes: 512.0 KiB")) << human.out;
}

TEST_P(CliStreamTest, RmAndPurgeAskOnATerminal) {
  Ok({"stream", "add", "T"});
  Ok({"pub", "T", "x", "--count", "3"});
  const std::vector<std::string> s = {"-s", server_->url()};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.begin(), s.begin(), s.end());
    return args;
  };

  TtyResult no = RunOnTerminal(with({"stream", "purge", "T"}), "n");
  EXPECT_EQ(no.exit_code, 1) << no.output;
  EXPECT_TRUE(Contains(no.output, "not confirmed")) << no.output;
  EXPECT_EQ(OkJson({"stream", "info", "T"})["state"]["messages"], 3);

  TtyResult yes = RunOnTerminal(with({"stream", "purge", "T"}), "y");
  EXPECT_EQ(yes.exit_code, 0) << yes.output;
  EXPECT_TRUE(Contains(yes.output, "Purged 3 messages")) << yes.output;

  no = RunOnTerminal(with({"stream", "rm", "T"}), "");
  EXPECT_EQ(no.exit_code, 1) << no.output;
  EXPECT_EQ(OkJson({"stream", "ls", "--names"}), json::array({"T"}));

  yes = RunOnTerminal(with({"stream", "rm", "T"}), "yes");
  EXPECT_EQ(yes.exit_code, 0) << yes.output;
  EXPECT_TRUE(Contains(yes.output, "Deleted stream T")) << yes.output;
  EXPECT_EQ(OkJson({"stream", "ls", "--names"}), json::array());
}

TEST_P(CliStreamTest, Errors) {
  CliResult info = Run({"stream", "info", "NOPE"});
  EXPECT_EQ(info.exit_code, 1) << Describe(info);
  EXPECT_TRUE(Contains(info.err, "stream not found (10059)")) << Describe(info);

  for (auto args : std::vector<std::vector<std::string>>{
           {"stream", "rm", "NOPE", "-f"}, {"stream", "purge", "NOPE", "-f"}, {"stream", "get", "NOPE", "1"}}) {
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_TRUE(Contains(r.err, "stream not found (10059)")) << Describe(r);
  }

  // The server judges the name and its description reaches the user.
  CliResult bad = Run({"stream", "add", "bad*name"});
  EXPECT_EQ(bad.exit_code, 1) << Describe(bad);
  EXPECT_TRUE(Contains(bad.err, "can not contain '.', '*', '>' (10052)")) << Describe(bad);

  Ok({"stream", "add", "ONE", "--subjects", "one.>"});
  CliResult overlap = Run({"stream", "add", "TWO", "--subjects", "one.x"});
  EXPECT_EQ(overlap.exit_code, 1) << Describe(overlap);
  EXPECT_TRUE(Contains(overlap.err, "(10065)")) << Describe(overlap);

  CliResult differs = Run({"stream", "add", "ONE", "--subjects", "one.>", "--max-msgs", "5"});
  EXPECT_EQ(differs.exit_code, 1) << Describe(differs);
  EXPECT_TRUE(Contains(differs.err, "(10058)")) << Describe(differs);

  // Usage errors exit 2 before talking to the server.
  for (auto args : std::vector<std::vector<std::string>>{{"stream", "add", "X", "--storage", "disk"},
                                                         {"stream", "add", "a.b"},
                                                         {"stream", "add", "X", "--max-bytes", "lots"},
                                                         {"stream", "add", "X", "--max-age", "soon"},
                                                         {"stream", "get", "ONE"},
                                                         {"stream", "get", "ONE", "1", "--last-for", "one.x"},
                                                         {"stream", "purge", "ONE", "--seq", "3", "--keep", "1"},
                                                         {"stream"}}) {
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
  }
}

TEST_P(CliStreamTest, BenchJsPubAsyncAndSync) {
  CliResult async = Ok({"bench", "js-pub", "bench.js", "--msgs", "2000", "--size", "64", "--async", "--outstanding",
                        "100", "--no-progress"});
  EXPECT_TRUE(Contains(async.out, "msgs/s")) << Describe(async);
  EXPECT_TRUE(Contains(async.out, "MB/s")) << Describe(async);
  EXPECT_TRUE(Contains(async.err, "Deleted stream benchstream")) << Describe(async);
  EXPECT_EQ(OkJson({"stream", "ls"}), json::array());

  json sync = OkJson({"bench", "js-pub", "bench.js", "--msgs", "200", "--stream", "BENCH", "--keep", "--no-progress"});
  EXPECT_EQ(sync["mode"], "sync");
  EXPECT_EQ(sync["pub"]["msgs"], 200);
  EXPECT_EQ(sync["latency_us"]["samples"], 200);
  for (const char* p : {"p50", "p90", "p99", "p99_9"}) EXPECT_TRUE(sync["latency_us"][p].is_number()) << p;
  // --keep left the stream, with every message acknowledged in it.
  EXPECT_EQ(OkJson({"stream", "info", "BENCH"})["state"]["messages"], 200);

  // An existing stream is used and not deleted.
  json again = OkJson({"bench", "js-pub", "bench.js", "--msgs", "100", "--stream", "BENCH", "--async", "--no-progress"});
  EXPECT_EQ(again["mode"], "async");
  EXPECT_EQ(OkJson({"stream", "info", "BENCH"})["state"]["messages"], 300);

  CliResult human = Ok({"bench", "js-pub", "bench.js", "--msgs", "50", "--stream", "BENCH", "--no-progress"});
  EXPECT_TRUE(Contains(human.out, "Latency:")) << Describe(human);
  EXPECT_TRUE(Contains(human.out, "p99.9")) << Describe(human);

  // A subject the existing stream does not store: nobody acknowledges.
  for (bool async : {false, true}) {
    std::vector<std::string> args = {"bench", "js-pub", "elsewhere", "--msgs", "10", "--stream", "BENCH",
                                     "--no-progress"};
    if (async) args.push_back("--async");
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_TRUE(Contains(r.err, "o responders")) << Describe(r);
  }
  EXPECT_EQ(OkJson({"stream", "ls", "--names"}), json::array({"BENCH"}));
}

INSTANTIATE_TEST_SUITE_P(Servers, CliStreamTest, ::testing::Values(ServerKind::kSluice, ServerKind::kNatsServer),
                         [](const auto& info) { return info.param == ServerKind::kSluice ? "sluice" : "nats_server"; });

TEST(CliStreamNoJetStream, SaysJetStreamIsNotEnabled) {
  auto server = ServerProcess::Start(ServerKind::kSluice);
  ASSERT_TRUE(server);
  CliResult r = RunCli({"-s", server->url(), "stream", "ls"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(Contains(r.err, "JetStream is not enabled")) << Describe(r);
}

}  // namespace
}  // namespace sluice::testing
