// Scale: 10,000 subscriptions on one connection; 1,000 concurrent
// connections, each subscribed and each receiving.
#include <string>
#include <vector>

#include "helpers.h"

namespace sluice::itc {
namespace {

using ScaleTest = ServerTest;

TEST_P(ScaleTest, TenThousandSubscriptionsOnOneConnection) {
  ASSERT_NO_FATAL_FAILURE(Start());
  constexpr int kSubs = 10000;
  Conn sub_nc = Connect(url());
  Conn pub_nc = Connect(url());
  ASSERT_TRUE(sub_nc && pub_nc);
  std::vector<Sub> subs;
  subs.reserve(kSubs);
  for (int i = 0; i < kSubs; ++i) {
    subs.push_back(SubscribeSync(sub_nc.get(), "many." + std::to_string(i)));
    ASSERT_NE(subs.back(), nullptr) << i;
  }
  Sub all = SubscribeSync(sub_nc.get(), "many.*");
  ASSERT_NE(all, nullptr);
  ASSERT_EQ(natsConnection_FlushTimeout(sub_nc.get(), kWaitMs), NATS_OK);

  for (int i = 0; i < kSubs; ++i) {
    std::string subject = "many." + std::to_string(i);
    ASSERT_EQ(natsConnection_PublishString(pub_nc.get(), subject.c_str(), subject.c_str()), NATS_OK);
  }
  ASSERT_EQ(natsConnection_FlushTimeout(pub_nc.get(), kWaitMs), NATS_OK);
  ASSERT_EQ(natsConnection_FlushTimeout(sub_nc.get(), kWaitMs), NATS_OK);

  int missing = 0;
  for (int i = 0; i < kSubs; ++i) {
    if (Queued(subs[i].get()) != 1) {
      if (++missing <= 5) ADD_FAILURE() << "subscription many." << i << " has " << Queued(subs[i].get()) << " messages";
      continue;
    }
    Msg m = NextMsg(subs[i].get(), 0);
    ASSERT_NE(m, nullptr);
    ASSERT_EQ(Data(m.get()), "many." + std::to_string(i));
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(Queued(all.get()), kSubs);
  EXPECT_EQ(natsConnection_Status(sub_nc.get()), NATS_CONN_STATUS_CONNECTED);
}

TEST_P(ScaleTest, ThousandConcurrentConnectionsEachReceive) {
  ASSERT_NO_FATAL_FAILURE(Start());
  constexpr int kConns = 1000;
  std::vector<Conn> conns;
  std::vector<Sub> own_subs, shared_subs;
  conns.reserve(kConns);
  for (int i = 0; i < kConns; ++i) {
    natsStatus status = NATS_OK;
    std::string error;
    conns.push_back(Connect(url(), nullptr, &status, &error));
    ASSERT_NE(conns.back(), nullptr) << "connection " << i << ": " << natsStatus_GetText(status) << " " << error;
    own_subs.push_back(SubscribeSync(conns.back().get(), "fan.one." + std::to_string(i)));
    shared_subs.push_back(SubscribeSync(conns.back().get(), "fan.all"));
    ASSERT_TRUE(own_subs.back() && shared_subs.back()) << i;
  }
  // All subscriptions registered.
  for (auto& c : conns) ASSERT_EQ(natsConnection_FlushTimeout(c.get(), kWaitMs), NATS_OK);

  Conn pub_nc = Connect(url());
  ASSERT_NE(pub_nc, nullptr);
  ASSERT_EQ(natsConnection_PublishString(pub_nc.get(), "fan.all", "to everyone"), NATS_OK);
  for (int i = 0; i < kConns; ++i) {
    std::string subject = "fan.one." + std::to_string(i);
    ASSERT_EQ(natsConnection_PublishString(pub_nc.get(), subject.c_str(), subject.c_str()), NATS_OK);
  }
  ASSERT_EQ(natsConnection_FlushTimeout(pub_nc.get(), kWaitMs), NATS_OK);

  for (int i = 0; i < kConns; ++i) {
    Msg shared = NextMsg(shared_subs[i].get());
    ASSERT_NE(shared, nullptr) << "connection " << i << " missed fan.all";
    EXPECT_EQ(Data(shared.get()), "to everyone");
    Msg own = NextMsg(own_subs[i].get());
    ASSERT_NE(own, nullptr) << "connection " << i << " missed its own message";
    EXPECT_EQ(Data(own.get()), "fan.one." + std::to_string(i));
  }
  // Exactly one of each: nothing extra is queued once every connection flushed.
  for (int i = 0; i < kConns; ++i) {
    ASSERT_EQ(natsConnection_FlushTimeout(conns[i].get(), kWaitMs), NATS_OK);
    ASSERT_EQ(Queued(shared_subs[i].get()), 0) << i;
    ASSERT_EQ(Queued(own_subs[i].get()), 0) << i;
  }
}

}  // namespace

SLUICE_ITC_INSTANTIATE(ScaleTest);

}  // namespace sluice::itc
