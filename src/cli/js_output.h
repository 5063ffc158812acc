// Pieces the JetStream commands (stream, consumer, kv, obj) share to read
// API responses and print them: pretty JSON, field lookups that tolerate a
// missing key, the "Label: value" rows of the human output, paged list
// requests and the terminal confirmation of destructive commands.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "js_api.h"

namespace sluice::cli {

// Indented JSON for --json output of one API object.
std::string Pretty(const ojson& j);

// The response without its "type" field (io.nats.jetstream.api.v1.…).
ojson WithoutType(ojson j);

// j[key] when it is a string / a non-negative number, else the fallback / 0.
std::string Str(const ojson& j, const char* key, const std::string& fallback = "");
uint64_t Num(const ojson& j, const char* key);

// The strings of a JSON array joined with sep.
std::string Joined(const ojson& arr, const char* sep);

// Appends "<label right-aligned to 22>: <value>\n".
void Row(std::string& out, const std::string& label, const std::string& value);

// Every page of a paged list API (STREAM.LIST, CONSUMER.LIST, …); `field`
// holds the items. subject_filter is sent as "subject" when not empty.
ojson ListAll(natsConnection* nc, const std::string& api, const std::string& subject_filter, const char* field,
              std::chrono::nanoseconds timeout);

// Nanoseconds since the epoch → "2024-05-01T10:00:00.123456789Z" (UTC, the API's form).
std::string FormatRfc3339(int64_t unix_ns);

// Asks "<question> [y/N]" on the terminal; throws CliError when the answer is
// not yes, or "<refusal> without --force (-f): …" when stdin is not a terminal.
void Confirm(const std::string& question, const std::string& refusal);

}  // namespace sluice::cli
