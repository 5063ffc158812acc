// sluice-bench: what the kernel says about the server process.
#pragma once

#include <sys/types.h>

#include <string>

namespace sluice::bench {

// utime + stime of the whole process (all threads) in milliseconds, from
// /proc/<pid>/stat fields 14 and 15 (clock ticks, sysconf(_SC_CLK_TCK)).
// Returns -1 when the process is gone.
double ProcessCpuMs(pid_t pid);

// CPU time the machine spent busy, from the first line of /proc/stat, in
// milliseconds: user, nice, system, irq, softirq, steal. Niced background work
// counts: on 2 cores a compiler at nice 10 still halves some runs.
double SystemBusyMs();
// Busy time of niced processes alone (the `nice` column), in milliseconds.
double SystemNicedMs();

// Share of the machine's CPU capacity (0..1) busy, as SystemBusyMs counts it,
// over the next `ms` milliseconds.
double SampleSystemBusy(int ms);

// True while the process exists and is not a zombie.
bool ProcessAlive(pid_t pid);

// VmRSS from /proc/<pid>/status in KiB, -1 when unavailable.
long ProcessRssKb(pid_t pid);

// Facts about this machine for the report.
struct MachineInfo {
  std::string cpu_model;
  int cores = 0;
  std::string kernel;
  std::string memory;
};
MachineInfo ReadMachineInfo();

// First line that `binary -v` prints (stdout and stderr), or why it failed.
std::string BinaryVersion(const std::string& binary);

}  // namespace sluice::bench
