#include "report.h"

#include <algorithm>
#include <cstdio>
#include <functional>

namespace sluice::bench {
namespace {

std::string Fmt(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

std::string Rate(double per_sec) {
  if (per_sec >= 1e6) return Fmt("%.2fM", per_sec / 1e6);
  if (per_sec >= 1e3) return Fmt("%.1fk", per_sec / 1e3);
  return Fmt("%.0f", per_sec);
}

std::string Mib(double kb) { return Fmt("%.1f MiB", kb / 1024.0); }

double Median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double MbPerSec(const Workload& w, const RunResult& r) {
  return r.seconds > 0 ? static_cast<double>(r.msgs) * w.payload / r.seconds / 1e6 : 0;
}

// Server CPU normalised: per 1M messages for throughput, per 10k requests for
// request/reply, per 1,000 connections for the memory workload.
double CpuNormalised(const Workload& w, const RunResult& r) {
  if (r.cpu_ms < 0 || r.msgs == 0) return -1;
  switch (w.kind) {
    case WorkloadKind::kThroughput:
      return r.cpu_ms / (r.msgs / 1e6);
    case WorkloadKind::kRequestReply:
      return r.cpu_ms / (r.msgs / 1e4);
    case WorkloadKind::kMemory:
      return r.cpu_ms / (r.msgs / 1e3);
  }
  return -1;
}

std::string CpuUnit(const Workload& w) {
  switch (w.kind) {
    case WorkloadKind::kThroughput:
      return "server CPU, ms per 1M msgs";
    case WorkloadKind::kRequestReply:
      return "server CPU, ms per 10k requests";
    case WorkloadKind::kMemory:
      return "server CPU, ms to accept 1,000 conns";
  }
  return "";
}

struct Metric {
  std::string name;
  std::function<double(const Workload&, const RunResult&)> get;
  std::function<std::string(const Workload&, double)> show;
  // Target on the ratio A/B: "≥ 1.2", "≤ 0.5", "≤ 1", or "" for none.
  enum class Goal { kNone, kAtLeast, kAtMost } goal = Goal::kNone;
  double bound = 0;
};

std::vector<Metric> MetricsFor(const Workload& w) {
  using G = Metric::Goal;
  auto cpu = Metric{CpuUnit(w), CpuNormalised, [](const Workload&, double v) { return Fmt("%.0f", v); }, G::kAtMost, 0.5};
  switch (w.kind) {
    case WorkloadKind::kThroughput:
      return {
          Metric{"throughput, msgs/s (payload MB/s)", [](const Workload&, const RunResult& r) { return r.MsgsPerSec(); },
                 [](const Workload& wl, double v) { return Rate(v) + " (" + Fmt("%.1f", v * wl.payload / 1e6) + ")"; },
                 G::kAtLeast, 1.2},
          cpu,
      };
    case WorkloadKind::kRequestReply: {
      auto us = [](const Workload&, double v) { return Fmt("%.1f µs", v); };
      return {
          Metric{"round trip p50", [](const Workload&, const RunResult& r) { return r.p50_us; }, us, G::kAtMost, 1.0},
          Metric{"round trip p99", [](const Workload&, const RunResult& r) { return r.p99_us; }, us, G::kAtMost, 1.0},
          Metric{"round trip p99.9", [](const Workload&, const RunResult& r) { return r.p999_us; }, us, G::kNone, 0},
          cpu,
      };
    }
    case WorkloadKind::kMemory: {
      auto mib = [](const Workload&, double v) { return Mib(v); };
      return {
          Metric{"RSS idle", [](const Workload&, const RunResult& r) { return static_cast<double>(r.rss_idle_kb); },
                 mib, G::kAtMost, 0.5},
          Metric{"RSS with 1,000 idle connections",
                 [](const Workload&, const RunResult& r) { return static_cast<double>(r.rss_conns_kb); }, mib,
                 G::kAtMost, 0.5},
      };
    }
  }
  return {};
}

std::string GoalText(const Metric& m) {
  switch (m.goal) {
    case Metric::Goal::kNone:
      return "—";
    case Metric::Goal::kAtLeast:
      return "≥ " + Fmt("%g", m.bound) + "×";
    case Metric::Goal::kAtMost:
      return "≤ " + Fmt("%g", m.bound) + "×";
  }
  return "";
}

std::string Esc(std::string s) {
  for (auto& c : s)
    if (c == '|') c = '/';
  return s;
}

}  // namespace

std::string CsvHeader() {
  return "workload,round,side,server,ok,msgs,delivered,seconds,msgs_per_s,payload_mb_per_s,server_cpu_ms,"
         "server_rss_kb,bench_cpu_ms,other_cpu_ms,niced_cpu_ms,pre_busy_pct,p50_us,p99_us,p999_us,rss_idle_kb,rss_conns_kb,error\n";
}

std::string CsvRow(const Workload& w, int round, int side, const std::string& label, const RunResult& r) {
  std::string err = r.error;
  for (auto& c : err)
    if (c == ',' || c == '\n' || c == '"') c = ' ';
  char buf[1024];
  std::snprintf(buf, sizeof(buf), "%s,%d,%c,%s,%d,%llu,%llu,%.6f,%.1f,%.2f,%.1f,%ld,%.1f,%.1f,%.1f,%.1f,%.2f,%.2f,%.2f,%ld,%ld,%s\n",
                w.name.c_str(), round, side == 0 ? 'A' : 'B', label.c_str(), r.ok ? 1 : 0,
                static_cast<unsigned long long>(r.msgs), static_cast<unsigned long long>(r.delivered), r.seconds,
                r.MsgsPerSec(), MbPerSec(w, r), r.cpu_ms, r.rss_kb, r.bench_cpu_ms, r.other_cpu_ms, r.niced_cpu_ms,
                r.pre_busy * 100, r.p50_us, r.p99_us, r.p999_us, r.rss_idle_kb,
                r.rss_conns_kb, err.c_str());
  return buf;
}

std::string DescribeRun(const Workload& w, const RunResult& r) {
  if (!r.ok) return "FAILED: " + r.error;
  switch (w.kind) {
    case WorkloadKind::kThroughput:
      return Rate(r.MsgsPerSec()) + " msgs/s, " + Fmt("%.1f", MbPerSec(w, r)) + " MB/s, " +
             Fmt("%.2f s", r.seconds) + ", server CPU " + Fmt("%.0f ms", r.cpu_ms) + " (" +
             Fmt("%.0f", CpuNormalised(w, r)) + " ms/1M), RSS " + Mib(r.rss_kb);
    case WorkloadKind::kRequestReply:
      return "p50 " + Fmt("%.1f", r.p50_us) + " µs, p99 " + Fmt("%.1f", r.p99_us) + " µs, p99.9 " +
             Fmt("%.1f", r.p999_us) + " µs, server CPU " + Fmt("%.0f ms", r.cpu_ms);
    case WorkloadKind::kMemory:
      return "RSS idle " + Mib(r.rss_idle_kb) + ", with " + std::to_string(w.idle_connections) + " conns " +
             Mib(r.rss_conns_kb);
  }
  return "";
}

std::string RenderMarkdown(const ReportContext& ctx, const std::vector<WorkloadResults>& results) {
  std::string md;
  md += "# Benchmarks\n\n";
  md += "Generated by `bench/run.sh` (`sluice-bench`, see `bench/README.md`); do not edit by hand.\n\n";
  md += "- Command: `" + ctx.command + "`\n";
  md += "- Date: " + ctx.date + "\n";
  md += "- Machine: " + ctx.machine.cpu_model + ", " + std::to_string(ctx.machine.cores) + " cores, " +
        ctx.machine.kernel + ", " + ctx.machine.memory + " RAM\n";
  for (int s = 0; s < 2; ++s)
    md += "- " + std::string(s == 0 ? "A" : "B") + " = " + ctx.label[s] + ": `" + ctx.binary[s] + "` — `" +
          ctx.version[s] + "`\n";
  md += "- Method: " + std::to_string(ctx.rounds) +
        " rounds per workload, alternating A B A B…, a fresh server process per run (default options, "
        "loopback, `-a 127.0.0.1 -p <free port>`). Values are medians over the rounds. Server CPU is utime+stime "
        "from `/proc/<pid>/stat` read just before and just after the measured part; RSS is `VmRSS`. "
        "The load generator runs on the same 2 cores as the server.\n";
  md += "- Raw per-round numbers: `" + ctx.raw_path + "` (git-ignored). Total run time " +
        Fmt("%.0f s", ctx.total_seconds) + " (of which " + Fmt("%.0f s", ctx.waited_seconds) +
        " waiting for other processes to quiet down before runs).\n\n";

  md += "| Workload | Metric | " + ctx.label[0] + " | " + ctx.label[1] + " | Ratio A/B | Target | Status |\n";
  md += "|---|---|---:|---:|---:|---|---|\n";
  int met = 0, missed = 0;
  for (const auto& wr : results) {
    const Workload& w = wr.workload;
    for (const Metric& m : MetricsFor(w)) {
      double med[2];
      int fails[2];
      for (int s = 0; s < 2; ++s) {
        std::vector<double> vals;
        fails[s] = 0;
        for (const auto& r : wr.runs[s]) {
          if (!r.ok) {
            ++fails[s];
            continue;
          }
          double v = m.get(w, r);
          if (v >= 0) vals.push_back(v);
        }
        med[s] = Median(vals);
      }
      std::string cell[2];
      for (int s = 0; s < 2; ++s) {
        cell[s] = med[s] >= 0 ? m.show(w, med[s]) : "n/a";
        if (fails[s] > 0)
          cell[s] += " (" + std::to_string(fails[s]) + "/" + std::to_string(wr.runs[s].size()) + " failed)";
      }
      std::string ratio = "n/a", status = "—";
      if (med[0] >= 0 && med[1] > 0) {
        double q = med[0] / med[1];
        ratio = Fmt("%.2f", q);
        if (m.goal != Metric::Goal::kNone) {
          bool ok = m.goal == Metric::Goal::kAtLeast ? q >= m.bound : q <= m.bound;
          ok = ok && fails[0] == 0;
          status = ok ? "met" : "**missed**";
          (ok ? met : missed)++;
        }
      } else if (m.goal != Metric::Goal::kNone) {
        status = "**missed** (no data)";
        ++missed;
      }
      md += "| " + w.name + " | " + m.name + " | " + cell[0] + " | " + cell[1] + " | " + ratio + " | " +
            GoalText(m) + " | " + status + " |\n";
    }
  }
  md += "\n## Targets\n\n";
  md += "Ratios are " + ctx.label[0] + " / " + ctx.label[1] +
        ". Every throughput ≥ 1.2× nats-server's; server CPU for each workload ≤ 0.5× nats-server's; "
        "request/reply p50 and p99 ≤ nats-server's (ratio ≤ 1); RSS idle and with 1,000 connections ≤ half of "
        "nats-server's. A row counts as met only if no round of A failed. This run: " +
        std::to_string(met) + " met, " + std::to_string(missed) + " missed.\n\n";

  md += "## Workloads\n\n";
  for (const auto& wr : results) {
    const Workload& w = wr.workload;
    md += "- `" + w.name + "`: " + w.title;
    if (w.kind != WorkloadKind::kMemory)
      md += "; " + std::to_string(w.count) + (w.kind == WorkloadKind::kRequestReply ? " requests" : " messages") +
            " measured after " + std::to_string(w.warmup) + " untimed";
    md += ".\n";
  }
  md += "\nThroughput counts published messages (fan-out delivers each to 4 subscribers, the queue group to one "
        "member). MB/s counts payload bytes only.\n";

  md += "\n## Per-round values\n\n";
  md += "Main metric of each run, in run order (A B A B…); `x` = failed run. The last column is the CPU that "
        "*other* processes (niced ones included) used during the measured parts (median over A's runs / B's runs, "
        "as a share of all cores): above a few percent, the runs were disturbed.\n\n";
  md += "| Workload | Metric | " + ctx.label[0] + " | " + ctx.label[1] + " | Other processes' CPU |\n|---|---|---|---|---|\n";
  for (const auto& wr : results) {
    const Workload& w = wr.workload;
    const Metric m = MetricsFor(w)[0];
    std::string cell[2], other;
    for (int s = 0; s < 2; ++s) {
      std::vector<double> shares;
      for (const auto& r : wr.runs[s]) {
        if (!cell[s].empty()) cell[s] += ", ";
        cell[s] += r.ok ? m.show(w, m.get(w, r)) : "x";
        if (r.ok && r.other_cpu_ms >= 0 && r.seconds > 0 && ctx.machine.cores > 0)
          shares.push_back(r.other_cpu_ms / (r.seconds * 1000 * ctx.machine.cores));
      }
      double med = Median(shares);
      other += (s ? " / " : "") + (med >= 0 ? Fmt("%.0f%%", med * 100) : std::string("—"));
    }
    md += "| " + w.name + " | " + m.name + " | " + cell[0] + " | " + cell[1] + " | " + other + " |\n";
  }
  std::string errors;
  for (const auto& wr : results)
    for (int s = 0; s < 2; ++s)
      for (size_t i = 0; i < wr.runs[s].size(); ++i)
        if (!wr.runs[s][i].ok)
          errors += "- " + wr.workload.name + ", " + ctx.label[s] + ", round " + std::to_string(i + 1) + ": " +
                    Esc(wr.runs[s][i].error) + "\n";
  if (!errors.empty()) md += "\n## Failed runs\n\n" + errors;
  return md;
}

}  // namespace sluice::bench
