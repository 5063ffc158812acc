// Behaviour of the config-file parser (nats-server's format). Expected values
// and positions were checked against nats-server 2.9.10 (`nats-server -t -c`)
// where it reports them; deviations are marked "Deviation".
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

#include "config/config_file.h"
#include "test_util.h"

namespace sluice::config {
namespace {

using testing::MustParse;
using testing::ParseError;
using testing::TempDir;
using Kind = Value::Kind;

int64_t Int(const Value& root, std::string_view key) {
  const Value* v = root.Find(key);
  EXPECT_NE(v, nullptr) << "missing key " << key;
  if (v == nullptr) return -12345;
  EXPECT_EQ(v->kind, Kind::kInteger) << "key " << key << " is a " << Value::KindName(v->kind);
  return v->integer;
}

std::string Str(const Value& root, std::string_view key) {
  const Value* v = root.Find(key);
  EXPECT_NE(v, nullptr) << "missing key " << key;
  if (v == nullptr) return "<missing>";
  EXPECT_EQ(v->kind, Kind::kString) << "key " << key << " is a " << Value::KindName(v->kind);
  return v->string;
}

std::vector<std::string> Keys(const Value& map) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : map.map) keys.push_back(k);
  return keys;
}

// ---- assignments ------------------------------------------------------------

TEST(ConfigSyntax, AssignmentForms) {
  Value v = MustParse("a: 1\nb = 2\nc 3\nd:4\ne=5\nf\t6\n");
  EXPECT_EQ(Keys(v), (std::vector<std::string>{"a", "b", "c", "d", "e", "f"}));
  EXPECT_EQ(Int(v, "a"), 1);
  EXPECT_EQ(Int(v, "b"), 2);
  EXPECT_EQ(Int(v, "c"), 3);
  EXPECT_EQ(Int(v, "d"), 4);
  EXPECT_EQ(Int(v, "e"), 5);
  EXPECT_EQ(Int(v, "f"), 6);
  EXPECT_EQ(v.key_positions.size(), v.map.size());
}

