// sluice-bench: the workloads, each run against one freshly started server.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::bench {

enum class WorkloadKind {
  kThroughput,
  kRequestReply,
  kMemory,
  // JetStream (js_workloads.cc): servers started with `-js -sd <temp dir>`.
  kJsAsync,  // publish with a window of outstanding PubAcks
  kJsSync,   // publish one at a time, wait for each PubAck
  kDisk,     // no server: the raw disk under the servers' temp dirs (the reference)
  // JetStream consumers (js_consume_workloads.cc), same server options.
  kJsConsume,      // consume a seeded stream (pull with acks, or push)
  kJsConsumerMem,  // server RSS per consumer and per pending ack
};

// True for the workloads of the "JetStream publish" section (including the disk reference).
inline bool IsJetStream(WorkloadKind k) {
  return k == WorkloadKind::kJsAsync || k == WorkloadKind::kJsSync || k == WorkloadKind::kDisk;
}
// True for the workloads of the "JetStream consume" section.
inline bool IsJetStreamConsume(WorkloadKind k) {
  return k == WorkloadKind::kJsConsume || k == WorkloadKind::kJsConsumerMem;
}
// True when the server must run with JetStream on (`-js -sd <temp dir>`).
inline bool NeedsJetStream(WorkloadKind k) { return IsJetStream(k) || IsJetStreamConsume(k); }

struct Workload {
  std::string name;   // what --only selects: pub16, pubsub16, ...
  std::string title;  // one line for the report
  WorkloadKind kind = WorkloadKind::kThroughput;
  int subscribers = 0;     // throughput: 0 = publish only
  bool queue = false;      // throughput: subscribers form one queue group
  size_t payload = 16;     // bytes per message (requests and replies too)
  uint64_t count = 0;      // messages published (requests for request/reply)
  uint64_t warmup = 0;     // untimed messages/requests before the measured part
  int idle_connections = 0;  // memory: connections opened
  std::string storage;       // JetStream: "file" or "memory"
  // JetStream: Sluice (A) runs with `jetstream { sync_interval: <this> }`
  // (empty: its default, "always"); nats-server keeps its defaults.
  std::string a_sync_interval;
  int max_outstanding = 0;   // JetStream async: un-acked publishes allowed
  // JetStream consume: a pull consumer with explicit acks fetching `pull_batch`
  // messages per request, or (push) a push consumer with ack none.
  bool push = false;
  int pull_batch = 0;
  int consumers = 0;  // consumer memory: durable consumers created
  // Selected workloads with the same non-empty value share one server per round
  // and run in list order (the consume workloads share one seeded stream).
  std::string shared_run;
};

// The workloads `make bench` runs, in order.
std::vector<Workload> DefaultWorkloads();

struct RunSettings {
  size_t window_bytes = 4u << 20;  // bound on bytes in flight towards the slowest subscriber
  size_t chunk_bytes = 64u << 10;  // bytes per publisher write
  int stall_timeout_ms = 20000;    // a run with no progress for this long fails
};

struct RunResult {
  bool ok = false;
  std::string error;
  // Throughput and request/reply.
  uint64_t msgs = 0;       // messages published (or requests)
  uint64_t delivered = 0;  // messages received by all subscribers together
  double seconds = 0;
  double cpu_ms = -1;  // server utime+stime spent on the measured part
  double bench_cpu_ms = -1;  // sluice-bench's own CPU time over the measured part
  double other_cpu_ms = -1;  // CPU time of all other processes on the machine meanwhile (interference)
  double niced_cpu_ms = -1;  // the part of it spent by niced processes (background builds, fuzzers)
  long rss_kb = -1;    // server VmRSS right after the measured part
  // Request/reply round trips, microseconds.
  double p50_us = 0, p99_us = 0, p999_us = 0;
  // Share of the machine's CPU (0..1) busy in the 0.3 s before the server started.
  double pre_busy = -1;
  // Memory.
  long rss_idle_kb = -1;
  long rss_conns_kb = -1;
  // Disk reference.
  double disk_mbs = -1;     // sequential 1 MiB writes, each followed by fdatasync (median of 5 samples)
  double fsyncs_per_s = -1; // 4 KiB writes, each followed by fdatasync
  double fsync_cpu_us = -1; // this process's CPU per 4 KiB write + fdatasync (median of 5 samples)
  // JetStream consume.
  long rss_seeded_kb = -1;         // server VmRSS once the stream was seeded
  double seed_seconds = -1;        // time the seeding took (untimed part, for the console and CSV)
  uint64_t flow_controls = 0;      // push: flow-control requests answered
  double bytes_per_consumer = -1;  // consumer memory: RSS growth / durable consumers created
  double bytes_per_pending_ack = -1;  // RSS growth / messages delivered and not acknowledged
  // Set when the server refused the workload (a feature it does not have): the
  // run is not a failure of the harness; the report shows "n/a (refused: ...)".
  std::string refused;

  double MsgsPerSec() const { return seconds > 0 ? msgs / seconds : 0; }
};

// Runs one workload against the server listening on `port` with process id `pid`.
RunResult RunWorkload(const Workload& w, int port, pid_t pid, const RunSettings& settings);

// js_workloads.cc
std::vector<Workload> JetStreamWorkloads();
RunResult RunJetStream(const Workload& w, int port, pid_t pid, const RunSettings& settings);
// The disk reference, measured in a fresh directory under `parent` (removed after).
RunResult RunDisk(const Workload& w, const std::string& parent);

// js_consume_workloads.cc
std::vector<Workload> JetStreamConsumeWorkloads();
// Runs the consume workloads `ws` (kJsConsume, one shared_run group) against one
// server: seeds one stream once, then each workload in order; one result each.
std::vector<RunResult> RunJsConsume(const std::vector<Workload>& ws, int port, pid_t pid, const RunSettings& settings);
RunResult RunJsConsumerMemory(const Workload& w, int port, pid_t pid, const RunSettings& settings);

// Shared by the workload files.
struct CpuSnapshot {
  double server, self, system, niced;
  static CpuSnapshot Take(pid_t pid);
};
// Fills the CPU fields of `r`; false when the server is gone.
bool SetCpu(RunResult& r, const CpuSnapshot& a, const CpuSnapshot& b);
// Nearest-rank percentile of sorted values.
double Percentile(const std::vector<double>& sorted, double p);

}  // namespace sluice::bench
