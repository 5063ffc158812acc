// sluice-server as an operator meets it: flags in nats-server's styles,
// config errors with positions, exit codes, `-t`, and the log lines tools
// wait for. Each case runs the real binary.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "raw_client.h"
#include "server_process.h"

namespace {

using sluice::testing::RawClient;
using sluice::testing::ServerBinary;
using sluice::testing::ServerKind;
using sluice::testing::ServerProcess;

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs sluice-server with `args` to completion (for cases that exit at once).
RunResult RunServer(const std::vector<std::string>& args) {
  std::string command = ServerBinary(ServerKind::kSluice);
  for (const auto& a : args) command += " '" + a + "'";
  command += " 2>&1";
  RunResult run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) run.output.append(buf.data(), n);
  int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::string WriteFile(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(Startup, VersionAndHelpExitZero) {
  RunResult v = RunServer({"-v"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.output.find("sluice-server: v"), std::string::npos) << v.output;
  RunResult h = RunServer({"-h"});
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.output.find("--port"), std::string::npos) << h.output;
}

TEST(Startup, BadFlagsExitOneWithAMessage) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--no-such-flag"}, {"-p", "abc"}, {"-p", "70000"}, {"--user", "a"}, {"--max_payload", "0"}}) {
    RunResult r = RunServer(args);
    EXPECT_EQ(r.exit_code, 1) << args[0] << ": " << r.output;
    EXPECT_NE(r.output.find("sluice-server:"), std::string::npos) << r.output;
  }
}

TEST(Startup, GoStyleFlagsAreAccepted) {
  // One dash or two, "=value" or a separate value, combined -DV; -t checks and exits.
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"-port", "4333", "-t"}, {"--port=4333", "-t"}, {"-p=4333", "-t"}, {"-DV", "-t"},
           {"-js", "-sd", "/tmp/x", "-t"}, {"-max_payload", "2048", "-t"}}) {
    RunResult r = RunServer(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.output;
    EXPECT_NE(r.output.find("configuration is valid"), std::string::npos) << r.output;
  }
}

TEST(Startup, ConfigErrorsNameFileLineAndColumn) {
  std::string syntax = WriteFile("syntax.conf", "port: 4222\nauthorization {\n  user: a\n");
  RunResult r = RunServer({"-c", syntax});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find(syntax + ":"), std::string::npos) << r.output;

  std::string unknown = WriteFile("unknown.conf", "port: 4222\nno_such_key: 1\n");
  r = RunServer({"-c", unknown});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find(unknown + ":2:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("unknown field \"no_such_key\""), std::string::npos) << r.output;

  // Refused rather than ignored: an operator who configures TLS must not get plaintext.
  std::string tls = WriteFile("tls.conf", "tls { cert_file: a.pem, key_file: a.key }\n");
  r = RunServer({"-c", tls});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("not supported yet"), std::string::npos) << r.output;

  std::string limits = WriteFile("limits.conf", "max_payload: 100MB\n");
  r = RunServer({"-c", limits});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("max_pending"), std::string::npos) << r.output;
}

TEST(Startup, FlagsOverrideTheConfigFile) {
  std::string conf = WriteFile("override.conf", "max_payload: 1KB\n");
  auto server = ServerProcess::Start(ServerKind::kSluice, {"-c", conf, "--max_payload", "2048"});
  ASSERT_NE(server, nullptr);
  RawClient c;
  ASSERT_TRUE(c.Connect(server->port()));
  std::string info = c.ReadLine();
  EXPECT_NE(info.find("\"max_payload\":2048"), std::string::npos) << info;
}

TEST(Startup, LogsWhatToolsWaitForAndExitsCleanlyOnSigterm) {
  auto server = ServerProcess::Start(ServerKind::kSluice, {"-n", "unit-one"});
  ASSERT_NE(server, nullptr);
  std::string log = server->log();
  EXPECT_NE(log.find("[INF] Listening for client connections on 127.0.0.1:" + std::to_string(server->port())),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("Server is ready"), std::string::npos) << log;
  RawClient c;
  ASSERT_TRUE(c.Connect(server->port()));
  EXPECT_NE(c.ReadLine().find("\"server_name\":\"unit-one\""), std::string::npos);
  int status = server->Stop(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(server->log().find("Server Exiting"), std::string::npos);
}

}  // namespace
