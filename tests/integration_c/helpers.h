// Shared helpers for the nats.c integration suite: RAII wrappers around the
// nats.c handles, a fixture parameterised over the server kind, config files
// and a small parser for what a raw subscriber reads.
#pragma once

#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "raw_client.h"
#include "server_process.h"

namespace sluice::testing {
// Readable test parameters in gtest and ctest output.
inline void PrintTo(ServerKind kind, std::ostream* os) { *os << ServerKindName(kind); }
}  // namespace sluice::testing

namespace sluice::itc {

using testing::RawClient;
using testing::ServerKind;
using testing::ServerProcess;

struct ConnDeleter {
  void operator()(natsConnection* nc) const { natsConnection_Destroy(nc); }
};
struct SubDeleter {
  void operator()(natsSubscription* sub) const { natsSubscription_Destroy(sub); }
};
struct MsgDeleter {
  void operator()(natsMsg* msg) const { natsMsg_Destroy(msg); }
};
struct OptsDeleter {
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
};
using Conn = std::unique_ptr<natsConnection, ConnDeleter>;
using Sub = std::unique_ptr<natsSubscription, SubDeleter>;
using Msg = std::unique_ptr<natsMsg, MsgDeleter>;
using Opts = std::unique_ptr<natsOptions, OptsDeleter>;

// Generous deadlines: waiting for an event, never asserting speed.
inline constexpr int64_t kWaitMs = 10000;

// Options for a test connection: no reconnect (a disconnect closes the
// connection, so the tests see it), a generous connect timeout.
Opts DefaultOptions(const std::string& url);

// Connects with `opts` (or DefaultOptions(url) when null). On failure returns
// null and stores the status and nats.c's error text.
Conn Connect(const std::string& url, natsOptions* opts = nullptr, natsStatus* status = nullptr,
             std::string* error = nullptr);

// Synchronous subscription; null on failure.
Sub SubscribeSync(natsConnection* nc, const std::string& subject);
Sub QueueSubscribeSync(natsConnection* nc, const std::string& subject, const std::string& queue);

// Next message or null (NATS_TIMEOUT or error) within timeout_ms.
Msg NextMsg(natsSubscription* sub, int64_t timeout_ms = kWaitMs);

// Number of messages the client has queued for a subscription (received,
// not yet taken).
int Queued(natsSubscription* sub);

std::string Data(natsMsg* msg);
std::string Subject(natsMsg* msg);
std::string Reply(natsMsg* msg);

// A temp directory holding one config file; removed on destruction.
class ConfigFile {
 public:
  explicit ConfigFile(const std::string& contents);
  ~ConfigFile();
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

// One MSG frame read by a raw client.
struct RawMsg {
  std::string subject;
  std::string sid;
  std::string reply;
  std::string payload;
};

// Parses whole MSG frames (and skips PING/PONG/+OK lines) from the front of
// `data`; stops at the first incomplete frame or at an unexpected line.
// Returns the number of bytes consumed.
size_t ParseRawMsgs(std::string_view data, std::vector<RawMsg>* out);

// Connects a raw client, completes CONNECT/PING/PONG. Returns false on failure.
bool RawHandshake(RawClient& rc, int port, std::string* info_line = nullptr);

// The suite's fixture: one server of the parameter's kind per test.
class ServerTest : public ::testing::TestWithParam<ServerKind> {
 protected:
  // Starts the server (optionally with a config file). Fails the test (fatal)
  // if it does not come up; use ASSERT_NO_FATAL_FAILURE(Start(...)).
  void Start(const std::string& config = "");
  std::string url() const { return server_->url(); }
  int port() const { return server_->port(); }
  bool IsSluice() const { return GetParam() == ServerKind::kSluice; }

  std::unique_ptr<ConfigFile> config_;
  std::unique_ptr<ServerProcess> server_;
};

// JetStream suites' fixture: a server of the parameter's kind with `-js` on
// its own temp store dir (removed afterwards), one connection and its
// JetStream context, all set up before each test.
class JetStreamFixture : public ::testing::TestWithParam<ServerKind> {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::string store_dir_;
  std::unique_ptr<ServerProcess> server_;
  Conn nc_;
  jsCtx* js_ = nullptr;
};

std::string KindName(const ::testing::TestParamInfo<ServerKind>& info);

#define SLUICE_ITC_INSTANTIATE(Fixture)                                                            \
  INSTANTIATE_TEST_SUITE_P(Servers, Fixture,                                                      \
                           ::testing::Values(::sluice::itc::ServerKind::kNatsServer,             \
                                             ::sluice::itc::ServerKind::kSluice),                 \
                           ::sluice::itc::KindName)

}  // namespace sluice::itc
