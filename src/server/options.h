// ServerOptions: everything the server can be told, from flags and (later)
// the config file, with nats-server's names and defaults.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/auth.h"

namespace sluice::server {

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 4222;  // -1: a random free port
  std::string server_name;
  int http_port = 0;  // monitoring; 0 = off

  // Logging
  bool debug = false;
  bool trace = false;
  bool logtime = true;
  std::string log_file;

  // Limits (nats-server defaults)
  int64_t max_payload = 1024 * 1024;
  int64_t max_pending = 64 * 1024 * 1024;
  int64_t max_connections = 64 * 1024;
  int64_t max_subscriptions = 0;  // 0 = unlimited
  int64_t max_control_line = 4096;
  std::chrono::nanoseconds ping_interval = std::chrono::minutes(2);
  int64_t ping_max = 2;
  std::chrono::nanoseconds write_deadline = std::chrono::seconds(10);
  std::chrono::nanoseconds auth_timeout = std::chrono::seconds(2);

  // Authentication and permissions: --user/--pass/--auth or the config
  // file's `authorization` block and `no_auth_user`.
  auth::AuthConfig auth;

  // JetStream (-js / jetstream {}): data lives in <store_dir>/jetstream, with
  // store_dir defaulting to <temp dir>/nats as in nats-server.
  bool jetstream = false;
  std::string store_dir;
  int64_t js_max_memory = -1;   // bytes; -1: 75 % of RAM
  int64_t js_max_storage = -1;  // bytes; -1: 75 % of the free space of store_dir
  // sync_interval: nullopt = "always" (fsync before every acknowledgement,
  // Sluice's default); a duration = fsync on that period, acks before it.
  std::optional<std::chrono::nanoseconds> js_sync_interval;
  std::string js_domain;

  std::string config_file;
  bool check_config_only = false;

  // Threads running event loops (0 = one per core).
  int event_loops = 0;

  bool auth_required() const { return auth.required(); }
};

// Parses argv (Go-flag style, as nats-server: -p 4222, --port=4222, -js,
// -DV ...) and the config file it names. Flags override the file.
// Returns std::nullopt and fills `exit_code` when the program should exit
// right away (help/version printed: 0; bad input: 1, message on stderr).
std::optional<ServerOptions> ParseCommandLine(int argc, char** argv, int& exit_code);

// Options that a reload (SIGHUP) may not change; returns the first that
// differs, or "".
std::string FirstNonReloadableChange(const ServerOptions& before, const ServerOptions& after);

// Checks the combination of options; returns an error text or "".
std::string ValidateOptions(const ServerOptions& options);

}  // namespace sluice::server
