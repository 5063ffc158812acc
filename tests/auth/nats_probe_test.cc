// Differential probe: the permission table, allow_responses, the delivery
// filter and credential selection replayed against a live nats-server 2.9.10
// over raw TCP, and compared with what sluice_auth decides. Skipped when
// nats-server is not installed. No sleeps: every step ends with PING/PONG.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "auth/auth.h"
#include "config/config_file.h"
#include "permission_cases.h"
#include "raw_client.h"
#include "server_process.h"

namespace sluice::auth {
namespace {

using sluice::testing::RawClient;
using sluice::testing::ServerKind;
using sluice::testing::ServerProcess;

bool HaveNatsServer() {
  std::string bin = sluice::testing::ServerBinary(ServerKind::kNatsServer);
  if (bin.find('/') != std::string::npos) return ::access(bin.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    std::string dir = p.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!dir.empty() && ::access((dir + "/" + bin).c_str(), X_OK) == 0) return true;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return false;
}

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char tmpl[] = "/tmp/sluice-auth-XXXXXX";
    dir_ = ::mkdtemp(tmpl) ? tmpl : "/tmp";
    path_ = dir_ + "/server.conf";
    std::ofstream(path_) << content;
  }
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_, path_;
};

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Connects and authenticates; returns the handshake reply ("PONG" when accepted).
std::string Login(RawClient& c, int port, const std::string& user, const std::string& pass,
                  const std::string& token = "") {
  if (!c.Connect(port)) return "<no connect>";
  c.ReadLine();
  std::string connect = "CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1,\"headers\":true";
  if (!user.empty()) connect += ",\"user\":" + JsonString(user);
  if (!pass.empty()) connect += ",\"pass\":" + JsonString(pass);
  if (!token.empty()) connect += ",\"auth_token\":" + JsonString(token);
  c.Send(connect + "}\r\nPING\r\n");
  std::string got = c.ReadUntil("PONG\r\n");
  return got.empty() ? c.ReadUntilClosed(std::chrono::seconds(2)) : got;
}

// Sends `ops` then PING; returns everything up to the PONG.
std::string Round(RawClient& c, const std::string& ops) {
  c.Send(ops + "PING\r\n");
  return c.ReadUntil("PONG\r\n");
}

std::unique_ptr<ServerProcess> StartNats(const TempFile& conf) {
  return ServerProcess::Start(ServerKind::kNatsServer, {"-c", conf.path()});
}

AuthConfig ParseConfigText(const std::string& text) {
  config::Value root;
  std::string error;
  EXPECT_TRUE(config::ParseText(text, "probe.conf", "", root, error)) << error;
  AuthConfig c;
  EXPECT_TRUE(ParseAuthorization(*root.Find("authorization"), c, error)) << error;
  if (const config::Value* nau = root.Find("no_auth_user")) c.no_auth_user = nau->string;
  EXPECT_TRUE(ValidateAuthConfig(c, error)) << error;
  return c;
}

TEST(NatsProbeTest, PermissionTable) {
  if (!HaveNatsServer()) GTEST_SKIP() << "nats-server not installed";
  std::string text = "authorization {\n  users: [\n    {user: all, password: p}\n";
  for (const auto& c : testing::PermissionTable())
    text += "    {user: " + c.user + ", password: p, permissions: " + c.permissions + "}\n";
  text += "  ]\n}\n";
  TempFile conf(text);
  auto server = StartNats(conf);
  ASSERT_TRUE(server);
  Authenticator auth(ParseConfigText(text));

  for (const auto& c : testing::PermissionTable()) {
    SCOPED_TRACE(c.user + " " + c.permissions);
    RawClient client;
    ASSERT_NE(Login(client, server->port(), c.user, "p").find("PONG"), std::string::npos);
    auto id = auth.Authenticate({c.user, "p", ""});
    ASSERT_TRUE(id && id->permissions);
    PermissionChecker checker(id->permissions);
    int sid = 0;
    for (const auto& op : c.ops) {
      std::string line, expected_error;
      bool ours;
      if (op.kind == 'S') {
        line = "SUB " + op.subject + (op.queue.empty() ? "" : " " + op.queue) + " " + std::to_string(++sid) + "\r\n";
        ours = checker.CanSubscribe(op.subject, op.queue);
        expected_error = "-ERR '" + SubscribeViolation(op.subject, op.queue) + "'\r\n";
      } else {
        line = "PUB " + op.subject + " 0\r\n\r\n";
        ours = checker.CanPublish(op.subject);
        expected_error = "-ERR '" + PublishViolation(op.subject) + "'\r\n";
      }
      std::string reply = Round(client, line);
      ASSERT_FALSE(reply.empty()) << "no PONG after " << line;
      bool theirs = reply.find("-ERR") == std::string::npos;
      EXPECT_EQ(theirs, op.allowed) << "nats-server on " << line;
      EXPECT_EQ(ours, theirs) << line;
      if (!theirs) {
        EXPECT_EQ(reply, expected_error + "PONG\r\n");
      }
    }
  }

  // allow_responses: r1 may answer a request once; r2 twice.
  RawClient requester, r1, r2;
  ASSERT_NE(Login(requester, server->port(), "all", "p").find("PONG"), std::string::npos);
  ASSERT_NE(Login(r1, server->port(), "r1", "p").find("PONG"), std::string::npos);
  ASSERT_NE(Login(r2, server->port(), "r2", "p").find("PONG"), std::string::npos);
  PermissionChecker c1(auth.Authenticate({"r1", "p", ""})->permissions);
  PermissionChecker c2(auth.Authenticate({"r2", "p", ""})->permissions);
  Round(r1, "SUB req 1\r\n");
  Round(r2, "SUB req2 1\r\n");
  EXPECT_NE(Round(r1, "PUB inbox.1 0\r\n\r\n").find("-ERR"), std::string::npos);
  EXPECT_FALSE(c1.CanPublish("inbox.1"));
  Round(requester, "PUB req inbox.1 1\r\nx\r\nPUB req2 inbox.2 1\r\nx\r\n");
  EXPECT_EQ(Round(r1, ""), "MSG req 1 inbox.1 1\r\nx\r\nPONG\r\n");
  EXPECT_EQ(Round(r2, ""), "MSG req2 1 inbox.2 1\r\nx\r\nPONG\r\n");
  c1.NoteReply("inbox.1");
  c2.NoteReply("inbox.2");
  for (int i = 0; i < 3; ++i) {
    bool theirs1 = Round(r1, "PUB inbox.1 0\r\n\r\n").find("-ERR") == std::string::npos;
    bool theirs2 = Round(r2, "PUB inbox.2 0\r\n\r\n").find("-ERR") == std::string::npos;
    EXPECT_EQ(theirs1, i < 1) << i;
    EXPECT_EQ(theirs2, i < 2) << i;
    EXPECT_EQ(c1.CanPublish("inbox.1"), theirs1) << i;
    EXPECT_EQ(c2.CanPublish("inbox.2"), theirs2) << i;
  }

  // Delivery filter: d1 (deny foo.>) subscribed to ">" does not get foo.bar.
  RawClient d1;
  ASSERT_NE(Login(d1, server->port(), "d1", "p").find("PONG"), std::string::npos);
  EXPECT_EQ(Round(d1, "SUB > 1\r\n"), "PONG\r\n");
  Round(requester, "PUB foo.bar 1\r\nx\r\nPUB bar 1\r\ny\r\n");
  EXPECT_EQ(Round(d1, ""), "MSG bar 1 1\r\ny\r\nPONG\r\n");
  PermissionChecker cd(auth.Authenticate({"d1", "p", ""})->permissions);
  EXPECT_TRUE(cd.NeedsDeliveryFilter(">"));
  EXPECT_FALSE(cd.DeliveryAllowed("foo.bar"));
  EXPECT_TRUE(cd.DeliveryAllowed("bar"));
}