TEST(ConfigSyntax, TrailingTerminatorsAndSeveralPerLine) {
  Value v = MustParse("a: 1;\nb: 2,\nc: 3; d: 4, e: 5\n");
  EXPECT_EQ(Keys(v), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(Int(v, "e"), 5);
}

TEST(ConfigSyntax, TwoAssignmentsOnALineNeedASeparator) {
  EXPECT_EQ(ParseError("a: 1 b: 2"),
            "t.conf:1:5: Expected a top-level value to end with a new line, comment or EOF, but got 'b' instead.");
  EXPECT_EQ(ParseError("x: 1\na: 1 b: 2"),
            "t.conf:2:6: Expected a top-level value to end with a new line, comment or EOF, but got 'b' instead.");
}

TEST(ConfigSyntax, RepeatedKeysAreKeptAndTheLastWins) {
  Value v = MustParse("a: 1\nb: x\na: 2\n");
  ASSERT_EQ(v.map.size(), 3u);
  EXPECT_EQ(Int(v, "a"), 2);
  EXPECT_EQ(v.map[0].second.integer, 1);
  EXPECT_EQ(v.Find("missing"), nullptr);
  EXPECT_EQ(v.Find("a")->Find("x"), nullptr);  // not a map
}

TEST(ConfigSyntax, QuotedKeys) {
  Value v = MustParse("\"a key\": 1\n'other key' = 2\n\"k:v\" 3\n");
  EXPECT_EQ(Int(v, "a key"), 1);
  EXPECT_EQ(Int(v, "other key"), 2);
  EXPECT_EQ(Int(v, "k:v"), 3);
}

TEST(ConfigSyntax, KeyAndValueMaySitOnDifferentLinesWithoutSeparator) {
  // nats-server accepts `ping_max\n3`.
  Value v = MustParse("ping_max\n3\n");
  EXPECT_EQ(Int(v, "ping_max"), 3);
}

TEST(ConfigSyntax, KeyWithoutValue) {
  EXPECT_EQ(ParseError("a: 1\nport"), "t.conf:2:1: config is invalid: key \"port\" has no value.");
  EXPECT_EQ(ParseError("a: \n"), "t.conf:1:3: Expected value but found new line.");
  EXPECT_EQ(ParseError(": 1"), "t.conf:1:0: Unexpected key separator ':'.");
  EXPECT_EQ(ParseError("m { = 1 }"), "t.conf:1:4: Unexpected key separator '='.");
  // `key:` at the very end is an empty string, as in nats-server.
  Value v = MustParse("a:");
  EXPECT_EQ(Str(v, "a"), "");
}

TEST(ConfigSyntax, EmptyAndCommentOnlyFiles) {
  EXPECT_TRUE(MustParse("").map.empty());
  EXPECT_TRUE(MustParse("\n\n  \t\n").map.empty());
  EXPECT_TRUE(MustParse("# only\n// comments\n").map.empty());
  EXPECT_EQ(MustParse("").kind, Kind::kMap);
}

TEST(ConfigSyntax, WholeFileInBraces) {
  Value v = MustParse("{\n  port: 4222\n  host: h\n}\n");
  EXPECT_EQ(Int(v, "port"), 4222);
  EXPECT_EQ(Str(v, "host"), "h");
  v = MustParse("{ port: 4222 }");
  EXPECT_EQ(Int(v, "port"), 4222);
}

// ---- comments ---------------------------------------------------------------

TEST(ConfigSyntax, Comments) {
  Value v = MustParse(
      "# hash comment\n"
      "// slash comment\n"
      "a: 1 # after a value\n"
      "b: 2 // after a value\n"
      "c: \"x # y // z\"\n"
      "m { # in a map\n"
      "  k: v // here too\n"
      "  # alone\n"
      "}\n"
      "arr: [ # in an array\n"
      "  1, // one\n"
      "  2 # two\n"
      "]\n"
      "#end");
  EXPECT_EQ(Keys(v), (std::vector<std::string>{"a", "b", "c", "m", "arr"}));
  EXPECT_EQ(Str(v, "c"), "x # y // z");
  EXPECT_EQ(Str(*v.Find("m"), "k"), "v");
  EXPECT_EQ(v.Find("arr")->array.size(), 2u);
}

// ---- maps -------------------------------------------------------------------

TEST(ConfigMaps, AllOpeningForms) {
  for (const char* text : {"m { a: 1 }", "m: { a: 1 }", "m = { a: 1 }", "m {\n  a: 1\n}\n",
                           "m: {\n a = 1;\n}", "m {a 1}"}) {
    Value v = MustParse(text);
    const Value* m = v.Find("m");
    ASSERT_NE(m, nullptr) << text;
    EXPECT_EQ(m->kind, Kind::kMap) << text;
    EXPECT_EQ(Int(*m, "a"), 1) << text;
  }
}

TEST(ConfigMaps, NestedBlocksAndSeparators) {
  Value v = MustParse(
      "outer {\n"
      "  middle {\n"
      "    inner { deep: true }\n"
      "  }\n"
      "  a: 1, b: 2; c: 3\n"
      "  d: 4\n"
      "  empty {}\n"
      "}\n");
  const Value* outer = v.Find("outer");
  ASSERT_NE(outer, nullptr);
  EXPECT_EQ(Keys(*outer), (std::vector<std::string>{"middle", "a", "b", "c", "d", "empty"}));
  const Value* deep = outer->Find("middle")->Find("inner")->Find("deep");
  ASSERT_NE(deep, nullptr);
  EXPECT_EQ(deep->kind, Kind::kBool);
  EXPECT_TRUE(deep->boolean);
  EXPECT_EQ(outer->Find("empty")->kind, Kind::kMap);
  EXPECT_TRUE(outer->Find("empty")->map.empty());
}

TEST(ConfigMaps, NewLinesBetweenKeyAndValueInsideAMap) {
  Value v = MustParse("m {\n  a:\n    1\n  b\n  2\n}\n");
  EXPECT_EQ(Int(*v.Find("m"), "a"), 1);
  EXPECT_EQ(Int(*v.Find("m"), "b"), 2);
}

TEST(ConfigMaps, Errors) {
  EXPECT_EQ(ParseError("m { a: 1 b: 2 }"),
            "t.conf:1:9: Expected a map value terminator ',' or a map terminator '}', but got 'b' instead.");
  EXPECT_EQ(ParseError("m {\n  a: 1\n"), "t.conf:3:1: Unexpected EOF processing map.");
  EXPECT_EQ(ParseError("m { a: }"), "t.conf:1:7: Expected a value for key \"a\" but got '}'.");
  EXPECT_EQ(ParseError("m { a: , }"), "t.conf:1:7: Unexpected map value terminator ','.");
  EXPECT_EQ(ParseError("m { ] }"), "t.conf:1:4: Unexpected array end ']' processing map.");
  EXPECT_EQ(ParseError("m { a"), "t.conf:1:5: Unexpected EOF processing map key.");
  EXPECT_NE(ParseError("m { 'a: 1 }").find("Unexpected EOF processing quoted map key."), std::string::npos);
  EXPECT_EQ(ParseError("a: 1 }"),
            "t.conf:1:5: Expected a top-level value to end with a new line, comment or EOF, but got '}' instead.");
}

// ---- arrays -----------------------------------------------------------------

TEST(ConfigArrays, CommasNewLinesAndTrailingComma) {
  for (const char* text : {"a: [1, 2, 3]", "a: [1,2,3]", "a: [ 1, 2, 3, ]", "a: [\n  1\n  2\n  3\n]",
                           "a: [\n  1,\n  2,\n  3,\n]\n", "a [1, 2\n 3]"}) {
    Value v = MustParse(text);
    const Value* a = v.Find("a");
    ASSERT_NE(a, nullptr) << text;
    ASSERT_EQ(a->kind, Kind::kArray) << text;
    ASSERT_EQ(a->array.size(), 3u) << text;
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(a->array[i].kind, Kind::kInteger) << text;
      EXPECT_EQ(a->array[i].integer, i + 1) << text;
    }
  }
}

TEST(ConfigArrays, MixedNestedAndEmpty) {
  Value v = MustParse("a: [1, \"two\", three, 4.5, true, [5, [6]], {x: 7}, 1MB, 2020-01-01T00:00:00Z]\ne: []\n");
  const auto& a = v.Find("a")->array;
  ASSERT_EQ(a.size(), 9u);
  EXPECT_EQ(a[0].integer, 1);
  EXPECT_EQ(a[1].string, "two");
  EXPECT_TRUE(a[1].quoted);
  EXPECT_EQ(a[2].string, "three");
  EXPECT_FALSE(a[2].quoted);
  EXPECT_DOUBLE_EQ(a[3].number, 4.5);
  EXPECT_TRUE(a[4].boolean);
  ASSERT_EQ(a[5].kind, Kind::kArray);
  EXPECT_EQ(a[5].array[1].array[0].integer, 6);
  EXPECT_EQ(Int(a[6], "x"), 7);
  EXPECT_EQ(a[7].integer, 1048576);
  EXPECT_EQ(a[8].kind, Kind::kDateTime);
  EXPECT_EQ(v.Find("e")->kind, Kind::kArray);
  EXPECT_TRUE(v.Find("e")->array.empty());
}

