// Authentication and permissions through nats.c: user/password
// (natsOptions_SetUserInfo, plain and bcrypt), token (natsOptions_SetToken),
// refused credentials, and a publish permission violation reported through
// the async error handler while the connection stays usable.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "helpers.h"

namespace sluice::itc {
namespace {

using AuthTest = ServerTest;

// bcrypt of "s3cret" (cost 11), as `nats server passwd` prints it.
constexpr const char* kBcryptS3cret = "$2a$11$mGC8.lbjq1KbzlnfHBVGL..bxHPqX7Ut.VSdrDDDBCprdQ0bIG1wy";

// Records what nats.c's async error handler reports.
class ErrorLog {
 public:
  static void Handler(natsConnection* nc, natsSubscription*, natsStatus s, void* closure) {
    auto* self = static_cast<ErrorLog*>(closure);
    const char* text = nullptr;
    natsConnection_GetLastError(nc, &text);
    std::lock_guard lock(self->mu_);
    self->events_.emplace_back(s, text ? text : "");
    self->cv_.notify_all();
  }

  void Install(natsOptions* opts) { natsOptions_SetErrorHandler(opts, &ErrorLog::Handler, this); }

  // Waits for the event number `index` (0-based); false on timeout.
  bool WaitFor(size_t index, std::pair<natsStatus, std::string>* out) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::milliseconds(kWaitMs), [&] { return events_.size() > index; })) return false;
    *out = events_[index];
    return true;
  }

  size_t Count() {
    std::lock_guard lock(mu_);
    return events_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<natsStatus, std::string>> events_;
};

Opts UserOptions(const std::string& url, const char* user, const char* password) {
  Opts o = DefaultOptions(url);
  natsOptions_SetUserInfo(o.get(), user, password);
  return o;
}

// Connecting with `opts` must fail with nats.c's authentication error
// (NATS_CONNECTION_AUTH_FAILED, the text carrying the server's -ERR).
void ExpectRefused(const std::string& url, natsOptions* opts, const std::string& what) {
  natsStatus status = NATS_OK;
  std::string error;
  Conn nc = Connect(url, opts, &status, &error);
  EXPECT_EQ(nc, nullptr) << what << ": connected";
  EXPECT_EQ(status, NATS_CONNECTION_AUTH_FAILED) << what << ": status " << natsStatus_GetText(status) << " (" << error << ")";
  EXPECT_NE(error.find("Authorization Violation"), std::string::npos) << what << ": error text " << error;
}

// A message published on nc comes back through its own subscription.
void ExpectRoundTrip(natsConnection* nc, const std::string& subject) {
  Sub sub = SubscribeSync(nc, subject);
  ASSERT_NE(sub, nullptr);
  ASSERT_EQ(natsConnection_PublishString(nc, subject.c_str(), "rt"), NATS_OK);
  Msg m = NextMsg(sub.get());
  ASSERT_NE(m, nullptr) << "no round trip on " << subject;
  EXPECT_EQ(Data(m.get()), "rt");
  EXPECT_EQ(natsConnection_Status(nc), NATS_CONN_STATUS_CONNECTED);
}

TEST_P(AuthTest, UserPassword) {
  ASSERT_NO_FATAL_FAILURE(Start("authorization {\n  user: alice\n  password: \"pa55 word\"\n}\n"));
  Opts good = UserOptions(url(), "alice", "pa55 word");
  Conn nc = Connect(url(), good.get());
  ASSERT_NE(nc, nullptr) << nats_GetLastError(nullptr);
  ExpectRoundTrip(nc.get(), "up.rt");

  Opts wrong = UserOptions(url(), "alice", "nope");
  ExpectRefused(url(), wrong.get(), "wrong password");
  Opts other = UserOptions(url(), "bob", "pa55 word");
  ExpectRefused(url(), other.get(), "wrong user");
  Opts none = DefaultOptions(url());
  ExpectRefused(url(), none.get(), "no credentials");
  ExpectRoundTrip(nc.get(), "up.rt2");
}

TEST_P(AuthTest, BcryptUsersList) {
  ASSERT_NO_FATAL_FAILURE(Start(std::string("authorization {\n  users = [\n    {user: alice, password: \"") +
                                kBcryptS3cret + "\"}\n    {user: bob, password: bob-pw}\n  ]\n}\n"));
  Opts a = UserOptions(url(), "alice", "s3cret");
  Conn nc = Connect(url(), a.get());
  ASSERT_NE(nc, nullptr) << nats_GetLastError(nullptr);
  ExpectRoundTrip(nc.get(), "bc.rt");
  Opts b = UserOptions(url(), "bob", "bob-pw");
  Conn nb = Connect(url(), b.get());
  ASSERT_NE(nb, nullptr) << nats_GetLastError(nullptr);

  Opts wrong = UserOptions(url(), "alice", "bob-pw");
  ExpectRefused(url(), wrong.get(), "alice with bob's password");
  Opts hash = UserOptions(url(), "alice", kBcryptS3cret);
  ExpectRefused(url(), hash.get(), "the hash as password");
}