TEST(NatsProbeTest, CredentialSelection) {
  if (!HaveNatsServer()) GTEST_SKIP() << "nats-server not installed";
  const std::string hash = "$2b$12$BmFFWFCcy4tOxXnLL7SbBOzEA/2PcYgMWJiyxiNzjHGLNqiykSsSS";  // "secret"
  std::string text = "no_auth_user: guest\nauthorization {\n  default_permissions: { publish: \"dp.>\" }\n"
                     "  users: [\n    {user: alice, password: \"" + hash + "\"}\n"
                     "    {user: bob, password: pw, permissions: {publish: \"bob.>\"}}\n"
                     "    {user: guest, password: gpw}\n  ]\n}\n";
  TempFile conf(text);
  auto server = StartNats(conf);
  ASSERT_TRUE(server);
  Authenticator auth(ParseConfigText(text));
  struct Try {
    std::string user, pass, token;
  };
  for (const Try& t : std::vector<Try>{{"alice", "secret", ""}, {"alice", "nope", ""}, {"alice", hash, ""},
                                       {"bob", "pw", ""}, {"", "", ""}, {"", "", "x"}, {"", "gpw", ""},
                                       {"guest", "", ""}, {"zed", "x", ""}, {"guest", "gpw", ""}}) {
    SCOPED_TRACE("user=" + t.user + " pass=" + t.pass + " token=" + t.token);
    RawClient c;
    std::string reply = Login(c, server->port(), t.user, t.pass, t.token);
    bool theirs = reply.find("PONG") != std::string::npos;
    auto id = auth.Authenticate({t.user, t.pass, t.token});
    EXPECT_EQ(id.has_value(), theirs) << reply;
    if (!theirs) {
      EXPECT_EQ(reply, "-ERR '" + std::string(kAuthorizationViolation) + "'\r\n");
      continue;
    }
    // Which permissions apply: try both subjects on both sides.
    PermissionChecker checker(id->permissions);
    for (const char* subject : {"dp.x", "bob.x"}) {
      bool theirs_pub = Round(c, std::string("PUB ") + subject + " 0\r\n\r\n").find("-ERR") == std::string::npos;
      EXPECT_EQ(checker.CanPublish(subject), theirs_pub) << subject;
    }
  }
}

TEST(NatsProbeTest, TokenAndTimeout) {
  if (!HaveNatsServer()) GTEST_SKIP() << "nats-server not installed";
  std::string text = "authorization {\n  token: \"s3cr3t\"\n  timeout: 0.5\n}\n";
  TempFile conf(text);
  auto server = StartNats(conf);
  ASSERT_TRUE(server);
  Authenticator auth(ParseConfigText(text));
  EXPECT_EQ(auth.timeout(), std::chrono::milliseconds(500));
  for (const auto& [user, token] : std::vector<std::pair<std::string, std::string>>{
           {"", "s3cr3t"}, {"x", "s3cr3t"}, {"", "wrong"}, {"", ""}}) {
    RawClient c;
    bool theirs = Login(c, server->port(), user, "", token).find("PONG") != std::string::npos;
    EXPECT_EQ(auth.Authenticate({user, "", token}).has_value(), theirs) << user << "/" << token;
  }
  RawClient silent;
  ASSERT_TRUE(silent.Connect(server->port()));
  silent.ReadLine();
  EXPECT_EQ(silent.ReadUntilClosed(std::chrono::seconds(5)),
            "-ERR '" + std::string(kAuthenticationTimeout) + "'\r\n");
}

}  // namespace
}  // namespace sluice::auth
