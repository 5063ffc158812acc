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
    case WorkloadKind::kJsAsync:
      return r.cpu_ms / (r.msgs / 1e6);
    case WorkloadKind::kJsSync:
      return r.cpu_ms / (r.msgs / 1e4);
    case WorkloadKind::kJsConsume:
      return r.cpu_ms / (r.msgs / 1e6);
    case WorkloadKind::kDisk:
    case WorkloadKind::kJsConsumerMem:
      return -1;
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
    case WorkloadKind::kJsAsync:
      return "server CPU, ms per 1M msgs";
    case WorkloadKind::kJsSync:
      return "server CPU, ms per 10k publishes";
    case WorkloadKind::kJsConsume:
      return "server CPU, ms per 1M msgs consumed";
    case WorkloadKind::kDisk:
    case WorkloadKind::kJsConsumerMem:
      return "";
  }
  return "";
}

// Reference values measured in the same run (medians of the `disk` rounds).
struct Refs {
  double disk_mbs = -1;
  double fsyncs_per_s = -1;
};

struct Metric {
  enum class Goal { kNone, kAtLeast, kAtMost };
  using GetFn = std::function<double(const Workload&, const RunResult&)>;
  using ShowFn = std::function<std::string(const Workload&, double)>;
  Metric(std::string n, GetFn g, ShowFn s, Goal gl = Goal::kNone, double b = 0)
      : name(std::move(n)), get(std::move(g)), show(std::move(s)), goal(gl), bound(b) {}
  std::string name;
  std::function<double(const Workload&, const RunResult&)> get;
  std::function<std::string(const Workload&, double)> show;
  // Target on the ratio A/B: "≥ 1.2", "≤ 0.5", "≤ 1", or "" for none.
  Goal goal = Goal::kNone;
  double bound = 0;
  // A target that is not a plain ratio (it refers to the disk, or adds to B's
  // value): met when check(A median, B median); `target` is its text.
  std::function<bool(double a, double b)> check;
  std::string target;
  bool single = false;  // one value per round, no server (the disk reference)
};

