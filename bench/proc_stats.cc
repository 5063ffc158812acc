#include "proc_stats.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace sluice::bench {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, e - b + 1);
}

}  // namespace

double ProcessCpuMs(pid_t pid) {
  const std::string stat = ReadAll("/proc/" + std::to_string(pid) + "/stat");
  // The command name (field 2) is in parentheses and may contain spaces: count from the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 1));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  std::string tok;
  while (fields >> tok && f.size() < 14) f.push_back(tok);
  if (f.size() < 14) return -1;
  const double utime = std::strtod(f[14 - 3].c_str(), nullptr);
  const double stime = std::strtod(f[15 - 3].c_str(), nullptr);
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return (utime + stime) * 1000.0 / ticks;
}

namespace {
// user nice system idle iowait irq softirq steal, in ms; false when unreadable.
bool ReadSystemCpu(double v[8]) {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  if (cpu != "cpu") return false;
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  for (int i = 0; i < 8; ++i) {
    in >> v[i];
    v[i] = v[i] * 1000.0 / ticks;
  }
  return true;
}
}  // namespace

double SystemBusyMs() {
  double v[8] = {};
  if (!ReadSystemCpu(v)) return -1;
  return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

double SystemNicedMs() {
  double v[8] = {};
  if (!ReadSystemCpu(v)) return -1;
  return v[1];
}

double SampleSystemBusy(int ms) {
  const double b0 = SystemBusyMs();
  ::usleep(static_cast<useconds_t>(ms) * 1000);
  const double b1 = SystemBusyMs();
  const double cores = static_cast<double>(::sysconf(_SC_NPROCESSORS_ONLN));
  return (b1 - b0) / (ms * cores);
}

bool ProcessAlive(pid_t pid) {
  const std::string stat = ReadAll("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return false;
  const char state = stat[close + 2];
  return state != 'Z' && state != 'X';
}

long ProcessRssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

MachineInfo ReadMachineInfo() {
  MachineInfo m;
  std::ifstream cpu("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpu, line)) {
    if (line.rfind("model name", 0) == 0 && m.cpu_model.empty()) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) m.cpu_model = Trim(line.substr(colon + 1));
    }
  }
  m.cores = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  utsname u{};
  if (::uname(&u) == 0) m.kernel = std::string(u.sysname) + " " + u.release + " " + u.machine;
  std::ifstream mem("/proc/meminfo");
  while (std::getline(mem, line)) {
    if (line.rfind("MemTotal:", 0) == 0) {
      long kb = std::strtol(line.c_str() + 9, nullptr, 10);
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.1f GiB", kb / 1024.0 / 1024.0);
      m.memory = buf;
    }
  }
  return m;
}

std::string BinaryVersion(const std::string& binary) {
  std::string cmd = "'" + binary + "' -v 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "(could not run " + binary + ")";
  char buf[512];
  std::string out;
  if (std::fgets(buf, sizeof(buf), p)) out = buf;
  while (std::fgets(buf, sizeof(buf), p)) {
  }
  ::pclose(p);
  out = Trim(out);
  return out.empty() ? "(no output from " + binary + " -v)" : out;
}

}  // namespace sluice::bench
