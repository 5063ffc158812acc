// Per-message TTL and subject delete markers (nats-server 2.11, ADR-43):
// the Nats-TTL parser, Go duration texts, the stream config rules, the
// publish-path refusals and clamping, and marker placement on a memory
// stream driven by a ManualClock through Stream::RunExpiry (the timer
// thread's entry point).
#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "jetstream/msg_ttl.h"
#include "memory_stream_fixture.h"
#include "jetstream/wire.h"

namespace sluice::jetstream {
namespace {

using json = nlohmann::json;
constexpr int64_t kSec = 1'000'000'000;

TEST(MessageTtl, ParsesAsNatsServer211) {
  EXPECT_EQ(ParseMessageTtl("never"), -1);
  EXPECT_EQ(ParseMessageTtl("NEVER"), -1);
  EXPECT_EQ(ParseMessageTtl("1s"), 1);
  EXPECT_EQ(ParseMessageTtl("2m"), 120);
  EXPECT_EQ(ParseMessageTtl("1h30m"), 5400);
  EXPECT_EQ(ParseMessageTtl("1.5h"), 5400);
  EXPECT_EQ(ParseMessageTtl("1500ms"), 1);  // whole seconds
  EXPECT_EQ(ParseMessageTtl("5"), 5);        // plain integer seconds
  EXPECT_EQ(ParseMessageTtl("3600"), 3600);
  EXPECT_EQ(ParseMessageTtl("00"), 0);       // not a Go duration, parses as 0: no TTL
  // Invalid (10165): below a second, "0", negative, garbage.
  EXPECT_EQ(ParseMessageTtl("0"), std::nullopt);
  EXPECT_EQ(ParseMessageTtl("500ms"), std::nullopt);
  EXPECT_EQ(ParseMessageTtl("-1"), std::nullopt);
  EXPECT_EQ(ParseMessageTtl("-5s"), std::nullopt);
  EXPECT_EQ(ParseMessageTtl("soon"), std::nullopt);
  EXPECT_EQ(ParseMessageTtl("5x"), std::nullopt);
  EXPECT_EQ(ParseMessageTtl(""), std::nullopt);
}

TEST(MessageTtl, HeaderLookupAndNs) {
  EXPECT_EQ(MessageTtlSeconds(""), 0);
  EXPECT_EQ(MessageTtlSeconds("NATS/1.0\r\nA: b\r\n\r\n"), 0);
  EXPECT_EQ(MessageTtlSeconds("NATS/1.0\r\nNats-TTL: 10s\r\n\r\n"), 10);
  EXPECT_EQ(MessageTtlSeconds("NATS/1.0\r\nNats-TTL: bad\r\n\r\n"), std::nullopt);
  EXPECT_EQ(MessageTtlNs("NATS/1.0\r\nNats-TTL: 10s\r\n\r\n"), 10 * kSec);
  EXPECT_EQ(MessageTtlNs("NATS/1.0\r\nNats-TTL: never\r\n\r\n"), -1);
  EXPECT_EQ(MessageTtlNs("NATS/1.0\r\nNats-TTL: bad\r\n\r\n"), 0);
}

TEST(MessageTtl, GoDurationTexts) {
  EXPECT_EQ(FormatGoSeconds(1), "1s");
  EXPECT_EQ(FormatGoSeconds(60), "1m0s");
  EXPECT_EQ(FormatGoSeconds(90), "1m30s");
  EXPECT_EQ(FormatGoSeconds(3600), "1h0m0s");
  EXPECT_EQ(FormatGoSeconds(90061), "25h1m1s");
  EXPECT_EQ(ParseGoDuration("1h2m3.5s"), 3723 * kSec + kSec / 2);
  EXPECT_EQ(ParseGoDuration("300ms"), 300'000'000);
  EXPECT_EQ(ParseGoDuration("1us"), 1000);
  EXPECT_EQ(ParseGoDuration("-2s"), -2 * kSec);
  EXPECT_EQ(ParseGoDuration("0"), 0);
  EXPECT_EQ(ParseGoDuration("5"), std::nullopt);
  EXPECT_EQ(ParseGoDuration("s"), std::nullopt);
}

// Found by fuzz/fuzz_headers.cc: a floating-point running sum rounded
// fractions differently from Go, which truncates each component to whole ns.
TEST(MessageTtl, GoDurationFractionsAsGo) {
  EXPECT_EQ(ParseGoDuration("0.5m"), 30 * kSec);
  EXPECT_EQ(ParseMessageTtl("0.5m"), 30);
  EXPECT_EQ(ParseGoDuration("0.3s"), 300'000'000);
  EXPECT_EQ(ParseGoDuration("1.1h"), 3960 * kSec);
  EXPECT_EQ(ParseGoDuration(".5555us5.55us"), 555 + 5550);  // 555.5 ns truncates to 555
  EXPECT_EQ(ParseGoDuration("1.9ns"), 1);
  EXPECT_EQ(ParseGoDuration("9223372036854775807ns"), INT64_MAX);
  EXPECT_EQ(ParseGoDuration("9223372036854775808ns"), std::nullopt);
  EXPECT_EQ(ParseGoDuration("-9223372036854775808ns"), INT64_MIN);
  EXPECT_EQ(ParseGoDuration("2562047h47m16.854775807s"), INT64_MAX);
  EXPECT_EQ(ParseGoDuration("2562048h"), std::nullopt);
  EXPECT_EQ(ParseGoDuration("1.s"), kSec);
  EXPECT_EQ(ParseGoDuration(".s"), std::nullopt);
  for (int64_t s : {int64_t{1}, int64_t{59}, int64_t{61}, int64_t{3600}, int64_t{90061}, int64_t{9'000'000'000}}) {
    EXPECT_EQ(ParseGoDuration(FormatGoSeconds(s)), s * kSec) << s;
  }
}

TEST(MessageTtl, MarkerHeadersAndReplace) {
  EXPECT_EQ(MaxAgeMarkerHeaders(60 * kSec),
            "NATS/1.0\r\nNats-Marker-Reason: MaxAge\r\nNats-TTL: 1m0s\r\nNats-Rollup: sub\r\n\r\n");
  EXPECT_TRUE(ExpiryPlacesMarker(""));
  EXPECT_TRUE(ExpiryPlacesMarker("NATS/1.0\r\nKV-Operation: DEL\r\n\r\n"));
  EXPECT_FALSE(ExpiryPlacesMarker("NATS/1.0\r\nKV-Operation: PURGE\r\n\r\n"));
  EXPECT_FALSE(ExpiryPlacesMarker(MaxAgeMarkerHeaders(kSec)));
  EXPECT_EQ(ReplaceHeader("NATS/1.0\r\nA: 1\r\nNats-TTL: 1s\r\nB: 2\r\n\r\n", "Nats-TTL", "60"),
            "NATS/1.0\r\nA: 1\r\nB: 2\r\nNats-TTL: 60\r\n\r\n");
}

// ---- config ----

ApiError Check(const std::string& body, StreamConfig* out = nullptr) {
  StreamConfig c;
  ApiError e = ParseStreamConfig(json::parse(body), c);
  if (!e.ok()) return e;
  Normalize(c);
  if (out) *out = c;
  return Validate(c, true);
}

TEST(MessageTtlConfig, ValidationAsNatsServer211) {
  StreamConfig c;
  ASSERT_TRUE(Check(R"({"name":"S","allow_msg_ttl":true})", &c).ok());
  EXPECT_TRUE(c.allow_msg_ttl);
  auto j = ToJson(c);
  EXPECT_EQ(j["allow_msg_ttl"], true);
  EXPECT_FALSE(j.contains("subject_delete_marker_ttl"));
  // Markers switch on TTLs and rollups (and drop deny_purge), outside pedantic mode.
  ASSERT_TRUE(Check(R"({"name":"S","subject_delete_marker_ttl":5000000000,"deny_purge":true})", &c).ok());
  EXPECT_TRUE(c.allow_msg_ttl);
  EXPECT_TRUE(c.allow_rollup_hdrs);
  EXPECT_FALSE(c.deny_purge);
  j = ToJson(c);
  EXPECT_EQ(j["subject_delete_marker_ttl"], 5000000000);
  // allow_msg_ttl comes right after consumer_limits, as in 2.11's StreamConfig.
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  auto at = std::find(keys.begin(), keys.end(), "consumer_limits");
  ASSERT_NE(at, keys.end());
  EXPECT_EQ(*(at + 1), "allow_msg_ttl");
  EXPECT_EQ(*(at + 2), "subject_delete_marker_ttl");

  ApiError e = Check(R"({"name":"S","subject_delete_marker_ttl":500000000})");
  EXPECT_EQ(e.err_code, 10052);
  EXPECT_EQ(e.description, "subject delete marker TTL must be at least 1 second");
  e = Check(R"({"name":"S","subject_delete_marker_ttl":-1})");
  EXPECT_EQ(e.description, "subject delete marker TTL must not be negative");
  e = Check(R"({"name":"S","subject_delete_marker_ttl":5000000000,"allow_rollup_hdrs":true,"deny_purge":true})");
  EXPECT_EQ(e.description, "roll-ups require the purge permission");
  EXPECT_EQ(Check(R"({"name":"S","allow_msg_ttl":"yes"})").err_code, 10025);
}

TEST(MessageTtlConfig, CannotBeTurnedOff) {
  StreamConfig on, off;
  ASSERT_TRUE(Check(R"({"name":"S","allow_msg_ttl":true})", &on).ok());
  ASSERT_TRUE(Check(R"({"name":"S"})", &off).ok());
  ApiError e = ValidateUpdate(on, off);
  EXPECT_EQ(e.err_code, 10052);
  EXPECT_EQ(e.description, "message TTL status can not be disabled");
  EXPECT_TRUE(ValidateUpdate(off, on).ok());
}

// ---- the publish path and markers on a memory stream ----

class TtlStreamTest : public test_support::MemoryStreamTest {
 protected:
  // The timer thread's call: the clock and `now` agree.
  int64_t Expire(Stream& s, int64_t now) {
    clock_.Set(now);
    return s.RunExpiry(now);
  }
  static std::string Ttl(const std::string& v) { return "NATS/1.0\r\nNats-TTL: " + v + "\r\n\r\n"; }
};

TEST_F(TtlStreamTest, RefusalsAsNatsServer211) {
  auto off = Make(R"({"name":"OFF","subjects":["off.>"],"storage":"memory"})");
  json e = Pub("off.a", Ttl("5s"));
  EXPECT_EQ(e["error"]["err_code"], 10166);
  EXPECT_EQ(e["error"]["description"], "per-message TTL is disabled");
  EXPECT_EQ(e["error"]["code"], 400);
  // An invalid value on a stream without TTLs is the invalid error (2.11
  // ignores the parse error in its first check).
  EXPECT_EQ(Pub("off.a", Ttl("bogus"))["error"]["err_code"], 10165);
  EXPECT_EQ(Pub("off.a", Ttl("00"))["seq"], 1);  // parses as 0: no TTL

  auto on = Make(R"({"name":"ON","subjects":["on.>"],"storage":"memory","allow_msg_ttl":true})");
  e = Pub("on.a", Ttl("500ms"));
  EXPECT_EQ(e["error"]["err_code"], 10165);
  EXPECT_EQ(e["error"]["description"], "invalid per-message TTL");
  EXPECT_EQ(Pub("on.a", Ttl("0"))["error"]["err_code"], 10165);
  EXPECT_EQ(Pub("on.a", Ttl("-1"))["error"]["err_code"], 10165);
  EXPECT_EQ(Pub("on.a", Ttl("2s"))["seq"], 1);
  EXPECT_EQ(Pub("on.a", Ttl("never"))["seq"], 2);
  EXPECT_EQ(Pub("on.a", Ttl("7"))["seq"], 3);
  off->Close(false);
  on->Close(false);
}

TEST_F(TtlStreamTest, ExpiresByTtlFromTheTimerEntryPoint) {
  auto s = Make(R"({"name":"S","subjects":["s.>"],"storage":"memory","allow_msg_ttl":true})");
  const int64_t t0 = clock_.NowNs();
  Pub("s.a", Ttl("2s"));
  Pub("s.b", "");
  Pub("s.c", Ttl("never"));
  EXPECT_EQ(s->RunExpiry(t0 + kSec), t0 + 2 * kSec);
  EXPECT_EQ(s->State().msgs, 3u);
  EXPECT_EQ(Expire(*s, t0 + 2 * kSec), 0);
  EXPECT_EQ(s->State().msgs, 2u);
  store::StoredMessage m;
  EXPECT_FALSE(s->GetMessage(MessageQuery{1, "", ""}, m).ok());
  s->Close(false);
}

TEST_F(TtlStreamTest, MarkerReplacesTheLastMessageAndExpiresItself) {
  auto s = Make(R"({"name":"KV_b","subjects":["$KV.b.>"],"storage":"memory","max_msgs_per_subject":5,
                    "subject_delete_marker_ttl":3000000000})");
  const int64_t t0 = clock_.NowNs();
  // 1s is raised to the marker TTL (3s) and the header rewritten, as 2.11 does.
  EXPECT_EQ(Pub("$KV.b.k", Ttl("1s"))["seq"], 1);
  store::StoredMessage m;
  ASSERT_TRUE(s->GetMessage(MessageQuery{1, "", ""}, m).ok());
  EXPECT_EQ(HeaderValue(m.headers, "Nats-TTL"), "3");
  EXPECT_EQ(Pub("$KV.b.other", "")["seq"], 2);
  EXPECT_EQ(Expire(*s, t0 + 2 * kSec), t0 + 3 * kSec);
  EXPECT_EQ(Expire(*s, t0 + 3 * kSec), t0 + 6 * kSec);  // the marker's own TTL
  // The key's value is gone; a marker stands in its place.
  ASSERT_TRUE(s->GetMessage(MessageQuery{0, "$KV.b.k", ""}, m).ok());
  EXPECT_EQ(m.seq, 3u);
  EXPECT_EQ(m.payload, "");
  EXPECT_EQ(HeaderValue(m.headers, "Nats-Marker-Reason"), "MaxAge");
  EXPECT_EQ(HeaderValue(m.headers, "Nats-TTL"), "3s");
  EXPECT_EQ(HeaderValue(m.headers, "Nats-Rollup"), "sub");
  EXPECT_FALSE(s->GetMessage(MessageQuery{1, "", ""}, m).ok());
  EXPECT_EQ(s->State().msgs, 2u);
  // The marker expires without a marker of its own.
  EXPECT_EQ(Expire(*s, t0 + 6 * kSec), 0);
  EXPECT_FALSE(s->GetMessage(MessageQuery{0, "$KV.b.k", ""}, m).ok());
  EXPECT_EQ(s->State().msgs, 1u);
  EXPECT_EQ(s->State().last_seq, 3u);
  s->Close(false);
}

TEST_F(TtlStreamTest, MaxAgeMarkersAndKvPurges) {
  auto s = Make(R"({"name":"S","subjects":["s.>"],"storage":"memory","max_age":10000000000,
                    "subject_delete_marker_ttl":1000000000})");
  const int64_t t0 = clock_.NowNs();
  Pub("s.a", "");
  Pub("s.a", "");
  Pub("s.p", "NATS/1.0\r\nKV-Operation: PURGE\r\n\r\n");
  EXPECT_EQ(Expire(*s, t0 + 10 * kSec), t0 + 11 * kSec);
  // s.a: the older goes, the last one is replaced by a marker; the KV purge just goes.
  EXPECT_EQ(s->State().msgs, 1u);
  store::StoredMessage m;
  ASSERT_TRUE(s->GetMessage(MessageQuery{0, "s.a", ""}, m).ok());
  EXPECT_EQ(m.seq, 4u);
  EXPECT_EQ(HeaderValue(m.headers, "Nats-Marker-Reason"), "MaxAge");
  EXPECT_EQ(HeaderValue(m.headers, "Nats-TTL"), "1s");
  EXPECT_EQ(Expire(*s, t0 + 11 * kSec), 0);
  EXPECT_EQ(s->State().msgs, 0u);
  s->Close(false);
}

TEST_F(TtlStreamTest, MaxMsgsPerSubjectOneKeepsTheShortTtl) {
  auto s = Make(R"({"name":"S","subjects":["s.>"],"storage":"memory","max_msgs_per_subject":1,
                    "subject_delete_marker_ttl":60000000000})");
  EXPECT_EQ(Pub("s.a", Ttl("1s"))["seq"], 1);
  store::StoredMessage m;
  ASSERT_TRUE(s->GetMessage(MessageQuery{1, "", ""}, m).ok());
  EXPECT_EQ(HeaderValue(m.headers, "Nats-TTL"), "1s");
  s->Close(false);
}

}  // namespace
}  // namespace sluice::jetstream