TEST(ConfigArrays, ArrayOfMaps) {
  Value v = MustParse(
      "authorization {\n"
      "  users: [\n"
      "    { user: alice, password: pw,\n"
      "      permissions: { publish: [\"orders.>\"], subscribe: [\"_INBOX.>\"] } }\n"
      "    { nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4 }\n"
      "  ]\n"
      "}\n");
  const Value* users = v.Find("authorization")->Find("users");
  ASSERT_NE(users, nullptr);
  ASSERT_EQ(users->array.size(), 2u);
  EXPECT_EQ(Str(users->array[0], "user"), "alice");
  EXPECT_EQ(users->array[0].Find("permissions")->Find("publish")->array[0].string, "orders.>");
  EXPECT_EQ(Str(users->array[1], "nkey"), "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4");
}

TEST(ConfigArrays, Errors) {
  EXPECT_EQ(ParseError("a: [,1]"), "t.conf:1:4: Unexpected array value terminator ','.");
  EXPECT_EQ(ParseError("a: [1,,2]"), "t.conf:1:6: Unexpected array value terminator ','.");
  EXPECT_EQ(ParseError("a: [1\n, 2]"), "t.conf:2:1: Unexpected array value terminator ','.");
  EXPECT_EQ(ParseError("a: [1 2]"),
            "t.conf:1:6: Expected an array value terminator ',' or an array terminator ']', but got '2' instead.");
  EXPECT_EQ(ParseError("a: [1, 2"), "t.conf:1:8: Unexpected EOF processing array.");
  EXPECT_EQ(ParseError("a: [1; 2]"),
            "t.conf:1:5: Expected an array value terminator ',' or an array terminator ']', but got ';' instead.");
}

// ---- strings ----------------------------------------------------------------

TEST(ConfigStrings, BareWords) {
  Value v = MustParse("a: hello\nb: nats://host:4222\nc: foo.bar.>\nd: x#y\ne: a=b:c\n");
  EXPECT_EQ(Str(v, "a"), "hello");
  EXPECT_FALSE(v.Find("a")->quoted);
  EXPECT_EQ(Str(v, "b"), "nats://host:4222");
  EXPECT_EQ(Str(v, "c"), "foo.bar.>");
  EXPECT_EQ(Str(v, "d"), "x#y");
  EXPECT_EQ(Str(v, "e"), "a=b:c");
}

TEST(ConfigStrings, DoubleQuotedWithEscapes) {
  Value v = MustParse(R"(a: "x\ty\nz\"q\\w\x41\r")");
  EXPECT_EQ(Str(v, "a"), "x\ty\nz\"q\\wA\r");
  EXPECT_TRUE(v.Find("a")->quoted);
  v = MustParse("a: \"two\nlines\"\nb: \"\"\n");
  EXPECT_EQ(Str(v, "a"), "two\nlines");
  EXPECT_EQ(Str(v, "b"), "");
  EXPECT_TRUE(v.Find("b")->quoted);
  v = MustParse("a: \"\xC3\xA9t\xC3\xA9\"");  // UTF-8 passes through
  EXPECT_EQ(Str(v, "a"), "\xC3\xA9t\xC3\xA9");
}

TEST(ConfigStrings, EscapeErrors) {
  // nats-server 2.9.10 knows \xXX \t \n \r \" \\ only: \u is rejected there too.
  EXPECT_EQ(ParseError(R"(a: "\u0041")"),
            "t.conf:1:5: Invalid escape character 'u'. Only the following escape characters are allowed: "
            "\\xXX, \\t, \\n, \\r, \\\", \\\\.");
  EXPECT_EQ(ParseError(R"(a: "\x4g")"), "t.conf:1:6: Expected two hexadecimal digits after '\\x', but got '4g'.");
  EXPECT_NE(ParseError("a: \"\\x4\n\"").find("but hit end of line"), std::string::npos);
}

TEST(ConfigStrings, SingleQuotedHasNoEscapes) {
  Value v = MustParse(R"(a: 'no \escapes $HOME "here"')");
  EXPECT_EQ(Str(v, "a"), R"(no \escapes $HOME "here")");
  EXPECT_TRUE(v.Find("a")->quoted);
}

TEST(ConfigStrings, BareWordsTakeEscapesToo) {
  Value v = MustParse(R"(a: x\ty)");
  EXPECT_EQ(Str(v, "a"), "x\ty");
  EXPECT_FALSE(v.Find("a")->quoted);
}

TEST(ConfigStrings, Unterminated) {
  EXPECT_EQ(ParseError("a: \"abc"), "t.conf:1:7: Unexpected EOF in quoted string.");
  EXPECT_EQ(ParseError("a: 'abc\n"), "t.conf:2:1: Unexpected EOF in quoted string.");
  EXPECT_EQ(ParseError("a: 'abc'def"),
            "t.conf:1:8: Expected a top-level value to end with a new line, comment or EOF, but got 'd' instead.");
}

