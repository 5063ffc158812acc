// Printing received messages (sub, req, reply) and reading --header flags.
//
// Human:  [#1] Received on "subject" with reply "inbox"
//         Key: value
//         <blank line>
//         body
//         <blank line>
// Raw:    the body and a newline.
// JSON:   one object per line:
//         {"seq":1,"subject":"…","reply":"…","headers":{"Key":["value"]},"data":"…","size":5}
//         ("reply" and "headers" only when present; "data" left out with --headers-only).
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "body_template.h"

namespace sluice::cli {

enum class OutputMode { kHuman, kRaw, kJson };

struct MessageFormat {
  OutputMode mode = OutputMode::kHuman;
  bool headers_only = false;
};

// Writes one message to `out` and flushes it. `note` is appended to the human
// header line in parentheses; `extra` fields are added to the JSON object
// (both for JetStream deliveries: stream sequence, pending, …).
void PrintMessage(std::FILE* out, natsMsg* msg, uint64_t seq, const MessageFormat& format,
                  const std::string& note = "", const nlohmann::ordered_json& extra = nullptr);

nlohmann::ordered_json MessageToJson(natsMsg* msg, uint64_t seq, bool include_data);

// A --header flag "Key:Value", the value a template ({{Count}} …).
struct HeaderTemplate {
  std::string key;
  BodyTemplate value;
};

// Throws UsageError for a flag without ':' or with an empty key.
std::vector<HeaderTemplate> ParseHeaderFlags(const std::vector<std::string>& flags);

// Sets the rendered headers on msg; throws CliError when nats.c refuses.
void ApplyHeaders(natsMsg* msg, const std::vector<HeaderTemplate>& headers, const TemplateContext& context);

// Throws UsageError for a subject nats.c would send as something else: empty,
// with whitespace (`PUB a b` is subject a with reply b) or with an empty token.
void CheckSubject(const std::string& subject);

// Data as a JSON string: invalid UTF-8 is replaced, never an exception.
std::string JsonLine(const nlohmann::ordered_json& j);

}  // namespace sluice::cli
