// PermissionRules / PermissionChecker against the fixed table probed from
// nats-server, plus allow_responses (with an injected clock), the delivery
// filter for wildcard subscriptions and the error texts.
#include <gtest/gtest.h>

#include "auth/auth.h"
#include "auth/permissions.h"
#include "config/config_file.h"
#include "permission_cases.h"

namespace sluice::auth {
namespace {

Permissions ParsePerms(const std::string& text) {
  config::Value root;
  std::string error;
  EXPECT_TRUE(config::ParseText("permissions: " + text + "\n", "p.conf", "", root, error)) << error;
  Permissions p;
  EXPECT_TRUE(ParsePermissions(*root.Find("permissions"), p, error)) << error;
  return p;
}

TEST(PermissionsTest, TableFromNatsServer) {
  for (const auto& c : testing::PermissionTable()) {
    PermissionChecker checker(ParsePerms(c.permissions));
    for (const auto& op : c.ops) {
      bool got = op.kind == 'S' ? checker.CanSubscribe(op.subject, op.queue) : checker.CanPublish(op.subject);
      EXPECT_EQ(got, op.allowed) << c.user << " " << c.permissions << ": " << op.kind << " " << op.subject << " "
                                 << op.queue;
    }
  }
}

TEST(PermissionsTest, CachedAnswersStayRight) {
  PermissionChecker checker(ParsePerms(R"({publish: {allow: "a.>", deny: "a.b"}})"));
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 1000; ++i) {
      std::string s = "a." + std::to_string(i);
      EXPECT_TRUE(checker.CanPublish(s));
      EXPECT_FALSE(checker.CanPublish("b." + std::to_string(i)));
    }
    EXPECT_FALSE(checker.CanPublish("a.b"));
  }
}

TEST(PermissionsTest, NoRulesAllowsEverything) {
  PermissionChecker checker(Permissions{});
  EXPECT_TRUE(checker.CanPublish("x"));
  EXPECT_TRUE(checker.CanSubscribe(">", "q"));
  EXPECT_FALSE(checker.NeedsDeliveryFilter(">"));
  EXPECT_FALSE(checker.tracks_replies());
}

TEST(PermissionsTest, MalformedSubjectsMatchNothing) {
  // nats-server's sublist returns no match for empty tokens.
  PermissionChecker allow(ParsePerms(R"({publish: ">"})"));
  EXPECT_FALSE(allow.CanPublish("a..b"));
  EXPECT_FALSE(allow.CanPublish(".a"));
  EXPECT_FALSE(allow.CanPublish(""));
  PermissionChecker deny(ParsePerms(R"({publish: {deny: ">"}})"));
  EXPECT_TRUE(deny.CanPublish("a..b"));
}

TEST(PermissionsTest, ResponsesOncePerRequestByDefault) {
  using Clock = PermissionChecker::Clock;
  Clock::time_point t0{};
  PermissionChecker checker(ParsePerms(R"({allow_responses: true, subscribe: "req"})"));
  ASSERT_TRUE(checker.tracks_replies());
  EXPECT_FALSE(checker.CanPublish("inbox.1", t0));
  checker.NoteReply("inbox.1", t0);
  EXPECT_TRUE(checker.CanPublish("inbox.1", t0 + std::chrono::seconds(1)));
  EXPECT_FALSE(checker.CanPublish("inbox.1", t0 + std::chrono::seconds(1)));
  // A new request with the same reply subject starts afresh.
  checker.NoteReply("inbox.1", t0 + std::chrono::seconds(2));
  EXPECT_TRUE(checker.CanPublish("inbox.1", t0 + std::chrono::seconds(2)));
  // Default expiry: 2 minutes.
  checker.NoteReply("inbox.2", t0);
  EXPECT_FALSE(checker.CanPublish("inbox.2", t0 + std::chrono::minutes(2) + std::chrono::nanoseconds(1)));
}

