// sluice-bench: raw per-round CSV and the BENCHMARKS.md summary.
#pragma once

#include <string>
#include <vector>

#include "proc_stats.h"
#include "workloads.h"

namespace sluice::bench {

// Everything measured for one workload: runs[0] are server A's rounds, runs[1] server B's.
struct WorkloadResults {
  Workload workload;
  std::vector<RunResult> runs[2];
};

struct ReportContext {
  std::string command;
  std::string date;
  MachineInfo machine;
  std::string label[2];    // "Sluice", "nats-server"
  std::string binary[2];   // paths
  std::string version[2];  // `-v` output
  int rounds = 0;
  std::string raw_path;    // where the per-round CSV went
  double total_seconds = 0;
  double waited_seconds = 0;  // spent waiting for a quiet machine
};

std::string CsvHeader();
std::string CsvRow(const Workload& w, int round, int side, const std::string& label, const RunResult& r);

// The Markdown report: context, the summary table with targets, per-round values.
std::string RenderMarkdown(const ReportContext& ctx, const std::vector<WorkloadResults>& results);

// One line for the console after each run.
std::string DescribeRun(const Workload& w, const RunResult& r);

}  // namespace sluice::bench
