// libFuzzer target for the NATS header block helpers JetStream uses
// (jetstream/wire.h, jetstream/msg_ttl.h).
//
// Input layout (see fuzz/README.md): "<block>\0<name>\0<value>"; missing
// parts are empty. The block is a header block ("NATS/1.0\r\nKey: v\r\n\r\n"),
// the name a header name and the value a header value / duration text.
// Checks (any failure aborts):
//   - HeaderValue returns a view inside the block; MessageTtlSeconds,
//     MessageTtlNs and ExpiryPlacesMarker agree with each other;
//   - ParseMessageTtl: -1 only for "never", a duration of at least 1 s gives
//     its whole seconds, nothing below -1;
//   - ParseGoDuration agrees with config::ParseGoDuration (the Go port of
//     time.ParseDuration) on what it accepts, and on the value to within the
//     rounding of a fraction; for whole seconds s (taken from the value),
//     ParseGoDuration(FormatGoSeconds(s)) is s seconds and
//     ParseMessageTtl(FormatGoSeconds(s)) is s;
//   - ReplaceHeader(block, name, value) (name made a token: no ':', blanks,
//     CR or LF, "Nats-TTL" when empty; value without CR/LF or edge blanks)
//     ends the block with CRLF CRLF, holds exactly one `name` line, HeaderValue
//     finds `value` there, every other header keeps its value, and for
//     Nats-TTL MessageTtlSeconds reads the new value.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_file.h"
#include "jetstream/msg_ttl.h"
#include "jetstream/wire.h"

namespace {

namespace js = sluice::jetstream;
constexpr int64_t kSecond = 1'000'000'000;

[[noreturn]] void Fail(const std::string& what, std::string_view block, std::string_view name,
                       std::string_view value) {
  std::fprintf(stderr, "fuzz_headers: %s\n  block=[%.*s]\n  name=[%.*s]\n  value=[%.*s]\n", what.c_str(),
               static_cast<int>(block.size()), block.data(), static_cast<int>(name.size()), name.data(),
               static_cast<int>(value.size()), value.data());
  std::abort();
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool EqualsNever(std::string_view s) {
  if (s.size() != 5) return false;
  for (size_t i = 0; i < 5; ++i) {
    if ((s[i] | 0x20) != "never"[i]) return false;
  }
  return true;
}

// The header lines of a block: after the first CRLF, up to an empty line.
std::vector<std::string_view> HeaderLines(std::string_view block) {
  std::vector<std::string_view> lines;
  size_t pos = block.find("\r\n");
  if (pos == std::string_view::npos) return lines;
  pos += 2;
  while (pos < block.size()) {
    size_t end = block.find("\r\n", pos);
    if (end == std::string_view::npos) end = block.size();
    std::string_view line = block.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) break;
    lines.push_back(line);
  }
  return lines;
}

std::optional<std::string_view> KeyOf(std::string_view line) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view key = line.substr(0, colon);
  while (!key.empty() && IsBlank(key.back())) key.remove_suffix(1);
  return key;
}

void CheckDurations(std::string_view block, std::string_view name, std::string_view value) {
  const std::optional<int64_t> ours = js::ParseGoDuration(value);
  std::chrono::nanoseconds go{};
  std::string go_error;
  const bool go_ok = sluice::config::ParseGoDuration(value, go, go_error);
  if (ours.has_value() != go_ok) {
    Fail(std::string("ParseGoDuration disagrees with config::ParseGoDuration on acceptance (config: ") +
             (go_ok ? "ok" : go_error) + ")",
         block, name, value);
  }
  if (ours && std::llabs(*ours - go.count()) > 1 + std::llabs(go.count()) / 1'000'000'000'000) {
    Fail("ParseGoDuration value " + std::to_string(*ours) + " differs from config::ParseGoDuration " +
             std::to_string(go.count()),
         block, name, value);
  }

  const std::optional<int64_t> ttl = js::ParseMessageTtl(value);
  if (ttl) {
    if (*ttl < -1) Fail("ParseMessageTtl below -1", block, name, value);
    if (*ttl == -1 && !EqualsNever(value)) Fail("ParseMessageTtl -1 for something else than never", block, name, value);
    if (ours && *ours >= kSecond && *ttl != *ours / kSecond) Fail("ParseMessageTtl is not the duration's seconds", block, name, value);
  }

  // Whole seconds taken from the value: the duration's, or the plain number's.
  std::vector<int64_t> seconds;
  if (ours) seconds.push_back(*ours / kSecond);
  if (auto n = js::ParseUint(value)) seconds.push_back(static_cast<int64_t>(*n % (INT64_MAX / kSecond)));
  for (int64_t s : seconds) {
    const std::string text = js::FormatGoSeconds(s);
    const std::optional<int64_t> back = js::ParseGoDuration(text);
    if (!back || *back != s * kSecond) Fail("ParseGoDuration(FormatGoSeconds(" + std::to_string(s) + ")) = '" + text + "' does not give it back", block, name, value);
    if (!sluice::config::ParseGoDuration(text, go, go_error) || go.count() != s * kSecond) {
      Fail("config::ParseGoDuration(FormatGoSeconds(" + std::to_string(s) + ")) does not give it back", block, name, value);
    }
    if (s >= 1 && js::ParseMessageTtl(text) != s) Fail("ParseMessageTtl(FormatGoSeconds(s)) is not s", block, name, value);
  }
}

