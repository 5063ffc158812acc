// ClientParser: every operation and argument form, every protocol error of
// the reference (docs: nats-protocol.md §1, §3, §7), and the property that
// the way the bytes are split into reads never changes the outcome.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "parser_driver.h"

namespace sluice::testing {
namespace {

DriverOptions Opts(HeadersMode headers = HeadersMode::kAlways, size_t max_control_line = 4096,
                   int64_t max_payload = 1024 * 1024) {
  DriverOptions o;
  o.headers = headers;
  o.limits.max_control_line = max_control_line;
  o.limits.max_payload = max_payload;
  return o;
}

// Parses a whole stream and expects it to end cleanly (no error, nothing left).
std::vector<RecordedOp> Ops(std::string_view stream, const DriverOptions& o = {}) {
  DriveResult r = DriveWhole(stream, o);
  EXPECT_FALSE(r.errored) << "stream: " << stream << "\nresult: " << r;
  EXPECT_EQ(r.leftover, 0u) << "stream: " << stream;
  EXPECT_EQ(r.contract_violation, "");
  return r.ops;
}

RecordedOp One(std::string_view stream, const DriverOptions& o = {}) {
  auto ops = Ops(stream, o);
  EXPECT_EQ(ops.size(), 1u) << "stream: " << stream;
  return ops.empty() ? RecordedOp{} : ops[0];
}

ProtocolError ErrorOf(std::string_view stream, const DriverOptions& o = {}) {
  DriveResult r = DriveWhole(stream, o);
  EXPECT_TRUE(r.errored) << "stream: " << stream << "\nresult: " << r;
  return r.error;
}

// ---------------------------------------------------------------- operations

TEST(ClientParserOps, PubWithoutReply) {
  RecordedOp op = One("PUB foo.bar 5\r\nhello\r\n");
  EXPECT_EQ(op.op, ClientOp::kPub);
  EXPECT_EQ(op.subject, "foo.bar");
  EXPECT_EQ(op.reply, "");
  EXPECT_EQ(op.header, "");
  EXPECT_EQ(op.payload, "hello");
  EXPECT_EQ(op.declared_size, 5u);
}

TEST(ClientParserOps, PubWithReply) {
  RecordedOp op = One("PUB foo.bar _INBOX.4qmd3B.1 5\r\nhello\r\n");
  EXPECT_EQ(op.op, ClientOp::kPub);
  EXPECT_EQ(op.subject, "foo.bar");
  EXPECT_EQ(op.reply, "_INBOX.4qmd3B.1");
  EXPECT_EQ(op.payload, "hello");
}

TEST(ClientParserOps, PubEmptyPayloadAndBinaryPayload) {
  RecordedOp op = One("PUB empty 0\r\n\r\n");
  EXPECT_EQ(op.subject, "empty");
  EXPECT_EQ(op.payload, "");
  // The payload is length-delimited: CR LF, NUL and op names inside it are data.
  std::string payload("a\r\nPING\r\n\0b", 11);
  std::string stream = "PUB x 11\r\n" + payload + "\r\nPING\r\n";
  auto ops = Ops(stream);
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].payload, payload);
  EXPECT_EQ(ops[1].op, ClientOp::kPing);
}

TEST(ClientParserOps, HPubWithoutReply) {
  RecordedOp op = One("HPUB foo 18 18\r\nNATS/1.0\r\nA: 1\r\n\r\n\r\n");
  EXPECT_EQ(op.op, ClientOp::kHPub);
  EXPECT_EQ(op.subject, "foo");
  EXPECT_EQ(op.reply, "");
  EXPECT_EQ(op.header, "NATS/1.0\r\nA: 1\r\n\r\n");
  EXPECT_EQ(op.payload, "");
  EXPECT_EQ(op.declared_size, 18u);
}

TEST(ClientParserOps, HPubWithReply) {
  RecordedOp op = One("HPUB foo _INBOX.r 18 23\r\nNATS/1.0\r\nA: 1\r\n\r\nhello\r\n");
  EXPECT_EQ(op.op, ClientOp::kHPub);
  EXPECT_EQ(op.subject, "foo");
  EXPECT_EQ(op.reply, "_INBOX.r");
  EXPECT_EQ(op.header, "NATS/1.0\r\nA: 1\r\n\r\n");
  EXPECT_EQ(op.payload, "hello");
  EXPECT_EQ(op.declared_size, 23u);
}

TEST(ClientParserOps, HPubWithZeroHeaderBytes) {
  RecordedOp op = One("HPUB $JS.API.x _INBOX.r 0 5\r\nhello\r\n");
  EXPECT_EQ(op.op, ClientOp::kHPub);
  EXPECT_EQ(op.reply, "_INBOX.r");
  EXPECT_EQ(op.header, "");
  EXPECT_EQ(op.payload, "hello");
  RecordedOp empty = One("HPUB a 0 0\r\n\r\n");
  EXPECT_EQ(empty.header, "");
  EXPECT_EQ(empty.payload, "");
}

