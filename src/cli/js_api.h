// The JetStream management API ($JS.API.*) as plain JSON requests, and the
// small parsers the stream commands share (sizes, long durations, stored
// messages).
//
// Plain requests rather than nats.c's js_AddStream/js_GetStreamInfo/...: the
// CLI prints the server's own JSON with --json (nats.c's structs would have to
// be turned back into JSON and drop the fields they do not know), and reports
// the server's error description with its err_code ("stream not found
// (10059)"). Publishing into streams (bench js-pub) uses nats.c's js_Publish*.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_common.h"

namespace sluice::cli {

using ojson = nlohmann::ordered_json;

// A JetStream API error: "<description> (<err_code>)", exit 1.
class JsApiError : public CliError {
 public:
  JsApiError(const std::string& description, int err_code, int code)
      : CliError(description + " (" + std::to_string(err_code) + ")"),
        description_(description), err_code_(err_code), code_(code) {}
  const std::string& description() const { return description_; }
  int err_code() const { return err_code_; }
  int code() const { return code_; }

 private:
  std::string description_;
  int err_code_;
  int code_;
};

inline constexpr int kErrStreamNotFound = 10059;

// Sends `body` to $JS.API.<api> and returns the parsed response.
// Throws JsApiError for an {"error":…} response, CliError("JetStream is not
// enabled …") when nobody answers, CliError on timeout or bad JSON.
ojson JsRequest(natsConnection* nc, const std::string& api, const ojson& body,
                std::chrono::nanoseconds timeout);

// A usage error for a name that would change the API subject (empty, '.', whitespace, a lone '*' or '>').
void CheckStreamName(const std::string& name);

// "1024", "1k"/"1KB"/"1KiB", "10MB", "1GB", "2TB" (multiples of 1024), "-1"
// (unlimited). nullopt when not a size.
std::optional<int64_t> ParseSize(const std::string& text);
int64_t RequireSize(const std::string& text, const std::string& flag);

// Go durations plus "d" (24h), "w" (7d) and "y" (365d) units: "1h", "7d", "1y6w".
std::chrono::nanoseconds RequireLongDuration(const std::string& text, const std::string& flag);
// "1h30m", "2m", "1.5s", "500ms", "0s": for configured durations in human output.
std::string FormatGoDuration(int64_t ns);

// "12.3 KiB" (1024-based), or "0 B".
std::string FormatBytes(double bytes);

// Standard base64 (the API's `data` and `hdrs`); throws CliError when invalid.
std::string Base64Decode(const std::string& text);

// A raw header block "NATS/1.0[ status]\r\nK: v\r\n…\r\n\r\n" as key → values,
// in order of first appearance.
std::vector<std::pair<std::string, std::vector<std::string>>> ParseHeaderBlock(const std::string& block);

// RFC 3339 from the API ("2024-05-01T10:00:00.123456789Z") → nanoseconds since
// the epoch; nullopt for the zero time or an unparsable text.
std::optional<int64_t> ParseRfc3339(const std::string& text);
// "3m ago", "2h ago", "4d ago" (or "never") from an RFC 3339 time.
std::string Ago(const std::string& rfc3339);

}  // namespace sluice::cli
