// libFuzzer target for the nats-server-format config file parser
// (config/config_file.h). The input is the file text, parsed as "fuzz.conf".
//
// Includes resolve inside a private temp dir (the include root) that holds a
// few fixed files: inc.conf (a valid map), bad.conf (a syntax error),
// self.conf (includes itself) and sub/up.conf (includes ../inc.conf). An
// include path always joins onto the including file's directory, so only ".."
// can leave the root: when the text mentions "include", every ".." is turned
// into "._" before parsing. The root is removed at exit.
//
// Checks (any failure aborts):
//   - an error is "<file>:<line>:<col>: <message>" with the file fuzz.conf or
//     one under the root, the line inside that file and the column inside it;
//   - a parse succeeds or fails the same with and without
//     keep_referenced_variables, and every map has one key position per key;
//   - ToDuration / ToSize on every value return without crashing.
// Hangs are caught by libFuzzer's -timeout (the Makefile passes one).
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "config/config_file.h"

namespace {

using sluice::config::Value;

std::string g_root;  // the include root

void RemoveRoot() {
  std::error_code ec;
  if (!g_root.empty()) std::filesystem::remove_all(g_root, ec);
}

void WriteFile(const std::string& rel, const std::string& text) {
  std::ofstream(g_root + "/" + rel, std::ios::binary) << text;
}

[[noreturn]] void Fail(const std::string& what, std::string_view text) {
  std::fprintf(stderr, "fuzz_config_file: %s\n  input (%zu bytes): %.*s\n", what.c_str(), text.size(),
               static_cast<int>(text.size() < 400 ? text.size() : 400), text.data());
  std::abort();
}

// The text of the file an error names: the input, or one of the fixed files.
bool TextOf(const std::string& file, std::string_view input, std::string& out) {
  if (file == "fuzz.conf") {
    out.assign(input);
    return true;
  }
  if (file.rfind(g_root + "/", 0) != 0) return false;
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

// "<file>:<line>:<col>: message": file known, line and column inside it.
void CheckErrorPosition(const std::string& error, std::string_view input) {
  const size_t colon = error.find(':');
  if (colon == std::string::npos || colon == 0) Fail("error without a position: " + error, input);
  const std::string file = error.substr(0, colon);
  size_t p = colon + 1;
  auto number = [&](char end) -> long {
    size_t start = p;
    while (p < error.size() && error[p] >= '0' && error[p] <= '9' && p - start < 10) ++p;
    if (p == start || p >= error.size() || error[p] != end) Fail("malformed error position: " + error, input);
    long n = std::strtol(error.c_str() + start, nullptr, 10);
    ++p;
    return n;
  };
  const long line = number(':');
  const long column = number(':');
  if (p >= error.size() || error[p] != ' ' || p + 1 >= error.size()) Fail("error without a message: " + error, input);
  std::string text;
  if (!TextOf(file, input, text)) Fail("error names an unknown file: " + error, input);
  // Lines are 1-based; the column is a byte offset from the preceding '\n'
  // (from the start of the text on line 1). The end of the text is a position.
  long lines = 1;
  for (char c : text) lines += c == '\n';
  if (line < 1 || line > lines) Fail("error line outside the file: " + error, input);
  size_t start = 0;  // the offset of column 0: the text's start, then each '\n'
  for (long l = 1; l < line; ++l) start = text.find('\n', l == 1 ? 0 : start + 1);
  size_t end = text.find('\n', line == 1 ? 0 : start + 1);
  if (end == std::string::npos) end = text.size();
  if (column < 0 || static_cast<size_t>(column) > end - start + 1) {
    Fail("error column outside its line: " + error, input);
  }
}

void Walk(const Value& v, std::string_view key, std::string_view input, int depth) {
  if (depth > 1000) Fail("tree deeper than the nesting limit", input);
  std::chrono::nanoseconds d{};
  std::string warning, error;
  (void)sluice::config::ToDuration(v, key, d, warning, error);
  int64_t size = 0;
  (void)sluice::config::ToSize(v, size, error);
  if (v.kind == Value::Kind::kMap) {
    if (v.key_positions.size() != v.map.size()) Fail("key positions do not match the keys", input);
    for (const auto& [k, child] : v.map) Walk(child, k, input, depth + 1);
  }
  for (const auto& child : v.array) Walk(child, key, input, depth + 1);
}

bool MentionsInclude(std::string_view s) {
  static constexpr std::string_view kWord = "include";
  for (size_t i = 0; i + kWord.size() <= s.size(); ++i) {
    size_t k = 0;
    while (k < kWord.size() && (s[i + k] | 0x20) == kWord[k]) ++k;
    if (k == kWord.size()) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/sluice-fuzz-config-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  g_root = tmpl;
  std::atexit(RemoveRoot);
  ::mkdir((g_root + "/sub").c_str(), 0700);
  WriteFile("inc.conf", "included: true\nlimits { max: 1MB, list: [1, \"two\", 3.5] }\n");
  WriteFile("bad.conf", "ok: 1\nbroken: {\n");
  WriteFile("self.conf", "include self.conf\n");
  WriteFile("sub/up.conf", "include ../inc.conf\nup: 1\n");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (MentionsInclude(text)) {
    for (size_t i = 0; i + 1 < text.size(); ++i) {
      if (text[i] == '.' && text[i + 1] == '.') text[i + 1] = '_';
    }
  }
  sluice::config::Value plain, kept;
  std::string plain_error, kept_error;
  sluice::config::ParseOptions keep;
  keep.keep_referenced_variables = true;
  const bool plain_ok = sluice::config::ParseText(text, "fuzz.conf", g_root, plain, plain_error);
  const bool kept_ok = sluice::config::ParseText(text, "fuzz.conf", g_root, kept, kept_error, keep);
  if (plain_ok != kept_ok || plain_error != kept_error) {
    Fail("keep_referenced_variables changes the outcome: '" + plain_error + "' vs '" + kept_error + "'", text);
  }
  if (!plain_ok) {
    CheckErrorPosition(plain_error, text);
    return 0;
  }
  if (plain.kind != Value::Kind::kMap) Fail("the root is not a map", text);
  Walk(plain, "", text, 0);
  Walk(kept, "", text, 0);
  return 0;
}
