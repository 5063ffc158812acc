// Parser for nats-server's configuration format. A hand-written recursive
// descent parser over bytes; the lexical rules (what ends a bare string, when a
// digit-led token is a number, a date, an IP address or a string, where
// newlines are allowed, ...) follow nats-server 2.9.10's behaviour. Deviations
// are listed in src/config/README.md.
#include "config/config_file.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

namespace sluice::config {

std::string Position::ToString() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

const Value* Value::Find(std::string_view key) const {
  if (kind != Kind::kMap) return nullptr;
  for (auto it = map.rbegin(); it != map.rend(); ++it) {
    if (it->first == key) return &it->second;
  }
  return nullptr;
}

const char* Value::KindName(Kind kind) {
  switch (kind) {
    case Kind::kBool: return "boolean";
    case Kind::kInteger: return "integer";
    case Kind::kFloat: return "float";
    case Kind::kString: return "string";
    case Kind::kDateTime: return "datetime";
    case Kind::kArray: return "array";
    case Kind::kMap: return "map";
  }
  return "unknown";
}

namespace {

namespace fs = std::filesystem;

constexpr int kMaxNesting = 200;        // arrays/maps inside each other
constexpr size_t kMaxIncludeDepth = 32; // files being parsed at once

bool IsSpace(int c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool IsBlank(int c) { return c == ' ' || c == '\t'; }
bool IsNL(int c) { return c == '\n' || c == '\r'; }
bool IsDigit(int c) { return c >= '0' && c <= '9'; }
bool IsSizeSuffix(int c) {
  switch (c) {
    case 'k': case 'K': case 'm': case 'M': case 'g': case 'G':
    case 't': case 'T': case 'p': case 'P': case 'e': case 'E':
      return true;
    default:
      return false;
  }
}
// What ends a number (nats-server's set, plus ']' so that `[1, 2]` works).
bool IsNumberEnd(int c) {
  return c < 0 || IsNL(c) || c == '}' || c == ']' || c == ';' || c == ',' || IsBlank(c);
}
int HexDigit(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
std::string ToLower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return r;
}

// Go's filepath.Join(dir, rel) followed by Clean: the include path is always
// appended to the including file's directory, even when it starts with '/'.
std::string JoinPath(const std::string& dir, std::string_view rel) {
  std::string joined = dir.empty() ? std::string(".") : dir;
  joined += '/';
  joined += rel;
  std::string out = fs::path(joined).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out.empty() ? std::string(".") : out;
}

std::string DirOf(const std::string& path) {
  std::string parent = fs::path(path).parent_path().string();
  return parent.empty() ? std::string(".") : parent;
}

std::string CanonicalOf(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::path(path), ec);
  if (ec) return fs::absolute(fs::path(path), ec).lexically_normal().string();
  return p.string();
}

// Reads a whole regular file. On failure sets `why` to a Go-like reason.
bool ReadWholeFile(const std::string& path, std::string& content, std::string& why) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    why = "open " + path + ": no such file or directory";
    return false;
  }
  if (!fs::is_regular_file(status)) {
    why = "open " + path + ": not a regular file";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::string reason = std::strerror(errno);
    if (!reason.empty()) reason[0] = static_cast<char>(std::tolower(reason[0]));
    why = "open " + path + ": " + reason;
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  content = ss.str();
  return true;
}

struct Shared {
  std::vector<std::string> include_stack;  // canonical paths of files being parsed
  std::vector<std::string> include_names;  // the same, as written in positions
  std::set<std::string> env_refs;          // environment variables being expanded
};

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

class Parser {
 public:
  Parser(std::string_view text, std::string file, std::string base_dir, Shared& shared)
      : text_(text), file_(std::move(file)), base_dir_(std::move(base_dir)), shared_(shared) {
    for (size_t i = 0; i < text_.size(); ++i) {
      if (text_[i] == '\n') newlines_.push_back(i);
    }
  }

  bool Run(Value& root) {
    root = Value{};
    root.kind = Value::Kind::kMap;
    root.position = PosAt(0);
    root.key_position = root.position;
    return ParseTop(root);
  }

