// Core messaging through nats.c: INFO, publish/subscribe, wildcards, queue
// groups, request/reply, no-responders, headers, auto-unsubscribe, echo,
// ordering.
//
// Synchronisation used throughout: after the publisher's natsConnection_Flush
// returns, the server has processed its PUBs and queued the resulting MSGs on
// the subscribers' connections; a natsConnection_Flush on a subscriber's
// connection afterwards returns only once the PONG (written after those MSGs)
// was read, so every such message is then in the client's subscription queue.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "helpers.h"

namespace sluice::itc {
namespace {

using PubSubTest = ServerTest;

// Flushes the publisher, then every subscriber connection (see file comment).
void Settle(natsConnection* pub, std::initializer_list<natsConnection*> subs) {
  ASSERT_EQ(natsConnection_FlushTimeout(pub, kWaitMs), NATS_OK);
  for (natsConnection* nc : subs) ASSERT_EQ(natsConnection_FlushTimeout(nc, kWaitMs), NATS_OK);
}

// Takes every message queued on `sub` right now and returns their subjects.
std::vector<std::string> DrainSubjects(natsSubscription* sub) {
  std::vector<std::string> out;
  int n = Queued(sub);
  for (int i = 0; i < n; ++i) {
    Msg m = NextMsg(sub, 0);
    if (!m) break;
    out.push_back(Subject(m.get()));
  }
  return out;
}

TEST_P(PubSubTest, ConnectsAndReportsServerInfo) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Conn nc = Connect(url());
  ASSERT_NE(nc, nullptr) << nats_GetLastError(nullptr);
  EXPECT_EQ(natsConnection_Status(nc.get()), NATS_CONN_STATUS_CONNECTED);

  char server_id[256] = {0};
  ASSERT_EQ(natsConnection_GetConnectedServerId(nc.get(), server_id, sizeof(server_id)), NATS_OK);
  EXPECT_GT(std::string(server_id).size(), 0u);

  uint64_t cid = 0;
  ASSERT_EQ(natsConnection_GetClientID(nc.get(), &cid), NATS_OK);
  EXPECT_GT(cid, 0u);
  EXPECT_EQ(natsConnection_HasHeaderSupport(nc.get()), NATS_OK);
  EXPECT_EQ(natsConnection_GetMaxPayload(nc.get()), 1048576);

  char connected_url[256] = {0};
  ASSERT_EQ(natsConnection_GetConnectedUrl(nc.get(), connected_url, sizeof(connected_url)), NATS_OK);
  const std::string port_suffix = std::string(":") + std::to_string(port());
  EXPECT_TRUE(std::string_view(connected_url).ends_with(port_suffix)) << connected_url;

  char* client_ip = nullptr;
  ASSERT_EQ(natsConnection_GetClientIP(nc.get(), &client_ip), NATS_OK);
  EXPECT_STREQ(client_ip, "127.0.0.1");
  free(client_ip);

  // nats.c has no accessor for the server version: read the same INFO raw.
  RawClient rc;
  ASSERT_TRUE(rc.Connect(port()));
  std::string line = rc.ReadLine();
  ASSERT_EQ(line.rfind("INFO ", 0), 0u) << line;
  auto info = nlohmann::json::parse(line.substr(5, line.size() - 7), nullptr, false);
  ASSERT_FALSE(info.is_discarded()) << line;
  ASSERT_TRUE(info.contains("version") && info["version"].is_string()) << line;
  std::string version = info["version"];
  EXPECT_TRUE(std::regex_match(version, std::regex(R"(\d+\.\d+\.\d+.*)"))) << version;
  if (IsSluice()) {
    EXPECT_EQ(version, "2.11.0");
  }
  EXPECT_EQ(info.value("server_id", ""), std::string(server_id));
  EXPECT_EQ(info.value("proto", 0), 1);
  EXPECT_EQ(info.value("headers", false), true);
  EXPECT_EQ(info.value("max_payload", 0), 1048576);
  // Each connection gets its own client id.
  EXPECT_NE(info.value("client_id", uint64_t{0}), cid);
}

TEST_P(PubSubTest, PublishSubscribe) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Conn sub_nc = Connect(url());
  Conn pub_nc = Connect(url());
  ASSERT_TRUE(sub_nc && pub_nc);
  Sub sub = SubscribeSync(sub_nc.get(), "greet.hello");
  ASSERT_NE(sub, nullptr);
  ASSERT_EQ(natsConnection_FlushTimeout(sub_nc.get(), kWaitMs), NATS_OK);

