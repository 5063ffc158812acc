// Random input must be accepted or rejected, never crash or hang. (The CTest
// TIMEOUT of the suite catches a hang.)
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "config/config_file.h"
#include "test_util.h"

namespace sluice::config {
namespace {

using testing::TempDir;

const char kValid[] =
    "# sample\n"
    "server_name: n1\nport = 4222; host 0.0.0.0\n"
    "max_payload: 1MB, max_pending: 64mb\n"
    "ping_interval: \"2m\"\nwrite_deadline: 10s\n"
    "VAR: 5\nping_max: $VAR\n"
    "when: 2006-01-02T15:04:05Z\nratio: -1.5\naddr: 127.0.0.1:4222\n"
    "authorization {\n  users: [\n    { user: a, password: 'p w', permissions: { publish: [\"a.>\", b] } }\n"
    "    { user: \"b\\tc\\x41\", password: $2a$11$abc }\n  ]\n  timeout: 2 // seconds\n}\n"
    "include inc.conf\n"
    "text (\nraw $NOT { [ \"\n)\n"
    "flags: [yes, No, on, OFF, true]\n";

void CheckNoCrash(const std::string& text, const std::string& dir) {
  Value v;
  std::string error;
  bool ok = ParseText(text, "fuzz.conf", dir, v, error);
  if (!ok) {
    EXPECT_FALSE(error.empty());
  } else {
    EXPECT_EQ(v.kind, Value::Kind::kMap);
    EXPECT_EQ(v.map.size(), v.key_positions.size());
  }
}

TEST(ConfigFuzz, ValidSampleParses) {
  TempDir dir;
  dir.Write("inc.conf", "included: true\n");
  Value v;
  std::string error;
  ASSERT_TRUE(ParseText(kValid, "fuzz.conf", dir.path(), v, error)) << error;
  EXPECT_NE(v.Find("included"), nullptr);
  EXPECT_EQ(v.Find("VAR"), nullptr);
}

TEST(ConfigFuzz, RandomBytes) {
  TempDir dir;
  std::mt19937 rng(12345);
  for (int i = 0; i < 3000; ++i) {
    std::string text(rng() % 200, '\0');
    for (auto& c : text) c = static_cast<char>(rng() & 0xFF);
    CheckNoCrash(text, dir.path());
  }
}

TEST(ConfigFuzz, RandomSyntaxSoup) {
  TempDir dir;
  dir.Write("inc.conf", "x: 1\ninclude inc.conf\n");  // a loop, if reached
  static const char kAlphabet[] = "{}[]()\"'$#/\\:=,;. \t\n\n\r-0123456789kmMbBiIeTZxsaAyesnotrufl";
  std::mt19937 rng(777);
  for (int i = 0; i < 5000; ++i) {
    std::string text(rng() % 120, '\0');
    for (auto& c : text) c = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
    if (rng() % 8 == 0) text = "include inc.conf\n" + text;
    CheckNoCrash(text, dir.path());
  }
}

TEST(ConfigFuzz, MutationsOfAValidFile) {
  TempDir dir;
  dir.Write("inc.conf", "included: true\n");
  static const char kSpecial[] = "{}[]()\"'$#/\\:=,;\n \t-.0kmb";
  std::mt19937 rng(4242);
  const std::string base = kValid;
  for (int i = 0; i < 5000; ++i) {
    std::string text = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const size_t at = rng() % text.size();
      switch (rng() % 4) {
        case 0: text.erase(at, 1 + rng() % 8); break;
        case 1: text.insert(at, 1, kSpecial[rng() % (sizeof(kSpecial) - 1)]); break;
        case 2: text[at] = static_cast<char>(rng() & 0xFF); break;
        case 3: text.resize(at); break;  // truncation
      }
    }
    CheckNoCrash(text, dir.path());
  }
}

}  // namespace
}  // namespace sluice::config
