// Authenticator: which credential style applies, no_auth_user, identities and
// their permissions. Expectations follow probes of nats-server 2.9.10.
#include <crypt.h>
#include <gtest/gtest.h>

#include "auth/auth.h"

namespace sluice::auth {
namespace {

const std::string kHash = "$2b$12$BmFFWFCcy4tOxXnLL7SbBOzEA/2PcYgMWJiyxiNzjHGLNqiykSsSS";  // "secret"

ConnectCredentials Creds(std::string user, std::string pass, std::string token = "") {
  return ConnectCredentials{std::move(user), std::move(pass), std::move(token)};
}

TEST(AuthenticatorTest, NothingConfigured) {
  Authenticator a{AuthConfig{}};
  EXPECT_FALSE(a.required());
  EXPECT_EQ(a.timeout(), std::chrono::seconds(2));
  auto id = a.Authenticate(Creds("any", "thing", "tok"));
  ASSERT_TRUE(id);
  EXPECT_EQ(id->user, "");
  EXPECT_EQ(id->permissions, nullptr);
}

TEST(AuthenticatorTest, Token) {
  AuthConfig c;
  c.token = "s3cr3t";
  Authenticator a{c};
  EXPECT_TRUE(a.required());
  EXPECT_TRUE(a.Authenticate(Creds("", "", "s3cr3t")));
  EXPECT_TRUE(a.Authenticate(Creds("whoever", "ignored", "s3cr3t")));  // user/pass ignored
  EXPECT_FALSE(a.Authenticate(Creds("", "", "s3cr3T")));
  EXPECT_FALSE(a.Authenticate(Creds("", "s3cr3t", "")));
  EXPECT_FALSE(a.Authenticate(Creds("", "", "")));
}

TEST(AuthenticatorTest, BcryptToken) {
  AuthConfig c;
  c.token = kHash;
  Authenticator a{c};
  EXPECT_TRUE(a.Authenticate(Creds("", "", "secret")));
  EXPECT_FALSE(a.Authenticate(Creds("", "", kHash)));
}

TEST(AuthenticatorTest, SingleUser) {
  AuthConfig c;
  c.user = "a";
  c.password = "b";
  Authenticator a{c};
  auto id = a.Authenticate(Creds("a", "b"));
  ASSERT_TRUE(id);
  EXPECT_EQ(id->user, "a");
  EXPECT_EQ(id->permissions, nullptr);
  EXPECT_TRUE(a.Authenticate(Creds("a", "b", "any token")));  // token ignored
  EXPECT_FALSE(a.Authenticate(Creds("A", "b")));              // names are case-sensitive
  EXPECT_FALSE(a.Authenticate(Creds("a", "B")));
  EXPECT_FALSE(a.Authenticate(Creds("", "b")));
}

AuthConfig UsersConfig() {
  AuthConfig c;
  Permissions bob;
  bob.publish = SubjectPermission{std::vector<std::string>{"bob.>"}, {}};
  c.users.push_back(User{"alice", kHash, std::nullopt, {}});
  c.users.push_back(User{"bob", "pw", bob, {}});
  c.users.push_back(User{"guest", "gpw", std::nullopt, {}});
  c.users.push_back(User{"wsonly", "x", std::nullopt, {"WEBSOCKET"}});
  c.users.push_back(User{"std", "x", std::nullopt, {"STANDARD", "WEBSOCKET"}});
  return c;
}

TEST(AuthenticatorTest, UsersList) {
  Authenticator a{UsersConfig()};
  EXPECT_TRUE(a.required());
  auto alice = a.Authenticate(Creds("alice", "secret"));
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->user, "alice");
  EXPECT_EQ(alice->permissions, nullptr);
  EXPECT_FALSE(a.Authenticate(Creds("alice", kHash)));
  EXPECT_FALSE(a.Authenticate(Creds("alice", "nope")));
  auto bob = a.Authenticate(Creds("bob", "pw"));
  ASSERT_TRUE(bob);
  ASSERT_NE(bob->permissions, nullptr);
  EXPECT_TRUE(bob->permissions->Publish("bob.x"));
  EXPECT_FALSE(bob->permissions->Publish("dp.x"));
  // The same compiled rules are shared by every connection of a user.
  EXPECT_EQ(a.Authenticate(Creds("bob", "pw"))->permissions, bob->permissions);
  EXPECT_FALSE(a.Authenticate(Creds("zed", "x")));
  EXPECT_FALSE(a.Authenticate(Creds("", "")));          // no no_auth_user
  EXPECT_FALSE(a.Authenticate(Creds("", "", "token")));  // a token means nothing here
  EXPECT_FALSE(a.Authenticate(Creds("wsonly", "x")));    // not allowed on plain client connections
  EXPECT_TRUE(a.Authenticate(Creds("std", "x")));
}

TEST(AuthenticatorTest, NoAuthUser) {
  AuthConfig c = UsersConfig();
  c.no_auth_user = "guest";
  Authenticator a{c};
  auto id = a.Authenticate(Creds("", ""));
  ASSERT_TRUE(id);
  EXPECT_EQ(id->user, "guest");
  // Only when user, pass and token are all empty.
  EXPECT_FALSE(a.Authenticate(Creds("", "", "t")));
  EXPECT_FALSE(a.Authenticate(Creds("", "gpw")));
  EXPECT_FALSE(a.Authenticate(Creds("guest", "")));
  EXPECT_TRUE(a.Authenticate(Creds("bob", "pw")));
}

TEST(AuthenticatorTest, NoAuthUserWithBcryptPasswordNeverMatches) {
  // nats-server 2.9.10 (and 2.11) substitutes the configured hash as the
  // client's password, which bcrypt then refuses. Kept as is.
  AuthConfig c = UsersConfig();
  c.no_auth_user = "alice";
  Authenticator a{c};
  EXPECT_FALSE(a.Authenticate(Creds("", "")));
  EXPECT_TRUE(a.Authenticate(Creds("alice", "secret")));
}

TEST(AuthenticatorTest, PlaintextWarning) {
  AuthConfig c;
  EXPECT_FALSE(c.has_plaintext_passwords());
  c.users.push_back(User{"alice", kHash, std::nullopt, {}});
  EXPECT_FALSE(c.has_plaintext_passwords());
  c.users.push_back(User{"bob", "pw", std::nullopt, {}});
  EXPECT_TRUE(c.has_plaintext_passwords());
}

}  // namespace
}  // namespace sluice::auth
