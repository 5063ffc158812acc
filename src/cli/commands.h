// The subcommands. Each Add* registers its subcommand on the app; when the
// command line selects it, CLI11's callback stores what to run in `action`
// and main runs it after parsing (so CLI11 has applied every flag, global
// ones given after the subcommand included).
#pragma once

#include <functional>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli_common.h"

namespace sluice::cli {

using Action = std::function<int()>;

// For a command made of subcommands (bench, server): `sluice bench` alone or
// `sluice bench fast` says which subcommands there are (CLI11's own
// message would only say that one is required).
void RequireOneOf(CLI::App& parent, const char* choices);

// When the command line selects `cmd`, `action` becomes run(global, *options)
// (options filled by CLI11 by then).
template <class Options>
void RunOnSelect(CLI::App* cmd, const GlobalOptions& global, Action& action, std::shared_ptr<Options> options,
                 int (*run)(const GlobalOptions&, const Options&)) {
  cmd->callback([&global, &action, options, run] { action = [&global, options, run] { return run(global, *options); }; });
}

void AddPubCommand(CLI::App& app, const GlobalOptions& global, Action& action);
void AddSubCommand(CLI::App& app, const GlobalOptions& global, Action& action);
void AddReqCommand(CLI::App& app, const GlobalOptions& global, Action& action);
void AddReplyCommand(CLI::App& app, const GlobalOptions& global, Action& action);
void AddBenchCommand(CLI::App& app, const GlobalOptions& global, Action& action);
void AddServerCommand(CLI::App& app, const GlobalOptions& global, Action& action);
void AddStreamCommand(CLI::App& app, const GlobalOptions& global, Action& action);
void AddConsumerCommand(CLI::App& app, const GlobalOptions& global, Action& action);
void AddKvCommand(CLI::App& app, const GlobalOptions& global, Action& action);
void AddObjCommand(CLI::App& app, const GlobalOptions& global, Action& action);

// bench js-pub, registered by AddBenchCommand on its `bench` subcommand.
void AddBenchJsPubCommand(CLI::App& bench, const GlobalOptions& global, Action& action);
// bench js-consume, likewise.
void AddBenchJsConsumeCommand(CLI::App& bench, const GlobalOptions& global, Action& action);

}  // namespace sluice::cli