  ASSERT_EQ(natsConnection_PublishString(pub_nc.get(), "greet.hello", "hello world"), NATS_OK);
  ASSERT_EQ(natsConnection_PublishRequestString(pub_nc.get(), "greet.hello", "reply.to.me", "with reply"), NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(pub_nc.get(), "greet.other", "not for us"), NATS_OK);

  Msg m1 = NextMsg(sub.get());
  ASSERT_NE(m1, nullptr);
  EXPECT_EQ(Subject(m1.get()), "greet.hello");
  EXPECT_EQ(Data(m1.get()), "hello world");
  EXPECT_EQ(Reply(m1.get()), "");
  Msg m2 = NextMsg(sub.get());
  ASSERT_NE(m2, nullptr);
  EXPECT_EQ(Data(m2.get()), "with reply");
  EXPECT_EQ(Reply(m2.get()), "reply.to.me");

  ASSERT_NO_FATAL_FAILURE(Settle(pub_nc.get(), {sub_nc.get()}));
  EXPECT_EQ(Queued(sub.get()), 0) << "a message on greet.other reached greet.hello";

  // After unsubscribing nothing more arrives.
  ASSERT_EQ(natsSubscription_Unsubscribe(sub.get()), NATS_OK);
  Sub probe = SubscribeSync(sub_nc.get(), "greet.>");
  ASSERT_NE(probe, nullptr);
  ASSERT_EQ(natsConnection_FlushTimeout(sub_nc.get(), kWaitMs), NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(pub_nc.get(), "greet.hello", "after unsub"), NATS_OK);
  ASSERT_NO_FATAL_FAILURE(Settle(pub_nc.get(), {sub_nc.get()}));
  natsStatistics* stats = nullptr;
  ASSERT_EQ(natsStatistics_Create(&stats), NATS_OK);
  ASSERT_EQ(natsConnection_GetStats(sub_nc.get(), stats), NATS_OK);
  uint64_t in_msgs = 0;
  natsStatistics_GetCounts(stats, &in_msgs, nullptr, nullptr, nullptr, nullptr);
  natsStatistics_Destroy(stats);
  // Two to `sub`, one to `probe`: the unsubscribed sid got nothing.
  EXPECT_EQ(in_msgs, 3u);
  EXPECT_EQ(Queued(probe.get()), 1);
}

TEST_P(PubSubTest, Wildcards) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Conn sub_nc = Connect(url());
  Conn pub_nc = Connect(url());
  ASSERT_TRUE(sub_nc && pub_nc);
  std::map<std::string, Sub> subs;
  for (const char* s : {"foo.*", "foo.>", ">", "*.bar", "foo.*.baz", "*", "foo.bar"}) {
    subs[s] = SubscribeSync(sub_nc.get(), s);
    ASSERT_NE(subs[s], nullptr) << s;
  }
  ASSERT_EQ(natsConnection_FlushTimeout(sub_nc.get(), kWaitMs), NATS_OK);

  const std::vector<std::string> published = {"foo", "foo.bar", "foo.bar.baz", "x.bar", "foo.x.baz", "bar.foo",
                                              "foo.bar.baz.qux"};
  for (const auto& subj : published) ASSERT_EQ(natsConnection_PublishString(pub_nc.get(), subj.c_str(), "x"), NATS_OK);
  ASSERT_NO_FATAL_FAILURE(Settle(pub_nc.get(), {sub_nc.get()}));

  const std::map<std::string, std::vector<std::string>> expected = {
      {"foo.*", {"foo.bar"}},
      {"foo.>", {"foo.bar", "foo.bar.baz", "foo.x.baz", "foo.bar.baz.qux"}},
      {">", published},
      {"*.bar", {"foo.bar", "x.bar"}},
      {"foo.*.baz", {"foo.bar.baz", "foo.x.baz"}},
      {"*", {"foo"}},
      {"foo.bar", {"foo.bar"}},
  };
  for (const auto& [filter, want] : expected) {
    EXPECT_EQ(DrainSubjects(subs[filter].get()), want) << "subscription " << filter;
  }
}