  const std::string& error() const { return error_; }
  const std::string& error_message() const { return error_message_; }

 private:
  int Cur() const { return pos_ < text_.size() ? static_cast<unsigned char>(text_[pos_]) : -1; }
  int At(size_t off) const {
    return off < text_.size() ? static_cast<unsigned char>(text_[off]) : -1;
  }
  bool AtEnd() const { return pos_ >= text_.size(); }
  bool AtComment() const {
    return Cur() == '#' || (Cur() == '/' && At(pos_ + 1) == '/');
  }
  void SkipSpace() {
    while (IsSpace(Cur())) ++pos_;
  }
  void SkipBlank() {
    while (IsBlank(Cur())) ++pos_;
  }
  void SkipComment() {
    while (!AtEnd() && !IsNL(Cur())) ++pos_;
  }
  // Blanks, new lines and whole comment lines before a value or key.
  void SkipSpaceAndComments() {
    for (;;) {
      SkipSpace();
      if (!AtComment()) return;
      SkipComment();
    }
  }

  Position PosAt(size_t off) const {
    Position p;
    p.file = file_;
    auto it = std::lower_bound(newlines_.begin(), newlines_.end(), off);
    size_t before = static_cast<size_t>(it - newlines_.begin());
    p.line = static_cast<int>(before) + 1;
    size_t line_start = before == 0 ? 0 : newlines_[before - 1];
    p.column = static_cast<int>(off - line_start);
    return p;
  }

  // A printable rendering of the character at `off` for messages.
  std::string CharDesc(size_t off) const {
    int c = At(off);
    if (c < 0) return "EOF";
    if (c == '\n') return "\\n";
    if (c == '\r') return "\\r";
    size_t len = 1;
    if (c >= 0xC0 && c < 0xE0) len = 2;
    else if (c >= 0xE0 && c < 0xF0) len = 3;
    else if (c >= 0xF0 && c < 0xF8) len = 4;
    if (off + len > text_.size()) len = 1;
    return std::string(text_.substr(off, len));
  }

  bool Fail(size_t off, std::string message) {
    error_message_ = std::move(message);
    error_ = PosAt(off).ToString() + ": " + error_message_;
    return false;
  }

  // ---- top level -------------------------------------------------------
  bool ParseTop(Value& root) {
    scopes_.push_back(&root);
    int braces = 0;  // `{ ... }` around the whole file (JSON-like configs)
    for (;;) {
      SkipSpace();
      if (AtEnd()) break;
      int c = Cur();
      if (AtComment()) {
        SkipComment();
        continue;
      }
      if (c == '/') return Fail(pos_, "Unexpected '/': comments start with '#' or '//'.");
      if (c == '{') {
        ++braces;
        ++pos_;
        continue;
      }
      if (c == '}' && braces > 0) {
        --braces;
        ++pos_;
        continue;
      }
      if (!ParseEntry(root, /*in_map=*/false)) return false;
      // The value must end with a new line, ';', ',', a comment or EOF.
      SkipBlank();
      c = Cur();
      if (c < 0) break;
      if (AtComment()) {
        SkipComment();
      } else if (IsNL(c) || c == ';' || c == ',') {
        ++pos_;
      } else if (c == '}' && braces > 0) {
        --braces;
        ++pos_;
      } else {
        return Fail(pos_, "Expected a top-level value to end with a new line, comment or EOF, but got '" +
                              CharDesc(pos_) + "' instead.");
      }
    }
    scopes_.pop_back();
    return true;
  }

