// Payload sizes: empty, one byte, exactly max_payload (default and from a
// config file) and max_payload + 1, which nats.c refuses from INFO's value.
#include <string>

#include "helpers.h"

namespace sluice::itc {
namespace {

using PayloadTest = ServerTest;

std::string Pattern(size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

// Publishes each payload and checks it arrives byte for byte, then checks
// that max_payload + 1 is refused by the client and the connection survives.
void CheckPayloadLimits(const std::string& url, int64_t max_payload) {
  Conn sub_nc = Connect(url);
  Conn pub_nc = Connect(url);
  ASSERT_TRUE(sub_nc && pub_nc);
  ASSERT_EQ(natsConnection_GetMaxPayload(pub_nc.get()), max_payload);
  Sub sub = SubscribeSync(sub_nc.get(), "payload.test");
  ASSERT_NE(sub, nullptr);
  ASSERT_EQ(natsConnection_FlushTimeout(sub_nc.get(), kWaitMs), NATS_OK);

  for (size_t size : {size_t{0}, size_t{1}, size_t{4096}, static_cast<size_t>(max_payload)}) {
    std::string payload = Pattern(size);
    ASSERT_EQ(natsConnection_Publish(pub_nc.get(), "payload.test", payload.data(), static_cast<int>(size)), NATS_OK)
        << "size " << size;
    Msg m = NextMsg(sub.get());
    ASSERT_NE(m, nullptr) << "size " << size;
    ASSERT_EQ(natsMsg_GetDataLength(m.get()), static_cast<int>(size));
    ASSERT_TRUE(Data(m.get()) == payload) << "payload of size " << size << " corrupted";
  }

  std::string too_big = Pattern(static_cast<size_t>(max_payload) + 1);
  EXPECT_EQ(natsConnection_Publish(pub_nc.get(), "payload.test", too_big.data(), static_cast<int>(too_big.size())),
            NATS_MAX_PAYLOAD);
  // Nothing was sent; the connection is still usable.
  ASSERT_EQ(natsConnection_FlushTimeout(pub_nc.get(), kWaitMs), NATS_OK);
  EXPECT_EQ(natsConnection_Status(pub_nc.get()), NATS_CONN_STATUS_CONNECTED);
  ASSERT_EQ(natsConnection_PublishString(pub_nc.get(), "payload.test", "after"), NATS_OK);
  Msg m = NextMsg(sub.get());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Data(m.get()), "after");
}

TEST_P(PayloadTest, DefaultMaxPayload) {
  ASSERT_NO_FATAL_FAILURE(Start());
  CheckPayloadLimits(url(), 1048576);
}

TEST_P(PayloadTest, ConfiguredMaxPayload) {
  ASSERT_NO_FATAL_FAILURE(Start("max_payload: 64KB\n"));
  CheckPayloadLimits(url(), 65536);
}

TEST_P(PayloadTest, ServerRejectsOversizedRawPublish) {
  ASSERT_NO_FATAL_FAILURE(Start("max_payload: 64KB\n"));
  RawClient rc;
  ASSERT_TRUE(RawHandshake(rc, port()));
  // At the limit: accepted.
  std::string ok_pub = "PUB raw.big 65536\r\n" + std::string(65536, 'x') + "\r\nPING\r\n";
  ASSERT_TRUE(rc.Send(ok_pub));
  std::string got = rc.ReadUntil("PONG\r\n");
  EXPECT_EQ(got, "PONG\r\n");
  // One byte over: refused, connection closed.
  ASSERT_TRUE(rc.Send("PUB raw.big 65537\r\n"));
  std::string rest = rc.ReadUntilClosed(std::chrono::seconds(10));
  EXPECT_NE(rest.find("-ERR 'Maximum Payload Violation'\r\n"), std::string::npos) << rest;
  EXPECT_TRUE(rc.closed_by_peer());
}

}  // namespace

SLUICE_ITC_INSTANTIATE(PayloadTest);

}  // namespace sluice::itc