TEST(ClientParserOps, SubWithAndWithoutQueue) {
  RecordedOp plain = One("SUB foo.* 1\r\n");
  EXPECT_EQ(plain.op, ClientOp::kSub);
  EXPECT_EQ(plain.subject, "foo.*");
  EXPECT_EQ(plain.queue, "");
  EXPECT_EQ(plain.sid, "1");
  RecordedOp queued = One("SUB foo.> workers abc\r\n");
  EXPECT_EQ(queued.subject, "foo.>");
  EXPECT_EQ(queued.queue, "workers");
  EXPECT_EQ(queued.sid, "abc");
}

TEST(ClientParserOps, UnsubWithAndWithoutMax) {
  RecordedOp now = One("UNSUB 7\r\n");
  EXPECT_EQ(now.op, ClientOp::kUnsub);
  EXPECT_EQ(now.sid, "7");
  EXPECT_EQ(now.unsub_max, 0);
  RecordedOp later = One("UNSUB 7 5\r\n");
  EXPECT_EQ(later.sid, "7");
  EXPECT_EQ(later.unsub_max, 5);
  EXPECT_EQ(One("UNSUB 7 999999999\r\n").unsub_max, 999999999);
}

TEST(ClientParserOps, UnsubMaxThatIsNotPositiveMeansRemoveNow) {
  // §3.6: 0, negative or non-numeric max removes at once, with no error.
  for (const char* max : {"0", "-1", "-100", "abc", "5x", "+5", "1234567890"}) {
    std::string line = std::string("UNSUB 9 ") + max + "\r\n";
    RecordedOp op = One(line);
    EXPECT_EQ(op.op, ClientOp::kUnsub) << line;
    EXPECT_EQ(op.sid, "9") << line;
    EXPECT_EQ(op.unsub_max, 0) << line;
  }
}

TEST(ClientParserOps, ConnectAndInfoCarryTheirJson) {
  const std::string json = R"({"verbose":false,"name":"a b\tc","headers":true})";
  RecordedOp c = One("CONNECT " + json + "\r\n");
  EXPECT_EQ(c.op, ClientOp::kConnect);
  EXPECT_EQ(c.json, json);
  RecordedOp i = One("INFO {\"server_id\":\"x\"}\r\n");
  EXPECT_EQ(i.op, ClientOp::kInfo);
  EXPECT_EQ(i.json, "{\"server_id\":\"x\"}");
  // Blanks between the name and the JSON are skipped; CONNECT needs none.
  EXPECT_EQ(One("CONNECT \t  {}\r\n").json, "{}");
  EXPECT_EQ(One("CONNECT{}\r\n").json, "{}");
}

TEST(ClientParserOps, ConnectWithoutJsonIsAnOpWithEmptyJson) {
  // The server closes without -ERR when the JSON does not parse; the parser
  // itself hands over the (empty) argument.
  RecordedOp c = One("CONNECT\r\n");
  EXPECT_EQ(c.op, ClientOp::kConnect);
  EXPECT_EQ(c.json, "");
}

TEST(ClientParserOps, PingPongIgnoreTrailingBytes) {
  auto ops = Ops("PING\r\nPONG\r\nPING junk here\r\nPONGxyz\r\nPING\nPONG \t\n");
  ASSERT_EQ(ops.size(), 6u);
  EXPECT_EQ(ops[0].op, ClientOp::kPing);
  EXPECT_EQ(ops[1].op, ClientOp::kPong);
  EXPECT_EQ(ops[2].op, ClientOp::kPing);
  EXPECT_EQ(ops[3].op, ClientOp::kPong);
  EXPECT_EQ(ops[4].op, ClientOp::kPing);
  EXPECT_EQ(ops[5].op, ClientOp::kPong);
  // Even an op name in the tail is ignored up to the LF.
  auto tail = Ops("PINGPUB foo 5\r\nPING\r\n");
  ASSERT_EQ(tail.size(), 2u);
  EXPECT_EQ(tail[0].op, ClientOp::kPing);
  EXPECT_EQ(tail[1].op, ClientOp::kPing);
}

TEST(ClientParserOps, OkAndErr) {
  auto ops = Ops("+OK\r\n-ERR 'Unknown Protocol Operation'\r\n");
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].op, ClientOp::kOk);
  EXPECT_EQ(ops[1].op, ClientOp::kErr);
}

