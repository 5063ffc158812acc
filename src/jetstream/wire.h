// Small wire helpers shared by the API and the publish path: RFC 3339 time,
// base64, subject collision, and the NATS header block.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::jetstream {

// "2024-05-01T10:00:00.123456789Z" (UTC, trailing zeros of the fraction
// dropped); 0 is Go's zero time "0001-01-01T00:00:00Z".
std::string FormatTime(int64_t unix_ns);

std::string Base64Encode(std::string_view data);

// Do two (possibly wildcard) subjects share at least one literal subject?
bool SubjectsCollide(std::string_view a, std::string_view b);
// Is every subject matched by `sub` also matched by `super`?
bool SubjectIsSubsetOf(std::string_view sub, std::string_view super);

// One header line of a block: `key` is the text before the first ':' (the
// whole line when there is none) without trailing blanks; `colon` its
// position, npos when the line has none.
struct HeaderLine {
  std::string_view line, key;
  size_t colon;
};
// Calls visit(HeaderLine) for each header line of a "NATS/1.0…\r\n" block,
// from the line after the status line up to the first empty line (or the
// end); stops early when visit returns false. None when the block has no
// CRLF.
template <class Visit>
void ForEachHeaderLine(std::string_view block, Visit&& visit) {
  size_t pos = block.find("\r\n");
  if (pos == std::string_view::npos) return;
  pos += 2;
  while (pos < block.size()) {
    size_t end = block.find("\r\n", pos);
    if (end == std::string_view::npos) end = block.size();
    const std::string_view line = block.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) return;
    const size_t colon = line.find(':');
    std::string_view key = line.substr(0, colon);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.remove_suffix(1);
    if (!visit(HeaderLine{line, key, colon})) return;
  }
}

// The value of header `name` (matched case-sensitively, as nats-server does
// for the Nats-* headers) in a "NATS/1.0\r\n…\r\n\r\n" block; the first one
// wins. nullopt when absent.
std::optional<std::string_view> HeaderValue(std::string_view block, std::string_view name);

// Parses a decimal uint64 (whole string); nullopt when not a number.
std::optional<uint64_t> ParseUint(std::string_view text);

}  // namespace sluice::jetstream
