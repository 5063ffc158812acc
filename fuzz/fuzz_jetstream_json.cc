// libFuzzer target for the JetStream API's JSON configs: the stream config
// (jetstream/stream_config.h) and the consumer config
// (jetstream/consumer_config.h), as a client sends them in
// $JS.API.STREAM.CREATE / CONSUMER.CREATE request bodies.
//
// Input layout (see fuzz/README.md):
//   byte 0   bit 0: 0 = the body is a stream config, 1 = a consumer config;
//            bits 1-2: the stream the consumer is validated against (limits,
//            work queue, interest, limits with a 2-subject filter set)
//   rest     the JSON body (nlohmann-json, parsed without exceptions)
// Checks (any failure aborts; an exception escaping the parser aborts too):
//   - parsing, normalising and validating never crash;
//   - round trip: a config that parses and validates is written with ToJson;
//     that JSON text parses, normalises and validates again, to a config that
//     is SameConfig with the first, whose ToJson is identical, and that the
//     update rules accept as an update of the first.
// The pull-request, purge and msg-get bodies are parsed inside the API
// handlers (api.cc, consumer.cc) and have no function callable on its own.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "jetstream/consumer_config.h"
#include "jetstream/stream_config.h"

namespace {

namespace js = sluice::jetstream;
using nlohmann::json;

[[noreturn]] void Fail(const std::string& what, std::string_view body, const std::string& written = {}) {
  std::fprintf(stderr, "fuzz_jetstream_json: %s\n  body:    %.*s\n  written: %s\n", what.c_str(),
               static_cast<int>(body.size()), body.data(), written.c_str());
  std::abort();
}

js::StreamConfig TestStream(int which) {
  js::StreamConfig s;
  s.name = "S";
  s.subjects = {"orders.>", "events.*"};
  if (which == 1) s.retention = js::Retention::kWorkQueue;
  if (which == 2) s.retention = js::Retention::kInterest;
  if (which == 3) s.subjects = {"a", "b.*", "c.>"};
  js::Normalize(s);
  return s;
}

void FuzzStream(const json& body, std::string_view text) {
  js::StreamConfig config;
  if (!js::ParseStreamConfig(body, config).ok()) return;
  js::Normalize(config);
  (void)js::Validate(config, false);
  if (!js::Validate(config, true).ok()) return;

  const std::string written = js::ToJson(config).dump();
  const json reread = json::parse(written, nullptr, false);
  if (reread.is_discarded()) Fail("ToJson wrote JSON that does not parse", text, written);
  js::StreamConfig again;
  js::ApiError err = js::ParseStreamConfig(reread, again);
  if (!err.ok()) Fail("the written stream config does not parse: " + err.description, text, written);
  js::Normalize(again);
  err = js::Validate(again, true);
  if (!err.ok()) Fail("the written stream config does not validate: " + err.description, text, written);
  if (!js::SameConfig(config, again)) {
    Fail("the stream config changed in the round trip: " + js::ToJson(again).dump(), text, written);
  }
  err = js::ValidateUpdate(config, again);
  if (!err.ok()) Fail("the same stream config is refused as an update: " + err.description, text, written);
}

void FuzzConsumer(const json& body, std::string_view text, int stream_kind) {
  const js::StreamConfig stream = TestStream(stream_kind);
  js::ConsumerConfig config;
  if (!js::ParseConsumerConfig(body, config).ok()) return;
  js::NormalizeConsumer(config);
  if (!js::ValidateConsumer(config, stream).ok()) return;

  const std::string written = js::ToJson(config).dump();
  const json reread = json::parse(written, nullptr, false);
  if (reread.is_discarded()) Fail("ToJson wrote JSON that does not parse", text, written);
  js::ConsumerConfig again;
  js::ApiError err = js::ParseConsumerConfig(reread, again);
  if (!err.ok()) Fail("the written consumer config does not parse: " + err.description, text, written);
  js::NormalizeConsumer(again);
  err = js::ValidateConsumer(again, stream);
  if (!err.ok()) Fail("the written consumer config does not validate: " + err.description, text, written);
  if (!js::SameConfig(config, again) || js::ToJson(config) != js::ToJson(again)) {
    Fail("the consumer config changed in the round trip: " + js::ToJson(again).dump(), text, written);
  }
  err = js::ValidateConsumerUpdate(config, again);
  if (!err.ok()) Fail("the same consumer config is refused as an update: " + err.description, text, written);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t selector = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return 0;
  if (selector & 1) {
    FuzzConsumer(body, text, (selector >> 1) & 3);
  } else {
    FuzzStream(body, text);
  }
  return 0;
}