TEST(ClientParserOps, OpNamesAreCaseInsensitive) {
  auto ops = Ops(
      "connect {}\r\npub a 1\r\nx\r\nPub a 1\r\ny\r\nhPuB a 0 1\r\nz\r\nsub a 1\r\nSuB a q 2\r\n"
      "unsub 1\r\nUnSuB 2 3\r\nping\r\nPiNg\r\npong\r\ninfo {}\r\n+ok\r\n-err 'x'\r\n");
  std::vector<ClientOp> want = {ClientOp::kConnect, ClientOp::kPub,   ClientOp::kPub,  ClientOp::kHPub,
                                ClientOp::kSub,     ClientOp::kSub,   ClientOp::kUnsub, ClientOp::kUnsub,
                                ClientOp::kPing,    ClientOp::kPing,  ClientOp::kPong, ClientOp::kInfo,
                                ClientOp::kOk,      ClientOp::kErr};
  ASSERT_EQ(ops.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(ops[i].op, want[i]) << i;
  EXPECT_EQ(ops[2].payload, "y");
  EXPECT_EQ(ops[5].queue, "q");
  EXPECT_EQ(ops[7].unsub_max, 3);
}

// Long arguments are scanned a word at a time: every token length around the
// word size, each separator at each position, and bytes that look like
// separators to the word test (other control bytes, bytes >= 0x80) but are
// part of the token.
TEST(ClientParserOps, ArgumentsOfEveryLengthAroundTheWordScan) {
  const std::string fillers[] = {"a", "\x01", "\x1f", "!", "\x80", "\xff", "\x7f"};
  for (size_t subject_len = 1; subject_len <= 40; ++subject_len) {
    for (const std::string& filler : fillers) {
      for (const char* sep : {" ", "\t", " \t "}) {
        std::string subject;
        for (size_t i = 0; i < subject_len; ++i) subject += (i % 3 == 1) ? filler[0] : static_cast<char>('a' + i % 26);
        std::string reply = "r" + std::string(subject_len % 11, 'x');
        RecordedOp op = One("PUB " + subject + sep + reply + sep + "2\r\nok\r\n");
        EXPECT_EQ(op.subject, subject) << "length " << subject_len;
        EXPECT_EQ(op.reply, reply) << "length " << subject_len;
        EXPECT_EQ(op.payload, "ok");
      }
    }
  }
}

TEST(ClientParserOps, TabsAndRunsOfBlanksSeparateArguments) {
  RecordedOp pub = One("PUB\tfoo \t bar\t\t3  \r\nabc\r\n");
  EXPECT_EQ(pub.subject, "foo");
  EXPECT_EQ(pub.reply, "bar");
  EXPECT_EQ(pub.payload, "abc");
  RecordedOp sub = One("SUB  \t foo\t\tq   12 \t\r\n");
  EXPECT_EQ(sub.subject, "foo");
  EXPECT_EQ(sub.queue, "q");
  EXPECT_EQ(sub.sid, "12");
  RecordedOp hpub = One("HPUB\t\tfoo\t2\t 4\r\nh:ab\r\n");
  EXPECT_EQ(hpub.header, "h:");
  EXPECT_EQ(hpub.payload, "ab");
  RecordedOp unsub = One("UNSUB\t5\t\t2\t\r\n");
  EXPECT_EQ(unsub.sid, "5");
  EXPECT_EQ(unsub.unsub_max, 2);
}

TEST(ClientParserOps, BareLineFeedEndsAControlLine) {
  auto ops = Ops("CONNECT {}\nSUB foo 1\nPUB foo 3\nabc\r\nUNSUB 1 2\nPING\n");
  ASSERT_EQ(ops.size(), 5u);
  EXPECT_EQ(ops[0].json, "{}");
  EXPECT_EQ(ops[1].sid, "1");
  EXPECT_EQ(ops[2].payload, "abc");
  EXPECT_EQ(ops[3].unsub_max, 2);
  EXPECT_EQ(ops[4].op, ClientOp::kPing);
}

TEST(ClientParserOps, SizeWithNineDigitsIsFine) {
  RecordedOp op = One("PUB foo 000000005\r\nhello\r\n");
  EXPECT_EQ(op.payload, "hello");
}

TEST(ClientParserOps, PartialOperationWaitsForMoreBytes) {
  for (std::string_view partial : {"P", "PU", "PUB", "PUB ", "PUB foo 5\r\nhel", "PUB foo 5\r\nhello",
                                   "PUB foo 5\r\nhello\r", "SUB foo 1", "SUB foo 1\r", "CONNECT", "-ER",
                                   "PING", "PING\r", "HPUB a 2 4\r\nab"}) {
    DriveResult r = DriveWhole(partial);
    EXPECT_FALSE(r.errored) << partial << r;
    EXPECT_TRUE(r.ops.empty()) << partial << r;
  }
}

TEST(ClientParserOps, MinBytesCoversThePayload) {
  ClientParser parser;
  std::string buffer = "PUB foo 100\r\n";
  ParsedOp r = parser.Next(buffer);
  ASSERT_EQ(r.status, ParseStatus::kNeedMore);
  EXPECT_EQ(r.consumed, 0u);
  // The payload and the CR after it: the parser checks the CR before the LF.
  EXPECT_EQ(r.min_bytes, buffer.size() + 100 + 1);
  buffer += std::string(100, 'x') + "\r";
  r = parser.Next(buffer);
  ASSERT_EQ(r.status, ParseStatus::kNeedMore);
  EXPECT_EQ(r.min_bytes, buffer.size() + 1);
  buffer += "\n";
  r = parser.Next(buffer);
  ASSERT_EQ(r.status, ParseStatus::kOp);
  EXPECT_EQ(r.consumed, buffer.size());
  EXPECT_EQ(r.payload.size(), 100u);
}

// -------------------------------------------------------------------- errors

TEST(ClientParserErrors, UnknownOpIsRefusedAtTheFirstWrongByte) {
  // Replace each byte of an op name (and the separator that must follow it)
  // with one no op accepts there: refused at once, before any line end.
  for (std::string_view name : {"PUB ", "HPUB ", "SUB ", "UNSUB ", "CONNECT", "INFO", "PING", "PONG", "+OK", "-ERR "}) {
    for (size_t i = 0; i < name.size(); ++i) {
      if (name[i] == ' ' && (name == "PING" || name == "PONG")) continue;
      std::string prefix(name.substr(0, i));
      prefix += '#';  // no op name contains '#', and it is not a blank
      DriveResult r = DriveWhole(prefix);
      EXPECT_TRUE(r.errored) << prefix;
      EXPECT_EQ(r.error, ProtocolError::kUnknownOp) << prefix;
    }
  }
  EXPECT_EQ(ErrorOf("X"), ProtocolError::kUnknownOp);
  EXPECT_EQ(ErrorOf("PX"), ProtocolError::kUnknownOp);
  EXPECT_EQ(ErrorOf("PUBLISH foo 1\r\n"), ProtocolError::kUnknownOp);
  EXPECT_EQ(ErrorOf("CONNEC {}\r\n"), ProtocolError::kUnknownOp);
}

TEST(ClientParserErrors, ClientSentMsgAndHmsgAreUnknown) {
  EXPECT_EQ(ErrorOf("MSG foo 1 5\r\nhello\r\n"), ProtocolError::kUnknownOp);
  EXPECT_EQ(ErrorOf("HMSG foo 1 0 5\r\nhello\r\n"), ProtocolError::kUnknownOp);
}

TEST(ClientParserErrors, UnknownOpAfterValidOps) {
  DriveResult r = DriveWhole("PING\r\nSUB a 1\r\nFOO\r\nPING\r\n");
  ASSERT_TRUE(r.errored);
  EXPECT_EQ(r.error, ProtocolError::kUnknownOp);
  ASSERT_EQ(r.ops.size(), 2u);  // nothing after the error
}

TEST(ClientParserErrors, LeadingBlankIsUnknown) {
  EXPECT_EQ(ErrorOf(" PING\r\n"), ProtocolError::kUnknownOp);
  EXPECT_EQ(ErrorOf("\tPING\r\n"), ProtocolError::kUnknownOp);
  DriveResult r = DriveWhole("PING\r\n SUB a 1\r\n");
  EXPECT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.error, ProtocolError::kUnknownOp);
}

