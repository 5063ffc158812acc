// Test support: run the `sluice` CLI as a child process, collect its stdout
// and stderr, wait for what it prints (never for a fixed time).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace sluice::testing {

// $SLUICE_CLI, else build/sluice next to the test build.
std::string CliBinary();

struct CliResult {
  int exit_code = -1;  // -1: killed by a signal or timed out
  bool timed_out = false;
  std::string out;
  std::string err;
};

class CliProcess {
 public:
  using Env = std::map<std::string, std::optional<std::string>>;  // nullopt: unset

  // Runs CliBinary() with args. The child's environment is the test's minus
  // NATS_URL/NATS_USER/NATS_PASSWORD/NATS_TOKEN, plus `env`. stdin gets
  // `input` and then EOF.
  static std::unique_ptr<CliProcess> Start(const std::vector<std::string>& args, const Env& env = {},
                                           const std::string& input = "");
  ~CliProcess();  // SIGKILLs a child still running

  // True once stderr contains `needle` (false after `timeout` or at exit without it).
  bool WaitForStderr(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // True once stdout holds at least `lines` complete lines.
  bool WaitForStdoutLines(size_t lines, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Waits for the exit (SIGKILL after timeout) and returns everything printed.
  CliResult Wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  void Signal(int sig);

  std::string out() const;
  std::string err() const;

 private:
  CliProcess() = default;
  void ReadLoop(int out_fd, int err_fd);

  pid_t pid_ = -1;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string out_, err_;  // guarded by mu_
  bool eof_ = false;       // guarded by mu_
  std::thread reader_;
  std::optional<CliResult> result_;
};

// Start + Wait.
CliResult RunCli(const std::vector<std::string>& args, const CliProcess::Env& env = {},
                 std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace sluice::testing
