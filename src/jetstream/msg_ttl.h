// Per-message TTL and subject delete markers (nats-server 2.11, ADR-43):
// parsing the `Nats-TTL` header, the marker a stream places when age or TTL
// expiry removes the last message of a subject, and Go's duration texts.
// Pure functions: no I/O, no locks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::jetstream {

inline constexpr std::string_view kMessageTtlHeader = "Nats-TTL";
inline constexpr std::string_view kMarkerReasonHeader = "Nats-Marker-Reason";

// A `Nats-TTL` value as nats-server 2.11 reads it: "never" (any case) is -1;
// a Go duration ("1s", "2m", "1h30m", "1.5h") of at least 1 s is its whole
// seconds; otherwise a plain decimal integer is seconds ("0"-only strings
// such as "00" are 0, no TTL). nullopt: invalid (10165) — a duration below
// 1 s (including "0"), a negative number, anything else.
std::optional<int64_t> ParseMessageTtl(std::string_view value);

// The TTL in seconds the header block carries: 0 when there is no
// `Nats-TTL` (or it is empty), nullopt when it is invalid.
std::optional<int64_t> MessageTtlSeconds(std::string_view headers);

// For the store's TTL index rebuild: the TTL in ns (< 0 never, 0 none or invalid).
int64_t MessageTtlNs(std::string_view headers);

// Go's time.Duration String() for whole seconds: "1s", "1m0s", "1h0m0s".
std::string FormatGoSeconds(int64_t seconds);

// Parses a Go duration ("1h2m3.5s", "300ms", "-1s") to ns; nullopt when it
// is not one (Go's time.ParseDuration, "0" included).
std::optional<int64_t> ParseGoDuration(std::string_view text);

// The header block of a subject delete marker placed when age or TTL expiry
// removes the last message of a subject: reason MaxAge, its own TTL (the
// stream's subject_delete_marker_ttl as a Go duration) and a subject
// rollup, which removes the expired message when the marker is stored.
std::string MaxAgeMarkerHeaders(int64_t marker_ttl_ns);

// The header block with every `name` line removed and "name: value" added
// last (nats-server's removeHeaderIfPresent + genHeader).
std::string ReplaceHeader(std::string_view block, std::string_view name, std::string_view value);

// Whether removing this message as the last of its subject places a marker:
// not for a marker itself, nor for a KV purge (`KV-Operation: PURGE`).
bool ExpiryPlacesMarker(std::string_view headers);

}  // namespace sluice::jetstream
