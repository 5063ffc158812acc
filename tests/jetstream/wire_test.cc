#include <gtest/gtest.h>

#include "jetstream/wire.h"

namespace sluice::jetstream {
namespace {

TEST(Wire, FormatTime) {
  EXPECT_EQ(FormatTime(0), "0001-01-01T00:00:00Z");
  EXPECT_EQ(FormatTime(1'714'557'600'123'456'789), "2024-05-01T10:00:00.123456789Z");
  EXPECT_EQ(FormatTime(1'714'557'600'000'000'000), "2024-05-01T10:00:00Z");
  EXPECT_EQ(FormatTime(1'714'557'600'706'637'840), "2024-05-01T10:00:00.70663784Z");
}

TEST(Wire, Base64) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(Wire, SubjectsCollide) {
  EXPECT_TRUE(SubjectsCollide("a.>", "a.b"));
  EXPECT_TRUE(SubjectsCollide("a.*", "a.b"));
  EXPECT_TRUE(SubjectsCollide("a.*.c", "a.b.*"));
  EXPECT_TRUE(SubjectsCollide(">", "x"));
  EXPECT_FALSE(SubjectsCollide("a.>", "a"));
  EXPECT_FALSE(SubjectsCollide("a.*", "a.b.c"));
  EXPECT_FALSE(SubjectsCollide("a.b", "a.c"));
  EXPECT_TRUE(SubjectsCollide("$JS.API.>", "$JS.*.INFO"));
  EXPECT_FALSE(SubjectsCollide("$JS.API.>", "$JS.EVENT.x"));
}

TEST(Wire, SubjectIsSubsetOf) {
  EXPECT_TRUE(SubjectIsSubsetOf("a.b", "a.>"));
  EXPECT_TRUE(SubjectIsSubsetOf("a.*", "a.>"));
  EXPECT_TRUE(SubjectIsSubsetOf("a.*", "a.*"));
  EXPECT_FALSE(SubjectIsSubsetOf("a.>", "a.*"));
  EXPECT_FALSE(SubjectIsSubsetOf("a", "a.>"));
}

TEST(Wire, HeaderValueIsCaseSensitiveAndTrimmed) {
  std::string block = "NATS/1.0\r\nNats-Msg-Id:  abc \r\nnats-expected-stream: S\r\nX: 1\r\nX: 2\r\n\r\n";
  EXPECT_EQ(HeaderValue(block, "Nats-Msg-Id"), "abc");
  EXPECT_FALSE(HeaderValue(block, "Nats-Expected-Stream").has_value());
  EXPECT_EQ(HeaderValue(block, "nats-expected-stream"), "S");
  EXPECT_EQ(HeaderValue(block, "X"), "1");
  EXPECT_FALSE(HeaderValue("", "X").has_value());
  EXPECT_FALSE(HeaderValue("NATS/1.0 503\r\n\r\n", "X").has_value());
}

TEST(Wire, ParseUint) {
  EXPECT_EQ(ParseUint("42"), 42u);
  EXPECT_FALSE(ParseUint("").has_value());
  EXPECT_FALSE(ParseUint("4x").has_value());
  EXPECT_FALSE(ParseUint("-1").has_value());
}

}  // namespace
}  // namespace sluice::jetstream
