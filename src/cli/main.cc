// sluice: the command-line client. See src/cli/README.md.
#include <nats/nats.h>

#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "cli_common.h"
#include "commands.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "dev"
#endif

namespace sluice::cli {

void RequireOneOf(CLI::App& parent, const char* choices) {
  // An unknown name (`sluice bench fast`) is reported by CLI11 as an
  // unexpected argument; this callback handles the name left out.
  parent.callback([&parent, choices] {
    if (parent.get_subcommands().empty()) {
      throw CLI::ValidationError(parent.get_name(), "choose one of: " + std::string(choices));
    }
  });
}

}  // namespace sluice::cli

int main(int argc, char** argv) {
  using namespace sluice::cli;
  GlobalOptions global;
  Action action;

  CLI::App app{"sluice: a command-line client for Sluice and other NATS servers", "sluice"};
  app.set_version_flag("--version", SLUICE_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global flags may come after the subcommand too
  app.footer(
      "Exit status: 0 success, 1 the command failed (connection, timeout, no responders, unhealthy server, JetStream error), "
      "2 bad command line.");
  app.add_option("-s,--server", global.server, "NATS server URL(s), comma separated")
      ->envname("NATS_URL")
      ->capture_default_str();
  app.add_option("--user", global.user, "username")->envname("NATS_USER");
  app.add_option("--password", global.password, "password")->envname("NATS_PASSWORD");
  app.add_option("--token", global.token, "authentication token")->envname("NATS_TOKEN");
  app.add_option("--timeout", global.timeout, "connect, flush and request timeout (500ms, 2s, 1m)")
      ->capture_default_str();
  app.add_flag("--json", global.json, "machine-readable output on stdout");

  AddPubCommand(app, global, action);
  AddSubCommand(app, global, action);
  AddReqCommand(app, global, action);
  AddReplyCommand(app, global, action);
  AddBenchCommand(app, global, action);
  AddServerCommand(app, global, action);
  AddStreamCommand(app, global, action);
  AddConsumerCommand(app, global, action);
  AddKvCommand(app, global, action);
  AddObjCommand(app, global, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }

  int code = kExitFailure;
  try {
    code = action ? action() : kExitUsage;
  } catch (const CliError& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "sluice: %s\n", e.what());
    code = e.exit_code();
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "sluice: %s\n", e.what());
    code = kExitFailure;
  }
  std::fflush(stdout);
  nats_Close();
  return code;
}