// ---- raw block ---------------------------------------------------------------

TEST(ConfigBlock, RawMultiLineBlock) {
  Value v = MustParse(
      "a (\n"
      "line one\n"
      "  line two)\n"
      "  )\n"
      ") not the end\n"
      ")\n"
      "b: 1\n");
  EXPECT_EQ(Str(v, "a"), "\nline one\n  line two)\n  )\n) not the end\n");
  EXPECT_TRUE(v.Find("a")->quoted);
  EXPECT_EQ(Int(v, "b"), 1);
}

TEST(ConfigBlock, WithSeparatorAndAtEndOfFile) {
  Value v = MustParse("a: (\n$NOT_A_VAR \"raw\" # not a comment\n)");
  EXPECT_EQ(Str(v, "a"), "\n$NOT_A_VAR \"raw\" # not a comment\n");
  v = MustParse("a (\n)\n");
  EXPECT_EQ(Str(v, "a"), "\n");
}

TEST(ConfigBlock, Unterminated) {
  EXPECT_EQ(ParseError("a (\nx\n  )\n"), "t.conf:4:1: Unexpected EOF processing block.");
  EXPECT_EQ(ParseError("a (x)"), "t.conf:1:5: Unexpected EOF processing block.");
}

// ---- booleans and datetimes ------------------------------------------------

TEST(ConfigScalars, Booleans) {
  Value v = MustParse("a: true\nb: FALSE\nc: yes\nd: No\ne: on\nf: OFF\ng: \"true\"\nh: truex\ni: True\n");
  for (auto [key, expected] : std::vector<std::pair<const char*, bool>>{
           {"a", true}, {"b", false}, {"c", true}, {"d", false}, {"e", true}, {"f", false}, {"i", true}}) {
    const Value* b = v.Find(key);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->kind, Kind::kBool) << key;
    EXPECT_EQ(b->boolean, expected) << key;
  }
  EXPECT_EQ(Str(v, "g"), "true");
  EXPECT_EQ(Str(v, "h"), "truex");
}

TEST(ConfigScalars, DateTime) {
  Value v = MustParse("d: 2006-01-02T15:04:05Z\nleap: 2024-02-29T00:00:00Z\n");
  const Value* d = v.Find("d");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->kind, Kind::kDateTime);
  EXPECT_EQ(d->string, "2006-01-02T15:04:05Z");
  EXPECT_EQ(d->integer, 1136214245);
  EXPECT_EQ(v.Find("leap")->kind, Kind::kDateTime);
}

TEST(ConfigScalars, DateTimeErrors) {
  EXPECT_EQ(ParseError("d: 2006-13-02T15:04:05Z"),
            "t.conf:1:3: expected Zulu formatted DateTime, but got '2006-13-02T15:04:05Z'");
  EXPECT_EQ(ParseError("d: 2023-02-29T00:00:00Z"),
            "t.conf:1:3: expected Zulu formatted DateTime, but got '2023-02-29T00:00:00Z'");
  EXPECT_EQ(ParseError("d: 2006-01-02 15:04:05Z"),
            "t.conf:1:13: Expected 'T' in ISO8601 datetime, but found ' ' instead.");
  EXPECT_EQ(ParseError("d: 2006-01-02T15:04:05"),
            "t.conf:1:22: Expected 'Z' in ISO8601 datetime, but found 'EOF' instead.");
  EXPECT_EQ(ParseError("d: 123-45"), "t.conf:1:6: All ISO8601 dates must be in full Zulu form.");
}

// ---- numbers, sizes ----------------------------------------------------------

TEST(ConfigNumbers, SizeSuffixes) {
  const int64_t K = 1000, Ki = 1024;
  const std::vector<std::pair<std::string, int64_t>> cases = {
      {"0", 0},
      {"42", 42},
      {"-5", -5},
      {"1k", K},
      {"1K", K},
      {"1kb", Ki},
      {"1KB", Ki},
      {"1ki", Ki},
      {"1Ki", Ki},
      {"1kib", Ki},
      {"1KiB", Ki},
      {"1m", K * K},
      {"1M", K * K},
      {"1mb", Ki * Ki},
      {"1MB", Ki * Ki},
      {"1mi", Ki * Ki},
      {"1MiB", Ki * Ki},
      {"64MB", 64 * Ki * Ki},
      {"1g", K * K * K},
      {"10GB", 10 * Ki * Ki * Ki},
      {"1gib", Ki * Ki * Ki},
      {"1t", K * K * K * K},
      {"1tb", Ki * Ki * Ki * Ki},
      {"1p", K * K * K * K * K},
      {"1pb", Ki * Ki * Ki * Ki * Ki},
      {"1e", K * K * K * K * K * K},
      {"1eb", Ki * Ki * Ki * Ki * Ki * Ki},
      {"7EiB", 7 * Ki * Ki * Ki * Ki * Ki * Ki},
      {"-2k", -2 * K},
      {"-1MB", -Ki * Ki},
      {"2m", 2000000},
      {"9223372036854775807", INT64_MAX},
      {"-9223372036854775808", INT64_MIN},
  };
  for (const auto& [text, expected] : cases) {
    Value v = MustParse("n: " + text + "\n");
    EXPECT_EQ(Int(v, "n"), expected) << text;
    v = MustParse("m {n: " + text + "}");  // ends at '}'
    EXPECT_EQ(Int(*v.Find("m"), "n"), expected) << text;
  }
}