TEST_P(PubSubTest, QueueGroupDeliversEachMessageToExactlyOneMember) {
  ASSERT_NO_FATAL_FAILURE(Start());
  constexpr int kMembers = 4;
  constexpr int kMessages = 2000;
  std::vector<Conn> conns;
  std::vector<Sub> members;
  for (int i = 0; i < kMembers; ++i) {
    conns.push_back(Connect(url()));
    ASSERT_NE(conns.back(), nullptr);
    members.push_back(QueueSubscribeSync(conns.back().get(), "jobs.work", "workers"));
    ASSERT_NE(members.back(), nullptr);
    ASSERT_EQ(natsConnection_FlushTimeout(conns.back().get(), kWaitMs), NATS_OK);
  }
  Conn pub_nc = Connect(url());
  ASSERT_NE(pub_nc, nullptr);
  for (int i = 0; i < kMessages; ++i) {
    std::string payload = std::to_string(i);
    ASSERT_EQ(natsConnection_PublishString(pub_nc.get(), "jobs.work", payload.c_str()), NATS_OK);
  }
  ASSERT_EQ(natsConnection_FlushTimeout(pub_nc.get(), kWaitMs), NATS_OK);
  for (auto& c : conns) ASSERT_EQ(natsConnection_FlushTimeout(c.get(), kWaitMs), NATS_OK);

  std::vector<int> times_seen(kMessages, 0);
  int total = 0;
  for (int m = 0; m < kMembers; ++m) {
    int n = Queued(members[m].get());
    EXPECT_GT(n, 0) << "member " << m << " received nothing out of " << kMessages;
    for (int i = 0; i < n; ++i) {
      Msg msg = NextMsg(members[m].get(), 0);
      ASSERT_NE(msg, nullptr);
      int idx = std::stoi(Data(msg.get()));
      ASSERT_TRUE(idx >= 0 && idx < kMessages);
      ++times_seen[idx];
      ++total;
    }
  }
  EXPECT_EQ(total, kMessages);
  for (int i = 0; i < kMessages; ++i) ASSERT_EQ(times_seen[i], 1) << "message " << i;
}

TEST_P(PubSubTest, PlainAndQueueSubscribersTogether) {
  ASSERT_NO_FATAL_FAILURE(Start());
  constexpr int kMessages = 300;
  Conn sub_nc = Connect(url());
  Conn pub_nc = Connect(url());
  ASSERT_TRUE(sub_nc && pub_nc);
  Sub plain1 = SubscribeSync(sub_nc.get(), "orders.new");
  Sub plain2 = SubscribeSync(sub_nc.get(), "orders.*");
  std::vector<Sub> group_a, group_b;
  for (int i = 0; i < 3; ++i) group_a.push_back(QueueSubscribeSync(sub_nc.get(), "orders.new", "a"));
  for (int i = 0; i < 2; ++i) group_b.push_back(QueueSubscribeSync(sub_nc.get(), "orders.>", "b"));
  ASSERT_TRUE(plain1 && plain2);
  for (auto& s : group_a) ASSERT_NE(s, nullptr);
  for (auto& s : group_b) ASSERT_NE(s, nullptr);
  ASSERT_EQ(natsConnection_FlushTimeout(sub_nc.get(), kWaitMs), NATS_OK);

  for (int i = 0; i < kMessages; ++i) {
    std::string payload = std::to_string(i);
    ASSERT_EQ(natsConnection_PublishString(pub_nc.get(), "orders.new", payload.c_str()), NATS_OK);
  }
  ASSERT_NO_FATAL_FAILURE(Settle(pub_nc.get(), {sub_nc.get()}));

  // Every plain subscription sees every message, in order.
  for (natsSubscription* plain : {plain1.get(), plain2.get()}) {
    ASSERT_EQ(Queued(plain), kMessages);
    for (int i = 0; i < kMessages; ++i) {
      Msg m = NextMsg(plain, 0);
      ASSERT_NE(m, nullptr);
      ASSERT_EQ(Data(m.get()), std::to_string(i));
    }
  }
  // Each group as a whole sees every message exactly once.
  for (auto* group : {&group_a, &group_b}) {
    std::multiset<std::string> seen;
    for (auto& member : *group) {
      int n = Queued(member.get());
      for (int i = 0; i < n; ++i) {
        Msg m = NextMsg(member.get(), 0);
        ASSERT_NE(m, nullptr);
        seen.insert(Data(m.get()));
      }
    }
    ASSERT_EQ(seen.size(), static_cast<size_t>(kMessages));
    for (int i = 0; i < kMessages; ++i) EXPECT_EQ(seen.count(std::to_string(i)), 1u) << i;
  }
}

