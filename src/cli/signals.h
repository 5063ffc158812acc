// SIGINT and SIGTERM end long-running commands (sub, reply, bench sub)
// cleanly: they set a flag the command's loop polls, then it exits 0.
#pragma once

namespace sluice::cli {

void InstallStopSignals();
bool StopRequested();

}  // namespace sluice::cli