void CheckBlock(std::string_view block, std::string_view name, std::string_view value) {
  if (auto v = js::HeaderValue(block, name)) {
    if (v->data() < block.data() || v->data() + v->size() > block.data() + block.size()) {
      Fail("HeaderValue returned a view outside the block", block, name, value);
    }
  }
  const std::optional<int64_t> seconds = js::MessageTtlSeconds(block);
  const int64_t ns = js::MessageTtlNs(block);
  if (!seconds || *seconds == 0) {
    if (ns != 0) Fail("MessageTtlNs set without a TTL", block, name, value);
  } else if ((*seconds < 0) != (ns < 0) || ns == 0) {
    Fail("MessageTtlNs disagrees with MessageTtlSeconds", block, name, value);
  }
  (void)js::ExpiryPlacesMarker(block);
}

void CheckReplace(std::string_view block, std::string_view raw_name, std::string_view raw_value) {
  std::string name;
  for (char c : raw_name) {
    if (c != ':' && c != '\r' && c != '\n' && !IsBlank(c)) name.push_back(c);
  }
  if (name.empty()) name = std::string(js::kMessageTtlHeader);
  std::string value;
  for (char c : raw_value) {
    if (c != '\r' && c != '\n') value.push_back(c);
  }
  while (!value.empty() && IsBlank(value.back())) value.pop_back();
  while (!value.empty() && IsBlank(value.front())) value.erase(0, 1);

  const std::string out = js::ReplaceHeader(block, name, value);
  if (out.size() < 4 || out.compare(out.size() - 4, 4, "\r\n\r\n") != 0) {
    Fail("ReplaceHeader output does not end with CRLF CRLF", block, name, value);
  }
  int count = 0;
  for (std::string_view line : HeaderLines(out)) count += KeyOf(line) == std::string_view(name);
  if (count != 1) Fail("ReplaceHeader output holds the header " + std::to_string(count) + " times", block, name, value);
  auto found = js::HeaderValue(out, name);
  if (!found || *found != value) Fail("HeaderValue does not find the replaced value", block, name, value);
  if (block.find("\r\n") != std::string_view::npos) {
    for (std::string_view line : HeaderLines(block)) {
      auto key = KeyOf(line);
      if (!key || *key == std::string_view(name)) continue;
      if (js::HeaderValue(out, *key) != js::HeaderValue(block, *key)) {
        Fail("ReplaceHeader changed another header: " + std::string(*key), block, name, value);
      }
    }
  }
  if (name == js::kMessageTtlHeader) {
    const std::optional<int64_t> expected = value.empty() ? std::optional<int64_t>(0) : js::ParseMessageTtl(value);
    if (js::MessageTtlSeconds(out) != expected) Fail("MessageTtlSeconds does not read the replaced TTL", block, name, value);
  }
  CheckBlock(out, name, value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t first = input.find('\0');
  const std::string_view block = input.substr(0, first);
  std::string_view name, value;
  if (first != std::string_view::npos) {
    const std::string_view rest = input.substr(first + 1);
    const size_t second = rest.find('\0');
    name = rest.substr(0, second);
    if (second != std::string_view::npos) value = rest.substr(second + 1);
  }
  CheckBlock(block, name, value);
  CheckDurations(block, name, value);
  CheckReplace(block, name, value);
  return 0;
}