  // key [sep] value, or `include path`, appended to `map`.
  bool ParseEntry(Value& map, bool in_map) {
    const size_t key_start = pos_;
    int c = Cur();
    if (c == ':' || c == '=') {
      return Fail(pos_, std::string("Unexpected key separator '") + static_cast<char>(c) + "'.");
    }
    std::string key;
    size_t key_pos_off = key_start;
    if (c == '"' || c == '\'') {
      size_t close = text_.find(static_cast<char>(c), pos_ + 1);
      if (close == std::string_view::npos) {
        return Fail(text_.size(), in_map ? "Unexpected EOF processing quoted map key."
                                         : "Unexpected EOF in quoted key.");
      }
      key = std::string(text_.substr(pos_ + 1, close - pos_ - 1));
      key_pos_off = pos_ + 1;
      pos_ = close + 1;
    } else {
      while (!AtEnd() && !IsSpace(Cur()) && Cur() != ':' && Cur() != '=') ++pos_;
      key = std::string(text_.substr(key_start, pos_ - key_start));
      if (AtEnd() && in_map) return Fail(pos_, "Unexpected EOF processing map key.");
      if (!AtEnd() && IsSpace(Cur()) && ToLower(key) == "include") {
        return ParseInclude(map, key_start);
      }
    }
    const Position key_pos = PosAt(key_pos_off);

    SkipSpace();
    bool separator = false;
    if (Cur() == ':' || Cur() == '=') {
      ++pos_;
      separator = true;
    }
    if (!in_map) {
      if (!separator && AtEnd()) {
        return Fail(key_start, "config is invalid: key \"" + key + "\" has no value.");
      }
    } else {
      SkipSpace();  // inside a map, new lines may come before the value
      if (AtEnd()) return Fail(pos_, "Unexpected EOF processing map.");
      if (Cur() == ',') return Fail(pos_, "Unexpected map value terminator ','.");
      if (Cur() == '}') return Fail(pos_, "Expected a value for key \"" + key + "\" but got '}'.");
    }
    Value value;
    if (!ParseValue(value)) return false;
    value.key_position = key_pos;
    map.map.emplace_back(std::move(key), std::move(value));
    map.key_positions.push_back(key_pos);
    return true;
  }

  // ---- values ------------------------------------------------------------
  bool ParseValue(Value& v) {
    SkipBlank();
    const size_t start = pos_;
    v.position = PosAt(start);
    v.key_position = v.position;
    int c = Cur();
    if (c < 0) {  // `key:` at the very end: an empty string, as in nats-server
      v.kind = Value::Kind::kString;
      return true;
    }
    switch (c) {
      case '[': return ParseArray(v);
      case '{': return ParseMap(v);
      case '\'': return ParseSingleQuoted(v);
      case '"': return ParseDoubleQuoted(v);
      case '-': return ParseNegative(v);
      case '(': return ParseBlock(v);
      case '.': return Fail(pos_, "Floats must start with a digit.");
      case '\n':
      case '\r': return Fail(pos_, "Expected value but found new line.");
      default: break;
    }
    if (IsDigit(c)) return ParseNumberLike(v);
    return ParseBare(v, start, start);
  }

  // Reads one escape sequence; pos_ is just after the backslash.
  bool ParseEscape(std::string& out) {
    switch (Cur()) {
      case 't': out += '\t'; ++pos_; return true;
      case 'n': out += '\n'; ++pos_; return true;
      case 'r': out += '\r'; ++pos_; return true;
      case '"': out += '"'; ++pos_; return true;
      case '\\': out += '\\'; ++pos_; return true;
      case 'x': {
        ++pos_;
        int h = At(pos_), l = At(pos_ + 1);
        if (h < 0 || IsNL(h) || l < 0 || IsNL(l)) {
          return Fail(pos_, "Expected two hexadecimal digits after '\\x', but hit end of line.");
        }
        if (HexDigit(h) < 0 || HexDigit(l) < 0) {
          return Fail(pos_, "Expected two hexadecimal digits after '\\x', but got '" +
                                std::string(text_.substr(pos_, 2)) + "'.");
        }
        out += static_cast<char>(HexDigit(h) * 16 + HexDigit(l));
        pos_ += 2;
        return true;
      }
      default:
        return Fail(pos_, "Invalid escape character '" + CharDesc(pos_) +
                              "'. Only the following escape characters are allowed: "
                              "\\xXX, \\t, \\n, \\r, \\\", \\\\.");
    }
  }

