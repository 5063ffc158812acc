// sluice-bench: Sluice (A) against nats-server (B), same workloads, fresh server per run.
//
//   sluice-bench [--a-server PATH] [--b-server PATH] [--rounds N] [--only w1,w2]
//                [--scale F] [--md FILE] [--results-dir DIR] [--command TEXT] [--list]
//
// See bench/README.md.
#include <signal.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "nats_client.h"
#include "proc_stats.h"
#include "report.h"
#include "server_process.h"
#include "workloads.h"

namespace {

using sluice::testing::ServerKind;
using sluice::testing::ServerProcess;
namespace b = sluice::bench;

void Usage() {
  std::fprintf(stderr,
               "usage: sluice-bench [--a-server PATH] [--b-server PATH] [--rounds N] [--only w1,w2,...]\n"
               "                    [--scale F] [--md FILE] [--results-dir DIR] [--command TEXT] [--list]\n"
               "                    [--max-wait SECONDS] [--max-retries N]\n"
               "  A defaults to $SLUICE_SERVER or build/sluice-server, B to $NATS_SERVER or nats-server.\n");
}

std::string Now(const char* fmt) {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof(buf), fmt, std::localtime(&t));
  return buf;
}

// The server of the current run, killed if the driver is interrupted.
volatile sig_atomic_t g_server_pid = 0;

