// Numbers a benchmark reports: message and byte rates, latency percentiles.
// MB/s means 1,000,000 bytes a second (of payload; protocol overhead is not counted).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::cli {

struct Throughput {
  uint64_t msgs = 0;
  uint64_t bytes = 0;
  std::chrono::nanoseconds elapsed{0};

  double MsgsPerSec() const;
  double MBPerSec() const;
  nlohmann::ordered_json ToJson() const;
  // "123,456 msgs/s ~ 15.80 MB/s (100,000 msgs in 0.810s)"
  std::string ToText() const;
};

struct Latency {
  uint64_t samples = 0;
  std::chrono::nanoseconds min{0}, avg{0}, p50{0}, p90{0}, p99{0}, p999{0}, max{0};

  // Nearest-rank percentiles; sorts the samples.
  static Latency FromSamples(std::vector<int64_t>& samples_ns);
  nlohmann::ordered_json ToJson() const;  // microseconds, as doubles
  std::string ToText() const;     // "min 45.00µs avg … p99.9 … max …"
};

// The value at percentile p (0 < p <= 100) of sorted samples, nearest rank.
int64_t Percentile(const std::vector<int64_t>& sorted, double p);

}  // namespace sluice::cli