TEST(ConfigNumbers, OutOfRange) {
  EXPECT_EQ(ParseError("n: 99999999999999999999"), "t.conf:1:3: integer '99999999999999999999' is out of the range");
  EXPECT_EQ(ParseError("n: 8EB"), "t.conf:1:3: integer '8EB' is out of the range");
  EXPECT_EQ(ParseError("n: 10e"), "t.conf:1:3: integer '10e' is out of the range");
}

TEST(ConfigNumbers, WordsThatStartWithDigitsAreStrings) {
  Value v = MustParse("a: 10s\nb: 500ms\nc: 2h\nd: 10us\ne: 10\xC2\xB5s\nf: 1min\ng: 3rd\nh: -5ms\ni: 1true\n");
  EXPECT_EQ(Str(v, "a"), "10s");
  EXPECT_EQ(Str(v, "b"), "500ms");
  EXPECT_EQ(Str(v, "c"), "2h");
  EXPECT_EQ(Str(v, "d"), "10us");
  EXPECT_EQ(Str(v, "e"), "10\xC2\xB5s");
  EXPECT_EQ(Str(v, "f"), "1min");
  EXPECT_EQ(Str(v, "g"), "3rd");
  EXPECT_EQ(Str(v, "h"), "-5ms");
  EXPECT_EQ(Str(v, "i"), "1true");
}

TEST(ConfigNumbers, SuffixFollowedByDigitsIsAnError) {
  // `1m30s` lexes as the integer 1m followed by junk, as in nats-server.
  EXPECT_EQ(ParseError("ping_interval: 1m30s"),
            "t.conf:1:17: Expected a top-level value to end with a new line, comment or EOF, but got '3' instead.");
  EXPECT_NE(ParseError("n: 1kbb").find("invalid size suffix"), std::string::npos);
}

TEST(ConfigNumbers, FloatsAndAddresses) {
  Value v = MustParse("a: 1.5\nb: -0.25\nc: 127.0.0.1:4222\nd: 0.0.0.0\ne: 3.0\n");
  ASSERT_EQ(v.Find("a")->kind, Kind::kFloat);
  EXPECT_DOUBLE_EQ(v.Find("a")->number, 1.5);
  EXPECT_DOUBLE_EQ(v.Find("b")->number, -0.25);
  EXPECT_EQ(Str(v, "c"), "127.0.0.1:4222");
  EXPECT_EQ(Str(v, "d"), "0.0.0.0");
  EXPECT_EQ(v.Find("e")->kind, Kind::kFloat);
}

TEST(ConfigNumbers, Errors) {
  EXPECT_EQ(ParseError("a: 1.5s"),
            "t.conf:1:6: Expected a top-level value to end with a new line, comment or EOF, but got 's' instead.");
  EXPECT_EQ(ParseError("a: .5"), "t.conf:1:3: Floats must start with a digit.");
  EXPECT_EQ(ParseError("a: 1.x"), "t.conf:1:5: Floats must have a digit after the '.', but got 'x' instead.");
  EXPECT_EQ(ParseError("a: -x"), "t.conf:1:4: Expected a digit but got 'x'.");
  EXPECT_EQ(ParseError("a: -.5"), "t.conf:1:4: Floats must start with a digit, not '.'.");
  EXPECT_EQ(ParseError("a: -5s"),
            "t.conf:1:5: Expected a top-level value to end with a new line, comment or EOF, but got 's' instead.");
}

// ---- positions -----------------------------------------------------------------

TEST(ConfigPositions, NatsServerColumnConvention) {
  // Line 1 counts from 0, later lines from 1 (nats-server: "a.conf:1:0",
  // "a.conf:2:1" for keys at the start of lines 1 and 2).
  Value v = MustParse("port: 4222\n  foo: 1\n\tbar: \"x\"\n");
  ASSERT_EQ(v.key_positions.size(), 3u);
  EXPECT_EQ(v.key_positions[0].ToString(), "t.conf:1:0");
  EXPECT_EQ(v.key_positions[1].ToString(), "t.conf:2:3");
  EXPECT_EQ(v.key_positions[2].ToString(), "t.conf:3:2");
  EXPECT_EQ(v.Find("port")->position.ToString(), "t.conf:1:6");
  EXPECT_EQ(v.Find("port")->key_position.ToString(), "t.conf:1:0");
  EXPECT_EQ(v.Find("foo")->position.ToString(), "t.conf:2:8");
  EXPECT_EQ(v.Find("bar")->position.ToString(), "t.conf:3:8");  // after the quote, like nats-server
}

TEST(ConfigPositions, MatchNatsServerReports) {
  // nats-server: "a5.conf:2:14: unknown field "foo"".
  Value v = MustParse("authorization {\n\ttimeout: 1, foo: 2\n}");
  const Value* auth = v.Find("authorization");
  ASSERT_EQ(auth->key_positions.size(), 2u);
  EXPECT_EQ(auth->key_positions[1].line, 2);
  EXPECT_EQ(auth->key_positions[1].column, 14);
  // nats-server: "1:24: Expected user entry to be a map/struct, got 1" and 1:27.
  v = MustParse("authorization { users: [1, 2 ] }");
  const auto& users = v.Find("authorization")->Find("users")->array;
  EXPECT_EQ(users[0].position.ToString(), "t.conf:1:24");
  EXPECT_EQ(users[1].position.ToString(), "t.conf:1:27");
  // nats-server: "a4.conf:3:4: unknown field "foo"".
  v = MustParse("X: 5\nauthorization {\n   foo: 1\n}");
  EXPECT_EQ(v.Find("authorization")->key_positions[0].ToString(), "t.conf:3:4");
}

