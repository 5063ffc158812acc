// Server limits and lifecycle: slow consumer, keepalive (stale connection),
// max_connections, max_subscriptions, graceful shutdown on SIGTERM.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "helpers.h"

namespace sluice::itc {
namespace {

using LimitsTest = ServerTest;

TEST_P(LimitsTest, SlowConsumerIsDisconnectedOthersKeepReceiving) {
  // A write blocked for write_deadline also marks a slow consumer; a short
  // one keeps the test quick whichever of the two limits the server hits first.
  ASSERT_NO_FATAL_FAILURE(Start("max_pending: 1MB\nwrite_deadline: \"1s\"\n"));
  constexpr int kPayload = 16 * 1024;
  constexpr int kBatch = 32;    // 512 KiB per batch: the healthy subscriber never lags 1 MiB behind
  constexpr int kBatches = 64;  // 32 MiB in all: far more than socket buffers plus max_pending
  constexpr int kTotal = kBatch * kBatches;

  Conn healthy_nc = Connect(url());
  Conn pub_nc = Connect(url());
  ASSERT_TRUE(healthy_nc && pub_nc);
  Sub healthy = SubscribeSync(healthy_nc.get(), "flood");
  ASSERT_NE(healthy, nullptr);
  ASSERT_EQ(natsConnection_FlushTimeout(healthy_nc.get(), kWaitMs), NATS_OK);

  RawClient slow;
  ASSERT_TRUE(RawHandshake(slow, port()));
  ASSERT_TRUE(slow.Send("SUB flood 1\r\nPING\r\n"));
  ASSERT_EQ(slow.ReadUntil("PONG\r\n"), "PONG\r\n");
  // From here on the slow subscriber reads nothing until the flood is over.

  ASSERT_EQ(natsConnection_PublishString(pub_nc.get(), "flood", "before"), NATS_OK);
  Msg first = NextMsg(healthy.get());
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(Data(first.get()), "before");

  std::string payload(kPayload, 'f');
  for (int b = 0; b < kBatches; ++b) {
    for (int i = 0; i < kBatch; ++i)
      ASSERT_EQ(natsConnection_Publish(pub_nc.get(), "flood", payload.data(), kPayload), NATS_OK);
    ASSERT_EQ(natsConnection_FlushTimeout(pub_nc.get(), kWaitMs), NATS_OK) << "batch " << b;
    for (int i = 0; i < kBatch; ++i) {
      Msg m = NextMsg(healthy.get());
      ASSERT_NE(m, nullptr) << "healthy subscriber missed message " << (b * kBatch + i) << " (connection status "
                            << natsConnection_Status(healthy_nc.get()) << ")";
      ASSERT_EQ(natsMsg_GetDataLength(m.get()), kPayload);
    }
  }

  // The slow subscriber was cut off: it finds the end of the stream before
  // it has seen everything that was published.
  std::string got = slow.ReadUntilClosed(std::chrono::seconds(20));
  EXPECT_TRUE(slow.closed_by_peer()) << "server kept the slow consumer open";
  std::vector<RawMsg> msgs;
  ParseRawMsgs(got, &msgs);
  EXPECT_LT(msgs.size(), static_cast<size_t>(kTotal + 1)) << "slow consumer received everything";
  EXPECT_EQ(got.find("-ERR"), std::string::npos) << "no -ERR is sent to a slow consumer";

  // The server keeps serving the healthy subscriber and new connections.
  for (int i = 0; i < 10; ++i) {
    std::string p = "after-" + std::to_string(i);
    ASSERT_EQ(natsConnection_PublishString(pub_nc.get(), "flood", p.c_str()), NATS_OK);
  }
  for (int i = 0; i < 10; ++i) {
    Msg m = NextMsg(healthy.get());
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(Data(m.get()), "after-" + std::to_string(i));
  }
  EXPECT_EQ(natsConnection_Status(healthy_nc.get()), NATS_CONN_STATUS_CONNECTED);
  Conn late = Connect(url());
  EXPECT_NE(late, nullptr);
}

void CountDisconnect(natsConnection*, void* closure) { static_cast<std::atomic<int>*>(closure)->fetch_add(1); }

TEST_P(LimitsTest, StaleConnectionIsClosedLiveClientStays) {
  ASSERT_NO_FATAL_FAILURE(Start("ping_interval: \"200ms\"\nping_max: 2\n"));
  std::atomic<int> disconnects{0};
  Opts opts = DefaultOptions(url());
  natsOptions_SetDisconnectedCB(opts.get(), CountDisconnect, &disconnects);
  Conn live = Connect(url(), opts.get());
  ASSERT_NE(live, nullptr);
  Sub sub = SubscribeSync(live.get(), "alive");
  ASSERT_NE(sub, nullptr);
  ASSERT_EQ(natsConnection_FlushTimeout(live.get(), kWaitMs), NATS_OK);

  RawClient mute;
  ASSERT_TRUE(RawHandshake(mute, port()));
  // Never answers the server's PINGs.
  std::string got = mute.ReadUntil("-ERR 'Stale Connection'\r\n", std::chrono::seconds(20));
  ASSERT_FALSE(got.empty()) << "no Stale Connection error";
  // ping_max unanswered PINGs, then the error on the next tick.
  EXPECT_EQ(got, "PING\r\nPING\r\n-ERR 'Stale Connection'\r\n");
  mute.ReadUntilClosed(std::chrono::seconds(10));
  EXPECT_TRUE(mute.closed_by_peer());

  // The nats.c client, connected for longer and answering PINGs, is still there.
  EXPECT_EQ(disconnects.load(), 0);
  EXPECT_EQ(natsConnection_Status(live.get()), NATS_CONN_STATUS_CONNECTED);
  ASSERT_EQ(natsConnection_PublishString(live.get(), "alive", "yes"), NATS_OK);
  Msg m = NextMsg(sub.get());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Data(m.get()), "yes");
}

TEST_P(LimitsTest, MaxConnectionsRefusesTheNextOne) {
  ASSERT_NO_FATAL_FAILURE(Start("max_connections: 5\n"));
  // The start-up probe's connection may still be counted for a moment:
  // retry a refused connection until a deadline.
  auto connect_retrying = [&]() -> Conn {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (true) {
      std::string error;
      Conn c = Connect(url(), nullptr, nullptr, &error);
      if (c || std::chrono::steady_clock::now() > deadline) return c;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  };
  std::vector<Conn> conns;
  for (int i = 0; i < 5; ++i) {
    conns.push_back(connect_retrying());
    ASSERT_NE(conns.back(), nullptr) << "connection " << i + 1 << " of 5 refused";
    ASSERT_EQ(natsConnection_FlushTimeout(conns.back().get(), kWaitMs), NATS_OK);
  }

  // A raw 6th connection: INFO, then the error, then close.
  RawClient sixth;
  ASSERT_TRUE(sixth.Connect(port()));
  std::string got = sixth.ReadUntilClosed(std::chrono::seconds(10));
  ASSERT_EQ(got.rfind("INFO ", 0), 0u) << got;
  size_t info_end = got.find("\r\n");
  ASSERT_NE(info_end, std::string::npos) << got;
  EXPECT_EQ(got.substr(info_end + 2), "-ERR 'maximum connections exceeded'\r\n") << got;
  EXPECT_TRUE(sixth.closed_by_peer());

  // nats.c's 6th connection fails. (nats.c 3.4 expects PONG after CONNECT
  // and reports the -ERR as a protocol error without its text, against
  // nats-server too, so only the failure is checked.)
  natsStatus status = NATS_OK;
  std::string error;
  Conn refused = Connect(url(), nullptr, &status, &error);
  EXPECT_EQ(refused, nullptr);
  EXPECT_NE(status, NATS_OK);

  // The five are unaffected.
  for (auto& c : conns) EXPECT_EQ(natsConnection_FlushTimeout(c.get(), kWaitMs), NATS_OK);

  // Once one leaves, a new connection gets in.
  conns.pop_back();
  Conn replacement = connect_retrying();
  EXPECT_NE(replacement, nullptr);
}

TEST_P(LimitsTest, MaxSubscriptionsRefusesTheNextSubKeepsConnection) {
  ASSERT_NO_FATAL_FAILURE(Start("max_subscriptions: 10\n"));
  RawClient rc;
  ASSERT_TRUE(RawHandshake(rc, port()));
  std::string subs;
  for (int i = 1; i <= 10; ++i) subs += "SUB lim." + std::to_string(i) + " " + std::to_string(i) + "\r\n";
  ASSERT_TRUE(rc.Send(subs + "PING\r\n"));
  EXPECT_EQ(rc.ReadUntil("PONG\r\n"), "PONG\r\n") << "the first 10 subscriptions must be accepted";

  ASSERT_TRUE(rc.Send("SUB lim.11 11\r\nPING\r\n"));
  std::string got = rc.ReadUntil("PONG\r\n");
  EXPECT_EQ(got, "-ERR 'maximum subscriptions exceeded'\r\nPONG\r\n");

  // The connection stays open and its subscriptions work; the refused one does not.
  ASSERT_TRUE(rc.Send("PUB lim.3 2\r\nhi\r\nPUB lim.11 2\r\nno\r\nPING\r\n"));
  got = rc.ReadUntil("PONG\r\n");
  EXPECT_EQ(got, "MSG lim.3 3 2\r\nhi\r\nPONG\r\n");

  // Freeing a slot admits a new subscription.
  ASSERT_TRUE(rc.Send("UNSUB 1\r\nSUB lim.12 12\r\nPUB lim.12 3\r\nyes\r\nPING\r\n"));
  got = rc.ReadUntil("PONG\r\n");
  EXPECT_EQ(got, "MSG lim.12 12 3\r\nyes\r\nPONG\r\n");
  EXPECT_FALSE(rc.closed_by_peer());

  // nats.c: ten subscriptions on one connection all receive.
  Conn nc = Connect(url());
  ASSERT_NE(nc, nullptr);
  std::vector<Sub> nsubs;
  for (int i = 0; i < 10; ++i) {
    nsubs.push_back(SubscribeSync(nc.get(), "c.lim." + std::to_string(i)));
    ASSERT_NE(nsubs.back(), nullptr);
  }
  for (int i = 0; i < 10; ++i) {
    std::string s = "c.lim." + std::to_string(i);
    ASSERT_EQ(natsConnection_PublishString(nc.get(), s.c_str(), "v"), NATS_OK);
  }
  for (auto& s : nsubs) EXPECT_NE(NextMsg(s.get()), nullptr);
  EXPECT_EQ(natsConnection_Status(nc.get()), NATS_CONN_STATUS_CONNECTED);
}

TEST_P(LimitsTest, GracefulShutdownDeliversAcceptedMessages) {
  ASSERT_NO_FATAL_FAILURE(Start());
  constexpr int kMessages = 2000;
  constexpr int kPayload = 8192;  // 16 MiB in all: well above socket buffers

  // nats.c subscriber. Reconnect stays on so that the messages it already
  // received stay readable after the server is gone.
  Opts opts = DefaultOptions(url());
  natsOptions_SetAllowReconnect(opts.get(), true);
  natsOptions_SetMaxReconnect(opts.get(), 1000000);
  natsOptions_SetReconnectWait(opts.get(), 200);
  Conn sub_nc = Connect(url(), opts.get());
  ASSERT_NE(sub_nc, nullptr);
  Sub sub = SubscribeSync(sub_nc.get(), "shutdown.test");
  ASSERT_NE(sub, nullptr);
  ASSERT_EQ(natsConnection_FlushTimeout(sub_nc.get(), kWaitMs), NATS_OK);

  // A raw subscriber that reads nothing until the server was told to stop:
  // the server still holds most of its messages when SIGTERM arrives.
  RawClient raw;
  ASSERT_TRUE(RawHandshake(raw, port()));
  ASSERT_TRUE(raw.Send("SUB shutdown.test 1\r\nPING\r\n"));
  ASSERT_EQ(raw.ReadUntil("PONG\r\n"), "PONG\r\n");

  Conn pub_nc = Connect(url());
  ASSERT_NE(pub_nc, nullptr);
  for (int i = 0; i < kMessages; ++i) {
    std::string payload = std::to_string(i);
    payload.resize(kPayload, '.');
    ASSERT_EQ(natsConnection_Publish(pub_nc.get(), "shutdown.test", payload.data(), kPayload), NATS_OK);
  }
  // Accepted: the server answered the PING sent after the last PUB.
  ASSERT_EQ(natsConnection_FlushTimeout(pub_nc.get(), kWaitMs), NATS_OK);

  ServerProcess* server = server_.get();
  auto stopped = std::async(std::launch::async, [server] { return server->Stop(SIGTERM, 30000); });

  std::string got = raw.ReadUntilClosed(std::chrono::seconds(30));
  EXPECT_TRUE(raw.closed_by_peer());
  std::vector<RawMsg> msgs;
  ParseRawMsgs(got, &msgs);
  EXPECT_EQ(msgs.size(), static_cast<size_t>(kMessages)) << "raw subscriber lost messages at shutdown";
  for (size_t i = 0; i < msgs.size(); ++i) {
    ASSERT_EQ(msgs[i].payload.substr(0, msgs[i].payload.find('.')), std::to_string(i));
  }

  for (int i = 0; i < kMessages; ++i) {
    Msg m = NextMsg(sub.get());
    ASSERT_NE(m, nullptr) << "nats.c subscriber lost message " << i << " at shutdown";
    std::string data = Data(m.get());
    ASSERT_EQ(data.substr(0, data.find('.')), std::to_string(i));
  }

  int status = stopped.get();
  EXPECT_FALSE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "server did not exit on SIGTERM";
}

}  // namespace

SLUICE_ITC_INSTANTIATE(LimitsTest);

}  // namespace sluice::itc
