// Differential tests: a scenario is a list of steps run against a server;
// what each connection receives forms a transcript that is compared between
// nats-server (the reference) and sluice-server.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace sluice::difftest {

struct Step {
  enum class Kind {
    kOpen,          // connect connection `conn` and read its INFO line
    kOpenAccepted,  // connect, read INFO, send PING, await PONG; retry while the server refuses
    kSend,          // send `data` on `conn`
    kAwait,         // read on `conn` until `data` has arrived; record everything read
    kFrames,        // read `count` whole frames on `conn`; record them sorted (order-free)
    kSync,          // send PING, read until PONG: proves nothing else was sent before
    kClosed,        // read until the server closes `conn`; record what came
    kClose,         // the client closes `conn`
  };
  Kind kind = Kind::kSend;
  int conn = 0;
  std::string data;
  int count = 0;
  // kFrames: sids replaced by a label before sorting (queue members picked at random).
  std::map<std::string, std::string> sid_alias;
};

struct Scenario {
  std::string name;
  std::string config;  // server config file contents; empty = no -c
  std::vector<Step> steps;
  // Direct expectations: connection -> its exact normalised transcript.
  std::map<int, std::string> want;
  // Also run with every send split into single bytes and require the same transcript.
  bool split = true;
  // Whether the reference itself gives the same transcript when split. Not so
  // where nats-server 2.9.10 sends "Invalid Publish Subject" twice when a PUB's
  // payload arrives in a later read than its control line (its clonePubArg
  // re-runs processPub); Sluice is still checked split against the unsplit run.
  bool split_reference = true;
};

// gtest prints a parameter with this (its name instead of a byte dump).
inline void PrintTo(const Scenario& sc, std::ostream* os) { *os << sc.name; }

// Normalised INFO line as it appears in transcripts and expectations
// ("INFO {...} \r\n": the real server writes a space before CR LF).
inline constexpr const char* kInfo = "INFO {...} \r\n";

// The scenario table.
std::vector<Scenario> AllScenarios();

}  // namespace sluice::difftest
