// Test support: start a server under test as a child process.
//
// ServerProcess starts sluice-server (path from $SLUICE_SERVER, default
// build/sluice-server) or the reference nats-server ($NATS_SERVER, default
// "nats-server" on PATH) on a free loopback port with its own temp store dir,
// waits until it sends INFO, and stops it by PID. Logs go to a temp file.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace sluice::testing {

enum class ServerKind { kSluice, kNatsServer };

const char* ServerKindName(ServerKind kind);

class ServerProcess {
 public:
  // Starts the server with `-a 127.0.0.1 -p <free port>` plus extra_args.
  // Returns nullptr (and prints why) when it did not come up.
  static std::unique_ptr<ServerProcess> Start(ServerKind kind, std::vector<std::string> extra_args = {});
  ~ServerProcess();

  int port() const { return port_; }
  std::string url() const;  // nats://127.0.0.1:<port>
  pid_t pid() const { return pid_; }
  ServerKind kind() const { return kind_; }
  const std::string& temp_dir() const { return temp_dir_; }  // removed on destruction
  std::string log() const;                                    // what the server wrote so far

  // Sends `signal` and waits up to timeout_ms for the exit; SIGKILL after that.
  // Returns the wait status (as from waitpid), or -1 when already stopped.
  int Stop(int signal = 15, int timeout_ms = 10000);
  bool running() const { return pid_ > 0; }

 private:
  ServerProcess() = default;
  ServerKind kind_ = ServerKind::kSluice;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string temp_dir_;
  std::string log_path_;
};

// A free TCP port on 127.0.0.1 (bound then released; callers retry on a clash).
int FreeLoopbackPort();

// The binary a kind runs.
std::string ServerBinary(ServerKind kind);

}  // namespace sluice::testing