TEST(ClientParserErrors, EmptyLineIsUnknown) {
  EXPECT_EQ(ErrorOf("\r\n"), ProtocolError::kUnknownOp);
  EXPECT_EQ(ErrorOf("\n"), ProtocolError::kUnknownOp);
  DriveResult r = DriveWhole("PING\r\n\r\nPING\r\n");
  EXPECT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.error, ProtocolError::kUnknownOp);
}

TEST(ClientParserErrors, OpsWithArgumentsNeedABlankAfterTheName) {
  for (std::string_view s : {"PUB\r\n", "HPUB\r\n", "SUB\r\n", "UNSUB\r\n", "PUB\n", "sub\n", "-ERR\r\n"}) {
    EXPECT_EQ(ErrorOf(s), ProtocolError::kUnknownOp) << s;
  }
}

TEST(ClientParserErrors, PayloadMustBeFollowedByCrLf) {
  EXPECT_EQ(ErrorOf("PUB foo 5\r\nhelloXX"), ProtocolError::kUnknownOp);
  EXPECT_EQ(ErrorOf("PUB foo 5\r\nhello!\r\n"), ProtocolError::kUnknownOp);  // payload longer than declared
  EXPECT_EQ(ErrorOf("PUB foo 5\r\nhello\nPING\r\n"), ProtocolError::kUnknownOp);  // bare LF refused here
  EXPECT_EQ(ErrorOf("PUB foo 5\r\nhello\r\r\n"), ProtocolError::kUnknownOp);
  EXPECT_EQ(ErrorOf("HPUB foo 2 5\r\nh:abc\n\n"), ProtocolError::kUnknownOp);
}

