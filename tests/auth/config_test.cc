// ParseAuthorization / ParsePermissions / ValidateAuthConfig: every form, and
// the error texts with positions. Expected errors were produced by
// `nats-server -t -c <file>` (2.9.10) on the same text, except where noted.
#include <gtest/gtest.h>

#include "auth/auth.h"
#include "config/config_file.h"

namespace sluice::auth {
namespace {

struct Parsed {
  bool ok = false;
  AuthConfig config;
  std::string error;
};

Parsed Parse(const std::string& text) {
  Parsed p;
  config::Value root;
  std::string error;
  if (!config::ParseText(text, "a.conf", "", root, error)) {
    p.error = "config: " + error;
    return p;
  }
  const config::Value* block = root.Find("authorization");
  if (block == nullptr) block = root.Find("AUTHORIZATION");
  if (block == nullptr) {
    p.error = "no authorization block";
    return p;
  }
  p.ok = ParseAuthorization(*block, p.config, p.error);
  return p;
}

std::string ErrorOf(const std::string& text) {
  Parsed p = Parse(text);
  EXPECT_FALSE(p.ok) << text;
  return p.error;
}

std::string UserBlock(const std::string& user_fields) {
  return "authorization {\n  users: [{" + user_fields + "}]\n}\n";
}

TEST(AuthConfigTest, Token) {
  Parsed p = Parse("authorization {\n  token: s3cr3t\n  timeout: 3\n}\n");
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.config.token, "s3cr3t");
  EXPECT_EQ(p.config.timeout, std::chrono::seconds(3));
  EXPECT_TRUE(p.config.required());
}

TEST(AuthConfigTest, UserPasswordAndAliases) {
  Parsed p = Parse("authorization { username: a, pass: b, timeout: 0.5 }\n");
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.config.user, "a");
  EXPECT_EQ(p.config.password, "b");
  EXPECT_EQ(p.config.timeout, std::chrono::milliseconds(500));
  EXPECT_TRUE(p.config.has_plaintext_passwords());
}

TEST(AuthConfigTest, TimeoutForms) {
  // A string is not parsed by nats-server and means 1 s; 0 means the default 2 s.
  EXPECT_EQ(Parse("authorization { token: x, timeout: \"5s\" }").config.timeout, std::chrono::seconds(1));
  EXPECT_EQ(Parse("authorization { token: x, timeout: 0 }").config.timeout, std::chrono::seconds(2));
  EXPECT_EQ(Parse("authorization { token: x }").config.timeout, std::chrono::seconds(2));
  EXPECT_EQ(Parse("authorization { token: x, timeout: 1.25 }").config.timeout, std::chrono::milliseconds(1250));
}

TEST(AuthConfigTest, PasswordOnlyRequiresNothing) {
  Parsed p = Parse("authorization { password: abc }");
  ASSERT_TRUE(p.ok);
  EXPECT_FALSE(p.config.required());
}

TEST(AuthConfigTest, EmptyUsersListRequiresNothing) {
  Parsed p = Parse("authorization { users: [] }");
  ASSERT_TRUE(p.ok);
  EXPECT_FALSE(p.config.required());  // nats-server 2.9.10: clients connect without credentials
}

TEST(AuthConfigTest, KeysAreCaseInsensitive) {
  Parsed p = Parse(
      "AUTHORIZATION {\n  USERS: [{USER: a, PASS: c, PERMISSIONS: {PUB: \"a\", SUB: {ALLOW: \"b\"}}}]\n  TIMEOUT: 3\n}\n");
  ASSERT_TRUE(p.ok) << p.error;
  ASSERT_EQ(p.config.users.size(), 1u);
  const User& u = p.config.users[0];
  EXPECT_EQ(u.name, "a");
  ASSERT_TRUE(u.permissions && u.permissions->publish && u.permissions->subscribe);
  EXPECT_EQ(u.permissions->publish->allow, std::vector<std::string>{"a"});
  EXPECT_EQ(u.permissions->subscribe->allow, std::vector<std::string>{"b"});
}

