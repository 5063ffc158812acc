#include "jetstream/wire.h"

#include <fmt/format.h>

#include <charconv>
#include <ctime>
#include <vector>

namespace sluice::jetstream {

std::string FormatTime(int64_t unix_ns) {
  if (unix_ns == 0) return "0001-01-01T00:00:00Z";
  int64_t secs = unix_ns / 1'000'000'000;
  int64_t frac = unix_ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    secs -= 1;
  }
  time_t t = static_cast<time_t>(secs);
  struct tm tm {};
  gmtime_r(&t, &tm);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                                tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (frac != 0) {
    std::string f = fmt::format("{:09}", frac);
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += "." + f;
  }
  out += "Z";
  return out;
}

std::string Base64Encode(std::string_view data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == data.size()) {
    uint32_t v = uint8_t(data[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

namespace {
std::vector<std::string_view> Tokens(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    out.push_back(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}
}  // namespace

bool SubjectsCollide(std::string_view a, std::string_view b) {
  auto ta = Tokens(a), tb = Tokens(b);
  size_t n = std::min(ta.size(), tb.size());
  for (size_t i = 0; i < n; ++i) {
    if (ta[i] == ">" || tb[i] == ">") return true;
    if (ta[i] == "*" || tb[i] == "*") continue;
    if (ta[i] != tb[i]) return false;
  }
  return ta.size() == tb.size();
}

bool SubjectIsSubsetOf(std::string_view sub, std::string_view super) {
  auto ts = Tokens(sub), tp = Tokens(super);
  for (size_t i = 0; i < tp.size(); ++i) {
    if (tp[i] == ">") return i < ts.size();
    if (i >= ts.size()) return false;
    if (ts[i] == ">") return false;
    if (tp[i] == "*") continue;
    if (ts[i] == "*" || ts[i] != tp[i]) return false;
  }
  return ts.size() == tp.size();
}

std::optional<std::string_view> HeaderValue(std::string_view block, std::string_view name) {
  std::optional<std::string_view> found;
  ForEachHeaderLine(block, [&](const HeaderLine& h) {
    if (h.colon == std::string_view::npos || h.key != name) return true;
    std::string_view value = h.line.substr(h.colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    found = value;
    return false;
  });
  return found;
}

std::optional<uint64_t> ParseUint(std::string_view text) {
  uint64_t v = 0;
  if (text.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace sluice::jetstream
