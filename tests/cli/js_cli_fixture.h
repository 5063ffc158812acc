// Test support for the JetStream CLI tests (consumer, kv, obj): a fixture
// parameterised on the server kind that starts it with JetStream in a temp
// dir and runs `sluice -s <its url> …`, plus small helpers.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_process.h"
#include "server_process.h"

namespace sluice::testing {

inline std::string Describe(const CliResult& r) {
  return "exit " + std::to_string(r.exit_code) + (r.timed_out ? " (timed out)" : "") + "\n--- stdout:\n" + r.out +
         "--- stderr:\n" + r.err;
}

inline bool Contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// Sluice refuses push consumers until they are built (10012); nats.c's KV
// watch, history and key listing use one.
inline bool PushUnsupported(const CliResult& r) {
  return Contains(r.err, "push consumers are not supported");
}

class JsCliTest : public ::testing::TestWithParam<ServerKind> {
 protected:
  void SetUp() override {
    server_ = ServerProcess::Start(GetParam(), {"-js", "-sd", "{tmp}"});
    ASSERT_TRUE(server_) << "could not start " << ServerKindName(GetParam());
  }

  bool IsSluice() const { return GetParam() == ServerKind::kSluice; }

  std::vector<std::string> WithServer(std::vector<std::string> args) const {
    args.insert(args.begin(), {"-s", server_->url()});
    return args;
  }

  CliResult Run(std::vector<std::string> args, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    return RunCli(WithServer(std::move(args)), {}, timeout);
  }

  // Runs with `input` on stdin.
  CliResult RunWithInput(std::vector<std::string> args, const std::string& input) {
    auto p = CliProcess::Start(WithServer(std::move(args)), {}, input);
    if (!p) return {};
    return p->Wait();
  }

  // Runs and expects exit 0.
  CliResult Ok(std::vector<std::string> args) {
    CliResult r = Run(std::move(args));
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return r;
  }

  // Runs with --json, expects exit 0 and one JSON document on stdout.
  nlohmann::json OkJson(std::vector<std::string> args) {
    args.push_back("--json");
    CliResult r = Ok(std::move(args));
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << Describe(r);
    return j;
  }

  // Runs and expects `code` with `needle` on stderr.
  CliResult Fails(std::vector<std::string> args, int code, const std::string& needle = "") {
    CliResult r = Run(std::move(args));
    EXPECT_EQ(r.exit_code, code) << Describe(r);
    if (!needle.empty()) {
      EXPECT_TRUE(Contains(r.err, needle)) << "expected \"" << needle << "\"\n" << Describe(r);
    }
    return r;
  }

  std::unique_ptr<ServerProcess> server_;
};

inline std::string ServerParamName(const ::testing::TestParamInfo<ServerKind>& info) {
  return info.param == ServerKind::kSluice ? "sluice" : "nats_server";
}

// Every line of `out` parsed as JSON.
inline std::vector<nlohmann::json> JsonLines(const std::string& out) {
  std::vector<nlohmann::json> lines;
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    if (end > start) lines.push_back(nlohmann::json::parse(out.substr(start, end - start), nullptr, false));
    start = end + 1;
  }
  return lines;
}

}  // namespace sluice::testing