TEST(AuthConfigTest, PermissionForms) {
  Parsed p = Parse(R"(authorization {
  users: [
    {user: single, password: p, permissions: {publish: "a.>", subscribe: "b.*"}}
    {user: list, password: p, permissions: {pub: ["a", "b.>"], sub: ["c", "d.> q"]}}
    {user: map, password: p, permissions: {publish: {allow: ["a"], deny: "a.b"}, subscribe: {deny: ["x.>", "y q.*"]}}}
    {user: empty, password: p, permissions: {publish: [], subscribe: {}}}
    {user: import, password: p, permission: {import: "i", export: "e"}}
    {user: resp, password: p, permissions: {allow_responses: true, subscribe: "req"}}
    {user: resp2, password: p, authorization: {publish_allow_responses: {max: 5, expires: "1m"}, publish: {deny: "x"}}}
    {user: resp3, password: p, permissions: {allow_responses: {max_msgs: 0, ttl: "0s"}}}
    {user: resp4, password: p, permissions: {allow_responses: {max_responses: -1, expiration: "-1s"}}}
    {user: noresp, password: p, permissions: {allow_responses: false}}
  ]
})");
  ASSERT_TRUE(p.ok) << p.error;
  auto& users = p.config.users;
  ASSERT_EQ(users.size(), 10u);
  using V = std::vector<std::string>;
  EXPECT_EQ(users[0].permissions->publish->allow, V{"a.>"});
  EXPECT_EQ(users[0].permissions->subscribe->allow, V{"b.*"});
  EXPECT_EQ(users[1].permissions->publish->allow, (V{"a", "b.>"}));
  EXPECT_EQ(users[1].permissions->subscribe->allow, (V{"c", "d.> q"}));
  EXPECT_EQ(users[2].permissions->publish->allow, V{"a"});
  EXPECT_EQ(users[2].permissions->publish->deny, V{"a.b"});
  EXPECT_FALSE(users[2].permissions->subscribe->allow.has_value());
  EXPECT_EQ(users[2].permissions->subscribe->deny, (V{"x.>", "y q.*"}));
  // `publish: []` is no list at all (everything allowed), `subscribe: {}` no permission.
  ASSERT_TRUE(users[3].permissions->publish.has_value());
  EXPECT_FALSE(users[3].permissions->publish->allow.has_value());
  EXPECT_FALSE(users[3].permissions->subscribe.has_value());
  EXPECT_EQ(users[4].permissions->publish->allow, V{"i"});
  EXPECT_EQ(users[4].permissions->subscribe->allow, V{"e"});
  // allow_responses: defaults 1 message / 2 minutes, publish allow list switched on (empty).
  ASSERT_TRUE(users[5].permissions->allow_responses.has_value());
  EXPECT_EQ(users[5].permissions->allow_responses->max_msgs, 1);
  EXPECT_EQ(users[5].permissions->allow_responses->expires, std::chrono::minutes(2));
  EXPECT_EQ(users[5].permissions->publish->allow, V{});
  EXPECT_EQ(users[6].permissions->allow_responses->max_msgs, 5);
  EXPECT_EQ(users[6].permissions->allow_responses->expires, std::chrono::minutes(1));
  EXPECT_EQ(users[6].permissions->publish->allow, V{});  // whatever the key order
  EXPECT_EQ(users[6].permissions->publish->deny, V{"x"});
  EXPECT_EQ(users[7].permissions->allow_responses->max_msgs, 1);  // 0 keeps the default
  EXPECT_EQ(users[7].permissions->allow_responses->expires, std::chrono::minutes(2));
  EXPECT_EQ(users[8].permissions->allow_responses->max_msgs, -1);  // negative: unlimited
  EXPECT_EQ(users[8].permissions->allow_responses->expires, std::chrono::seconds(-1));
  EXPECT_FALSE(users[9].permissions->allow_responses.has_value());
  EXPECT_FALSE(users[9].permissions->publish.has_value());
}

TEST(AuthConfigTest, DefaultPermissionsApplyToUsersWithoutTheirOwn) {
  for (const char* key : {"default_permissions", "default_permission", "permissions"}) {
    Parsed p = Parse(std::string("authorization {\n  ") + key +
                     ": { publish: \"dp.>\" }\n  users: [{user: a, password: p}, {user: b, password: p, "
                     "permissions: {publish: \"b.>\"}}, {user: c, password: p, permissions: {}}]\n}\n");
    ASSERT_TRUE(p.ok) << key << ": " << p.error;
    ASSERT_EQ(p.config.users.size(), 3u);
    EXPECT_EQ(p.config.users[0].permissions->publish->allow, std::vector<std::string>{"dp.>"}) << key;
    EXPECT_EQ(p.config.users[1].permissions->publish->allow, std::vector<std::string>{"b.>"}) << key;
    EXPECT_FALSE(p.config.users[2].permissions->publish.has_value()) << key;  // `{}` is its own (empty) set
  }
}