TEST_P(AuthTest, Token) {
  ASSERT_NO_FATAL_FAILURE(Start("authorization {\n  token: \"s3cr3t-t0ken\"\n}\n"));
  Opts good = DefaultOptions(url());
  natsOptions_SetToken(good.get(), "s3cr3t-t0ken");
  Conn nc = Connect(url(), good.get());
  ASSERT_NE(nc, nullptr) << nats_GetLastError(nullptr);
  ExpectRoundTrip(nc.get(), "tok.rt");

  Opts wrong = DefaultOptions(url());
  natsOptions_SetToken(wrong.get(), "s3cr3t");
  ExpectRefused(url(), wrong.get(), "wrong token");
  Opts none = DefaultOptions(url());
  ExpectRefused(url(), none.get(), "no token");
}

TEST_P(AuthTest, PublishViolationReportedAndConnectionStaysUsable) {
  ASSERT_NO_FATAL_FAILURE(Start(
      "authorization {\n"
      "  users = [\n"
      "    {user: admin, password: admin-pw}\n"
      "    {user: app, password: app-pw, permissions: {\n"
      "      publish: { allow: [\"orders.>\"], deny: [\"orders.secret\"] }\n"
      "      subscribe: [\"orders.>\", \"_INBOX.>\"]\n"
      "    }}\n"
      "  ]\n"
      "}\n"));
  Opts ao = UserOptions(url(), "admin", "admin-pw");
  Conn admin = Connect(url(), ao.get());
  ASSERT_NE(admin, nullptr) << nats_GetLastError(nullptr);
  Sub watch = SubscribeSync(admin.get(), ">");
  ASSERT_NE(watch, nullptr);
  ASSERT_EQ(natsConnection_FlushTimeout(admin.get(), kWaitMs), NATS_OK);

  ErrorLog errors;
  Opts po = UserOptions(url(), "app", "app-pw");
  errors.Install(po.get());
  Conn app = Connect(url(), po.get());
  ASSERT_NE(app, nullptr) << nats_GetLastError(nullptr);

  ASSERT_EQ(natsConnection_PublishString(app.get(), "orders.secret", "no"), NATS_OK);
  std::pair<natsStatus, std::string> ev;
  ASSERT_TRUE(errors.WaitFor(0, &ev)) << "no async error for the denied publish";
  EXPECT_EQ(ev.first, NATS_NOT_PERMITTED) << natsStatus_GetText(ev.first);
  EXPECT_EQ(ev.second, "Permissions Violation for Publish to \"orders.secret\"");

  ASSERT_EQ(natsConnection_PublishString(app.get(), "billing.x", "no"), NATS_OK);
  ASSERT_TRUE(errors.WaitFor(1, &ev)) << "no async error for a subject outside the allow list";
  EXPECT_EQ(ev.first, NATS_NOT_PERMITTED);
  EXPECT_EQ(ev.second, "Permissions Violation for Publish to \"billing.x\"");

  // The connection is still usable: allowed publishes arrive, nothing refused did.
  EXPECT_EQ(natsConnection_Status(app.get()), NATS_CONN_STATUS_CONNECTED);
  ASSERT_EQ(natsConnection_PublishString(app.get(), "orders.ok", "yes"), NATS_OK);
  ASSERT_EQ(natsConnection_FlushTimeout(app.get(), kWaitMs), NATS_OK);
  Msg m = NextMsg(watch.get());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Subject(m.get()), "orders.ok");
  ASSERT_EQ(natsConnection_FlushTimeout(admin.get(), kWaitMs), NATS_OK);
  EXPECT_EQ(Queued(watch.get()), 0);
  ExpectRoundTrip(app.get(), "orders.rt");
  EXPECT_EQ(errors.Count(), 2u);
}

TEST_P(AuthTest, SubscribeViolationReported) {
  ASSERT_NO_FATAL_FAILURE(Start(
      "authorization {\n"
      "  users = [\n"
      "    {user: app, password: app-pw, permissions: { subscribe: { allow: [\"orders.*\"], deny: [\"orders.private\"] } }}\n"
      "  ]\n"
      "}\n"));
  ErrorLog errors;
  Opts po = UserOptions(url(), "app", "app-pw");
  errors.Install(po.get());
  Conn app = Connect(url(), po.get());
  ASSERT_NE(app, nullptr) << nats_GetLastError(nullptr);
  Sub denied = SubscribeSync(app.get(), "orders.private");
  ASSERT_NE(denied, nullptr);
  std::pair<natsStatus, std::string> ev;
  ASSERT_TRUE(errors.WaitFor(0, &ev)) << "no async error for the denied subscription";
  EXPECT_EQ(ev.first, NATS_NOT_PERMITTED);
  EXPECT_EQ(ev.second, "Permissions Violation for Subscription to \"orders.private\"");
  EXPECT_EQ(natsConnection_Status(app.get()), NATS_CONN_STATUS_CONNECTED);
  ExpectRoundTrip(app.get(), "orders.rt");
}

SLUICE_ITC_INSTANTIATE(AuthTest);

}  // namespace
}  // namespace sluice::itc