void EchoResponder(natsConnection* nc, natsSubscription*, natsMsg* msg, void*) {
  std::string answer = "re:" + Data(msg);
  if (natsMsg_GetReply(msg) != nullptr)
    natsConnection_Publish(nc, natsMsg_GetReply(msg), answer.data(), static_cast<int>(answer.size()));
  natsMsg_Destroy(msg);
}

TEST_P(PubSubTest, RequestReply) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Conn svc_nc = Connect(url());
  Conn req_nc = Connect(url());
  ASSERT_TRUE(svc_nc && req_nc);
  natsSubscription* raw_sub = nullptr;
  ASSERT_EQ(natsConnection_Subscribe(&raw_sub, svc_nc.get(), "svc.echo", EchoResponder, nullptr), NATS_OK);
  Sub responder(raw_sub);
  ASSERT_EQ(natsConnection_FlushTimeout(svc_nc.get(), kWaitMs), NATS_OK);

  for (int i = 0; i < 20; ++i) {
    std::string payload = "ping-" + std::to_string(i);
    natsMsg* reply = nullptr;
    ASSERT_EQ(natsConnection_RequestString(&reply, req_nc.get(), "svc.echo", payload.c_str(), kWaitMs), NATS_OK)
        << "request " << i << ": " << nats_GetLastError(nullptr);
    Msg owned(reply);
    EXPECT_EQ(Data(reply), "re:" + payload);
  }
  // A request carrying headers and an empty body.
  natsMsg* req = nullptr;
  ASSERT_EQ(natsMsg_Create(&req, "svc.echo", nullptr, nullptr, 0), NATS_OK);
  Msg req_owned(req);
  ASSERT_EQ(natsMsgHeader_Set(req, "X-Trace", "t1"), NATS_OK);
  natsMsg* reply = nullptr;
  ASSERT_EQ(natsConnection_RequestMsg(&reply, req_nc.get(), req, kWaitMs), NATS_OK);
  Msg reply_owned(reply);
  EXPECT_EQ(Data(reply), "re:");
}

TEST_P(PubSubTest, RequestWithoutRespondersFailsWithNoResponders) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Conn nc = Connect(url());
  ASSERT_NE(nc, nullptr);
  ASSERT_EQ(natsConnection_HasHeaderSupport(nc.get()), NATS_OK);
  natsMsg* reply = nullptr;
  // The deadline is long: NATS_NO_RESPONDERS (not NATS_TIMEOUT) shows the
  // server answered with a 503 status.
  natsStatus s = natsConnection_RequestString(&reply, nc.get(), "nobody.listens.here", "anyone?", 30000);
  if (reply) natsMsg_Destroy(reply);
  EXPECT_EQ(s, NATS_NO_RESPONDERS) << natsStatus_GetText(s);
  // A later request to a live responder on the same connection still works.
  natsSubscription* raw_sub = nullptr;
  ASSERT_EQ(natsConnection_Subscribe(&raw_sub, nc.get(), "svc.echo", EchoResponder, nullptr), NATS_OK);
  Sub responder(raw_sub);
  ASSERT_EQ(natsConnection_FlushTimeout(nc.get(), kWaitMs), NATS_OK);
  ASSERT_EQ(natsConnection_RequestString(&reply, nc.get(), "svc.echo", "x", kWaitMs), NATS_OK);
  Msg owned(reply);
  EXPECT_EQ(Data(reply), "re:x");
}