TEST(PermissionsTest, ResponsesMaxAndExpiry) {
  using Clock = PermissionChecker::Clock;
  Clock::time_point t0{};
  PermissionChecker checker(ParsePerms(R"({allow_responses: {max: 2, expires: "700ms"}, publish: "pub.ok"})"));
  EXPECT_TRUE(checker.CanPublish("pub.ok", t0));
  checker.NoteReply("inbox.2", t0);
  EXPECT_TRUE(checker.CanPublish("inbox.2", t0));
  EXPECT_TRUE(checker.CanPublish("inbox.2", t0));
  EXPECT_FALSE(checker.CanPublish("inbox.2", t0));
  checker.NoteReply("inbox.4", t0);
  EXPECT_TRUE(checker.CanPublish("inbox.4", t0 + std::chrono::milliseconds(700)));
  EXPECT_FALSE(checker.CanPublish("inbox.4", t0 + std::chrono::milliseconds(701)));
  EXPECT_FALSE(checker.CanPublish("inbox.4", t0));  // the expired entry is gone
}

TEST(PermissionsTest, ResponsesUnlimited) {
  PermissionChecker::Clock::time_point t0{};
  PermissionChecker checker(ParsePerms(R"({allow_responses: {max: -1, expires: "-1s"}})"));
  checker.NoteReply("r", t0);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(checker.CanPublish("r", t0 + std::chrono::hours(i)));
}

TEST(PermissionsTest, ReplyTableIsBounded) {
  PermissionChecker::Clock::time_point t0{};
  PermissionChecker checker(ParsePerms(R"({allow_responses: {expires: "-1s"}})"));
  const size_t n = PermissionChecker::kMaxTrackedReplies + 1000;
  for (size_t i = 0; i < n; ++i) checker.NoteReply("r." + std::to_string(i), t0);
  EXPECT_TRUE(checker.CanPublish("r." + std::to_string(n - 1), t0));  // the newest survive
  EXPECT_FALSE(checker.CanPublish("r.0", t0));                       // the oldest went
}

TEST(PermissionsTest, DeliveryFilter) {
  PermissionChecker d1(ParsePerms(R"({subscribe: {deny: ["foo.>"]}})"));
  ASSERT_TRUE(d1.CanSubscribe(">"));
  EXPECT_TRUE(d1.NeedsDeliveryFilter(">"));
  EXPECT_TRUE(d1.NeedsDeliveryFilter("*.bar"));  // nats-server does not filter here (see README)
  EXPECT_FALSE(d1.NeedsDeliveryFilter("bar.*"));
  EXPECT_FALSE(d1.NeedsDeliveryFilter("foo"));  // literal: Subscribe() already decided
  EXPECT_FALSE(d1.DeliveryAllowed("foo.bar"));
  EXPECT_TRUE(d1.DeliveryAllowed("bar"));
  EXPECT_TRUE(d1.DeliveryAllowed("foo"));
  // Queue deny entries do not filter deliveries (as in nats-server).
  PermissionChecker q(ParsePerms(R"({subscribe: {deny: ["foo q"]}})"));
  EXPECT_FALSE(q.NeedsDeliveryFilter(">"));
  EXPECT_TRUE(q.DeliveryAllowed("foo"));
}

TEST(PermissionsTest, ErrorTexts) {
  EXPECT_EQ(PublishViolation("foo.bar"), "Permissions Violation for Publish to \"foo.bar\"");
  EXPECT_EQ(SubscribeViolation("foo.*"), "Permissions Violation for Subscription to \"foo.*\"");
  EXPECT_EQ(SubscribeViolation("foo", "q.a"), "Permissions Violation for Subscription to \"foo\" using queue \"q.a\"");
  EXPECT_EQ(PublishViolation("a\"b\\c\x01\xff" "\xc3\xa9"),
            "Permissions Violation for Publish to \"a\\\"b\\\\c\\x01\\xff\xc3\xa9\"");
  EXPECT_EQ(std::string(kAuthorizationViolation), "Authorization Violation");
  EXPECT_EQ(std::string(kAuthenticationTimeout), "Authentication Timeout");
}

}  // namespace
}  // namespace sluice::auth
