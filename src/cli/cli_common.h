// Shared pieces of the sluice CLI: the global flags and the error types that
// become exit codes (1: the command failed, 2: the command line is wrong).
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

namespace sluice::cli {

inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Flags every command accepts (natscli's names). Filled by CLI11 before a
// command runs; `timeout` is kept as text and parsed by Timeout().
struct GlobalOptions {
  std::string server = "nats://127.0.0.1:4222";  // -s/--server, else $NATS_URL
  std::string user;
  std::string password;
  std::string token;
  std::string timeout = "5s";  // connect, flush and request timeout
  bool json = false;           // machine output on stdout

  std::chrono::nanoseconds Timeout() const;  // throws UsageError on a bad value
};

// A command failed at run time: printed as "sluice: <what>", exit 1.
class CliError : public std::runtime_error {
 public:
  explicit CliError(const std::string& what, int exit_code = kExitFailure)
      : std::runtime_error(what), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// The command line asks for something impossible: exit 2, like CLI11's own errors.
class UsageError : public CliError {
 public:
  explicit UsageError(const std::string& what) : CliError(what, kExitUsage) {}
};

}  // namespace sluice::cli