TEST_P(PubSubTest, HeadersArriveIntact) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Conn sub_nc = Connect(url());
  Conn pub_nc = Connect(url());
  ASSERT_TRUE(sub_nc && pub_nc);
  Sub sub = SubscribeSync(sub_nc.get(), "hdr.test");
  ASSERT_NE(sub, nullptr);
  ASSERT_EQ(natsConnection_FlushTimeout(sub_nc.get(), kWaitMs), NATS_OK);

  const std::string body = "body with\r\nCRLF inside";
  natsMsg* out = nullptr;
  ASSERT_EQ(natsMsg_Create(&out, "hdr.test", "hdr.reply", body.data(), static_cast<int>(body.size())), NATS_OK);
  Msg out_owned(out);
  ASSERT_EQ(natsMsgHeader_Set(out, "X-Single", "one value"), NATS_OK);
  ASSERT_EQ(natsMsgHeader_Add(out, "X-Multi", "first"), NATS_OK);
  ASSERT_EQ(natsMsgHeader_Add(out, "X-Multi", "second: with colon"), NATS_OK);
  ASSERT_EQ(natsMsgHeader_Add(out, "X-Multi", "third"), NATS_OK);
  ASSERT_EQ(natsMsgHeader_Set(out, "X-Replaced", "old"), NATS_OK);
  ASSERT_EQ(natsMsgHeader_Set(out, "X-Replaced", "new"), NATS_OK);
  ASSERT_EQ(natsConnection_PublishMsg(pub_nc.get(), out), NATS_OK);

  // Headers with an empty body.
  natsMsg* empty = nullptr;
  ASSERT_EQ(natsMsg_Create(&empty, "hdr.test", nullptr, nullptr, 0), NATS_OK);
  Msg empty_owned(empty);
  ASSERT_EQ(natsMsgHeader_Set(empty, "X-Only", "header"), NATS_OK);
  ASSERT_EQ(natsConnection_PublishMsg(pub_nc.get(), empty), NATS_OK);

  Msg in = NextMsg(sub.get());
  ASSERT_NE(in, nullptr);
  EXPECT_EQ(Data(in.get()), body);
  EXPECT_EQ(Reply(in.get()), "hdr.reply");
  const char* value = nullptr;
  ASSERT_EQ(natsMsgHeader_Get(in.get(), "X-Single", &value), NATS_OK);
  EXPECT_STREQ(value, "one value");
  ASSERT_EQ(natsMsgHeader_Get(in.get(), "X-Replaced", &value), NATS_OK);
  EXPECT_STREQ(value, "new");
  const char** values = nullptr;
  int count = 0;
  ASSERT_EQ(natsMsgHeader_Values(in.get(), "X-Multi", &values, &count), NATS_OK);
  std::vector<std::string> multi(values, values + count);
  free(values);
  EXPECT_EQ(multi, (std::vector<std::string>{"first", "second: with colon", "third"}));
  const char** keys = nullptr;
  ASSERT_EQ(natsMsgHeader_Keys(in.get(), &keys, &count), NATS_OK);
  std::set<std::string> key_set(keys, keys + count);
  free(keys);
  EXPECT_EQ(key_set, (std::set<std::string>{"X-Single", "X-Multi", "X-Replaced"}));

  Msg in2 = NextMsg(sub.get());
  ASSERT_NE(in2, nullptr);
  EXPECT_EQ(natsMsg_GetDataLength(in2.get()), 0);
  ASSERT_EQ(natsMsgHeader_Get(in2.get(), "X-Only", &value), NATS_OK);
  EXPECT_STREQ(value, "header");
}