  // A bare (unquoted) word starting at token_start; text before scan_from is
  // taken literally. Ends at a blank, new line, ';', ',', ']', '}' or EOF; a
  // quote `'` ends it too (and is dropped). Then: bool word, $variable, string.
  bool ParseBare(Value& v, size_t token_start, size_t scan_from) {
    std::string s(text_.substr(token_start, scan_from - token_start));
    pos_ = scan_from;
    bool escaped = false;
    v.kind = Value::Kind::kString;
    v.quoted = false;
    for (;;) {
      int c = Cur();
      if (c < 0 || IsNL(c) || IsBlank(c) || c == ';' || c == ',' || c == ']' || c == '}') break;
      if (c == '\\') {
        ++pos_;
        if (!ParseEscape(s)) return false;
        escaped = true;
        continue;
      }
      if (c == '\'') {
        ++pos_;
        v.string = std::move(s);
        return true;
      }
      s += static_cast<char>(c);
      ++pos_;
    }
    if (!escaped) {
      const std::string lower = ToLower(s);
      if (lower == "true" || lower == "yes" || lower == "on") {
        v.kind = Value::Kind::kBool;
        v.boolean = true;
        return true;
      }
      if (lower == "false" || lower == "no" || lower == "off") {
        v.kind = Value::Kind::kBool;
        v.boolean = false;
        return true;
      }
      if (!s.empty() && s[0] == '$') return ResolveVariable(v, s.substr(1), token_start);
    }
    v.string = std::move(s);
    return true;
  }

  bool ParseDoubleQuoted(Value& v) {
    const size_t content = pos_ + 1;
    pos_ = content;
    std::string s;
    for (;;) {
      int c = Cur();
      if (c < 0) return Fail(pos_, "Unexpected EOF in quoted string.");
      if (c == '"') {
        ++pos_;
        break;
      }
      if (c == '\\') {
        ++pos_;
        if (!ParseEscape(s)) return false;
        continue;
      }
      s += static_cast<char>(c);
      ++pos_;
    }
    v.kind = Value::Kind::kString;
    v.quoted = true;
    v.string = std::move(s);
    v.position = PosAt(content);
    v.key_position = v.position;
    return true;
  }

  bool ParseSingleQuoted(Value& v) {
    const size_t content = pos_ + 1;
    size_t close = text_.find('\'', content);
    if (close == std::string_view::npos) return Fail(text_.size(), "Unexpected EOF in quoted string.");
    v.kind = Value::Kind::kString;
    v.quoted = true;
    v.string = std::string(text_.substr(content, close - content));
    v.position = PosAt(content);
    v.key_position = v.position;
    pos_ = close + 1;
    return true;
  }

  // `(` ... `)`: ends at a `)` that is the first character of its line and is
  // followed by a new line or EOF. The value keeps the new lines inside.
  bool ParseBlock(Value& v) {
    const size_t content = pos_ + 1;
    size_t search = content;
    for (;;) {
      const size_t close = text_.find(')', search);
      if (close == std::string_view::npos) return Fail(text_.size(), "Unexpected EOF processing block.");
      const int after = At(close + 1);
      if (text_[close - 1] == '\n' && (after < 0 || after == '\n')) {
        v.kind = Value::Kind::kString;
        v.quoted = true;
        v.string = std::string(text_.substr(content, close - content));
        v.position = PosAt(content);
        v.key_position = v.position;
        pos_ = close + 1;
        return true;
      }
      search = close + 1;
    }
  }

