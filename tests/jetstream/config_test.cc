#include <gtest/gtest.h>

#include "jetstream/consumer_config.h"
#include "jetstream/stream_config.h"

namespace sluice::jetstream {
namespace {

using json = nlohmann::json;

// Parses, normalises and validates a create request body.
ApiError Check(const std::string& body, bool create = true, StreamConfig* out = nullptr) {
  StreamConfig c;
  ApiError e = ParseStreamConfig(json::parse(body), c);
  if (!e.ok()) return e;
  Normalize(c);
  e = Validate(c, create);
  if (out) *out = c;
  return e;
}

TEST(StreamConfig, ValidationTable) {
  struct Case {
    const char* body;
    int err_code;
    const char* text;
  };
  const Case cases[] = {
      {R"({"name":"A"})", 0, ""},
      {R"({"name":"A","subjects":["a.>","b"]})", 0, ""},
      {R"({"name":"A*"})", 10052, "stream name is required and can not contain '.', '*', '>'"},
      {R"({"name":""})", 10052, "stream name is required and can not contain '.', '*', '>'"},
      {R"({"name":"a b"})", 10052, "stream name is required and can not contain '.', '*', '>'"},
      {R"({"name":"A","storage":"disk"})", 10025, "invalid JSON"},
      {R"({"name":"A","retention":"forever"})", 10025, "invalid JSON"},
      {R"({"name":"A","max_msgs":"ten"})", 10025, "invalid JSON"},
      {R"({"name":"A","subjects":"a"})", 10025, "invalid JSON"},
      {R"({"name":"A","max_age":99999999})", 10052, "max age needs to be >= 100ms"},
      {R"({"name":"A","max_age":100000000})", 0, ""},
      // A negative max_age becomes the default duplicate window (nats-server 2.9.10).
      {R"({"name":"A","max_age":-1})", 10052, "duplicates window can not be negative"},
      {R"({"name":"A","duplicate_window":-5})", 10052, "duplicates window can not be negative"},
      {R"({"name":"A","duplicate_window":1})", 10052, "duplicates window needs to be >= 100ms"},
      {R"({"name":"A","max_age":1000000000,"duplicate_window":2000000000})", 10052,
       "duplicates window can not be larger then max age"},
      {R"({"name":"A","num_replicas":6})", 10052, "maximum replicas is 5"},
      {R"({"name":"A","num_replicas":3})", 10074, "replicas > 1 not supported in non-clustered mode"},
      {R"({"name":"A","sealed":true})", 10052, "stream configuration for create can not be sealed"},
      {R"({"name":"A","subjects":["a","a"]})", 10052, "duplicate subjects detected"},
      {R"({"name":"A","subjects":["a.>","a.b"]})", 10052, R"(subject "a.>" overlaps with "a.b")"},
      {R"({"name":"A","subjects":["a..b"]})", 10052, "invalid subject"},
      {R"({"name":"A","subjects":["$JS.API.STREAM.INFO.x"]})", 10052, "subjects overlap with jetstream api"},
      // Only subjects inside $JS.API.> are refused: ">" and "$JS.>" are wider.
      {R"({"name":"A","subjects":["$JS.API.*.INFO"]})", 10052, "subjects overlap with jetstream api"},
      {R"({"name":"A","subjects":[">"]})", 0, ""},
      {R"({"name":"A","subjects":["$JS.>"]})", 0, ""},
      {R"({"name":"A","deny_purge":true,"allow_rollup_hdrs":true})", 10052, "roll-ups require the purge permission"},
      {R"({"name":"A","discard_new_per_subject":true})", 10052,
       "discard new per subject requires discard new policy to be set"},
      {R"({"name":"A","discard":"new","discard_new_per_subject":true})", 10052,
       "discard new per subject requires max msgs per subject > 0"},
      {R"({"name":"A","discard":"new","discard_new_per_subject":true,"max_msgs_per_subject":1})", 0, ""},
      {R"({"name":"A","mirror":{"name":"B"}})", 10052, "stream mirrors are not supported by this server yet"},
      {R"({"name":"A","sources":[{"name":"B"}]})", 10052, "stream sources are not supported by this server yet"},
      {R"({"name":"A","republish":{"src":">","dest":"x"}})", 10052, "republish are not supported by this server yet"},
      {R"({"name":"A","compression":"s2"})", 10052, "stream compression are not supported by this server yet"},
      {R"({"name":"A","compression":"none","metadata":{"k":"v"},"first_seq":5})", 0, ""},
      {R"({"name":"A","unknown_field":1})", 0, ""},
      // Found by fuzz/fuzz_jetstream_json.cc: a float outside int64 was cast
      // (undefined behaviour) before the whole-number check.
      {R"({"name":"A","max_msgs":6e65})", 10025, "invalid JSON"},
      {R"({"name":"A","max_msgs":-1e19})", 10025, "invalid JSON"},
      {R"({"name":"A","max_msgs":9223372036854775808})", 10025, "invalid JSON"},
  };
  for (const auto& c : cases) {
    ApiError e = Check(c.body);
    EXPECT_EQ(e.err_code, c.err_code) << c.body << " -> " << e.description;
    if (c.err_code != 0) {
      EXPECT_EQ(e.description, c.text) << c.body;
    }
  }
}

TEST(StreamConfig, DefaultsAreWrittenBack) {
  StreamConfig c;
  ASSERT_TRUE(Check(R"({"name":"ORDERS","max_msgs":0,"max_age":60000000000})", true, &c).ok());
  auto j = ToJson(c);
  EXPECT_EQ(j["subjects"], json::array({"ORDERS"}));
  EXPECT_EQ(j["retention"], "limits");
  EXPECT_EQ(j["max_msgs"], -1);
  EXPECT_EQ(j["max_consumers"], -1);
  EXPECT_EQ(j["storage"], "file");
  EXPECT_EQ(j["discard"], "old");
  EXPECT_EQ(j["num_replicas"], 1);
  // The duplicate window follows a shorter max_age.
  EXPECT_EQ(j["duplicate_window"], 60000000000);
  EXPECT_EQ(j["sealed"], false);
  EXPECT_EQ(j["allow_direct"], false);
  EXPECT_FALSE(j.contains("no_ack"));
  ASSERT_TRUE(Check(R"({"name":"B"})", true, &c).ok());
  EXPECT_EQ(ToJson(c)["duplicate_window"], 120000000000);
}

TEST(StreamConfig, SameConfigIgnoresSpelledOutDefaults) {
  StreamConfig a, b;
  ASSERT_TRUE(Check(R"({"name":"S"})", true, &a).ok());
  ASSERT_TRUE(Check(R"({"name":"S","subjects":["S"],"max_msgs":-1,"retention":"limits","duplicate_window":120000000000})",
                    true, &b)
                  .ok());
  EXPECT_TRUE(SameConfig(a, b));
  ASSERT_TRUE(Check(R"({"name":"S","max_msgs":5})", true, &b).ok());
  EXPECT_FALSE(SameConfig(a, b));
}

TEST(StreamConfig, UpdateRules) {
  StreamConfig old_c, new_c;
  ASSERT_TRUE(Check(R"({"name":"S","deny_delete":true})", true, &old_c).ok());
  ASSERT_TRUE(Check(R"({"name":"S","storage":"memory","deny_delete":true})", false, &new_c).ok());
  EXPECT_EQ(ValidateUpdate(old_c, new_c).description, "stream configuration update can not change storage type");
  ASSERT_TRUE(Check(R"({"name":"S"})", false, &new_c).ok());
  EXPECT_EQ(ValidateUpdate(old_c, new_c).description,
            "stream configuration update can not cancel deny message deletes");
  ASSERT_TRUE(Check(R"({"name":"S","deny_delete":true,"max_msgs":9,"subjects":["x"]})", false, &new_c).ok());
  EXPECT_TRUE(ValidateUpdate(old_c, new_c).ok());
  ASSERT_TRUE(Check(R"({"name":"S","deny_delete":true,"retention":"workqueue"})", false, &new_c).ok());
  EXPECT_EQ(ValidateUpdate(old_c, new_c).err_code, 10052);
  // Sealing is fine on update.
  ASSERT_TRUE(Check(R"({"name":"S","sealed":true})", false, &new_c).ok());
}

}  // namespace
}  // namespace sluice::jetstream

