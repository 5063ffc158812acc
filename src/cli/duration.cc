#include "duration.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>

#include "cli_common.h"

namespace sluice::cli {

std::optional<std::chrono::nanoseconds> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  // A bare number (integer or decimal) means seconds.
  bool bare = true;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') bare = false;
  }
  if (bare) {
    try {
      double seconds = std::stod(std::string(text));
      return std::chrono::nanoseconds(static_cast<int64_t>(std::llround(seconds * 1e9)));
    } catch (...) {
      return std::nullopt;
    }
  }
  double total_ns = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == start) return std::nullopt;
    double value;
    try {
      value = std::stod(std::string(text.substr(start, i - start)));
    } catch (...) {
      return std::nullopt;
    }
    size_t unit_start = i;
    while (i < text.size() && !std::isdigit(static_cast<unsigned char>(text[i])) && text[i] != '.') ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    double scale;
    if (unit == "ns") scale = 1;
    else if (unit == "us" || unit == "µs") scale = 1e3;
    else if (unit == "ms") scale = 1e6;
    else if (unit == "s") scale = 1e9;
    else if (unit == "m") scale = 60e9;
    else if (unit == "h") scale = 3600e9;
    else return std::nullopt;
    total_ns += value * scale;
  }
  if (total_ns > 9.2e18) return std::nullopt;
  return std::chrono::nanoseconds(static_cast<int64_t>(std::llround(total_ns)));
}

std::chrono::nanoseconds RequireDuration(std::string_view text, std::string_view flag) {
  auto d = ParseDuration(text);
  if (!d) {
    throw UsageError(fmt::format("{}: invalid duration \"{}\" (examples: 500ms, 2s, 1m)", flag, text));
  }
  return *d;
}

std::string FormatDuration(std::chrono::nanoseconds d) {
  double ns = static_cast<double>(d.count());
  if (ns < 1e3) return fmt::format("{:.0f}ns", ns);
  if (ns < 1e6) return fmt::format("{:.2f}µs", ns / 1e3);
  if (ns < 1e9) return fmt::format("{:.2f}ms", ns / 1e6);
  return fmt::format("{:.3f}s", ns / 1e9);
}

}  // namespace sluice::cli