  bool MakeInteger(Value& v, size_t start, size_t end) {
    std::string_view tok = text_.substr(start, end - start);
    size_t digits_end = 0;
    if (!tok.empty() && tok[0] == '-') digits_end = 1;
    while (digits_end < tok.size() && IsDigit(static_cast<unsigned char>(tok[digits_end]))) ++digits_end;
    int64_t num = 0;
    auto res = std::from_chars(tok.data(), tok.data() + digits_end, num);
    if (res.ec == std::errc::result_out_of_range) {
      return Fail(start, "integer '" + std::string(tok) + "' is out of the range");
    }
    if (res.ec != std::errc() || res.ptr != tok.data() + digits_end) {
      return Fail(start, "expected integer, but got '" + std::string(tok) + "'");
    }
    const std::string suffix = ToLower(tok.substr(digits_end));
    int64_t mult = 1;
    if (!suffix.empty()) {
      static const char kUnits[] = "kmgtpe";
      const char* u = std::strchr(kUnits, suffix[0]);
      if (u == nullptr) return Fail(start, "invalid size suffix in '" + std::string(tok) + "'");
      const int power = static_cast<int>(u - kUnits) + 1;
      const std::string rest = suffix.substr(1);
      int64_t base;
      if (rest.empty()) base = 1000;
      else if (rest == "b" || rest == "i" || rest == "ib") base = 1024;
      else return Fail(start, "invalid size suffix '" + suffix + "' in '" + std::string(tok) + "'");
      for (int i = 0; i < power; ++i) mult *= base;  // at most 1024^6 = 2^60
    }
    int64_t value;
    if (__builtin_mul_overflow(num, mult, &value)) {
      return Fail(start, "integer '" + std::string(tok) + "' is out of the range");
    }
    v.kind = Value::Kind::kInteger;
    v.integer = value;
    pos_ = end;
    return true;
  }

  // After the digits of a (possibly negative) number, at a size suffix letter.
  bool ParseSuffixed(Value& v, size_t start, size_t suffix_at) {
    size_t j = suffix_at + 1;
    while (At(j) == 'b' || At(j) == 'B' || At(j) == 'i' || At(j) == 'I') ++j;
    if (IsNumberEnd(At(j)) || IsDigit(At(j))) return MakeInteger(v, start, j);
    return ParseBare(v, start, j);  // e.g. `10ms`, `2min`: a string
  }

