#include "bench_stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "duration.h"
#include "progress_line.h"

namespace sluice::cli {
namespace {

double Seconds(std::chrono::nanoseconds d) {
  // A run too short to measure counts as one nanosecond rather than dividing by zero.
  return std::max<int64_t>(d.count(), 1) / 1e9;
}

}  // namespace

double Throughput::MsgsPerSec() const { return static_cast<double>(msgs) / Seconds(elapsed); }
double Throughput::MBPerSec() const { return static_cast<double>(bytes) / Seconds(elapsed) / 1e6; }

nlohmann::ordered_json Throughput::ToJson() const {
  return {{"msgs", msgs},
          {"bytes", bytes},
          {"seconds", static_cast<double>(elapsed.count()) / 1e9},
          {"msgs_per_sec", MsgsPerSec()},
          {"mb_per_sec", MBPerSec()}};
}

std::string Throughput::ToText() const {
  return fmt::format("{} msgs/s ~ {:.2f} MB/s ({} msgs in {})", WithThousands(std::llround(MsgsPerSec())),
                     MBPerSec(), WithThousands(msgs), FormatDuration(elapsed));
}

int64_t Percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

Latency Latency::FromSamples(std::vector<int64_t>& samples_ns) {
  Latency l;
  if (samples_ns.empty()) return l;
  std::sort(samples_ns.begin(), samples_ns.end());
  l.samples = samples_ns.size();
  l.min = std::chrono::nanoseconds(samples_ns.front());
  l.max = std::chrono::nanoseconds(samples_ns.back());
  long double sum = std::accumulate(samples_ns.begin(), samples_ns.end(), 0.0L);
  l.avg = std::chrono::nanoseconds(static_cast<int64_t>(sum / samples_ns.size()));
  l.p50 = std::chrono::nanoseconds(Percentile(samples_ns, 50));
  l.p90 = std::chrono::nanoseconds(Percentile(samples_ns, 90));
  l.p99 = std::chrono::nanoseconds(Percentile(samples_ns, 99));
  l.p999 = std::chrono::nanoseconds(Percentile(samples_ns, 99.9));
  return l;
}

nlohmann::ordered_json Latency::ToJson() const {
  auto us = [](std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e3; };
  return {{"samples", samples}, {"min", us(min)}, {"avg", us(avg)},   {"p50", us(p50)},
          {"p90", us(p90)},     {"p99", us(p99)}, {"p99_9", us(p999)}, {"max", us(max)}};
}

std::string Latency::ToText() const {
  return fmt::format("min {}  avg {}  p50 {}  p90 {}  p99 {}  p99.9 {}  max {}", FormatDuration(min),
                     FormatDuration(avg), FormatDuration(p50), FormatDuration(p90), FormatDuration(p99),
                     FormatDuration(p999), FormatDuration(max));
}

}  // namespace sluice::cli