TEST(AuthConfigTest, ConnectionTypes) {
  Parsed p = Parse(UserBlock("user: a, password: c, allowed_connection_types: [\"standard\", \"WEBSOCKET\"]"));
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.config.users[0].allowed_connection_types, (std::set<std::string>{"STANDARD", "WEBSOCKET"}));
  EXPECT_EQ(ErrorOf(UserBlock("user: a, password: c, clients: [\"bogus\"]")),
            "a.conf:2:34: invalid connection types [\"BOGUS\"]");
}

// --- errors (texts and positions as nats-server 2.9.10 prints them) ---

TEST(AuthConfigErrorTest, AuthorizationBlock) {
  EXPECT_EQ(ErrorOf("authorization {\n  token: abc\n  foo: 1\n}\n"), "a.conf:3:3: unknown field \"foo\"");
  EXPECT_EQ(ErrorOf("authorization {\n  token: 123\n}\n"),
            "a.conf:2:3: interface conversion: interface {} is int64, not string");
  EXPECT_EQ(ErrorOf("authorization {\n  user: a\n  password: 1\n}\n"),
            "a.conf:3:3: interface conversion: interface {} is int64, not string");
  EXPECT_EQ(ErrorOf("authorization {\n  user: a, password: b\n  token: abc\n}\n"),
            "a.conf:1:0: Cannot have a user/pass and token");
  EXPECT_EQ(ErrorOf("authorization {\n  user: a\n  users: [{user: b, password: c}]\n}\n"),
            "a.conf:1:0: Can not have a single user/pass and a users array");
  EXPECT_EQ(ErrorOf("authorization {\n  token: t\n  users: [{user: b, password: c}]\n}\n"),
            "a.conf:1:0: Can not have a token and a users array");
  EXPECT_EQ(ErrorOf("authorization {\n  users: [{user: a, password: c}, {user: a, password: d}]\n}\n"),
            "a.conf:1:0: Duplicate user \"a\" detected");
  EXPECT_EQ(ErrorOf("authorization: \"x\""),
            "a.conf:1:0: interface conversion: interface {} is string, not map[string]interface {}");
}

TEST(AuthConfigErrorTest, UsersList) {
  EXPECT_EQ(ErrorOf("authorization {\n  users: \"x\"\n}\n"),
            "a.conf:2:3: Expected users field to be an array, got x");
  EXPECT_EQ(ErrorOf("authorization {\n  users: [\"x\"]\n}\n"),
            "a.conf:2:12: Expected user entry to be a map/struct, got x");
  EXPECT_EQ(ErrorOf(UserBlock("password: c")), "a.conf:2:12: User entry requires a user");
  EXPECT_EQ(ErrorOf(UserBlock("user: \"\", password: c")), "a.conf:2:22: User entry requires a user");
  EXPECT_EQ(ErrorOf(UserBlock("user: a, password: c, bogus: 1")), "a.conf:2:34: unknown field \"bogus\"");
  EXPECT_EQ(ErrorOf(UserBlock("user: 1, password: c")),
            "a.conf:2:12: interface conversion: interface {} is int64, not string");
  // Sluice: nkeys need a nonce signature, not built yet.
  EXPECT_EQ(ErrorOf(UserBlock("nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4")),
            "a.conf:2:12: nkey users are not supported yet by sluice-server");
}