TEST(ClientParserErrors, WrongByteAfterPayloadIsRefusedWithoutWaiting) {
  // nats-server answers -ERR as soon as the byte after the payload is not CR.
  EXPECT_EQ(ErrorOf("PUB foo 5\r\nhelloX"), ProtocolError::kUnknownOp);
  EXPECT_EQ(ErrorOf("HPUB foo 2 5\r\nh:abcX"), ProtocolError::kUnknownOp);
  EXPECT_EQ(ErrorOf("PUB foo 5\r\nhello\rX"), ProtocolError::kUnknownOp);
  // Also for a reader that waits for min_bytes before calling again.
  DriverOptions hint;
  hint.use_min_bytes_hint = true;
  DriveResult r = DriveSplit("PUB foo 5\r\nhelloX", {11}, hint);
  EXPECT_TRUE(r.errored) << r;
  EXPECT_EQ(r.error, ProtocolError::kUnknownOp);
}

TEST(ClientParserErrors, MaxPayloadIsCheckedOnTheControlLine) {
  auto o = Opts(HeadersMode::kAlways, 4096, 10);
  EXPECT_EQ(One("PUB foo 10\r\n0123456789\r\n", o).payload, "0123456789");
  // Refused as soon as the control line is complete: no payload byte sent.
  EXPECT_EQ(ErrorOf("PUB foo 11\r\n", o), ProtocolError::kMaxPayload);
  EXPECT_EQ(ErrorOf("PUB foo r 999999999\r\n", o), ProtocolError::kMaxPayload);
  // HPUB: the limit applies to the total.
  EXPECT_EQ(One("HPUB foo 4 10\r\n0123456789\r\n", o).payload, "456789");
  EXPECT_EQ(ErrorOf("HPUB foo 4 11\r\n", o), ProtocolError::kMaxPayload);
  // Default limit: 1 MB.
  EXPECT_EQ(ErrorOf("PUB foo 1048577\r\n"), ProtocolError::kMaxPayload);
  DriveResult ok = DriveWhole("PUB foo 1048576\r\n");
  EXPECT_FALSE(ok.errored);
}

std::string Repeat(char c, size_t n) { return std::string(n, c); }

TEST(ClientParserErrors, MaxControlLineAt4096Versus4097) {
  // The argument part is measured from the first non-blank after the name up
  // to the CR, trailing blanks included.
  const std::string sub4096 = "SUB " + Repeat('a', 4094) + " 1\r\n";  // args: 4094 + 2
  RecordedOp op = One(sub4096);
  EXPECT_EQ(op.subject.size(), 4094u);
  EXPECT_EQ(ErrorOf("SUB " + Repeat('a', 4095) + " 1\r\n"), ProtocolError::kMaxControlLine);
  // Trailing blanks count, leading blanks (after the name) do not.
  EXPECT_EQ(ErrorOf("SUB " + Repeat('a', 4094) + " 1 \r\n"), ProtocolError::kMaxControlLine);
  One("SUB      \t" + Repeat('a', 4094) + " 1\r\n");
  // A bare LF line is measured the same way.
  One("SUB " + Repeat('a', 4094) + " 1\n");
  EXPECT_EQ(ErrorOf("SUB " + Repeat('a', 4095) + " 1\n"), ProtocolError::kMaxControlLine);
  // Applies to PUB, CONNECT, INFO, UNSUB, -ERR too.
  One("PUB " + Repeat('s', 4094) + " 0\r\n\r\n");
  EXPECT_EQ(ErrorOf("PUB " + Repeat('s', 4095) + " 0\r\n\r\n"), ProtocolError::kMaxControlLine);
  One("CONNECT " + Repeat(' ', 0) + "{\"name\":\"" + Repeat('n', 4096 - 11) + "\"}\r\n");
  EXPECT_EQ(ErrorOf("CONNECT {\"name\":\"" + Repeat('n', 4097 - 11) + "\"}\r\n"), ProtocolError::kMaxControlLine);
  EXPECT_EQ(ErrorOf("INFO " + Repeat('i', 4097) + "\r\n"), ProtocolError::kMaxControlLine);
  EXPECT_EQ(ErrorOf("UNSUB " + Repeat('1', 4097) + "\r\n"), ProtocolError::kMaxControlLine);
  EXPECT_EQ(ErrorOf("-ERR " + Repeat('e', 4097) + "\r\n"), ProtocolError::kMaxControlLine);
  // Not PING/PONG: their tail is ignored whatever its length.
  EXPECT_EQ(One("PING " + Repeat('p', 10000) + "\r\n").op, ClientOp::kPing);
  EXPECT_EQ(One("PONG " + Repeat('p', 10000) + "\r\n").op, ClientOp::kPong);
  // A configured limit is honoured.
  auto small = Opts(HeadersMode::kAlways, 10);
  One("SUB abcdefg 1\r\n", small);
  One("SUB abcdefgh 1\r\n", small);  // exactly 10
  EXPECT_EQ(ErrorOf("SUB abcdefghi 1\r\n", small), ProtocolError::kMaxControlLine);
}

