#include "js_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>

#include "connection.h"
#include "duration.h"

namespace sluice::cli {

ojson JsRequest(natsConnection* nc, const std::string& api, const ojson& body, std::chrono::nanoseconds timeout) {
  const std::string subject = "$JS.API." + api;
  const std::string payload = body.is_null() ? std::string() : body.dump();
  natsMsg* raw = nullptr;
  natsStatus s = natsConnection_Request(&raw, nc, subject.c_str(), payload.data(), static_cast<int>(payload.size()),
                                        ToMillis(timeout));
  if (s == NATS_NO_RESPONDERS) {
    throw CliError("JetStream is not enabled on this server (no responders on $JS.API; start it with -js)");
  }
  if (s == NATS_TIMEOUT) {
    throw CliError(fmt::format("no JetStream response on {} within {}", subject, FormatDuration(timeout)));
  }
  CheckNats(s, fmt::format("request on {}", subject));
  MsgPtr msg(raw);
  std::string data(natsMsg_GetData(raw) ? natsMsg_GetData(raw) : "", static_cast<size_t>(natsMsg_GetDataLength(raw)));
  ojson j = ojson::parse(data, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    throw CliError(fmt::format("the response on {} is not a JSON object: {}", subject, data.substr(0, 200)));
  }
  if (j.contains("error") && j["error"].is_object()) {
    const auto& e = j["error"];
    std::string description = e.value("description", std::string("unknown error"));
    throw JsApiError(description, e.value("err_code", 0), e.value("code", 0));
  }
  return j;
}

void CheckStreamName(const std::string& name) {
  if (name.empty()) throw UsageError("the stream name is empty");
  // Only what would change the API subject; the server judges the rest.
  bool bad = name == "*" || name == ">";
  for (char c : name) bad = bad || c == '.' || std::isspace(static_cast<unsigned char>(c)) || c == '\0';
  if (bad) throw UsageError(fmt::format("invalid stream name \"{}\": it may not contain '.' or whitespace", name));
}

std::optional<int64_t> ParseSize(const std::string& text) {
  if (text == "-1") return -1;
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 18) return std::nullopt;
  int64_t n = std::stoll(text.substr(0, i));
  std::string unit;
  for (size_t k = i; k < text.size(); ++k) {
    if (text[k] == ' ') continue;
    unit += static_cast<char>(std::toupper(static_cast<unsigned char>(text[k])));
  }
  int shift = 0;
  if (unit.empty() || unit == "B") {
    shift = 0;
  } else {
    const char* letters = "KMGTP";
    size_t p = std::string(letters).find(unit[0]);
    if (p == std::string::npos) return std::nullopt;
    std::string rest = unit.substr(1);
    if (!(rest.empty() || rest == "B" || rest == "IB")) return std::nullopt;
    shift = 10 * static_cast<int>(p + 1);
  }
  if (shift > 0 && n > (INT64_MAX >> shift)) return std::nullopt;
  return n << shift;
}

int64_t RequireSize(const std::string& text, const std::string& flag) {
  auto v = ParseSize(text);
  if (!v) throw UsageError(fmt::format("{}: \"{}\" is not a size (e.g. 1024, 512KB, 10MB, 1GB, -1)", flag, text));
  return *v;
}

std::chrono::nanoseconds RequireLongDuration(const std::string& text, const std::string& flag) {
  // Peel off leading d/w/y components, then hand the rest to the Go parser.
  int64_t days = 0;
  std::string rest = text;
  while (true) {
    size_t i = 0;
    while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
    if (i == 0 || i >= rest.size() || i > 9) break;
    char u = rest[i];
    int64_t mult = u == 'd' ? 1 : u == 'w' ? 7 : u == 'y' ? 365 : 0;
    if (mult == 0) break;
    days += std::stoll(rest.substr(0, i)) * mult;
    rest = rest.substr(i + 1);
  }
  std::chrono::nanoseconds d{0};
  if (!rest.empty()) {
    auto parsed = ParseDuration(rest);
    if (!parsed) throw UsageError(fmt::format("{}: \"{}\" is not a duration (e.g. 500ms, 2m, 1h, 7d, 1y)", flag, text));
    d = *parsed;
  } else if (days == 0) {
    throw UsageError(fmt::format("{}: \"{}\" is not a duration (e.g. 500ms, 2m, 1h, 7d, 1y)", flag, text));
  }
  return d + std::chrono::hours(24 * days);
}