  // `1.5` (float) or `127.0.0.1:4222` (string). `dot` is the offset of '.'.
  bool ParseFloatOrIP(Value& v, size_t start, size_t dot) {
    size_t j = dot + 1;
    if (!IsDigit(At(j))) {
      return Fail(j, "Floats must have a digit after the '.', but got '" + CharDesc(j) + "' instead.");
    }
    while (IsDigit(At(j))) ++j;
    if (At(j) == '.') {
      while (IsDigit(At(j)) || At(j) == '.' || At(j) == ':' || At(j) == '-') ++j;
      v.kind = Value::Kind::kString;
      v.string = std::string(text_.substr(start, j - start));
      pos_ = j;
      return true;
    }
    std::string tok(text_.substr(start, j - start));
    char* endp = nullptr;
    errno = 0;
    double d = std::strtod(tok.c_str(), &endp);
    if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL)) {
      return Fail(start, "float '" + tok + "' is out of the range");
    }
    v.kind = Value::Kind::kFloat;
    v.number = d;
    pos_ = j;
    return true;
  }

  bool ParseNegative(Value& v) {
    const size_t start = pos_;
    size_t i = start + 1;
    if (!IsDigit(At(i))) {
      if (At(i) == '.') return Fail(i, "Floats must start with a digit, not '.'.");
      return Fail(i, "Expected a digit but got '" + CharDesc(i) + "'.");
    }
    while (IsDigit(At(i))) ++i;
    if (At(i) == '.') return ParseFloatOrIP(v, start, i);
    if (IsSizeSuffix(At(i))) return ParseSuffixed(v, start, i);
    return MakeInteger(v, start, i);
  }

  bool ParseNumberLike(Value& v) {
    const size_t start = pos_;
    size_t i = start;
    while (IsDigit(At(i))) ++i;
    int c = At(i);
    if (c == '-') {
      if (i - start != 4) return Fail(i, "All ISO8601 dates must be in full Zulu form.");
      return ParseDateTime(v, start);
    }
    if (c == '.') return ParseFloatOrIP(v, start, i);
    if (IsSizeSuffix(c)) return ParseSuffixed(v, start, i);
    if (IsNumberEnd(c)) return MakeInteger(v, start, i);
    // A word that starts with digits, e.g. `10s`, `1.2.3`-like names: a
    // string. The character that broke the number is taken literally.
    size_t next = i + 1;
    if (c >= 0xC0) {
      while (next < text_.size() && (At(next) & 0xC0) == 0x80) ++next;
    }
    return ParseBare(v, start, next);
  }

  bool ParseDateTime(Value& v, size_t start) {
    static const char kFormat[] = "0000-00-00T00:00:00Z";
    for (size_t k = 4; kFormat[k] != '\0'; ++k) {
      int c = At(start + k);
      if (kFormat[k] == '0') {
        if (!IsDigit(c)) {
          return Fail(start + k, "Expected digit in ISO8601 datetime, but found '" +
                                     CharDesc(start + k) + "' instead.");
        }
      } else if (c != kFormat[k]) {
        return Fail(start + k, std::string("Expected '") + kFormat[k] +
                                   "' in ISO8601 datetime, but found '" + CharDesc(start + k) +
                                   "' instead.");
      }
    }
    std::string_view t = text_.substr(start, 20);
    auto num = [&](size_t off, size_t len) {
      int r = 0;
      for (size_t k = 0; k < len; ++k) r = r * 10 + (t[off + k] - '0');
      return r;
    };
    int year = num(0, 4), month = num(5, 2), day = num(8, 2);
    int hour = num(11, 2), minute = num(14, 2), second = num(17, 2);
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    bool ok = month >= 1 && month <= 12 && hour < 24 && minute < 60 && second < 60 && day >= 1;
    if (ok) ok = day <= kDays[month - 1] + ((month == 2 && leap) ? 1 : 0);
    if (!ok) return Fail(start, "expected Zulu formatted DateTime, but got '" + std::string(t) + "'");
    v.kind = Value::Kind::kDateTime;
    v.string = std::string(t);
    v.integer = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
                hour * 3600 + minute * 60 + second;
    pos_ = start + 20;
    return true;
  }

  bool ParseArray(Value& v) {
    if (++depth_ > kMaxNesting) return Fail(pos_, "arrays and maps are nested too deeply.");
    v.kind = Value::Kind::kArray;
    ++pos_;  // '['
    for (;;) {
      SkipSpaceAndComments();  // value start
      int c = Cur();
      if (c < 0) return Fail(pos_, "Unexpected EOF processing array.");
      if (c == ']') {
        ++pos_;
        break;
      }
      if (c == ',') return Fail(pos_, "Unexpected array value terminator ','.");
      if (c == '/') return Fail(pos_, "Unexpected '/' in array.");
      Value element;
      if (!ParseValue(element)) return false;
      v.array.push_back(std::move(element));
      // value end
      bool done = false;
      for (;;) {
        SkipBlank();
        c = Cur();
        if (c < 0) return Fail(pos_, "Unexpected EOF processing array.");
        if (AtComment()) {
          SkipComment();
          continue;
        }
        if (c == ',' || IsNL(c)) {
          ++pos_;
          break;
        }
        if (c == ']') {
          ++pos_;
          done = true;
          break;
        }
        return Fail(pos_, "Expected an array value terminator ',' or an array terminator ']', but got '" +
                              CharDesc(pos_) + "' instead.");
      }
      if (done) break;
    }
    --depth_;
    return true;
  }

  bool ParseMap(Value& v) {
    if (++depth_ > kMaxNesting) return Fail(pos_, "arrays and maps are nested too deeply.");
    v.kind = Value::Kind::kMap;
    ++pos_;  // '{'
    scopes_.push_back(&v);
    for (;;) {
      SkipSpaceAndComments();
      int c = Cur();
      if (c < 0) return Fail(pos_, "Unexpected EOF processing map.");
      if (c == '}') {
        ++pos_;
        break;
      }
      if (c == ']') return Fail(pos_, "Unexpected array end ']' processing map.");
      if (!ParseEntry(v, /*in_map=*/true)) return false;
      bool done = false;
      for (;;) {
        SkipBlank();
        c = Cur();
        if (c < 0) return Fail(pos_, "Unexpected EOF processing map.");
        if (AtComment()) {
          SkipComment();
          continue;
        }
        if (c == ',' || c == ';' || IsNL(c)) {
          ++pos_;
          break;
        }
        if (c == '}') {
          ++pos_;
          done = true;
          break;
        }
        return Fail(pos_, "Expected a map value terminator ',' or a map terminator '}', but got '" +
                              CharDesc(pos_) + "' instead.");
      }
      if (done) break;
    }
    scopes_.pop_back();
    --depth_;
    return true;
  }

  // ---- include -----------------------------------------------------------
  bool ParseInclude(Value& map, size_t keyword_at) {
    SkipBlank();
    int c = Cur();
    std::string path;
    if (c == '\'' || c == '"') {
      size_t close = text_.find(static_cast<char>(c), pos_ + 1);
      if (close == std::string_view::npos) {
        return Fail(text_.size(), c == '"' ? "Unexpected EOF in double quoted include."
                                           : "Unexpected EOF in quoted include.");
      }
      path = std::string(text_.substr(pos_ + 1, close - pos_ - 1));
      pos_ = close + 1;
    } else {
      if (c == '[') return Fail(pos_, "Expected include value but found start of an array.");
      if (c == '{') return Fail(pos_, "Expected include value but found start of a map.");
      if (c == '(') return Fail(pos_, "Expected include value but found start of a block.");
      if (IsDigit(c) || c == '-') return Fail(pos_, "Expected include value but found start of a number.");
      if (c == '\\') return Fail(pos_, "Expected include value but found escape sequence.");
      if (IsNL(c)) return Fail(pos_, "Expected include value but found new line.");
      const size_t start = pos_;
      while (!AtEnd() && !IsNL(Cur()) && !IsBlank(Cur()) && Cur() != ';' && Cur() != '}' &&
             Cur() != '\'') {
        ++pos_;
      }
      path = std::string(text_.substr(start, pos_ - start));
      if (Cur() == '\'') ++pos_;
    }

    // A NUL cannot be part of a file name: the name would be cut there and a
    // different file opened (found by fuzz_config_file).
    if (path.find('\0') != std::string::npos) {
      return Fail(keyword_at, "error parsing include file, the path contains a NUL byte");
    }
    const std::string full = JoinPath(base_dir_, path);
    const std::string canonical = CanonicalOf(full);
    for (size_t i = 0; i < shared_.include_stack.size(); ++i) {
      if (shared_.include_stack[i] == canonical) {
        std::string chain;
        for (size_t k = i; k < shared_.include_names.size(); ++k) chain += shared_.include_names[k] + " -> ";
        chain += full;
        return Fail(keyword_at, "include loop: '" + path + "' (" + full +
                                    ") is already being parsed: " + chain);
      }
    }
    if (shared_.include_stack.size() >= kMaxIncludeDepth) {
      return Fail(keyword_at, "error parsing include file '" + path + "', includes nested too deeply");
    }
    std::string content, why;
    if (!ReadWholeFile(full, content, why)) {
      return Fail(keyword_at, "error parsing include file '" + path + "', " + why);
    }
    shared_.include_stack.push_back(canonical);
    shared_.include_names.push_back(full);
    Parser sub(content, full, DirOf(full), shared_);
    Value included;
    bool ok = sub.Run(included);
    shared_.include_stack.pop_back();
    shared_.include_names.pop_back();
    if (!ok) {
      error_message_ = sub.error_message();
      error_ = sub.error() + " (in file included from " + PosAt(keyword_at).ToString() + ")";
      return false;
    }
    for (size_t i = 0; i < included.map.size(); ++i) {
      map.map.push_back(std::move(included.map[i]));
      map.key_positions.push_back(std::move(included.key_positions[i]));
    }
    return true;
  }

  // ---- variables ---------------------------------------------------------
  bool ResolveVariable(Value& v, const std::string& name, size_t ref_at) {
    const Position ref_pos = PosAt(ref_at);
    // A bare bcrypt hash (`$2a$11$...`) is a string, not a reference.
    if (name.rfind("2a$", 0) == 0) {
      v.kind = Value::Kind::kString;
      v.string = "$" + name;
      return true;
    }
    for (auto scope = scopes_.rbegin(); scope != scopes_.rend(); ++scope) {
      auto& entries = (*scope)->map;
      for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
        if (it->first != name) continue;
        it->second.referenced = true;
        v = it->second;
        v.referenced = false;
        v.position = ref_pos;
        v.key_position = ref_pos;
        return true;
      }
    }
    const std::string line = std::to_string(ref_pos.line);
    if (shared_.env_refs.count(name) != 0) {
      return Fail(ref_at, "variable reference for '" + name + "' on line " + line +
                              " could not be parsed: variable reference cycle for '" + name + "'");
    }
    const char* env = std::getenv(name.c_str());
    if (env == nullptr) {
      return Fail(ref_at, "variable reference for '" + name + "' on line " + line + " can not be found");
    }
    // Environment values are parsed as config values: "4222" is an integer,
    // "1MB" a size, "true" a boolean.
    const std::string text = std::string("pk=") + env;
    shared_.env_refs.insert(name);
    Parser sub(text, file_, base_dir_, shared_);
    Value parsed;
    bool ok = sub.Run(parsed);
    shared_.env_refs.erase(name);
    if (!ok) {
      return Fail(ref_at, "variable reference for '" + name + "' on line " + line +
                              " could not be parsed: " + sub.error_message());
    }
    const Value* found = parsed.Find("pk");
    if (found == nullptr) {
      return Fail(ref_at, "variable reference for '" + name + "' on line " + line + " can not be found");
    }
    v = *found;
    v.referenced = false;
    v.position = ref_pos;
    v.key_position = ref_pos;
    return true;
  }

  std::string_view text_;
  std::string file_;
  std::string base_dir_;
  Shared& shared_;
  std::vector<size_t> newlines_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::vector<Value*> scopes_;  // maps being filled, outermost first
  std::string error_;
  std::string error_message_;
};