TEST_P(PubSubTest, AutoUnsubscribeDeliversExactlyN) {
  ASSERT_NO_FATAL_FAILURE(Start());
  constexpr int kMax = 5;
  Conn sub_nc = Connect(url());
  Conn pub_nc = Connect(url());
  ASSERT_TRUE(sub_nc && pub_nc);
  Sub sub = SubscribeSync(sub_nc.get(), "auto.unsub");
  ASSERT_NE(sub, nullptr);
  ASSERT_EQ(natsSubscription_AutoUnsubscribe(sub.get(), kMax), NATS_OK);
  ASSERT_EQ(natsConnection_FlushTimeout(sub_nc.get(), kWaitMs), NATS_OK);

  for (int i = 0; i < 20; ++i) {
    std::string payload = std::to_string(i);
    ASSERT_EQ(natsConnection_PublishString(pub_nc.get(), "auto.unsub", payload.c_str()), NATS_OK);
  }
  ASSERT_NO_FATAL_FAILURE(Settle(pub_nc.get(), {sub_nc.get()}));

  for (int i = 0; i < kMax; ++i) {
    Msg m = NextMsg(sub.get(), 0);
    ASSERT_NE(m, nullptr) << "message " << i;
    EXPECT_EQ(Data(m.get()), std::to_string(i));
  }
  natsMsg* extra = nullptr;
  EXPECT_NE(natsSubscription_NextMsg(&extra, sub.get(), 0), NATS_OK);
  if (extra) natsMsg_Destroy(extra);
  // The client would drop extra messages itself; the connection's counters
  // show that the server sent exactly kMax.
  natsStatistics* stats = nullptr;
  ASSERT_EQ(natsStatistics_Create(&stats), NATS_OK);
  ASSERT_EQ(natsConnection_GetStats(sub_nc.get(), stats), NATS_OK);
  uint64_t in_msgs = 0;
  natsStatistics_GetCounts(stats, &in_msgs, nullptr, nullptr, nullptr, nullptr);
  natsStatistics_Destroy(stats);
  EXPECT_EQ(in_msgs, static_cast<uint64_t>(kMax));
}

TEST_P(PubSubTest, NoEchoSuppressesOwnMessages) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Opts opts = DefaultOptions(url());
  ASSERT_EQ(natsOptions_SetNoEcho(opts.get(), true), NATS_OK);
  Conn quiet = Connect(url(), opts.get());
  Conn chatty = Connect(url());
  ASSERT_TRUE(quiet && chatty);
  Sub quiet_sub = SubscribeSync(quiet.get(), "echo.test");
  Sub chatty_sub = SubscribeSync(chatty.get(), "echo.test");
  ASSERT_TRUE(quiet_sub && chatty_sub);
  ASSERT_EQ(natsConnection_FlushTimeout(quiet.get(), kWaitMs), NATS_OK);
  ASSERT_EQ(natsConnection_FlushTimeout(chatty.get(), kWaitMs), NATS_OK);

  for (int i = 0; i < 3; ++i) ASSERT_EQ(natsConnection_PublishString(quiet.get(), "echo.test", "from-quiet"), NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(chatty.get(), "echo.test", "from-chatty"), NATS_OK);
  ASSERT_NO_FATAL_FAILURE(Settle(quiet.get(), {chatty.get()}));
  ASSERT_NO_FATAL_FAILURE(Settle(chatty.get(), {quiet.get()}));

  // The no-echo connection got only the other connection's message.
  ASSERT_EQ(Queued(quiet_sub.get()), 1);
  Msg m = NextMsg(quiet_sub.get(), 0);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Data(m.get()), "from-chatty");
  // The echoing connection got its own message too.
  EXPECT_EQ(Queued(chatty_sub.get()), 4);
}