void OnSignal(int sig) {
  if (g_server_pid > 0) ::kill(g_server_pid, SIGKILL);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// One run: a fresh server, the workloads of one group (usually one; the
// JetStream consume workloads share a seeded stream), the server stopped.
// One result per workload of the group.
std::vector<b::RunResult> RunOnce(ServerKind kind, const std::vector<b::Workload>& group,
                                  const b::RunSettings& settings) {
  const b::Workload& w = group.front();
  // The disk reference has no server; it writes where the servers' temp dirs go.
  if (w.kind == b::WorkloadKind::kDisk) return {b::RunDisk(w, "/tmp")};
  std::vector<b::RunResult> rs(group.size());
  std::vector<std::string> args;
  if (b::NeedsJetStream(w.kind)) args = {"-js", "-sd", "{tmp}/js"};
  // Sluice with a sync interval: a config file of one line (flags override
  // the rest of it; nats-server runs at its defaults).
  std::string config_path;
  if (kind == ServerKind::kSluice && !w.a_sync_interval.empty()) {
    char tmpl[] = "/tmp/sluice-bench-conf-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    const std::string text = "jetstream { sync_interval: \"" + w.a_sync_interval + "\" }\n";
    if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      if (fd >= 0) ::close(fd);
      for (auto& r : rs) r.error = "cannot write the server's config file";
      return rs;
    }
    ::close(fd);
    config_path = tmpl;
    args.push_back("-c");
    args.push_back(config_path);
  }
  auto server = ServerProcess::Start(kind, args);
  if (!config_path.empty()) ::unlink(config_path.c_str());
  if (!server) {
    for (auto& r : rs) r.error = "server did not start";
    return rs;
  }
  g_server_pid = server->pid();
  if (w.kind == b::WorkloadKind::kJsConsume)
    rs = b::RunJsConsume(group, server->port(), server->pid(), settings);
  else
    rs = {b::RunWorkload(w, server->port(), server->pid(), settings)};
  if (!b::ProcessAlive(server->pid())) {
    for (auto& r : rs) {
      r.ok = false;
      r.error = "server exited during the run; " + r.error;
    }
  }
  server->Stop(SIGTERM, 5000);
  g_server_pid = 0;
  return rs;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGINT, OnSignal);
  ::signal(SIGTERM, OnSignal);
  ::signal(SIGHUP, OnSignal);
  std::string a_server, b_server, md_path, results_dir, command, only;
  int rounds = 5;
  double scale = 1.0;
  double max_wait = 120;  // seconds, in total, spent waiting for a quiet machine
  int max_retries = 10;   // runs repeated, in total, because other processes disturbed them
  bool list = false;
  std::string full_command;
  for (int i = 0; i < argc; ++i) full_command += (i ? " " : "") + std::string(argv[i]);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        Usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--a-server") a_server = next();
    else if (arg == "--b-server") b_server = next();
    else if (arg == "--rounds") rounds = std::atoi(next().c_str());
    else if (arg == "--only") only = next();
    else if (arg == "--scale") scale = std::atof(next().c_str());
    else if (arg == "--md") md_path = next();
    else if (arg == "--results-dir") results_dir = next();
    else if (arg == "--command") command = next();
    else if (arg == "--list") list = true;
    else if (arg == "--max-wait") max_wait = std::atof(next().c_str());
    else if (arg == "--max-retries") max_retries = std::atoi(next().c_str());
    else {
      Usage();
      return arg == "-h" || arg == "--help" ? 0 : 2;
    }
  }
  if (rounds < 1 || scale <= 0) {
    Usage();
    return 2;
  }
  if (!a_server.empty()) ::setenv("SLUICE_SERVER", a_server.c_str(), 1);
  if (!b_server.empty()) ::setenv("NATS_SERVER", b_server.c_str(), 1);
  if (command.empty()) command = full_command;

  std::vector<b::Workload> workloads;
  std::set<std::string> wanted, found;
  {
    std::stringstream ss(only);
    std::string item;
    while (std::getline(ss, item, ','))
      if (!item.empty()) wanted.insert(item);
  }
  const auto all = b::DefaultWorkloads();
  bool js_wanted = false;  // a JetStream publish workload is selected
  for (const auto& w : all) {
    found.insert(w.name);
    if (wanted.count(w.name) && b::IsJetStream(w.kind)) js_wanted = true;
  }
  for (auto w : all) {
    if (list) {
      std::printf("%-16s %s\n", w.name.c_str(), w.title.c_str());
      continue;
    }
    // The disk reference comes with any JetStream publish workload (their targets refer to it).
    if (!wanted.empty() && !wanted.count(w.name) && !(w.kind == b::WorkloadKind::kDisk && js_wanted)) continue;
    if (w.kind != b::WorkloadKind::kMemory && w.kind != b::WorkloadKind::kDisk) {
      w.count = std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(w.count * scale)));
      w.warmup = static_cast<uint64_t>(std::llround(w.warmup * std::min(1.0, scale)));
    }
    workloads.push_back(w);
  }
  if (list) return 0;
  for (const auto& name : wanted) {
    if (!found.count(name)) {
      std::fprintf(stderr, "unknown workload: %s (see --list)\n", name.c_str());
      return 2;
    }
  }

  // 1,000 idle connections need descriptors; the servers inherit the raised soft limit.
  b::RaiseFileLimit(8192);

  const ServerKind kinds[2] = {ServerKind::kSluice, ServerKind::kNatsServer};
  b::ReportContext ctx;
  ctx.command = command;
  ctx.date = Now("%Y-%m-%d %H:%M:%S %Z");
  ctx.machine = b::ReadMachineInfo();
  ctx.rounds = rounds;
  for (int s = 0; s < 2; ++s) {
    ctx.binary[s] = sluice::testing::ServerBinary(kinds[s]);
    ctx.version[s] = b::BinaryVersion(ctx.binary[s]);
  }
  ctx.label[0] = ctx.version[0].rfind("nats-server", 0) == 0 ? "nats-server (as A)" : "Sluice";
  ctx.label[1] = "nats-server";
  std::fprintf(stderr, "A = %s: %s (%s)\nB = %s: %s (%s)\n", ctx.label[0].c_str(), ctx.binary[0].c_str(),
               ctx.version[0].c_str(), ctx.label[1].c_str(), ctx.binary[1].c_str(), ctx.version[1].c_str());

  std::string stamp = Now("%Y%m%d-%H%M%S");
  std::ofstream csv;
  if (!results_dir.empty()) {
    std::filesystem::create_directories(results_dir);
    ctx.raw_path = results_dir + "/" + stamp + ".csv";
    csv.open(ctx.raw_path);
    csv << b::CsvHeader();
  }

  const auto start = std::chrono::steady_clock::now();
  b::RunSettings settings;
  std::vector<b::WorkloadResults> results(workloads.size());
  for (size_t i = 0; i < workloads.size(); ++i) results[i].workload = workloads[i];
  // Runs of one server: consecutive workloads with the same shared_run go together.
  std::vector<std::vector<size_t>> groups;
  for (size_t i = 0; i < workloads.size(); ++i) {
    const std::string& shared = workloads[i].shared_run;
    if (i > 0 && !shared.empty() && shared == workloads[i - 1].shared_run)
      groups.back().push_back(i);
    else
      groups.push_back({i});
  }
  double waited = 0;
  bool warned = false;
  int retries_left = max_retries;
  for (const auto& group : groups) {
    std::vector<b::Workload> ws;
    for (size_t i : group) ws.push_back(workloads[i]);
    for (int round = 1; round <= rounds; ++round) {
      for (int s = 0; s < 2; ++s) {
        if (ws.front().kind == b::WorkloadKind::kDisk && s == 1) break;  // no server: one measurement per round
        std::vector<b::RunResult> rs;
        double busy = 0;
        for (int attempt = 0;; ++attempt) {
          // Other processes competing for the 2 cores spoil a run: wait (a bounded
          // time over the whole session) until the machine is quiet.
          busy = b::SampleSystemBusy(300);
          while (busy > 0.25 && waited < max_wait) {
            if (!warned)
              std::fprintf(stderr, "machine busy (%.0f%% of all cores); waiting (%.0f of %.0f s used)\n", busy * 100,
                           waited, max_wait);
            warned = true;
            std::this_thread::sleep_for(std::chrono::seconds(1));
            waited += 1.3;
            busy = b::SampleSystemBusy(300);
          }
          warned = false;
          rs = RunOnce(kinds[s], ws, settings);
          // Repeated (all of the group) when any successful run of it was disturbed.
          double other = 0;
          for (auto& r : rs) {
            r.pre_busy = busy;
            if (r.ok && r.seconds > 0 && r.other_cpu_ms >= 0)
              other = std::max(other, r.other_cpu_ms / (r.seconds * 1000 * ctx.machine.cores));
          }
          if (other <= 0.15 || retries_left <= 0) break;
          --retries_left;
          std::fprintf(stderr, "[%s] round %d %c disturbed (other processes used %.0f%% of the CPU): run again\n",
                       ws.front().name.c_str(), round, s == 0 ? 'A' : 'B', other * 100);
          if (csv.is_open()) {
            for (size_t k = 0; k < rs.size(); ++k) {
              b::RunResult d = rs[k];
              d.ok = false;
              d.error = "disturbed; repeated";
              csv << b::CsvRow(ws[k], round, s, ctx.label[s], d);
            }
          }
        }
        for (size_t k = 0; k < rs.size(); ++k) {
          const b::Workload& w = ws[k];
          std::fprintf(stderr, "[%s] round %d %c %-18s %s\n", w.name.c_str(), round, s == 0 ? 'A' : 'B',
                       ctx.label[s].c_str(), b::DescribeRun(w, rs[k]).c_str());
          if (csv.is_open()) {
            csv << b::CsvRow(w, round, s, ctx.label[s], rs[k]);
            csv.flush();
          }
          results[group[k]].runs[s].push_back(rs[k]);
        }
      }
    }
  }
  ctx.waited_seconds = waited;
  ctx.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const std::string md = b::RenderMarkdown(ctx, results);
  if (!md_path.empty()) {
    std::ofstream out(md_path);
    out << md;
    std::fprintf(stderr, "wrote %s\n", md_path.c_str());
  } else {
    std::fputs(md.c_str(), stdout);
  }
  if (!results_dir.empty()) {
    std::ofstream out(results_dir + "/" + stamp + ".md");
    out << md;
    std::fprintf(stderr, "raw results in %s\n", ctx.raw_path.c_str());
  }
  return 0;
}