void StripReferenced(Value& v) {
  if (v.kind == Value::Kind::kMap) {
    size_t out = 0;
    for (size_t i = 0; i < v.map.size(); ++i) {
      if (v.map[i].second.referenced) continue;
      if (out != i) {
        v.map[out] = std::move(v.map[i]);
        if (i < v.key_positions.size()) v.key_positions[out] = std::move(v.key_positions[i]);
      }
      ++out;
    }
    v.map.resize(out);
    v.key_positions.resize(out);
  }
  for (auto& [k, child] : v.map) StripReferenced(child);
  for (auto& child : v.array) StripReferenced(child);
}

bool ParseInternal(std::string_view text, const std::string& file_name, const std::string& base_dir,
                   const std::string& canonical, Value& out, std::string& error,
                   const ParseOptions& options) {
  Shared shared;
  shared.include_stack.push_back(canonical);
  shared.include_names.push_back(file_name);
  Parser parser(text, file_name, base_dir.empty() ? std::string(".") : base_dir, shared);
  Value root;
  if (!parser.Run(root)) {
    error = parser.error();
    return false;
  }
  if (!options.keep_referenced_variables) StripReferenced(root);
  out = std::move(root);
  return true;
}

}  // namespace

bool ParseFile(const std::string& path, Value& out, std::string& error) {
  return ParseFile(path, out, error, ParseOptions{});
}

bool ParseFile(const std::string& path, Value& out, std::string& error, const ParseOptions& options) {
  std::string content, why;
  if (!ReadWholeFile(path, content, why)) {
    error = path + ":0:0: error opening config file: " + why;
    return false;
  }
  return ParseInternal(content, path, DirOf(path), CanonicalOf(path), out, error, options);
}

bool ParseText(std::string_view text, const std::string& file_name, const std::string& base_dir,
               Value& out, std::string& error) {
  return ParseText(text, file_name, base_dir, out, error, ParseOptions{});
}

bool ParseText(std::string_view text, const std::string& file_name, const std::string& base_dir,
               Value& out, std::string& error, const ParseOptions& options) {
  const std::string name = fs::path(file_name).filename().string();
  const std::string canonical = CanonicalOf(JoinPath(base_dir, name.empty() ? "." : name));
  return ParseInternal(text, file_name, base_dir, canonical, out, error, options);
}

}  // namespace sluice::config
