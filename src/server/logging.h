// Logging: levelled, timestamped lines in nats-server's layout:
//   [pid] 2026/11/26 05:34:06.123456 [INF] message
// to stderr or to a file (-l). spdlog underneath.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace sluice::server {

// Sets up the global logger. Returns "" or an error (e.g. log file not writable).
std::string InitLogging(bool debug, bool trace, bool logtime, const std::string& log_file);

// Trace is below debug: spdlog's trace level.
#define SLUICE_LOG_TRACE(...) spdlog::trace(__VA_ARGS__)

}  // namespace sluice::server
