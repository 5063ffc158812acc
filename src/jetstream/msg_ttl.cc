#include "jetstream/msg_ttl.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "config/config_file.h"
#include "jetstream/wire.h"

namespace sluice::jetstream {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

// nats-server's parseInt64: decimal digits only, -1 for anything else.
int64_t ParseDigits(std::string_view s) {
  if (s.empty()) return -1;
  int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    if (n > (std::numeric_limits<int64_t>::max() - (c - '0')) / 10) return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

// Go's time.ParseDuration, in its integer arithmetic: each component is
// whole * unit plus the fraction's share of the unit truncated to a whole ns
// (a running floating-point sum rounds differently: "0.5m" must be 30s).
std::optional<int64_t> ParseGoDuration(std::string_view s) {
  std::chrono::nanoseconds ns{};
  if (!config::ParseGoDuration(s, ns)) return std::nullopt;
  return ns.count();
}

std::optional<int64_t> ParseMessageTtl(std::string_view value) {
  if (EqualsIgnoreCase(value, "never")) return -1;
  if (auto d = ParseGoDuration(value)) {
    if (*d < kSecond) return std::nullopt;
    return *d / kSecond;
  }
  int64_t n = ParseDigits(value);
  if (n < 0) return std::nullopt;
  return n;
}

std::optional<int64_t> MessageTtlSeconds(std::string_view headers) {
  if (headers.empty()) return 0;
  auto v = HeaderValue(headers, kMessageTtlHeader);
  if (!v || v->empty()) return 0;
  return ParseMessageTtl(*v);
}

int64_t MessageTtlNs(std::string_view headers) {
  auto s = MessageTtlSeconds(headers);
  if (!s || *s == 0) return 0;
  if (*s < 0) return -1;
  if (*s > std::numeric_limits<int64_t>::max() / kSecond) return std::numeric_limits<int64_t>::max() / 2;
  return *s * kSecond;
}

std::string FormatGoSeconds(int64_t seconds) {
  if (seconds == 0) return "0s";
  std::string sign = seconds < 0 ? "-" : "";
  uint64_t s = seconds < 0 ? static_cast<uint64_t>(-seconds) : static_cast<uint64_t>(seconds);
  uint64_t h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
  if (h > 0) return fmt::format("{}{}h{}m{}s", sign, h, m, sec);
  if (m > 0) return fmt::format("{}{}m{}s", sign, m, sec);
  return fmt::format("{}{}s", sign, sec);
}

std::string MaxAgeMarkerHeaders(int64_t marker_ttl_ns) {
  return fmt::format("NATS/1.0\r\n{}: MaxAge\r\n{}: {}\r\nNats-Rollup: sub\r\n\r\n", kMarkerReasonHeader,
                     kMessageTtlHeader, FormatGoSeconds(marker_ttl_ns / kSecond));
}

std::string ReplaceHeader(std::string_view block, std::string_view name, std::string_view value) {
  std::string out;
  const size_t status_end = block.find("\r\n");
  if (status_end == std::string_view::npos) {
    out = "NATS/1.0\r\n";
  } else {
    out.assign(block.substr(0, status_end + 2));
  }
  ForEachHeaderLine(block, [&](const HeaderLine& h) {
    if (h.key != name) {
      out.append(h.line);
      out.append("\r\n");
    }
    return true;
  });
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n\r\n");
  return out;
}

bool ExpiryPlacesMarker(std::string_view headers) {
  if (headers.empty()) return true;
  if (HeaderValue(headers, kMarkerReasonHeader)) return false;
  auto op = HeaderValue(headers, "KV-Operation");
  return !(op && *op == "PURGE");
}

}  // namespace sluice::jetstream