TEST(AuthConfigErrorTest, Permissions) {
  EXPECT_EQ(ErrorOf(UserBlock("user: a, password: c, permissions: {foo: 1}")),
            "a.conf:2:48: Unknown field \"foo\" parsing permissions");
  EXPECT_EQ(ErrorOf(UserBlock("user: a, password: c, permissions: \"x\"")),
            "a.conf:2:34: Expected permissions to be a map/struct, got x");
  EXPECT_EQ(ErrorOf(UserBlock("user: a, password: c, permissions: {publish: {allow: \"a\", bar: \"x\"}}")),
            "a.conf:2:70: Unknown field name \"bar\" parsing subject permissions, only 'allow' or 'deny' are "
            "permitted");
  EXPECT_EQ(ErrorOf(UserBlock("user: a, password: c, permissions: {publish: {allow: [\"a..b\"]}}")),
            "a.conf:2:58: subject \"a..b\" is not a valid subject");
  EXPECT_EQ(ErrorOf(UserBlock("user: a, password: c, permissions: {publish: {deny: 1}}")),
            "a.conf:2:58: Expected subject permissions to be a subject, or array of subjects, got int64");
  EXPECT_EQ(ErrorOf(UserBlock("user: a, password: c, permissions: {subscribe: [\"a\", 1 ]}")),
            "a.conf:2:65: Subject in permissions array cannot be cast to string");
  EXPECT_EQ(ErrorOf(UserBlock("user: a, password: c, permissions: {subscribe: {allow: [\"a\", 1 ]}}")),
            "a.conf:2:73: Subject in permissions array cannot be cast to string");
  EXPECT_EQ(ErrorOf(UserBlock("user: a, password: c, permissions: {allow_responses: {max: 2, expires: \"xx\"}}")),
            "a.conf:2:74: error parsing expires: time: invalid duration \"xx\"");
  EXPECT_EQ(ErrorOf(UserBlock("user: a, password: c, permissions: {allow_responses: {max: 2, expires: 5}}")),
            "a.conf:2:74: error parsing expires, not a duration string");
  EXPECT_EQ(ErrorOf(UserBlock("user: a, password: c, permissions: {allow_responses: {max: 2, zz: 5}}")),
            "a.conf:2:74: Unknown field \"zz\" parsing permissions");
  EXPECT_EQ(ErrorOf(UserBlock("user: a, password: c, permissions: {allow_responses: \"yes\"}")),
            "a.conf:2:48: error parsing response permissions, expected a boolean or a map");
  EXPECT_EQ(ErrorOf(UserBlock("user: a, password: c, permissions: {allow_responses: {max: \"x\"}}")),
            "a.conf:2:66: interface conversion: interface {} is string, not int64");
  EXPECT_EQ(ErrorOf("authorization {\n  permissions: { publish: \"a\", foo: 2 }\n  users: [{user: a, password: c}]\n}\n"),
            "a.conf:2:32: Unknown field \"foo\" parsing permissions");
}

// nats-server prints these list-style errors without a position; Sluice gives
// the position of the publish/subscribe key.
TEST(AuthConfigErrorTest, ListStyleErrorsGetAPosition) {
  EXPECT_EQ(ErrorOf(UserBlock("user: a, password: c, permissions: {publish: [\"a..b\"]}")),
            "a.conf:2:48: subject \"a..b\" is not a valid subject");
  EXPECT_EQ(ErrorOf(UserBlock("user: a, password: c, permissions: {subscribe: [\"a..b q\"]}")),
            "a.conf:2:48: subject \"a..b\" is not a valid subject");
  EXPECT_EQ(ErrorOf(UserBlock("user: a, password: c, permissions: {subscribe: [\"a b c\"]}")),
            "a.conf:2:48: subject \"a b c\" is not a valid subject");
  EXPECT_EQ(ErrorOf(UserBlock("user: a, password: c, permissions: {subscribe: 1}")),
            "a.conf:2:48: Expected subject permissions to be a subject, or array of subjects, got int64");
}

TEST(AuthConfigErrorTest, ReferencedVariablesAreNotUnknownFields) {
  config::Value root;
  std::string error;
  config::ParseOptions options;
  options.keep_referenced_variables = true;
  ASSERT_TRUE(config::ParseText("authorization {\n  TOK: abc\n  token: $TOK\n}\n", "a.conf", "", root, error, options))
      << error;
  AuthConfig c;
  ASSERT_TRUE(ParseAuthorization(*root.Find("authorization"), c, error)) << error;
  EXPECT_EQ(c.token, "abc");
}

TEST(AuthConfigValidateTest, NoAuthUser) {
  AuthConfig c;
  std::string error;
  c.no_auth_user = "x";
  c.token = "abc";
  EXPECT_FALSE(ValidateAuthConfig(c, error));
  EXPECT_EQ(error, "no_auth_user: \"x\" present, but users are not defined");
  c.token.clear();
  c.users.push_back(User{"a", "c", std::nullopt, {}});
  EXPECT_FALSE(ValidateAuthConfig(c, error));
  EXPECT_EQ(error, "no_auth_user: \"x\" not present as user in authorization block or account configuration");
  c.no_auth_user = "a";
  EXPECT_TRUE(ValidateAuthConfig(c, error)) << error;
  c.user = "flag-user";
  EXPECT_FALSE(ValidateAuthConfig(c, error));
  EXPECT_EQ(error, "Can not have a single user/pass and a users array");
}

TEST(AuthConfigTest, ErrorsNeverCarryCredentials) {
  // Values of credential fields never appear in errors (only their Go type).
  EXPECT_EQ(ErrorOf("authorization {\n  token: [\"hunter2\"]\n}\n").find("hunter2"), std::string::npos);
  EXPECT_EQ(ErrorOf(UserBlock("user: a, password: [\"hunter2\"]")).find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace sluice::auth