TEST(ClientParserErrors, MaxControlLineOnAnUnterminatedLine) {
  // 4096 argument bytes without a line end: still waiting.
  DriveResult wait = DriveWhole("SUB " + Repeat('a', 4096));
  EXPECT_FALSE(wait.errored) << wait;
  // One more byte: refused without waiting for the line end.
  EXPECT_EQ(ErrorOf("SUB " + Repeat('a', 4097)), ProtocolError::kMaxControlLine);
  EXPECT_EQ(ErrorOf("CONNECT {" + Repeat('a', 4096)), ProtocolError::kMaxControlLine);
  // The CR of a 4096-byte line may arrive without its LF: still fine.
  DriveResult cr = DriveWhole("SUB " + Repeat('a', 4094) + " 1\r");
  EXPECT_FALSE(cr.errored) << cr;
  // And byte by byte it ends the same way.
  std::string line = "PUB " + Repeat('a', 5000);
  ParserDriver d;
  for (char c : line) d.Feed(std::string_view(&c, 1));
  EXPECT_TRUE(d.result().errored);
  EXPECT_EQ(d.result().error, ProtocolError::kMaxControlLine);
}

TEST(ClientParserErrors, MalformedArguments) {
  for (std::string_view s : {
           "PUB foo\r\n",                 // too few
           "PUB a b c 5\r\n",             // too many
           "PUB foo abc\r\n",             // non-numeric size
           "PUB foo -1\r\n",              // negative size
           "PUB foo 5x\r\n",
           "PUB foo 1234567890\r\n",      // more than 9 digits
           "PUB foo r 0000000001\r\n",
           "PUB \r\n",                    // blank but no arguments
           "SUB foo\r\n",                 // too few
           "SUB a b c d\r\n",             // too many
           "SUB \t \r\n",
           "UNSUB \r\n",                  // no sid
           "UNSUB 1 2 3\r\n",             // too many
           "HPUB foo 5\r\n",              // too few
           "HPUB a b 1 2 3\r\n",          // too many
           "HPUB foo 6 5\r\n",            // header > total
           "HPUB foo r 6 5\r\n",
           "HPUB foo -1 5\r\n",           // negative header size
           "HPUB foo 1 -5\r\n",
           "HPUB foo x 5\r\n",
           "HPUB foo 1 1234567890\r\n",
       }) {
    EXPECT_EQ(ErrorOf(s), ProtocolError::kMalformed) << s;
  }
}

TEST(ClientParserErrors, HPubBeforeHeadersWereAllowed) {
  EXPECT_EQ(ErrorOf("HPUB foo 0 1\r\nx\r\n", Opts(HeadersMode::kNever)), ProtocolError::kMalformed);
  // CONNECT without headers:true does not allow them...
  DriveResult no = DriveWhole("CONNECT {\"headers\":false}\r\nHPUB foo 0 1\r\nx\r\n", Opts(HeadersMode::kAfterConnect));
  EXPECT_EQ(no.ops.size(), 1u);
  EXPECT_EQ(no.error, ProtocolError::kMalformed);
  // ...and with headers:true they are accepted from then on.
  auto ops = Ops("CONNECT {\"headers\":true}\r\nHPUB foo 0 1\r\nx\r\n", Opts(HeadersMode::kAfterConnect));
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[1].op, ClientOp::kHPub);
}

TEST(ClientParserErrors, ErrorTexts) {
  EXPECT_EQ(protocol::ProtocolErrorText(ProtocolError::kUnknownOp), "Unknown Protocol Operation");
  EXPECT_EQ(protocol::ProtocolErrorText(ProtocolError::kMaxControlLine), "maximum control line exceeded");
  EXPECT_EQ(protocol::ProtocolErrorText(ProtocolError::kMaxPayload), "Maximum Payload Violation");
  EXPECT_EQ(protocol::ProtocolErrorText(ProtocolError::kMalformed), "");
}

// ------------------------------------------------------------ skipped bytes

TEST(ClientParserMemory, HugePingTailDoesNotGrowTheRetainedBuffer) {
  for (std::string_view name : {"PING", "PONG", "+OK"}) {
    ParserDriver d;
    d.Feed(name);
    const std::string chunk(4096, 'x');
    for (int i = 0; i < 2560; ++i) d.Feed(chunk);  // 10 MB
    d.Feed("\r\nPING\r\n");
    const DriveResult& r = d.result();
    EXPECT_FALSE(r.errored) << name;
    ASSERT_EQ(r.ops.size(), 2u) << name;
    EXPECT_EQ(r.ops[1].op, ClientOp::kPing);
    EXPECT_LE(r.max_retained, chunk.size() + name.size()) << name;
    EXPECT_EQ(r.leftover, 0u);
  }
}