// ---- includes ------------------------------------------------------------------

TEST(ConfigInclude, MergesAtThatPointRelativeToTheIncludingFile) {
  TempDir dir;
  dir.Write("sub/inc.conf", "b: 2\na: 10\ninclude deeper.conf\n");
  dir.Write("sub/deeper.conf", "d: 4\n");
  const std::string main = dir.Write("main.conf", "a: 1\ninclude sub/inc.conf\nc: 3\n");
  Value v;
  std::string error;
  ASSERT_TRUE(ParseFile(main, v, error)) << error;
  EXPECT_EQ(Keys(v), (std::vector<std::string>{"a", "b", "a", "d", "c"}));
  EXPECT_EQ(Int(v, "a"), 10);  // the include overrides what came before it
  EXPECT_EQ(v.key_positions[1].file, dir.path() + "/sub/inc.conf");
  EXPECT_EQ(v.key_positions[1].line, 1);
  EXPECT_EQ(v.key_positions[3].file, dir.path() + "/sub/deeper.conf");
  EXPECT_EQ(v.key_positions[4].file, main);
}

TEST(ConfigInclude, LaterKeysOverrideTheInclude) {
  TempDir dir;
  dir.Write("inc.conf", "port: 1\n");
  Value v = MustParse("include inc.conf\nport: 5\n", dir.path());
  EXPECT_EQ(Int(v, "port"), 5);
}

TEST(ConfigInclude, QuotedFormsKeywordCaseAndInsideMaps) {
  TempDir dir;
  dir.Write("inc.conf", "x: 1\n");
  for (const char* text : {"include \"inc.conf\"", "include 'inc.conf'", "INCLUDE inc.conf", "include inc.conf ; y: 2",
                           "include\tinc.conf # comment"}) {
    Value v = MustParse(text, dir.path());
    EXPECT_EQ(Int(v, "x"), 1) << text;
  }
  Value v = MustParse("m {\n  include inc.conf\n  z: 3\n}\n", dir.path());
  EXPECT_EQ(Keys(*v.Find("m")), (std::vector<std::string>{"x", "z"}));
  v = MustParse("m { include inc.conf }", dir.path());
  EXPECT_EQ(Int(*v.Find("m"), "x"), 1);
  // `include:` with a separator is an ordinary key.
  v = MustParse("include: 5", dir.path());
  EXPECT_EQ(Int(v, "include"), 5);
}

TEST(ConfigInclude, MissingFileIsAnError) {
  TempDir dir;
  const std::string main = dir.Write("main.conf", "a: 1\ninclude nope.conf\n");
  Value v;
  std::string error;
  ASSERT_FALSE(ParseFile(main, v, error));
  EXPECT_EQ(error, main + ":2:1: error parsing include file 'nope.conf', open " + dir.path() +
                       "/nope.conf: no such file or directory");
  // A directory is not a config file either.
  dir.Write("adir/x.conf", "");
  EXPECT_NE(ParseError("include adir", dir.path()).find("not a regular file"), std::string::npos);
}

// Found by fuzz_config_file: the name was cut at the NUL and another file opened.
TEST(ConfigInclude, PathWithNulIsRefusedAtTheInclude) {
  TempDir dir;
  dir.Write("sub.conf", "a: 1\n");
  const std::string main = dir.Write("main.conf", std::string("b: 2\ninclude sub.conf\0/x\n", 25));
  Value v;
  std::string error;
  ASSERT_FALSE(ParseFile(main, v, error));
  EXPECT_EQ(error, main + ":2:1: error parsing include file, the path contains a NUL byte");
}

TEST(ConfigInclude, LoopsAreDetected) {
  TempDir dir;
  const std::string a = dir.Write("a.conf", "x: 1\ninclude b.conf\n");
  const std::string b = dir.Write("b.conf", "y: 2\ninclude a.conf\n");
  Value v;
  std::string error;
  ASSERT_FALSE(ParseFile(a, v, error));
  EXPECT_EQ(error.rfind(b + ":2:1: include loop: 'a.conf'", 0), 0u) << error;
  EXPECT_NE(error.find(a + " -> " + b + " -> " + a), std::string::npos) << error;

  const std::string self = dir.Write("self.conf", "include ./self.conf\n");
  ASSERT_FALSE(ParseFile(self, v, error));
  EXPECT_NE(error.find("include loop: './self.conf'"), std::string::npos) << error;

  // The same file twice in a row is not a loop.
  dir.Write("leaf.conf", "z: 3\n");
  v = MustParse("include leaf.conf\ninclude leaf.conf\n", dir.path());
  EXPECT_EQ(v.map.size(), 2u);
}

TEST(ConfigInclude, ErrorsInsideTheIncludedFileCarryItsPosition) {
  TempDir dir;
  const std::string inc = dir.Write("inc.conf", "ok: 1\nbad: [1 2]\n");
  const std::string main = dir.Write("main.conf", "include inc.conf\n");
  Value v;
  std::string error;
  ASSERT_FALSE(ParseFile(main, v, error));
  EXPECT_EQ(error.rfind(inc + ":2:9: Expected an array value terminator", 0), 0u) << error;
  EXPECT_NE(error.find("(in file included from " + main + ":1:0)"), std::string::npos) << error;
}