std::string FormatGoDuration(int64_t ns) {
  if (ns == 0) return "0s";
  std::string out;
  if (ns < 0) {
    out = "-";
    ns = -ns;
  }
  if (ns < 1'000'000'000) {
    if (ns % 1'000'000 == 0) return out + fmt::format("{}ms", ns / 1'000'000);
    if (ns % 1'000 == 0) return out + fmt::format("{}µs", ns / 1'000);
    return out + fmt::format("{}ns", ns);
  }
  int64_t secs = ns / 1'000'000'000, frac = ns % 1'000'000'000;
  int64_t d = secs / 86400, h = secs / 3600 % 24, m = secs / 60 % 60, s = secs % 60;
  if (d) out += fmt::format("{}d", d);
  if (h) out += fmt::format("{}h", h);
  if (m) out += fmt::format("{}m", m);
  if (s || frac) {
    if (frac) {
      std::string f = fmt::format("{:09d}", frac);
      while (!f.empty() && f.back() == '0') f.pop_back();
      out += fmt::format("{}.{}s", s, f);
    } else {
      out += fmt::format("{}s", s);
    }
  }
  return out;
}

std::string FormatBytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (std::fabs(bytes) >= 1024 && u < 5) {
    bytes /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, units[u]);
}

std::string Base64Decode(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=' || c == '\n' || c == '\r') continue;
    int v = value(c);
    if (v < 0) throw CliError("the server sent invalid base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::vector<std::string>>> ParseHeaderBlock(const std::string& block) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  size_t pos = block.find("\r\n");
  if (pos == std::string::npos) return out;
  pos += 2;
  while (pos < block.size()) {
    size_t end = block.find("\r\n", pos);
    if (end == std::string::npos) end = block.size();
    std::string line = block.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon), value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& kv) { return kv.first == key; });
    if (it == out.end()) {
      out.push_back({key, {value}});
    } else {
      it->second.push_back(value);
    }
  }
  return out;
}

std::optional<int64_t> ParseRfc3339(const std::string& text) {
  int Y, M, D, h, m, s;
  if (text.size() < 20 || std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &Y, &M, &D, &h, &m, &s) != 6) {
    return std::nullopt;
  }
  if (Y <= 1) return std::nullopt;  // Go's zero time
  std::tm tm{};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = s;
  int64_t secs = static_cast<int64_t>(timegm(&tm));
  int64_t frac = 0;
  size_t i = 19;
  if (i < text.size() && text[i] == '.') {
    int digits = 0;
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (digits < 9) {
        frac = frac * 10 + (text[i] - '0');
        ++digits;
      }
      ++i;
    }
    while (digits++ < 9) frac *= 10;
  }
  if (i < text.size() && (text[i] == '+' || text[i] == '-') && i + 5 < text.size() + 1) {
    int oh = 0, om = 0;
    if (std::sscanf(text.c_str() + i + 1, "%2d:%2d", &oh, &om) == 2) {
      int64_t off = (oh * 3600 + om * 60) * (text[i] == '+' ? 1 : -1);
      secs -= off;
    }
  }
  return secs * 1'000'000'000 + frac;
}

std::string Ago(const std::string& rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  if (!t) return "never";
  int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  int64_t secs = (now - *t) / 1'000'000'000;
  if (secs < 0) secs = 0;
  if (secs < 60) return fmt::format("{}s ago", secs);
  if (secs < 3600) return fmt::format("{}m ago", secs / 60);
  if (secs < 86400) return fmt::format("{}h ago", secs / 3600);
  return fmt::format("{}d ago", secs / 86400);
}

}  // namespace sluice::cli
