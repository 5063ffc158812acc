// Running a scenario against one server and normalising what came back.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "scenario.h"
#include "server_process.h"

namespace sluice::difftest {

struct RunResult {
  bool started = false;       // the server came up
  std::string error;          // why not
  std::map<int, std::string> per_conn;  // raw normalised transcript per connection
  std::string combined;       // one escaped line per read step, in step order
  std::vector<nlohmann::json> infos;  // every INFO JSON received, in step order
};

// Runs `scenario` against a fresh server of `kind`. With `split`, every send is
// written one byte at a time. `reference` applies the masks that turn the
// reference server's (2.9.10) output into what the advertised 2.11 writes.
RunResult RunScenario(testing::ServerKind kind, const Scenario& scenario, bool split, bool reference);

// Normalises a received byte stream: INFO JSON replaced by "{...}" (the JSON is
// appended to `infos`); with `reference`, 2.9.10's double space in MSG/HMSG
// control lines is collapsed (documented 2.9.10-vs-2.11 difference).
std::string Normalise(const std::string& raw, bool reference, std::vector<nlohmann::json>* infos);

// Printable form: CR, LF, tabs and other bytes escaped, long runs compressed.
std::string Escape(const std::string& raw);

// Compares Sluice's INFO against nats-server's: every key nats-server sends must
// be present with the same JSON type; values must be equal except volatile keys.
// Returns a list of problems (empty = fine).
std::vector<std::string> CompareInfo(const nlohmann::json& reference, const nlohmann::json& candidate);

}  // namespace sluice::difftest