TEST(ConfigInclude, IncludeValueErrors) {
  EXPECT_EQ(ParseError("include [a]"), "t.conf:1:8: Expected include value but found start of an array.");
  EXPECT_EQ(ParseError("include {a}"), "t.conf:1:8: Expected include value but found start of a map.");
  EXPECT_EQ(ParseError("include 5"), "t.conf:1:8: Expected include value but found start of a number.");
  EXPECT_EQ(ParseError("include \n x"), "t.conf:1:8: Expected include value but found new line.");
  EXPECT_EQ(ParseError("include \"x"), "t.conf:1:10: Unexpected EOF in double quoted include.");
}

TEST(ConfigInclude, AbsolutePathsAreJoinedLikeNatsServer) {
  // nats-server joins the include path to the including file's directory
  // even when it starts with '/'.
  TempDir dir;
  dir.Write("etc/x.conf", "x: 1\n");
  Value v = MustParse("include /etc/x.conf", dir.path());
  EXPECT_EQ(Int(v, "x"), 1);
}

// ---- variables -----------------------------------------------------------------

TEST(ConfigVariables, ReferencedDefinitionsAreRemoved) {
  Value v = MustParse("PORT: 4222\nport: $PORT\nUNUSED: 1\n");
  EXPECT_EQ(Keys(v), (std::vector<std::string>{"port", "UNUSED"}));
  EXPECT_EQ(Int(v, "port"), 4222);
  EXPECT_EQ(v.key_positions.size(), 2u);
  EXPECT_EQ(v.key_positions[0].ToString(), "t.conf:2:1");
  EXPECT_EQ(v.Find("port")->position.ToString(), "t.conf:2:7");  // where $PORT is
}

TEST(ConfigVariables, KeepOptionFlagsInstead) {
  Value v;
  std::string error;
  ParseOptions options;
  options.keep_referenced_variables = true;
  ASSERT_TRUE(ParseText("port: 4222\nhttp_port: $port\n", "t.conf", ".", v, error, options)) << error;
  EXPECT_EQ(Keys(v), (std::vector<std::string>{"port", "http_port"}));
  EXPECT_TRUE(v.Find("port")->referenced);
  EXPECT_FALSE(v.Find("http_port")->referenced);
  EXPECT_EQ(Int(v, "http_port"), 4222);
}

TEST(ConfigVariables, BlockScopingWalksOutwards) {
  Value v = MustParse(
      "X: 1\n"
      "m { X: 2, a: $X, n { b: $X } }\n"
      "c: $X\n"
      "arr: [ {X: 3, d: $X}, {e: $X} ]\n");
  const Value* m = v.Find("m");
  EXPECT_EQ(Int(*m, "a"), 2);
  EXPECT_EQ(Int(*m->Find("n"), "b"), 2);
  EXPECT_EQ(Int(v, "c"), 1);
  const auto& arr = v.Find("arr")->array;
  EXPECT_EQ(Int(arr[0], "d"), 3);
  EXPECT_EQ(Int(arr[1], "e"), 1);
  // Every referenced X is gone.
  EXPECT_EQ(v.Find("X"), nullptr);
  EXPECT_EQ(m->Find("X"), nullptr);
  EXPECT_EQ(arr[0].Find("X"), nullptr);
}

TEST(ConfigVariables, ValuesOfAnyKind) {
  Value v = MustParse("M: {a: 1, b: [x, y]}\nm: $M\nS: 1MB\ns: $S\nB: off\nb: $B\n");
  EXPECT_EQ(Int(*v.Find("m"), "a"), 1);
  EXPECT_EQ(v.Find("m")->Find("b")->array[1].string, "y");
  EXPECT_EQ(Int(v, "s"), 1048576);
  EXPECT_EQ(v.Find("b")->kind, Kind::kBool);
  EXPECT_EQ(Keys(v), (std::vector<std::string>{"m", "s", "b"}));
}

TEST(ConfigVariables, RedefinitionAfterUseStays) {
  // nats-server: "a7.conf:3:1: unknown field "X"": the first X was used, the second not.
  Value v = MustParse("X: 1\nping_max: $X\nX: 2\n");
  EXPECT_EQ(Int(v, "ping_max"), 1);
  EXPECT_EQ(Keys(v), (std::vector<std::string>{"ping_max", "X"}));
  EXPECT_EQ(v.key_positions[1].ToString(), "t.conf:3:1");
}

TEST(ConfigVariables, QuotedReferenceIsALiteral) {
  Value v = MustParse("X: 1\na: \"$X\"\nb: '$X'\n");
  EXPECT_EQ(Str(v, "a"), "$X");
  EXPECT_EQ(Str(v, "b"), "$X");
  EXPECT_NE(v.Find("X"), nullptr);  // not referenced, so it stays
}

TEST(ConfigVariables, UndefinedOrUsedBeforeDefinition) {
  EXPECT_EQ(ParseError("a: $X\nX: 1\n"), "t.conf:1:3: variable reference for 'X' on line 1 can not be found");
  EXPECT_EQ(ParseError("a: 1\nb: $SLUICE_CONFIG_TEST_UNDEFINED\n"),
            "t.conf:2:4: variable reference for 'SLUICE_CONFIG_TEST_UNDEFINED' on line 2 can not be found");
  // An inner definition is not visible outside its block.
  EXPECT_EQ(ParseError("m { Y: 1 }\nb: $Y\n"), "t.conf:2:4: variable reference for 'Y' on line 2 can not be found");
  EXPECT_EQ(ParseError("a: [1, $Z]"), "t.conf:1:7: variable reference for 'Z' on line 1 can not be found");
}