TEST(ClientParserMemory, BlanksAfterTheOpNameDoNotGrowTheRetainedBuffer) {
  // nats-server skips any number of blanks after the op name without keeping
  // them; a parser that keeps them lets a client grow the buffer forever.
  for (std::string_view name : {"PUB", "SUB", "CONNECT"}) {
    ParserDriver d;
    d.Feed(name);
    const std::string chunk(4096, ' ');
    for (int i = 0; i < 256; ++i) d.Feed(chunk);  // 1 MB of blanks
    EXPECT_LE(d.result().max_retained, 2 * chunk.size()) << name;
  }
}

// ------------------------------------------------- split-invariance property

struct Stream {
  std::string name;
  std::string bytes;
  DriverOptions options;
};

std::vector<Stream> PropertyStreams() {
  std::vector<Stream> s;
  auto add = [&](std::string name, std::string bytes, DriverOptions o = {}) {
    s.push_back({std::move(name), std::move(bytes), o});
  };
  const DriverOptions after_connect = Opts(HeadersMode::kAfterConnect);
  add("session",
      "CONNECT {\"verbose\":false,\"headers\":true}\r\nPING\r\nSUB foo.* 1\r\nSUB foo.> q 2\r\n"
      "PUB foo.bar _INBOX.x 5\r\nhello\r\nHPUB foo.bar r 18 23\r\nNATS/1.0\r\nA: 1\r\n\r\nhello\r\n"
      "UNSUB 1 10\r\nUNSUB 2\r\nPONG\r\n",
      after_connect);
  add("lowercase and blanks", "pub\t a  b \t3\r\nabc\r\nsub x  y\tz\r\nunsub z -1\r\nping x\r\n+ok\r\n");
  add("bare lf", "SUB a 1\nPUB a 2\nhi\r\nPING\nPONG\n");
  add("payload with crlf", "PUB x 12\r\nPING\r\nPONG\r\n\r\nPING\r\n");
  add("zero payloads", "PUB a 0\r\n\r\nHPUB a 0 0\r\n\r\nHPUB a 4 4\r\nab\r\n\r\n");
  add("ping tails", "PING" + Repeat('z', 300) + "\r\nPONG \t junk\nPINGPUB\r\n+OKxx\r\nPING\r\n");
  add("connect info err", "CONNECT{}\r\nINFO {\"a\":1}\r\n-ERR 'boom'\r\nPING\r\n");
  add("headers after connect", "CONNECT {\"headers\":true}\r\nHPUB a 0 3\r\nabc\r\n", after_connect);
  add("hpub before connect", "HPUB a 0 3\r\nabc\r\nPING\r\n", after_connect);
  add("unknown op", "PING\r\nPUX foo\r\nPING\r\n");
  add("msg", "SUB a 1\r\nMSG a 1 2\r\nhi\r\n");
  add("leading space", "PING\r\n PING\r\n");
  add("empty line", "PING\r\n\r\nPING\r\n");
  add("pub without args", "PING\r\nPUB\r\n");
  add("bad payload end", "PUB a 3\r\nabcd\r\nPING\r\n");
  add("bare lf after payload", "PUB a 3\r\nabc\nPING\r\n");
  add("cr only after payload", "PUB a 3\r\nabc\r");
  // The wrong byte after a payload is the last byte of the stream: refused
  // at once, however the bytes came and whether the reader waits for min_bytes.
  add("bad terminator at the end", "PUB a 3\r\nabcX");
  add("bad terminator after cr at the end", "PUB a 3\r\nabc\rX");
  add("big payload bad terminator", "PUB a 300\r\n" + Repeat('p', 300) + "X");
  add("max payload", "PUB a 2000000\r\n" + Repeat('p', 100));
  add("max payload small", "PUB a 3\r\nabc\r\nPUB a 11\r\n0123456789a\r\n", Opts(HeadersMode::kAlways, 4096, 10));
  add("control line 4096", "SUB " + Repeat('a', 4094) + " 1\r\nPING\r\n");
  add("control line 4096 bare lf", "SUB " + Repeat('a', 4094) + " 1\nPING\r\n");
  add("control line 4097", "SUB " + Repeat('a', 4095) + " 1\r\nPING\r\n");
  add("pub control line 4096", "PUB " + Repeat('a', 4094) + " 3\r\nabc\r\n");
  add("unterminated long line", "PING\r\nCONNECT " + Repeat('c', 4200));
  add("small control line", "SUB abc 1\r\nSUB abcdefghij 1\r\n", Opts(HeadersMode::kAlways, 8));
  add("malformed size", "PUB a 1\r\nx\r\nPUB a 1234567890\r\n");
  add("negative size", "PUB a -3\r\nabc\r\n");
  add("header > total", "HPUB a 5 4\r\nabcd\r\n");
  add("unsub too many", "UNSUB 1 2 3\r\n");
  add("many blanks", "SUB" + Repeat(' ', 700) + "a" + Repeat('\t', 300) + "1" + Repeat(' ', 50) + "\r\n");
  add("partial at end", "PING\r\nPUB a 10\r\nabc");
  return s;
}

