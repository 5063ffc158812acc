// Durations and sizes as nats-server reads them from a config.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "config/config_file.h"
#include "test_util.h"

namespace sluice::config {
namespace {

using namespace std::chrono_literals;
using testing::MustParse;

TEST(GoDuration, Accepts) {
  const std::vector<std::pair<std::string, std::chrono::nanoseconds>> cases = {
      {"0", 0ns},
      {"2m", 2min},
      {"1h30m", 90min},
      {"500ms", 500ms},
      {"1.5s", 1500ms},
      {".5s", 500ms},
      {"1.s", 1s},
      {"10us", 10us},
      {"10\xC2\xB5s", 10us},  // U+00B5 MICRO SIGN
      {"10\xCE\xBCs", 10us},  // U+03BC GREEK SMALL LETTER MU
      {"7ns", 7ns},
      {"-5s", -5s},
      {"+5s", 5s},
      {"2h45m30.5s", 2h + 45min + 30500ms},
      {"1m1m", 2min},
      {"0.000000001s", 1ns},
      {"9223372036854775807ns", std::chrono::nanoseconds(INT64_MAX)},
      {"-9223372036854775808ns", std::chrono::nanoseconds(INT64_MIN)},
      {"2562047h", 2562047h},
  };
  for (const auto& [text, expected] : cases) {
    std::chrono::nanoseconds got{-1};
    EXPECT_TRUE(ParseGoDuration(text, got)) << text;
    EXPECT_EQ(got.count(), expected.count()) << text;
  }
}

TEST(GoDuration, RejectsWithGoMessages) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "time: invalid duration \"\""},
      {"abc", "time: invalid duration \"abc\""},
      {"5", "time: missing unit in duration \"5\""},
      {"5x", "time: unknown unit \"x\" in duration \"5x\""},
      {"1h-5m", "time: unknown unit \"h-\" in duration \"1h-5m\""},
      {".s", "time: invalid duration \".s\""},
      {"-", "time: invalid duration \"-\""},
      {"1.5", "time: missing unit in duration \"1.5\""},
      {"9223372036854775808ns", "time: invalid duration \"9223372036854775808ns\""},
      {"2562048h", "time: invalid duration \"2562048h\""},
      {"1 s", "time: unknown unit \" s\" in duration \"1 s\""},
  };
  for (const auto& [text, message] : cases) {
    std::chrono::nanoseconds got{};
    std::string error;
    EXPECT_FALSE(ParseGoDuration(text, got, error)) << text;
    EXPECT_EQ(error, message) << text;
    EXPECT_FALSE(ParseGoDuration(text, got)) << text;
  }
}

struct DurationResult {
  bool ok;
  std::chrono::nanoseconds value;
  std::string warning, error;
};

DurationResult Duration(const std::string& text, const std::string& key = "ping_interval") {
  Value root = MustParse(text);
  const Value* v = root.Find(key);
  EXPECT_NE(v, nullptr);
  DurationResult r{};
  if (v == nullptr) return r;
  r.ok = ToDuration(*v, key, r.value, r.warning, r.error);
  return r;
}

TEST(ToDuration, StringsQuotedOrBare) {
  for (auto [text, expected] : std::vector<std::pair<std::string, std::chrono::nanoseconds>>{
           {"ping_interval: \"2m\"", 2min},
           {"ping_interval: '1h30m'", 90min},
           {"ping_interval: 10s", 10s},
           {"ping_interval: 500ms", 500ms},
           {"ping_interval: \"1.5s\"", 1500ms},
           {"ping_interval: 10us", 10us},
           {"ping_interval: 10\xC2\xB5s", 10us},
           {"ping_interval: \"-5s\"", -5s},
       }) {
    DurationResult r = Duration(text);
    EXPECT_TRUE(r.ok) << text << ": " << r.error;
    EXPECT_EQ(r.value.count(), expected.count()) << text;
    EXPECT_TRUE(r.warning.empty()) << text;
  }
}

TEST(ToDuration, IntegerIsSecondsWithAWarning) {
  // nats-server: "b.conf:1:0: invalid use of field "ping_interval": ping_interval should be converted to a duration"
  DurationResult r = Duration("ping_interval: 60");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.value, std::chrono::nanoseconds(60s));
  EXPECT_EQ(r.warning,
            "t.conf:1:0: invalid use of field \"ping_interval\": ping_interval should be converted to a duration");
  // nats-server reports the key's position: "c.conf:2:3".
  r = Duration("\n  ping_interval: 60");
  EXPECT_EQ(r.warning.substr(0, 11), "t.conf:2:3:");
  // Unquoted 2m is the integer 2000000 (size suffix m): 2000000 seconds.
  r = Duration("write_deadline: 2m", "write_deadline");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.value, std::chrono::nanoseconds(2000000s));
  EXPECT_EQ(r.warning,
            "t.conf:1:0: invalid use of field \"write_deadline\": write_deadline should be converted to a duration");
}

TEST(ToDuration, Errors) {
  DurationResult r = Duration("ping_interval: 1.5");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error.substr(0, 40), "t.conf:1:0: error parsing ping_interval:");
  // nats-server: "b8.conf:1:0: error parsing ping_interval: time: invalid duration "abc""
  r = Duration("ping_interval: \"abc\"");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "t.conf:1:0: error parsing ping_interval: time: invalid duration \"abc\"");
  r = Duration("ping_interval: true");
  EXPECT_FALSE(r.ok);
  r = Duration("ping_interval: [1]");
  EXPECT_FALSE(r.ok);
  r = Duration("ping_interval: 99999999999");
  EXPECT_FALSE(r.ok);
}

TEST(ToSize, NonNegativeIntegersOnly) {
  Value root = MustParse("a: 1MB\nb: 1M\nc: -1\nd: \"1MB\"\ne: 1.5\nf: 0\n");
  int64_t out = -1;
  std::string error;
  EXPECT_TRUE(ToSize(*root.Find("a"), out, error));
  EXPECT_EQ(out, 1048576);
  EXPECT_TRUE(ToSize(*root.Find("b"), out, error));
  EXPECT_EQ(out, 1000000);
  EXPECT_TRUE(ToSize(*root.Find("f"), out, error));
  EXPECT_EQ(out, 0);
  EXPECT_FALSE(ToSize(*root.Find("c"), out, error));
  EXPECT_EQ(error.substr(0, 11), "t.conf:3:1:");
  EXPECT_FALSE(ToSize(*root.Find("d"), out, error));
  EXPECT_NE(error.find("\"1MB\""), std::string::npos);
  EXPECT_FALSE(ToSize(*root.Find("e"), out, error));
}

}  // namespace
}  // namespace sluice::config