TEST(ConfigVariables, Environment) {
  ::setenv("SLUICE_CONFIG_TEST_PORT", "4333", 1);
  ::setenv("SLUICE_CONFIG_TEST_SIZE", "1MB", 1);
  ::setenv("SLUICE_CONFIG_TEST_WORD", "hello", 1);
  ::setenv("SLUICE_CONFIG_TEST_BAD", "a b", 1);
  ::setenv("SLUICE_CONFIG_TEST_SHADOW", "1", 1);
  ::setenv("SLUICE_CONFIG_TEST_NESTED", "$SLUICE_CONFIG_TEST_PORT", 1);
  ::setenv("SLUICE_CONFIG_TEST_CYCLE_A", "$SLUICE_CONFIG_TEST_CYCLE_B", 1);
  ::setenv("SLUICE_CONFIG_TEST_CYCLE_B", "$SLUICE_CONFIG_TEST_CYCLE_A", 1);
  Value v = MustParse(
      "port: $SLUICE_CONFIG_TEST_PORT\n"
      "size: $SLUICE_CONFIG_TEST_SIZE\n"
      "word: $SLUICE_CONFIG_TEST_WORD\n"
      "SLUICE_CONFIG_TEST_SHADOW: 2\n"
      "shadow: $SLUICE_CONFIG_TEST_SHADOW\n"
      "nested: $SLUICE_CONFIG_TEST_NESTED\n"
      "m { inner: $SLUICE_CONFIG_TEST_PORT }\n");
  EXPECT_EQ(Int(v, "port"), 4333);
  EXPECT_EQ(Int(v, "size"), 1048576);
  EXPECT_EQ(Str(v, "word"), "hello");
  EXPECT_EQ(Int(v, "shadow"), 2);  // the file's definition wins over the environment
  EXPECT_EQ(Int(v, "nested"), 4333);
  EXPECT_EQ(Int(*v.Find("m"), "inner"), 4333);
  EXPECT_EQ(v.Find("port")->position.ToString(), "t.conf:1:6");

  EXPECT_EQ(ParseError("a: 1\nmax_pending: $SLUICE_CONFIG_TEST_BAD\n"),
            "t.conf:2:14: variable reference for 'SLUICE_CONFIG_TEST_BAD' on line 2 could not be parsed: "
            "Expected a top-level value to end with a new line, comment or EOF, but got 'b' instead.");
  EXPECT_NE(ParseError("a: $SLUICE_CONFIG_TEST_CYCLE_A").find("variable reference cycle"), std::string::npos);
}

TEST(ConfigVariables, BcryptHashIsAString) {
  Value v = MustParse("password: $2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG\n");
  EXPECT_EQ(Str(v, "password"), "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG");
}

TEST(ConfigVariables, IncludedDefinitionsAndScopes) {
  TempDir dir;
  dir.Write("vars.conf", "PORT: 4222\nLOCAL: 7\nuses_local: $LOCAL\n");
  Value v = MustParse("include vars.conf\nport: $PORT\n", dir.path());
  EXPECT_EQ(Keys(v), (std::vector<std::string>{"uses_local", "port"}));
  EXPECT_EQ(Int(v, "port"), 4222);
  EXPECT_EQ(Int(v, "uses_local"), 7);
  // An included file does not see the including file's variables.
  dir.Write("needs.conf", "y: $SLUICE_CONFIG_TEST_PARENT_ONLY\n");
  std::string error = ParseError("SLUICE_CONFIG_TEST_PARENT_ONLY: 1\ninclude needs.conf\n", dir.path());
  EXPECT_EQ(error.rfind(dir.path() + "/needs.conf:1:3: variable reference for 'SLUICE_CONFIG_TEST_PARENT_ONLY'", 0),
            0u)
      << error;
}

// ---- files --------------------------------------------------------------------

TEST(ConfigFile, ParseFileAndMissingFile) {
  TempDir dir;
  const std::string path = dir.Write("server.conf",
                                     "server_name: n1\n"
                                     "port: 4222\n"
                                     "max_payload: 1MB\n"
                                     "ping_interval: \"2m\"\n"
                                     "jetstream {\n  store_dir: \"/data/js\"\n  max_mem: 1GB\n}\n");
  Value v;
  std::string error;
  ASSERT_TRUE(ParseFile(path, v, error)) << error;
  EXPECT_EQ(Str(v, "server_name"), "n1");
  EXPECT_EQ(Int(*v.Find("jetstream"), "max_mem"), int64_t{1} << 30);
  EXPECT_EQ(v.key_positions[0].file, path);

  ASSERT_FALSE(ParseFile(dir.path() + "/missing.conf", v, error));
  EXPECT_EQ(error.rfind(dir.path() + "/missing.conf:0:0: error opening config file", 0), 0u) << error;
}

TEST(ConfigFile, DeepNestingIsAnErrorNotACrash) {
  EXPECT_NE(ParseError("a: " + std::string(100000, '[')).find("nested too deeply"), std::string::npos);
  std::string maps;
  for (int i = 0; i < 50000; ++i) maps += "a {";
  EXPECT_NE(ParseError(maps).find("nested too deeply"), std::string::npos);
}

}  // namespace
}  // namespace sluice::config
