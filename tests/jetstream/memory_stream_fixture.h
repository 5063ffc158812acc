// A memory stream driven through the router as clients would drive it, with
// a fake Publisher that records the replies and a ManualClock (windows and
// expiry without sleeping). Shared by stream_test.cc and msg_ttl_test.cc.
#pragma once

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "jetstream/stream.h"

namespace sluice::jetstream::test_support {

struct Sent {
  std::string subject, header, payload;
  std::thread::id thread = std::this_thread::get_id();
};

class FakePublisher : public Publisher {
 public:
  void Publish(std::string_view subject, std::string_view, std::string_view header,
               std::string_view payload) override {
    std::lock_guard lock(mu);
    sent.push_back({std::string(subject), std::string(header), std::string(payload)});
  }
  std::vector<Sent> Take() {
    std::lock_guard lock(mu);
    return std::exchange(sent, {});
  }
  std::mutex mu;
  std::vector<Sent> sent;
};

class MemoryStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.publisher = &publisher_;
    env_.router = &router_;
    env_.clock = &clock_;
  }
  // A stream from its JSON config (validated as the API would), subscribed.
  std::shared_ptr<Stream> Make(const std::string& json_config) {
    StreamConfig c;
    EXPECT_TRUE(ParseStreamConfig(nlohmann::json::parse(json_config), c).ok());
    Normalize(c);
    EXPECT_TRUE(Validate(c, true).ok());
    std::string error;
    auto s = Stream::Create(env_, "/nonexistent-memory-stream", c, error);
    EXPECT_TRUE(s) << error;
    EXPECT_TRUE(s->Subscribe());
    return s;
  }
  // Publishes through the router with reply subject "reply"; returns the
  // reply's JSON (null unless exactly one reply was sent).
  nlohmann::json Pub(const std::string& subject, const std::string& header, const std::string& payload = "v") {
    router::Message m{subject, "reply", header, payload};
    router_.Route(m, nullptr, true, cache_);
    auto sent = publisher_.Take();
    if (sent.size() != 1) return nullptr;
    EXPECT_EQ(sent[0].subject, "reply");
    return nlohmann::json::parse(sent[0].payload);
  }
  // A header block of the given "Key: value\r\n" lines.
  static std::string Hdr(const std::string& lines) { return "NATS/1.0\r\n" + lines + "\r\n"; }

  FakePublisher publisher_;
  router::Router router_;
  router::MatchCache cache_;
  store::ManualClock clock_;
  StreamEnv env_;
};

}  // namespace sluice::jetstream::test_support