std::vector<Metric> MetricsFor(const Workload& w, const Refs& refs = {}) {
  using G = Metric::Goal;
  auto cpu = Metric{CpuUnit(w), CpuNormalised, [](const Workload&, double v) { return Fmt("%.0f", v); }, G::kAtMost, 0.5};
  auto throughput = [](G goal, double bound) {
    return Metric{"throughput, msgs/s (payload MB/s)", [](const Workload&, const RunResult& r) { return r.MsgsPerSec(); },
                  [](const Workload& wl, double v) { return Rate(v) + " (" + Fmt("%.1f", v * wl.payload / 1e6) + ")"; },
                  goal, bound};
  };
  auto us = [](const Workload&, double v) { return Fmt("%.1f µs", v); };
  switch (w.kind) {
    case WorkloadKind::kDisk: {
      Metric bw{"sequential write, 1 MiB + fdatasync each, MB/s",
                [](const Workload&, const RunResult& r) { return r.disk_mbs; },
                [](const Workload&, double v) { return Fmt("%.1f", v); }};
      bw.single = true;
      bw.target = "reference";
      Metric rate{"fdatasync rate, 4 KiB write + fdatasync each, per s",
                  [](const Workload&, const RunResult& r) { return r.fsyncs_per_s; },
                  [](const Workload&, double v) { return Fmt("%.0f", v); }};
      rate.single = true;
      rate.target = "reference";
      Metric lat{"4 KiB write + fdatasync latency p99",
                 [](const Workload&, const RunResult& r) { return r.p99_us; }, us};
      lat.single = true;
      lat.target = "reference";
      Metric cpu_per_sync{"CPU of one 4 KiB write + fdatasync (the writing process)",
                          [](const Workload&, const RunResult& r) { return r.fsync_cpu_us; }, us};
      cpu_per_sync.single = true;
      cpu_per_sync.target = "reference";
      return {bw, rate, lat, cpu_per_sync};
    }
    case WorkloadKind::kJsAsync: {
      Metric tp = throughput(G::kNone, 0);
      if (w.payload == 128 && w.storage == "file") tp = throughput(G::kAtLeast, 1.5);
      if (w.payload == 4096 && w.storage == "file") {
        const double need = 0.8 * refs.disk_mbs;
        tp.target = refs.disk_mbs > 0 ? "≥ 80 % of disk (" + Fmt("%.0f MB/s", need) + ")" : "≥ 80 % of disk (not measured)";
        const size_t payload = w.payload;
        tp.check = [need, payload](double a, double) { return need > 0 && a * payload / 1e6 >= need; };
      }
      return {tp, cpu};
    }
    case WorkloadKind::kJsSync: {
      Metric p50{"publish → PubAck p50", [](const Workload&, const RunResult& r) { return r.p50_us; }, us};
      Metric p99{"publish → PubAck p99", [](const Workload&, const RunResult& r) { return r.p99_us; }, us,
                 G::kAtMost, 1.0};
      if (w.storage == "file" && w.a_sync_interval.empty()) {
        const double fsync_us = refs.fsyncs_per_s > 0 ? 1e6 / refs.fsyncs_per_s : -1;
        p99.target = fsync_us > 0 ? "≤ B + 1 fsync (" + Fmt("%.0f µs", fsync_us) + ")" : "≤ B + 1 fsync (not measured)";
        p99.check = [fsync_us](double a, double b) { return fsync_us > 0 && a <= b + fsync_us; };
      }
      return {p50, p99, cpu};
    }
    case WorkloadKind::kJsConsume: {
      auto mib = [](const Workload&, double v) { return Mib(v); };
      return {
          throughput(G::kAtLeast, 1.5),
          cpu,
          Metric{"server RSS after seeding",
                 [](const Workload&, const RunResult& r) { return static_cast<double>(r.rss_seeded_kb); }, mib},
          Metric{"server RSS at the end", [](const Workload&, const RunResult& r) { return static_cast<double>(r.rss_kb); },
                 mib},
      };
    }
    case WorkloadKind::kJsConsumerMem: {
      auto bytes = [](const Workload&, double v) { return Fmt("%.0f B", v); };
      return {
          Metric{"RSS per durable pull consumer", [](const Workload&, const RunResult& r) { return r.bytes_per_consumer; },
                 bytes},
          Metric{"RSS per pending ack", [](const Workload&, const RunResult& r) { return r.bytes_per_pending_ack; },
                 bytes},
      };
    }
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
  if (!m.target.empty()) return m.target;
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
         "server_rss_kb,bench_cpu_ms,other_cpu_ms,niced_cpu_ms,pre_busy_pct,p50_us,p99_us,p999_us,rss_idle_kb,rss_conns_kb,disk_mb_per_s,fsyncs_per_s,fsync_cpu_us,"
         "rss_seeded_kb,seed_seconds,flow_controls,bytes_per_consumer,bytes_per_pending_ack,error\n";
}

std::string CsvRow(const Workload& w, int round, int side, const std::string& label, const RunResult& r) {
  std::string err = r.error;
  for (auto& c : err)
    if (c == ',' || c == '\n' || c == '"') c = ' ';
  char buf[2048];
  std::snprintf(buf, sizeof(buf), "%s,%d,%c,%s,%d,%llu,%llu,%.6f,%.1f,%.2f,%.1f,%ld,%.1f,%.1f,%.1f,%.1f,%.2f,%.2f,%.2f,%ld,%ld,%.1f,%.0f,%.1f,"
                "%ld,%.2f,%llu,%.1f,%.1f,%s\n",
                w.name.c_str(), round, side == 0 ? 'A' : 'B', label.c_str(), r.ok ? 1 : 0,
                static_cast<unsigned long long>(r.msgs), static_cast<unsigned long long>(r.delivered), r.seconds,
                r.MsgsPerSec(), MbPerSec(w, r), r.cpu_ms, r.rss_kb, r.bench_cpu_ms, r.other_cpu_ms, r.niced_cpu_ms,
                r.pre_busy * 100, r.p50_us, r.p99_us, r.p999_us, r.rss_idle_kb,
                r.rss_conns_kb, r.disk_mbs, r.fsyncs_per_s, r.fsync_cpu_us, r.rss_seeded_kb, r.seed_seconds,
                static_cast<unsigned long long>(r.flow_controls), r.bytes_per_consumer, r.bytes_per_pending_ack,
                err.c_str());
  return buf;
}

std::string DescribeRun(const Workload& w, const RunResult& r) {
  if (!r.refused.empty()) return "n/a (refused: " + r.refused + ")";
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
    case WorkloadKind::kJsAsync:
      return Rate(r.MsgsPerSec()) + " msgs/s, " + Fmt("%.1f", MbPerSec(w, r)) + " MB/s, " +
             Fmt("%.2f s", r.seconds) + ", server CPU " + Fmt("%.0f ms", r.cpu_ms) + " (" +
             Fmt("%.0f", CpuNormalised(w, r)) + " ms/1M), RSS " + Mib(r.rss_kb);
    case WorkloadKind::kJsSync:
      return "p50 " + Fmt("%.1f", r.p50_us) + " µs, p99 " + Fmt("%.1f", r.p99_us) + " µs, p99.9 " +
             Fmt("%.1f", r.p999_us) + " µs, server CPU " + Fmt("%.0f ms", r.cpu_ms);
    case WorkloadKind::kJsConsume:
      return Rate(r.MsgsPerSec()) + " msgs/s, " + Fmt("%.1f", MbPerSec(w, r)) + " MB/s, " +
             Fmt("%.2f s", r.seconds) + ", server CPU " + Fmt("%.0f ms", r.cpu_ms) + " (" +
             Fmt("%.0f", CpuNormalised(w, r)) + " ms/1M), RSS seeded " + Mib(r.rss_seeded_kb) + ", end " +
             Mib(r.rss_kb) + (w.push ? ", " + std::to_string(r.flow_controls) + " flow-control replies" : "") +
             " (seeded in " + Fmt("%.1f s", r.seed_seconds) + ")";
    case WorkloadKind::kJsConsumerMem:
      return Fmt("%.0f B", r.bytes_per_consumer) + " per consumer (RSS " + Mib(r.rss_idle_kb) + " -> " +
             Mib(r.rss_conns_kb) + "), " + Fmt("%.0f B", r.bytes_per_pending_ack) + " per pending ack (RSS " +
             Mib(r.rss_seeded_kb) + " -> " + Mib(r.rss_kb) + "), " + Fmt("%.1f s", r.seconds);
    case WorkloadKind::kDisk:
      return Fmt("%.1f MB/s", r.disk_mbs) + " sequential with fdatasync, " + Fmt("%.0f", r.fsyncs_per_s) +
             " fdatasyncs/s (p50 " + Fmt("%.0f", r.p50_us) + " µs, p99 " + Fmt("%.0f", r.p99_us) + " µs, CPU " + Fmt("%.0f", r.fsync_cpu_us) + " µs each)";
  }
  return "";
}