void ExpectSplitInvariant(const Stream& st, std::mt19937_64& rng) {
  const DriveResult whole = DriveWhole(st.bytes, st.options);
  ASSERT_EQ(whole.contract_violation, "") << st.name;
  const size_t n = st.bytes.size();
  // Every single split point.
  for (size_t cut = 1; cut < n; ++cut) {
    DriveResult r = DriveSplit(st.bytes, {cut}, st.options);
    ASSERT_TRUE(r.SameOutcome(whole)) << st.name << " split at " << cut << "\nwhole: " << whole << "\nsplit: " << r;
    ASSERT_EQ(r.contract_violation, "") << st.name << " split at " << cut;
  }
  // Random multi-way splits, with and without the min_bytes hint.
  for (int trial = 0; trial < 300 && n > 1; ++trial) {
    std::vector<size_t> cuts;
    size_t pieces = 1 + rng() % std::min<size_t>(n - 1, 12);
    for (size_t i = 0; i < pieces; ++i) cuts.push_back(1 + rng() % (n - 1));
    std::sort(cuts.begin(), cuts.end());
    DriverOptions o = st.options;
    o.use_min_bytes_hint = trial % 2 == 0;
    DriveResult r = DriveSplit(st.bytes, cuts, o);
    ASSERT_TRUE(r.SameOutcome(whole)) << st.name << " trial " << trial << "\nwhole: " << whole << "\nsplit: " << r;
    ASSERT_EQ(r.contract_violation, "") << st.name;
  }
  // Byte by byte.
  ParserDriver d(st.options);
  for (char c : st.bytes) d.Feed(std::string_view(&c, 1));
  ASSERT_TRUE(d.result().SameOutcome(whole)) << st.name << " byte by byte\nwhole: " << whole << "\nsplit: " << d.result();
  ASSERT_EQ(d.result().contract_violation, "") << st.name;
}

TEST(ClientParserProperty, SplittingNeverChangesTheOutcome) {
  std::mt19937_64 rng(20240611);
  for (const Stream& st : PropertyStreams()) {
    SCOPED_TRACE(st.name);
    ExpectSplitInvariant(st, rng);
  }
}

TEST(ClientParserProperty, StreamsHaveTheExpectedOutcomeWhole) {
  // Guards the property test against streams that do not test what their name says.
  for (const Stream& st : PropertyStreams()) {
    DriveResult r = DriveWhole(st.bytes, st.options);
    const bool should_fail = st.name == "hpub before connect" || st.name == "unknown op" || st.name == "msg" ||
                             st.name == "leading space" || st.name == "empty line" ||
                             st.name == "pub without args" || st.name == "bad payload end" ||
                             st.name == "bare lf after payload" || st.name == "max payload" ||
                             st.name == "max payload small" || st.name == "control line 4097" ||
                             st.name == "unterminated long line" || st.name == "small control line" ||
                             st.name == "malformed size" || st.name == "negative size" ||
                             st.name == "header > total" || st.name == "unsub too many" ||
                             st.name == "bad terminator at the end" ||
                             st.name == "bad terminator after cr at the end" ||
                             st.name == "big payload bad terminator";
    EXPECT_EQ(r.errored, should_fail) << st.name << r;
  }
}

TEST(ClientParserProperty, RandomStreamsFromFragments) {
  // Random concatenations of valid and invalid fragments, fed whole and split.
  const std::vector<std::string> fragments = {
      "PING\r\n", "PONG\r\n", "PUB a 3\r\nabc\r\n", "PUB a r 0\r\n\r\n", "HPUB a 2 5\r\nh:abc\r\n",
      "SUB a.* 1\r\n", "SUB a q 2\r\n", "UNSUB 1\r\n", "UNSUB 2 0\r\n", "CONNECT {}\r\n", "+OK\r\n",
      "PING xx\r\n", "sub\tb\t3\n", "PUB a 3\r\nabcd", "X", "\r\n", " ", "PUB a -1\r\n", "PUB\r\n",
      "PUB a 99\r\n", "PING", "\n", "HPUB a 9 3\r\n"};
  std::mt19937_64 rng(7);
  DriverOptions o = Opts(HeadersMode::kAlways, 64, 50);
  for (int i = 0; i < 400; ++i) {
    std::string stream;
    size_t count = 1 + rng() % 8;
    for (size_t k = 0; k < count; ++k) stream += fragments[rng() % fragments.size()];
    const DriveResult whole = DriveWhole(stream, o);
    for (size_t cut = 1; cut < stream.size(); ++cut) {
      DriveResult r = DriveSplit(stream, {cut}, o);
      ASSERT_TRUE(r.SameOutcome(whole)) << "stream: " << stream << " cut " << cut << "\nwhole: " << whole
                                        << "\nsplit: " << r;
    }
  }
}

}  // namespace
}  // namespace sluice::testing