void CountMsg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  static_cast<std::atomic<int>*>(closure)->fetch_add(1);
  natsMsg_Destroy(msg);
}

TEST_P(PubSubTest, DrainDeliversAcceptedMessagesThenUnsubscribes) {
  ASSERT_NO_FATAL_FAILURE(Start());
  constexpr int kMessages = 500;
  Conn sub_nc = Connect(url());
  Conn pub_nc = Connect(url());
  ASSERT_TRUE(sub_nc && pub_nc);
  std::atomic<int> count{0};
  natsSubscription* raw_sub = nullptr;
  ASSERT_EQ(natsConnection_Subscribe(&raw_sub, sub_nc.get(), "drain.test", CountMsg, &count), NATS_OK);
  Sub sub(raw_sub);
  ASSERT_EQ(natsConnection_FlushTimeout(sub_nc.get(), kWaitMs), NATS_OK);
  for (int i = 0; i < kMessages; ++i)
    ASSERT_EQ(natsConnection_PublishString(pub_nc.get(), "drain.test", "d"), NATS_OK);
  ASSERT_EQ(natsConnection_FlushTimeout(pub_nc.get(), kWaitMs), NATS_OK);

  ASSERT_EQ(natsSubscription_Drain(sub.get()), NATS_OK);
  ASSERT_EQ(natsSubscription_WaitForDrainCompletion(sub.get(), kWaitMs), NATS_OK);
  EXPECT_EQ(count.load(), kMessages);

  // The server removed the subscription: later messages are not sent at all.
  for (int i = 0; i < 10; ++i) ASSERT_EQ(natsConnection_PublishString(pub_nc.get(), "drain.test", "late"), NATS_OK);
  ASSERT_NO_FATAL_FAILURE(Settle(pub_nc.get(), {sub_nc.get()}));
  natsStatistics* stats = nullptr;
  ASSERT_EQ(natsStatistics_Create(&stats), NATS_OK);
  ASSERT_EQ(natsConnection_GetStats(sub_nc.get(), stats), NATS_OK);
  uint64_t in_msgs = 0;
  natsStatistics_GetCounts(stats, &in_msgs, nullptr, nullptr, nullptr, nullptr);
  natsStatistics_Destroy(stats);
  EXPECT_EQ(in_msgs, static_cast<uint64_t>(kMessages));
  EXPECT_EQ(count.load(), kMessages);
}

TEST_P(PubSubTest, OneSubscriberSeesOnePublishersMessagesInOrder) {
  ASSERT_NO_FATAL_FAILURE(Start());
  constexpr int kMessages = 10000;
  Conn sub_nc = Connect(url());
  Conn pub_nc = Connect(url());
  ASSERT_TRUE(sub_nc && pub_nc);
  Sub exact = SubscribeSync(sub_nc.get(), "seq.a");
  Sub wild = SubscribeSync(sub_nc.get(), "seq.*");
  ASSERT_TRUE(exact && wild);
  ASSERT_EQ(natsConnection_FlushTimeout(sub_nc.get(), kWaitMs), NATS_OK);
  for (int i = 0; i < kMessages; ++i) {
    std::string payload = std::to_string(i);
    // Alternate subjects: order holds across subjects from one publisher.
    const char* subject = (i % 2 == 0) ? "seq.a" : "seq.b";
    ASSERT_EQ(natsConnection_PublishString(pub_nc.get(), subject, payload.c_str()), NATS_OK);
  }
  for (int i = 0; i < kMessages; ++i) {
    Msg m = NextMsg(wild.get());
    ASSERT_NE(m, nullptr) << "missing message " << i;
    ASSERT_EQ(Data(m.get()), std::to_string(i));
  }
  for (int i = 0; i < kMessages; i += 2) {
    Msg m = NextMsg(exact.get());
    ASSERT_NE(m, nullptr) << "missing message " << i;
    ASSERT_EQ(Data(m.get()), std::to_string(i));
  }
}

}  // namespace

SLUICE_ITC_INSTANTIATE(PubSubTest);

}  // namespace sluice::itc