namespace {

// The summary table of `results`; counts met and missed targets.
std::string SummaryTable(const ReportContext& ctx, const std::vector<const WorkloadResults*>& results,
                         const Refs& refs, int* met, int* missed) {
  std::string md = "| Workload | Metric | " + ctx.label[0] + " | " + ctx.label[1] + " | Ratio A/B | Target | Status |\n";
  md += "|---|---|---:|---:|---:|---|---|\n";
  for (const WorkloadResults* wrp : results) {
    const WorkloadResults& wr = *wrp;
    const Workload& w = wr.workload;
    bool refusal_shown = false;  // the reason goes on the workload's first row only
    for (const Metric& m : MetricsFor(w, refs)) {
      double med[2];
      int fails[2];
      std::string refused[2];  // why the server refused the workload (all its rounds)
      for (int s = 0; s < 2; ++s) {
        std::vector<double> vals;
        fails[s] = 0;
        for (const auto& r : wr.runs[s]) {
          if (!r.refused.empty()) {
            refused[s] = r.refused;
            continue;
          }
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
        if (med[s] < 0 && !refused[s].empty())
          cell[s] = refusal_shown ? "n/a (refused)" : "n/a (refused: " + Esc(refused[s]) + ")";
        if (fails[s] > 0)
          cell[s] += " (" + std::to_string(fails[s]) + "/" + std::to_string(wr.runs[s].size()) + " failed)";
      }
      if (!refused[0].empty() || !refused[1].empty()) refusal_shown = true;
      std::string ratio = "n/a", status = "—";
      if (m.single) {
        cell[1] = "(same disk)";
        ratio = "—";
      } else if (med[0] >= 0 && med[1] > 0) {
        ratio = Fmt("%.2f", med[0] / med[1]);
      }
      if (!m.single && (m.check || m.goal != Metric::Goal::kNone)) {
        if (med[0] >= 0 && med[1] > 0) {
          const double q = med[0] / med[1];
          bool ok = m.check ? m.check(med[0], med[1])
                            : (m.goal == Metric::Goal::kAtLeast ? q >= m.bound : q <= m.bound);
          ok = ok && fails[0] == 0;
          status = ok ? "met" : "**missed**";
          (ok ? *met : *missed)++;
        } else {
          status = refused[0].empty() ? "**missed** (no data)" : "**missed** (refused)";
          ++*missed;
        }
      }
      md += "| " + w.name + " | " + m.name + " | " + cell[0] + " | " + cell[1] + " | " + ratio + " | " +
            GoalText(m) + " | " + status + " |\n";
    }
  }
  return md;
}

std::string WorkloadList(const std::vector<const WorkloadResults*>& results) {
  std::string md;
  for (const WorkloadResults* wr : results) {
    const Workload& w = wr->workload;
    md += "- `" + w.name + "`: " + w.title;
    if (w.kind == WorkloadKind::kRequestReply || w.kind == WorkloadKind::kJsSync)
      md += "; " + std::to_string(w.count) + (w.kind == WorkloadKind::kRequestReply ? " requests" : " publishes") +
            " measured after " + std::to_string(w.warmup) + " untimed";
    else if (w.kind == WorkloadKind::kThroughput || w.kind == WorkloadKind::kJsAsync)
      md += "; " + std::to_string(w.count) + " messages measured after " + std::to_string(w.warmup) + " untimed";
    else if (w.kind == WorkloadKind::kJsConsume)
      md += "; " + std::to_string(w.count) + " messages consumed";
    md += ".\n";
  }
  return md;
}

std::string PerRoundTable(const ReportContext& ctx, const std::vector<const WorkloadResults*>& results) {
  std::string md = "| Workload | Metric | " + ctx.label[0] + " | " + ctx.label[1] +
                   " | Other processes' CPU |\n|---|---|---|---|---|\n";
  for (const WorkloadResults* wrp : results) {
    const WorkloadResults& wr = *wrp;
    const Workload& w = wr.workload;
    const std::vector<Metric> metrics = MetricsFor(w);
    for (size_t mi = 0; mi < metrics.size(); ++mi) {
      const Metric& m = metrics[mi];
      // The main metric; for synchronous publishing the p99 too (its target is there).
      if (mi > 0 && m.name != "publish → PubAck p99" && !m.single && w.kind != WorkloadKind::kJsConsumerMem) continue;
      std::string cell[2], other;
      for (int s = 0; s < 2; ++s) {
        std::vector<double> shares;
        for (const auto& r : wr.runs[s]) {
          if (!cell[s].empty()) cell[s] += ", ";
          cell[s] += r.ok ? m.show(w, m.get(w, r)) : r.refused.empty() ? "x" : "refused";
          if (r.ok && r.other_cpu_ms >= 0 && r.seconds > 0 && ctx.machine.cores > 0)
            shares.push_back(r.other_cpu_ms / (r.seconds * 1000 * ctx.machine.cores));
        }
        double med = Median(shares);
        if (m.single && s == 1) {
          cell[1] = "—";
          continue;
        }
        other += (s ? " / " : "") + (med >= 0 ? Fmt("%.0f%%", med * 100) : std::string("—"));
      }
      md += "| " + w.name + " | " + m.name + " | " + cell[0] + " | " + cell[1] + " | " + other + " |\n";
    }
  }
  return md;
}

}  // namespace

std::string RenderMarkdown(const ReportContext& ctx, const std::vector<WorkloadResults>& results) {
  std::vector<const WorkloadResults*> core, js, consume;
  Refs refs;
  for (const auto& wr : results) {
    (IsJetStream(wr.workload.kind) ? js : IsJetStreamConsume(wr.workload.kind) ? consume : core).push_back(&wr);
    if (wr.workload.kind == WorkloadKind::kDisk) {
      std::vector<double> bw, rate;
      for (const auto& r : wr.runs[0])
        if (r.ok) {
          bw.push_back(r.disk_mbs);
          rate.push_back(r.fsyncs_per_s);
        }
      refs.disk_mbs = Median(bw);
      refs.fsyncs_per_s = Median(rate);
    }
  }

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
        "loopback, `-a 127.0.0.1 -p <free port>`; JetStream workloads add `-js -sd <temp dir>`). Values are "
        "medians over the rounds. Server CPU is utime+stime "
        "from `/proc/<pid>/stat` read just before and just after the measured part; RSS is `VmRSS`. "
        "The load generator runs on the same 2 cores as the server.\n";
  md += "- Raw per-round numbers: `" + ctx.raw_path + "` (git-ignored). Total run time " +
        Fmt("%.0f s", ctx.total_seconds) + " (of which " + Fmt("%.0f s", ctx.waited_seconds) +
        " waiting for other processes to quiet down before runs).\n\n";

  if (!core.empty()) {
    int met = 0, missed = 0;
    md += SummaryTable(ctx, core, refs, &met, &missed);
    md += "\n## Targets\n\n";
    md += "Ratios are " + ctx.label[0] + " / " + ctx.label[1] +
          ". Every throughput ≥ 1.2× nats-server's; server CPU for each workload ≤ 0.5× nats-server's; "
          "request/reply p50 and p99 ≤ nats-server's (ratio ≤ 1); RSS idle and with 1,000 connections ≤ half of "
          "nats-server's. A row counts as met only if no round of A failed. This run: " +
          std::to_string(met) + " met, " + std::to_string(missed) + " missed.\n\n";
    md += "## Workloads\n\n" + WorkloadList(core);
    md += "\nThroughput counts published messages (fan-out delivers each to 4 subscribers, the queue group to one "
          "member). MB/s counts payload bytes only.\n";
    md += "\n## Per-round values\n\n";
    md += "Main metric of each run, in run order (A B A B…); `x` = failed run. The last column is the CPU that "
          "*other* processes (niced ones included) used during the measured parts (median over A's runs / B's runs, "
          "as a share of all cores): above a few percent, the runs were disturbed.\n\n";
    md += PerRoundTable(ctx, core);
  }

  if (!js.empty()) {
    int met = 0, missed = 0;
    md += std::string(core.empty() ? "" : "\n") + "## JetStream publish\n\n";
    md += "Both servers run with `-js -sd <temp dir>` (under `/tmp`) and otherwise their defaults: " + ctx.label[0] +
          " sends a PubAck only after the fsync covering the message (sync_interval \"always\"); nats-server "
          "2.9.10 acknowledges before its fsync (which runs every 2 minutes). Each run creates one stream "
          "(`$JS.API.STREAM.CREATE.BENCH`, `{\"name\":\"BENCH\",\"subjects\":[\"js.bench\"],\"storage\":...}`) "
          "before timing, on one connection that publishes with reply subjects `_INBOX.jsb.<n>` and holds the "
          "subscription `_INBOX.jsb.*`. Every PubAck is validated (the right inbox, once; JSON with "
          "`\"stream\":\"BENCH\"` and `\"seq\"` = n+1; no `\"error\"`) and after the run `STREAM.INFO` must count "
          "every message; any deviation fails the run. The `disk` rows are measured in the same session on the "
          "same file system (no server running), once per round.\n\n";
    md += SummaryTable(ctx, js, refs, &met, &missed);
    md += "\n### Targets\n\n";
    md += "Ratios are " + ctx.label[0] + " / " + ctx.label[1] +
          ". 128 B async publish to a file stream ≥ 1.5× nats-server's throughput (while " + ctx.label[0] +
          " fsyncs before every acknowledgement and nats-server does not); 4 KiB async publish ≥ 80 % of the "
          "disk's fdatasync'd sequential bandwidth measured in the same run (`disk` row; MB/s counts payload "
          "only); server CPU per message ≤ 0.5× nats-server's; synchronous publish p99 on a file stream within "
          "one fsync of nats-server's (" + ctx.label[0] + " p99 ≤ nats-server p99 + 1 / fdatasync rate) with sync "
          "always; with an interval sync (`js-sync128-interval`) and on a memory stream p99 ≤ nats-server's. The "
          "`disk` row's CPU of one write + fdatasync is a floor for `js-sync128`'s CPU per publish: the server "
          "makes that same system call for every synchronous publish, and nats-server makes none. No target for `js-async128-mem` throughput or the p50s. "
          "A row counts as met only if no round of A failed. This run: " +
          std::to_string(met) + " met, " + std::to_string(missed) + " missed.\n\n";
    md += "### Workloads\n\n" + WorkloadList(js);
    md += "\nAsync workloads keep at most 4,096 publishes un-acknowledged: the publisher writes 64 KiB chunks "
          "of `PUB` frames while fewer are outstanding, and the time runs from the first measured publish to "
          "the last PubAck. Sync latency is from writing the `PUB` to reading its PubAck.\n";
    md += "\n### Per-round values\n\n";
    md += "As above: run order, `x` = failed run, other processes' CPU (A / B).\n\n";
    md += PerRoundTable(ctx, js);
  }

  if (!consume.empty()) {
    int met = 0, missed = 0;
    md += std::string(core.empty() && js.empty() ? "" : "\n") + "## JetStream consume\n\n";
    md += "Same server options as above. In each round, one server process and one connection serve both "
          "throughput workloads: the file stream `BENCH` (`js.bench`) is created and seeded with async publishes "
          "(at most 16,384 PubAcks outstanding, each validated; untimed), then `js-pull500` reads it all through "
          "the durable pull consumer `PULL` and then `js-push-none` reads it all again through the durable push "
          "consumer `PUSH` (both consumers on the same seeded stream). Pull: ack explicit (other consumer "
          "settings at their defaults, so max_ack_pending 1,000), `$JS.API.CONSUMER.MSG.NEXT.BENCH.PULL` requests "
          "of `{\"batch\":500,\"expires\":30s}` on one inbox, a new one whenever less than half a batch is "
          "owed (one or two outstanding, as nats.js `consume()` does), a `+ACK` published to every message's "
          "reply subject (no AckSync); the time runs from the first pull request until `CONSUMER.INFO` shows the "
          "ack floor at the last message (every ack processed; Sluice counts an ack only once it is on disk, "
          "nats-server 2.9.10 at its defaults does not wait for the disk). Push: the deliver inbox is subscribed, then the time runs from the "
          "consumer-create request (ack none, flow_control, idle_heartbeat 5 s; flow-control requests answered "
          "at once with an empty message) to the last message received. Every delivery's `$JS.ACK` reply is "
          "parsed and its stream sequence must increase; any deviation fails the run. `js-consumer-mem` uses its "
          "own server per round: settled RSS (0.5 s after the last request) before and after creating durable "
          "pull consumers one by one on an empty stream, and between two consumers that each read the same "
          "seeded stream through the same path, one acknowledging everything (ack floor reached) and one "
          "acknowledging nothing (ack_wait 1 h; `CONSUMER.INFO` must count every pending ack). RSS deltas of a "
          "Go process include garbage not yet collected: read them as orders of magnitude.\n\n";
    md += SummaryTable(ctx, consume, refs, &met, &missed);
    md += "\n### Targets\n\n";
    md += "Ratios are " + ctx.label[0] + " / " + ctx.label[1] +
          " (issue 6). Pull (explicit acks, batch 500) and push (ack none) consumption of a 1M × 128 B file "
          "stream ≥ 1.5× nats-server's throughput, and server CPU per message consumed ≤ 0.5× nats-server's; "
          "memory per consumer and per pending ack stated, no target. A workload the server refuses shows "
          "`n/a (refused: …)` and its targets count as missed. A row counts as met only if no round of A failed. "
          "This run: " + std::to_string(met) + " met, " + std::to_string(missed) + " missed.\n\n";
    md += "### Workloads\n\n" + WorkloadList(consume);
    md += "\n### Per-round values\n\n";
    md += "As above: run order, `x` = failed run, other processes' CPU (A / B).\n\n";
    md += PerRoundTable(ctx, consume);
  }

  std::string errors;
  for (const auto& wr : results)
    for (int s = 0; s < 2; ++s)
      for (size_t i = 0; i < wr.runs[s].size(); ++i)
        if (!wr.runs[s][i].ok && wr.runs[s][i].refused.empty())
          errors += "- " + wr.workload.name + ", " + ctx.label[s] + ", round " + std::to_string(i + 1) + ": " +
                    Esc(wr.runs[s][i].error) + "\n";
  if (!errors.empty()) md += "\n## Failed runs\n\n" + errors;
  return md;
}

}  // namespace sluice::bench
