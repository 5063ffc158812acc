// sluice-server: entry point. Flags and config as nats-server's.
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>

#include "server/logging.h"
#include "server/options.h"
#include "server/server.h"

int main(int argc, char** argv) {
  int exit_code = 0;
  auto options = sluice::server::ParseCommandLine(argc, argv, exit_code);
  if (!options) return exit_code;

  std::string error = sluice::server::InitLogging(options->debug, options->trace, options->logtime, options->log_file);
  if (!error.empty()) {
    std::fprintf(stderr, "sluice-server: %s\n", error.c_str());
    return 1;
  }
  ::signal(SIGPIPE, SIG_IGN);
  // Use the whole descriptor allowance: each client is a descriptor.
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }

  sluice::server::Server server(std::move(*options));
  // SIGHUP re-reads the same flags and config file.
  server.set_reload_loader([argc, argv](std::string& error) {
    int code = 0;
    auto reloaded = sluice::server::ParseCommandLine(argc, argv, code);
    if (!reloaded) error = "the configuration did not load (see the log above)";
    return reloaded;
  });
  error = server.Start();
  if (!error.empty()) {
    spdlog::critical("{}", error);
    return 1;
  }
  server.Wait();
  return 0;
}