namespace sluice::jetstream {
namespace {

using json = nlohmann::json;

// Found by fuzz_jetstream_json: a start time whose nanoseconds do not fit in
// int64 overflowed; fields out of range are bad JSON times, as in Go.
TEST(ConsumerConfig, StartTimeOutsideNanosecondRangeSaturates) {
  ConsumerConfig far;
  ASSERT_TRUE(ParseConsumerConfig(json::parse(R"({"deliver_policy":"by_start_time","opt_start_time":"3024-05-01T10:00:00Z"})"), far).ok());
  EXPECT_EQ(far.opt_start_time_ns, INT64_MAX);
  ConsumerConfig early;
  ASSERT_TRUE(ParseConsumerConfig(json::parse(R"({"deliver_policy":"by_start_time","opt_start_time":"1066-10-14T09:00:00Z"})"), early).ok());
  EXPECT_EQ(early.opt_start_time_ns, INT64_MIN);
  ConsumerConfig usual;
  ASSERT_TRUE(ParseConsumerConfig(json::parse(R"({"deliver_policy":"by_start_time","opt_start_time":"2023-11-14T22:13:20.5Z"})"), usual).ok());
  EXPECT_EQ(usual.opt_start_time_ns, 1'700'000'000'500'000'000);
  ConsumerConfig bad;
  EXPECT_FALSE(ParseConsumerConfig(json::parse(R"({"deliver_policy":"by_start_time","opt_start_time":"2023-13-99T22:13:20Z"})"), bad).ok());
}

}  // namespace
}  // namespace sluice::jetstream
