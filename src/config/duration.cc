// Durations and sizes as nats-server reads them from a parsed config.
#include <cstdint>
#include <string>

#include "config/config_file.h"

namespace sluice::config {

namespace {

constexpr uint64_t kLimit = uint64_t{1} << 63;  // |duration| may not exceed this

std::string Quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  out.append(s);
  out.push_back('"');
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Unit of a duration component in nanoseconds, 0 if unknown.
uint64_t UnitNanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" /* U+00B5 micro */ || unit == "\xCE\xBCs" /* U+03BC mu */) {
    return 1000;
  }
  if (unit == "ms") return 1000 * 1000;
  if (unit == "s") return 1000 * 1000 * 1000;
  if (unit == "m") return uint64_t{60} * 1000 * 1000 * 1000;
  if (unit == "h") return uint64_t{3600} * 1000 * 1000 * 1000;
  return 0;
}

const Position& FieldPosition(const Value& v) {
  return v.key_position.line > 0 ? v.key_position : v.position;
}

}  // namespace

bool ParseGoDuration(std::string_view text, std::chrono::nanoseconds& out, std::string& error) {
  const std::string_view orig = text;
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") {
    out = std::chrono::nanoseconds(0);
    return true;
  }
  if (s.empty()) {
    error = "time: invalid duration " + Quote(orig);
    return false;
  }
  uint64_t total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || IsDigit(s[0]))) {
      error = "time: invalid duration " + Quote(orig);
      return false;
    }
    // Integer part.
    uint64_t whole = 0;
    size_t i = 0;
    for (; i < s.size() && IsDigit(s[i]); ++i) {
      if (whole > (kLimit - 1) / 10) {
        error = "time: invalid duration " + Quote(orig);
        return false;
      }
      whole = whole * 10 + static_cast<uint64_t>(s[i] - '0');
      if (whole > kLimit) {
        error = "time: invalid duration " + Quote(orig);
        return false;
      }
    }
    const bool had_whole = i > 0;
    s.remove_prefix(i);
    // Fraction: keep digits while they fit, as Go does.
    uint64_t frac = 0;
    double scale = 1;
    bool had_frac = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t k = 0;
      bool overflow = false;
      for (; k < s.size() && IsDigit(s[k]); ++k) {
        if (overflow) continue;
        if (frac > (kLimit - 1) / 10) {
          overflow = true;
          continue;
        }
        uint64_t next = frac * 10 + static_cast<uint64_t>(s[k] - '0');
        if (next > kLimit) {
          overflow = true;
          continue;
        }
        frac = next;
        scale *= 10;
      }
      had_frac = k > 0;
      s.remove_prefix(k);
    }
    if (!had_whole && !had_frac) {
      error = "time: invalid duration " + Quote(orig);
      return false;
    }
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !IsDigit(s[u])) ++u;
    if (u == 0) {
      error = "time: missing unit in duration " + Quote(orig);
      return false;
    }
    const std::string_view unit_text = s.substr(0, u);
    s.remove_prefix(u);
    const uint64_t unit = UnitNanos(unit_text);
    if (unit == 0) {
      error = "time: unknown unit " + Quote(unit_text) + " in duration " + Quote(orig);
      return false;
    }
    if (whole > kLimit / unit) {
      error = "time: invalid duration " + Quote(orig);
      return false;
    }
    uint64_t value = whole * unit;
    if (frac > 0) {
      value += static_cast<uint64_t>(static_cast<double>(frac) * (static_cast<double>(unit) / scale));
      if (value > kLimit) {
        error = "time: invalid duration " + Quote(orig);
        return false;
      }
    }
    total += value;
    if (total > kLimit) {
      error = "time: invalid duration " + Quote(orig);
      return false;
    }
  }
  if (negative) {
    out = std::chrono::nanoseconds(total == kLimit ? INT64_MIN : -static_cast<int64_t>(total));
    return true;
  }
  if (total > kLimit - 1) {
    error = "time: invalid duration " + Quote(orig);
    return false;
  }
  out = std::chrono::nanoseconds(static_cast<int64_t>(total));
  return true;
}

bool ParseGoDuration(std::string_view text, std::chrono::nanoseconds& out) {
  std::string ignored;
  return ParseGoDuration(text, out, ignored);
}

bool ToDuration(const Value& v, std::string_view key, std::chrono::nanoseconds& out,
                std::string& warning, std::string& error) {
  const std::string where = FieldPosition(v).ToString();
  const std::string field(key);
  switch (v.kind) {
    case Value::Kind::kString: {
      std::string why;
      if (!ParseGoDuration(v.string, out, why)) {
        error = where + ": error parsing " + field + ": " + why;
        return false;
      }
      return true;
    }
    case Value::Kind::kInteger: {
      // nats-server's backward-compatible reading: a number of seconds.
      constexpr int64_t kMaxSeconds = INT64_MAX / 1000000000;
      if (v.integer > kMaxSeconds || v.integer < -kMaxSeconds) {
        error = where + ": error parsing " + field + ": " + std::to_string(v.integer) +
                " seconds is out of range";
        return false;
      }
      warning = where + ": invalid use of field \"" + field + "\": " + field +
                " should be converted to a duration";
      out = std::chrono::seconds(v.integer);
      return true;
    }
    default:
      error = where + ": error parsing " + field + ": expected a duration such as \"10s\" or \"2m\", got a " +
              Value::KindName(v.kind);
      return false;
  }
}

bool ToSize(const Value& v, int64_t& out, std::string& error) {
  const std::string where = FieldPosition(v).ToString();
  if (v.kind != Value::Kind::kInteger) {
    error = where + ": expected a size (an integer, optionally with a suffix such as 1MB), got a " +
            std::string(Value::KindName(v.kind));
    if (v.kind == Value::Kind::kString) error += " \"" + v.string + "\"";
    return false;
  }
  if (v.integer < 0) {
    error = where + ": a size can not be negative, got " + std::to_string(v.integer);
    return false;
  }
  out = v.integer;
  return true;
}

}  // namespace sluice::config
