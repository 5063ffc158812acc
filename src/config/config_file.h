// Parser for nats-server's configuration file format (see
// shared/reference/nats-protocol.md section 11 and src/config/README.md).
//
// Positions follow nats-server's convention so that messages match its output
// byte for byte: `line` is 1-based; `column` is the byte offset from the start
// of the line, counted from 0 on line 1 and from 1 on every later line
// (nats-server measures from the preceding '\n'). `file` is the path as it was
// opened (includes: the including file's directory joined with the include path).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::config {

struct Position {
  std::string file;
  int line = 0;
  int column = 0;
  // "<file>:<line>:<column>"
  std::string ToString() const;
};

struct Value {
  enum class Kind { kBool, kInteger, kFloat, kString, kDateTime, kArray, kMap };
  // Declared here, defaulted below the class: clang with libstdc++ cannot
  // instantiate the implicit ones while `map` holds pairs of this type.
  Value();
  Value(const Value&);
  Value(Value&&) noexcept;
  Value& operator=(const Value&);
  Value& operator=(Value&&) noexcept;
  ~Value();
  Kind kind = Kind::kMap;
  bool boolean = false;
  int64_t integer = 0;        // kInteger (suffix already applied); kDateTime: Unix seconds
  double number = 0;          // kFloat
  std::string string;         // kString; kDateTime: the raw text "2006-01-02T15:04:05Z"
  bool quoted = false;        // written as "..." or '...' or as a ( ... ) block
  std::vector<Value> array;
  std::vector<std::pair<std::string, Value>> map;  // file order; repeated keys kept
  Position position;          // where the value starts
  std::vector<Position> key_positions;  // kMap: position of each key, parallel to `map`
  // Position of the key this value was assigned to (equals `position` for array
  // elements and the root). nats-server reports field errors/warnings there.
  Position key_position;
  // Set on a map entry's value when the entry was used as a variable ($NAME).
  // Only visible with ParseOptions::keep_referenced_variables.
  bool referenced = false;

  // The LAST occurrence of `key` in a kMap (last wins), nullptr if none or not a map.
  const Value* Find(std::string_view key) const;
  static const char* KindName(Kind kind);
};

inline Value::Value() = default;
inline Value::Value(const Value&) = default;
inline Value::Value(Value&&) noexcept = default;
inline Value& Value::operator=(const Value&) = default;
inline Value& Value::operator=(Value&&) noexcept = default;
inline Value::~Value() = default;

struct ParseOptions {
  // nats-server does not report a referenced variable definition as an unknown
  // key. By default such definitions are removed from the result. With this set
  // they are kept and flagged `referenced` instead (useful when a real key is
  // also used as a variable, e.g. `port: 4222` and `http_port: $port`).
  bool keep_referenced_variables = false;
};

// Parses a file (includes resolved relative to the including file). On error
// returns false and sets `error` to "<file>:<line>:<col>: <message>".
bool ParseFile(const std::string& path, Value& out, std::string& error);
bool ParseFile(const std::string& path, Value& out, std::string& error,
               const ParseOptions& options);
// Parses text; `file_name` is used in positions, includes are resolved
// relative to `base_dir` ("" means the current directory).
bool ParseText(std::string_view text, const std::string& file_name, const std::string& base_dir,
               Value& out, std::string& error);
bool ParseText(std::string_view text, const std::string& file_name, const std::string& base_dir,
               Value& out, std::string& error, const ParseOptions& options);

// Durations as nats-server takes them (ping_interval, write_deadline, ...):
// a string (quoted or bare) holding a Go duration -> ok; an integer -> that many
// seconds plus `warning` ("<pos>: invalid use of field \"<key>\": <key> should be
// converted to a duration"); a float or anything else -> `error`.
bool ToDuration(const Value& v, std::string_view key, std::chrono::nanoseconds& out,
                std::string& warning, std::string& error);
// Go's time.ParseDuration: "300ms", "-1.5h", "2h45m", units ns us µs μs ms s m h.
bool ParseGoDuration(std::string_view text, std::chrono::nanoseconds& out);
// Same, with Go's error text on failure (e.g. `time: invalid duration "abc"`).
bool ParseGoDuration(std::string_view text, std::chrono::nanoseconds& out, std::string& error);
// Sizes: integers already carry their suffix multiplier; checks a non-negative integer.
bool ToSize(const Value& v, int64_t& out, std::string& error);

}  // namespace sluice::config
