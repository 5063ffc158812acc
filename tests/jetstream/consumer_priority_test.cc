// nats-server 2.11's pull consumer priority groups (ADR-42): the config
// fields (priority_groups, priority_policy, priority_timeout), the overflow
// thresholds of pull requests (min_pending, min_ack_pending), the pinned
// client (Nats-Pin-Id, 423s, $JS.API.CONSUMER.UNPIN, the pin timeout) and
// the PINNED / UNPINNED advisories, through JetStreamImpl::HandleApi with the
// ConsumerTest fixture's ManualClock: the pin timeout is driven by advancing
// the clock, never by sleeping.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "consumer_fixture.h"
#include "jetstream/consumer_config.h"
#include "jetstream/wire.h"

namespace sluice::jetstream {
namespace {

using json = nlohmann::json;
using test_support::ConsumerTest;
using test_support::Msg;
using test_support::Recorder;
using test_support::Listen;

constexpr int64_t kSecond = 1'000'000'000;

// Status lines ("423 Nats-Pin-Id mismatch") sent to `inbox`.
std::vector<std::string> StatusesTo(const std::vector<Msg>& all, const std::string& inbox) {
  std::vector<std::string> out;
  for (const auto& m : all) {
    if (m.subject != inbox || !m.reply.empty() || !m.header.starts_with("NATS/1.0 ")) continue;
    out.push_back(m.header.substr(9, m.header.find("\r\n") - 9));
  }
  return out;
}

ApiError Check(const std::string& config_json, bool push = false) {
  ConsumerConfig c;
  if (ApiError e = ParseConsumerConfig(json::parse(config_json), c); !e.ok()) return e;
  if (push) c.deliver_subject = "deliver.here";
  NormalizeConsumer(c);
  StreamConfig s;
  s.subjects = {"s.>"};
  return ValidateConsumer(c, s);
}

TEST(ConsumerPriorityConfigTest, ParsingDefaultsAndNatsServerErrors) {
  ConsumerConfig c;
  ASSERT_TRUE(ParseConsumerConfig(json::parse(R"({"priority_groups":["A"],"priority_policy":"pinned_client"})"), c).ok());
  NormalizeConsumer(c);
  EXPECT_EQ(c.priority_timeout_ns, 120 * kSecond);  // nats-server's default pin TTL
  auto j = ToJson(c);
  EXPECT_EQ(j["priority_groups"], json::array({"A"}));
  EXPECT_EQ(j["priority_policy"], "pinned_client");
  EXPECT_EQ(j["priority_timeout"], 120 * kSecond);

  ConsumerConfig o;
  ASSERT_TRUE(ParseConsumerConfig(json::parse(R"({"priority_groups":["A"],"priority_policy":"overflow"})"), o).ok());
  NormalizeConsumer(o);
  EXPECT_EQ(o.priority_timeout_ns, 0);  // the default is for pinned_client only
  EXPECT_FALSE(ToJson(o).contains("priority_timeout"));
  ConsumerConfig none;
  ASSERT_TRUE(ParseConsumerConfig(json::parse(R"({"priority_policy":"none"})"), none).ok());
  EXPECT_FALSE(ToJson(none).contains("priority_policy"));  // nats-server omits its zero value

  // Unknown policies (a later server's "prioritized" among them) do not decode.
  ConsumerConfig bad;
  EXPECT_EQ(ParseConsumerConfig(json::parse(R"({"priority_policy":"prioritized"})"), bad).err_code, 10025);
  EXPECT_EQ(ParseConsumerConfig(json::parse(R"({"priority_policy":1})"), bad).err_code, 10025);
  EXPECT_EQ(ParseConsumerConfig(json::parse(R"({"priority_groups":"A"})"), bad).err_code, 10025);
  EXPECT_EQ(ParseConsumerConfig(json::parse(R"({"priority_groups":[1]})"), bad).err_code, 10025);

  EXPECT_EQ(Check(R"({"priority_policy":"overflow"})").err_code, 10159);
  EXPECT_EQ(Check(R"({"priority_policy":"overflow","priority_groups":[]})").err_code, 10159);
  EXPECT_EQ(Check(R"({"priority_policy":"overflow","priority_groups":[""]})").err_code, 10161);
  ApiError name = Check(R"({"priority_policy":"pinned_client","priority_groups":["A.B"]})");
  EXPECT_EQ(name.err_code, 10162);
  EXPECT_EQ(name.code, 400);
  EXPECT_EQ(Check(R"({"priority_policy":"overflow","priority_groups":["abcdefghijklmnopq"]})").err_code, 10162);
  EXPECT_EQ(Check(R"({"priority_policy":"overflow","priority_groups":["A"]})", true).err_code, 10178);
  EXPECT_TRUE(Check(R"({"priority_policy":"overflow","priority_groups":["a-Z_0/9="]})").ok());
  // 2.11 validates and keeps every group (it serves the first).
  EXPECT_TRUE(Check(R"({"priority_policy":"overflow","priority_groups":["A","B"]})").ok());
  // Groups without a policy are not checked (and change nothing).
  EXPECT_TRUE(Check(R"({"priority_groups":["bad.name"]})").ok());
  EXPECT_TRUE(Check(R"({"priority_groups":["A"]})", true).ok());
}

class ConsumerPriorityTest : public ConsumerTest {
 protected:
  void SetUp() override {
    ConsumerTest::SetUp();
    ASSERT_EQ(Api("STREAM.CREATE.S", R"({"name":"S","subjects":["s.>"]})")["error"], nullptr);
    // Advisories go out only when someone listens.
    adv_sub_ = Listen(router_, std::make_shared<Recorder>(), "$JS.EVENT.ADVISORY.CONSUMER.>");
  }
  json Create(const std::string& config) {
    return Call("CONSUMER.CREATE.S.c", R"({"stream_name":"S","config":)" + config + "}");
  }
  void Pull(const std::string& inbox, const std::string& body, const std::string& consumer = "c") {
    if (!inboxes_.contains(inbox)) {  // its own subscription: deliveries show the message's subject
      auto rec = std::make_shared<Recorder>();
      inboxes_[inbox] = {rec, Listen(router_, rec, inbox)};
    }
    Handle("$JS.API.CONSUMER.MSG.NEXT.S." + consumer, inbox, body);
    Settle();
  }
  // Everything sent since the last call: deliveries (routed to the inbox
  // subscription), statuses and advisories (through the Publisher).
  std::vector<Msg> Sent() {
    Drain();
    delivered_ = std::exchange(pending_deliveries_, {});
    return std::exchange(seen_, {});
  }
  // The messages (not statuses) delivered to `inbox` up to the last Sent().
  const std::vector<Msg>& Got(const std::string& inbox) { return delivered_[inbox]; }
  void Drain() {
    for (auto& [inbox, entry] : inboxes_) {
      for (auto& m : entry.first->TakeInbox())
        if (!m.reply.empty()) pending_deliveries_[inbox].push_back(std::move(m));
    }
    for (auto& m : recorder_->TakeInbox()) seen_.push_back(std::move(m));
    for (auto& m : recorder_->TakePublished()) {
      if (m.subject.starts_with("$JS.EVENT.ADVISORY.")) advisories_.push_back(m);
      else if (m.subject != "api.reply") seen_.push_back(std::move(m));
    }
  }
  // An API request whose reply is returned; what else went out is kept.
  json Call(const std::string& subject, const std::string& body) {
    Drain();
    Handle("$JS.API." + subject, "api.reply", body);
    json reply = nullptr;
    for (auto& m : recorder_->TakePublished()) {
      if (m.subject == "api.reply") reply = json::parse(m.payload);
      else if (m.subject.starts_with("$JS.EVENT.ADVISORY.")) advisories_.push_back(m);
      else seen_.push_back(std::move(m));
    }
    return reply;
  }
  std::vector<json> Advisories(const std::string& kind) {
    Drain();
    std::vector<json> out;
    for (const auto& m : std::exchange(advisories_, {})) {
      if (m.subject == "$JS.EVENT.ADVISORY.CONSUMER." + kind + ".S.c") out.push_back(json::parse(m.payload));
    }
    return out;
  }
  static std::string PinOf(const Msg& m) {
    auto v = HeaderValue(m.header, "Nats-Pin-Id");
    return v ? std::string(*v) : std::string();
  }
  std::vector<Msg> seen_, advisories_;
  std::map<std::string, std::pair<std::shared_ptr<Recorder>, std::shared_ptr<router::Subscription>>> inboxes_;
  std::map<std::string, std::vector<Msg>> pending_deliveries_, delivered_;
  std::shared_ptr<router::Subscription> adv_sub_;
};

TEST_F(ConsumerPriorityTest, OverflowServesOnlyAboveMinPendingAndMinAckPending) {
  for (int i = 0; i < 5; ++i) Pub("s.x", "m" + std::to_string(i));
  json r = Create(R"({"name":"c","ack_policy":"explicit","priority_groups":["A"],"priority_policy":"overflow"})");
  ASSERT_EQ(r["error"], nullptr) << r;
  EXPECT_EQ(r["config"]["priority_policy"], "overflow");
  Sent();

  // 5 pending < 10: the request waits.
  Pull("inbox.hi", R"({"batch":10,"expires":60000000000,"group":"A","min_pending":10})");
  EXPECT_TRUE(Sent().empty());
  // min_pending 3: served while num_pending (counting the message) >= 3.
  Pull("inbox.lo", R"({"batch":3,"expires":60000000000,"group":"A","min_pending":3})");
  auto got = Sent();
  EXPECT_EQ(Got("inbox.lo").size(), 3u);
  for (const auto& m : got) EXPECT_EQ(m.subject, "s.x");
  EXPECT_EQ(Call("CONSUMER.INFO.S.c", "")["num_pending"], 2);
  // 10 more: 12 pending; the waiting request is served down to 9 pending.
  for (int i = 0; i < 10; ++i) Pub("s.x", "more");
  Settle();
  EXPECT_EQ((Sent(), Got("inbox.hi")).size(), 3u);
  EXPECT_EQ(Call("CONSUMER.INFO.S.c", "")["num_pending"], 9);

  // min_ack_pending: served while num_ack_pending >= it (6 unacked now).
  Pull("inbox.ack7", R"({"batch":1,"expires":60000000000,"group":"A","min_ack_pending":7})");
  EXPECT_TRUE((Sent(), Got("inbox.ack7")).empty());
  // This one is served; the delivery makes 7 unacked, and the first one then qualifies.
  Pull("inbox.ack6", R"({"batch":1,"expires":60000000000,"group":"A","min_ack_pending":6})");
  got = Sent();
  EXPECT_EQ(Got("inbox.ack6").size(), 1u);
  EXPECT_EQ(Got("inbox.ack7").size(), 1u);
  json info = Call("CONSUMER.INFO.S.c", "");
  EXPECT_EQ(info["num_ack_pending"], 8);
  EXPECT_EQ(info["num_waiting"], 1);  // inbox.hi (needs 10 pending, 7 now)
  // A plain request of the group (no thresholds) takes what there is.
  Pull("inbox.any", R"({"batch":5,"expires":60000000000,"group":"A"})");
  EXPECT_EQ((Sent(), Got("inbox.any")).size(), 5u);
}

TEST_F(ConsumerPriorityTest, RequestChecksAndTheirStatuses) {
  Pub("s.x", "one");
  ASSERT_EQ(Create(R"({"name":"c","ack_policy":"explicit","priority_groups":["A"],"priority_policy":"overflow"})")["error"],
            nullptr);
  Sent();
  Pull("inbox.1", R"({"batch":1,"expires":60000000000})");
  EXPECT_EQ(StatusesTo(Sent(), "inbox.1"), std::vector<std::string>{"400 Bad Request - Priority Group missing"});
  Pull("inbox.1", R"({"batch":1,"expires":60000000000,"group":"B"})");
  EXPECT_EQ(StatusesTo(Sent(), "inbox.1"), std::vector<std::string>{"400 Bad Request - Invalid Priority Group"});
  // Not JSON: no group either.
  Pull("inbox.1", "1");
  EXPECT_EQ(StatusesTo(Sent(), "inbox.1"), std::vector<std::string>{"400 Bad Request - Priority Group missing"});
  // A pin id on an overflow consumer: nats-server answers 400 and still serves.
  Pull("inbox.1", R"({"batch":1,"expires":60000000000,"group":"A","id":"X"})");
  auto got = Sent();
  EXPECT_EQ(StatusesTo(got, "inbox.1"), std::vector<std::string>{"400 Bad Request - Not a Pinned Client Priority consumer"});
  EXPECT_EQ(Got("inbox.1").size(), 1u);

  // Without a policy the group is ignored; thresholds answer 400 and are ignored too.
  ASSERT_EQ(Call("CONSUMER.CREATE.S.p", R"({"stream_name":"S","config":{"name":"p","ack_policy":"explicit"}})")["error"],
            nullptr);
  Pull("inbox.2", R"({"batch":1,"expires":60000000000,"min_pending":100})", "p");
  got = Sent();
  EXPECT_EQ(StatusesTo(got, "inbox.2"), std::vector<std::string>{"400 Bad Request - Not a Overflow Priority consumer"});
  ASSERT_EQ(Got("inbox.2").size(), 1u);
  EXPECT_EQ(Got("inbox.2")[0].header, "");  // no pin header without pinned_client
}

TEST_F(ConsumerPriorityTest, PinnedClientHoldsThePinUntilUnpinned) {
  json r = Create(R"({"name":"c","ack_policy":"explicit","priority_groups":["A"],"priority_policy":"pinned_client"})");
  ASSERT_EQ(r["error"], nullptr) << r;
  EXPECT_EQ(r["priority_groups"], json::parse(R"([{"group":"A","pinned_ts":"0001-01-01T00:00:00Z"}])"));
  Sent();
  Advisories("");

  // A pulls first: the first message pins it.
  Pull("inbox.A", R"({"batch":10,"expires":60000000000,"group":"A"})");
  Pull("inbox.B", R"({"batch":10,"expires":60000000000,"group":"A"})");
  Pub("s.x", "one");
  Pub("s.x", "two");
  Settle();
  auto got = Sent();
  auto a = Got("inbox.A");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_TRUE(Got("inbox.B").empty());  // B stands by
  const std::string pin = PinOf(a[0]);
  EXPECT_EQ(pin.size(), 22u);
  EXPECT_EQ(PinOf(a[1]), pin);
  EXPECT_TRUE(a[0].header.starts_with("NATS/1.0\r\n"));
  auto pinned = Advisories("PINNED");
  ASSERT_EQ(pinned.size(), 1u);
  EXPECT_EQ(pinned[0]["type"], "io.nats.jetstream.advisory.v1.consumer_group_pinned");
  EXPECT_EQ(pinned[0]["group"], "A");
  EXPECT_EQ(pinned[0]["pinned_id"], pin);
  json info = Call("CONSUMER.INFO.S.c", "");
  EXPECT_EQ(info["priority_groups"][0]["group"], "A");
  EXPECT_EQ(info["priority_groups"][0]["pinned_client_id"], pin);
  EXPECT_EQ(info["priority_groups"][0]["pinned_ts"], FormatTime(clock_.NowNs()));

  // A wrong id is refused at once; the right one is served.
  Pull("inbox.C", R"({"batch":1,"expires":60000000000,"group":"A","id":"not-the-pin"})");
  EXPECT_EQ(StatusesTo(Sent(), "inbox.C"), std::vector<std::string>{"423 Nats-Pin-Id mismatch"});

  // Unpin: the advisory, the reply, and B (waiting, no id) takes a new pin
  // with the next message; A's request with the old id ends with 423.
  Handle("$JS.API.CONSUMER.MSG.NEXT.S.c", "inbox.A2", json{{"batch", 5}, {"expires", 60 * kSecond}, {"group", "A"}, {"id", pin}}.dump());
  Settle();
  Sent();
  json u = Call("CONSUMER.UNPIN.S.c", R"({"group":"A"})");
  EXPECT_EQ(u, json::parse(R"({"type":"io.nats.jetstream.api.v1.consumer_unpin_response"})"));
  auto unpinned = Advisories("UNPINNED");
  ASSERT_EQ(unpinned.size(), 1u);
  EXPECT_EQ(unpinned[0]["type"], "io.nats.jetstream.advisory.v1.consumer_group_unpinned");
  EXPECT_EQ(unpinned[0]["reason"], "admin");
  EXPECT_EQ(unpinned[0]["group"], "A");
  info = Call("CONSUMER.INFO.S.c", "");
  EXPECT_FALSE(info["priority_groups"][0].contains("pinned_client_id"));
  // The queue is B, A, A2: B takes the new pin with the first message; the
  // next one finds A and A2 with the old pin first: 423 each, then B again.
  Pub("s.x", "three");
  Pub("s.x", "four");
  Settle();
  got = Sent();
  EXPECT_TRUE(Got("inbox.A").empty());
  EXPECT_TRUE(Got("inbox.A2").empty());
  EXPECT_EQ(StatusesTo(got, "inbox.A"), std::vector<std::string>{"423 Nats-Wrong-Pin-Id"});
  EXPECT_EQ(StatusesTo(got, "inbox.A2"), std::vector<std::string>{"423 Nats-Wrong-Pin-Id"});
  auto b = Got("inbox.B");
  ASSERT_EQ(b.size(), 2u);
  EXPECT_NE(PinOf(b[0]), pin);
  EXPECT_EQ(PinOf(b[1]), PinOf(b[0]));
  EXPECT_EQ(Call("CONSUMER.INFO.S.c", "")["priority_groups"][0]["pinned_client_id"], PinOf(b[0]));
  EXPECT_EQ(Advisories("PINNED").size(), 1u);
}

TEST_F(ConsumerPriorityTest, UnpinErrors) {
  ASSERT_EQ(Create(R"({"name":"c","ack_policy":"explicit","priority_groups":["A"],"priority_policy":"pinned_client"})")["error"],
            nullptr);
  auto code = [&](const std::string& subject, const std::string& body) {
    json r = Api(subject, body);
    EXPECT_EQ(r["type"], "io.nats.jetstream.api.v1.consumer_unpin_response") << r;
    return r["error"]["err_code"];
  };
  EXPECT_EQ(code("CONSUMER.UNPIN.S.c", ""), 10025);
  EXPECT_EQ(code("CONSUMER.UNPIN.S.c", "{}"), 10025);
  EXPECT_EQ(code("CONSUMER.UNPIN.S.c", R"({"group":5})"), 10025);
  EXPECT_EQ(code("CONSUMER.UNPIN.S.c", R"({"group":"a.b"})"), 10162);
  EXPECT_EQ(code("CONSUMER.UNPIN.X.c", R"({"group":"A"})"), 10059);
  EXPECT_EQ(code("CONSUMER.UNPIN.S.x", R"({"group":"A"})"), 10014);
  EXPECT_EQ(code("CONSUMER.UNPIN.S.c", R"({"group":"B"})"), 10160);
}

TEST_F(ConsumerPriorityTest, PinLapsesAfterPriorityTimeoutWithoutRequests) {
  json r = Create(
      R"({"name":"c","ack_policy":"explicit","priority_groups":["A"],"priority_policy":"pinned_client","priority_timeout":5000000000})");
  ASSERT_EQ(r["error"], nullptr) << r;
  EXPECT_EQ(r["config"]["priority_timeout"], 5 * kSecond);
  Pull("inbox.A", R"({"batch":1,"group":"A"})");
  Pub("s.x", "one");
  Settle();
  auto a = (Sent(), Got("inbox.A"));
  ASSERT_EQ(a.size(), 1u);
  const std::string pin = PinOf(a[0]);
  ASSERT_FALSE(pin.empty());
  Advisories("");

  // A request carrying the pin restarts the timeout.
  clock_.Advance(4 * kSecond);
  Settle();
  Pull("inbox.A", json{{"batch", 1}, {"expires", 60 * kSecond}, {"group", "A"}, {"id", pin}}.dump());
  clock_.Advance(4 * kSecond);
  Settle();
  EXPECT_TRUE(Advisories("UNPINNED").empty());
  EXPECT_EQ(Call("CONSUMER.INFO.S.c", "")["priority_groups"][0]["pinned_client_id"], pin);
  Pub("s.x", "two");
  Settle();
  ASSERT_EQ((Sent(), Got("inbox.A")).size(), 1u);

  // B waits while A holds the pin; A stops pulling: at the deadline the pin
  // goes (timer, no request needed) and B takes a new one.
  Pull("inbox.B", R"({"batch":1,"expires":60000000000,"group":"A"})");
  Pub("s.x", "three");
  Settle();
  EXPECT_TRUE((Sent(), Got("inbox.B")).empty());
  clock_.Advance(1 * kSecond + 1);
  Settle();
  auto unpinned = Advisories("UNPINNED");
  ASSERT_EQ(unpinned.size(), 1u);
  EXPECT_EQ(unpinned[0]["reason"], "timeout");
  auto b = (Sent(), Got("inbox.B"));
  ASSERT_EQ(b.size(), 1u);
  EXPECT_FALSE(PinOf(b[0]).empty());
  EXPECT_NE(PinOf(b[0]), pin);
}

TEST_F(ConsumerPriorityTest, ConfigSurvivesRestartAndMaxBytesIgnoresThePinHeader) {
  ASSERT_EQ(Create(R"({"durable_name":"c","ack_policy":"explicit","priority_groups":["A","B"],)"
                   R"("priority_policy":"pinned_client","priority_timeout":7000000000})")["error"],
            nullptr);
  js_.reset();
  Start();
  json info = Call("CONSUMER.INFO.S.c", "");
  EXPECT_EQ(info["config"]["priority_groups"], json::array({"A", "B"}));
  EXPECT_EQ(info["config"]["priority_policy"], "pinned_client");
  EXPECT_EQ(info["config"]["priority_timeout"], 7 * kSecond);
  EXPECT_EQ(info["priority_groups"].size(), 1u);  // 2.11 reports the first group only

  // The second group is accepted in requests too.
  Pub("s.x", "12345");
  Settle();
  // subject 3 + payload 5 + ack reply: max_bytes counts them, not the pin header.
  Pull("inbox.A", R"({"batch":1,"max_bytes":1000,"expires":60000000000,"group":"B"})");
  auto got = Sent();
  ASSERT_EQ(Got("inbox.A").size(), 1u) << (got.empty() ? "" : got[0].header);
  EXPECT_FALSE(PinOf(Got("inbox.A")[0]).empty());

  // An update to overflow drops the pin: an id is then a 400, not a 423.
  ASSERT_EQ(Create(R"({"durable_name":"c","ack_policy":"explicit","priority_groups":["A"],"priority_policy":"overflow"})")["error"],
            nullptr);
  info = Call("CONSUMER.INFO.S.c", "");
  EXPECT_FALSE(info["priority_groups"][0].contains("pinned_client_id"));
  EXPECT_FALSE(info["config"].contains("priority_timeout"));
}

}  // namespace
}  // namespace sluice::jetstream
