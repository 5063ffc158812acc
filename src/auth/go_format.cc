#include "auth/go_format.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace sluice::auth {

namespace {
// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t Utf8Length(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len;
  unsigned min;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  unsigned cp = c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}
}  // namespace

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t len = Utf8Length(s, i);
      if (len == 0) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        out += buf;
        ++i;
      } else {
        out.append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
  return out;
}

std::string GoTypeName(const config::Value& v) {
  using K = config::Value::Kind;
  switch (v.kind) {
    case K::kBool: return "bool";
    case K::kInteger: return "int64";
    case K::kFloat: return "float64";
    case K::kString: return "string";
    case K::kDateTime: return "time.Time";
    case K::kArray: return "[]interface {}";
    case K::kMap: return "map[string]interface {}";
  }
  return "interface {}";
}

std::string GoValueString(const config::Value& v) {
  using K = config::Value::Kind;
  switch (v.kind) {
    case K::kBool: return v.boolean ? "true" : "false";
    case K::kInteger: return std::to_string(v.integer);
    case K::kFloat: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", v.number);
      return buf;
    }
    case K::kString: return v.string;
    case K::kDateTime: return v.string;
    case K::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < v.array.size(); ++i) {
        if (i) out += ' ';
        out += GoValueString(v.array[i]);
      }
      return out + "]";
    }
    case K::kMap: {
      // Last occurrence of a key wins, keys sorted, as Go prints a map.
      std::vector<std::pair<std::string, const config::Value*>> entries;
      for (const auto& [key, value] : v.map) {
        auto it = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.first == key; });
        if (it != entries.end()) it->second = &value;
        else entries.emplace_back(key, &value);
      }
      std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      std::string out = "map[";
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i) out += ' ';
        out += entries[i].first + ":" + GoValueString(*entries[i].second);
      }
      return out + "]";
    }
  }
  return "";
}

}  // namespace sluice::auth
