// JsonReader: reads optional fields of an API request body with Go's type
// strictness (private to jetstream/; used by the stream and consumer configs).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace sluice::jetstream {

// Reads optional fields with type checking; any mismatch marks the parse bad.
struct JsonReader {
  const nlohmann::json& body;
  bool bad = false;

  const nlohmann::json* Get(const char* key) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return nullptr;
    return &*it;
  }
  void Int(const char* key, int64_t& out) {
    if (const nlohmann::json* v = Get(key)) {
      if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        bad = true;  // Go's json cannot put it in an int64 either
      } else if (v->is_number_integer()) {
        out = v->get<int64_t>();
      } else if (v->is_number_float()) {
        // A whole float inside int64's range; the range check comes first
        // because casting a double outside it is undefined behaviour.
        const double d = v->get<double>();
        if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == static_cast<double>(static_cast<int64_t>(d)))
          out = static_cast<int64_t>(d);
        else bad = true;
      } else {
        bad = true;
      }
    }
  }
  void Uint(const char* key, uint64_t& out) {
    if (const nlohmann::json* v = Get(key)) {
      if (v->is_number_unsigned()) out = v->get<uint64_t>();
      else if (v->is_number_integer() && v->get<int64_t>() >= 0) out = static_cast<uint64_t>(v->get<int64_t>());
      else bad = true;
    }
  }
  void Bool(const char* key, bool& out) {
    if (const nlohmann::json* v = Get(key)) {
      if (v->is_boolean()) out = v->get<bool>();
      else bad = true;
    }
  }
  void String(const char* key, std::string& out) {
    if (const nlohmann::json* v = Get(key)) {
      if (v->is_string()) out = v->get<std::string>();
      else bad = true;
    }
  }
  template <typename E>
  void Enum(const char* key, E& out, std::initializer_list<std::pair<const char*, E>> names) {
    const nlohmann::json* v = Get(key);
    if (!v) return;
    if (!v->is_string()) {
      bad = true;
      return;
    }
    std::string s = v->get<std::string>();
    for (const auto& [n, e] : names) {
      if (s == n) {
        out = e;
        return;
      }
    }
    bad = true;
  }
};

}  // namespace sluice::jetstream
