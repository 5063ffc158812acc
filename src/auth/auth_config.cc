// Reading `authorization {}` the way nats-server 2.9.10's opts.go does
// (parseAuthorization, parseUsers, parseUserPermissions, parseAllowResponses,
// parseSubjectPermission, checkPermSubjectArray), with its error texts.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "auth/auth.h"
#include "auth/go_format.h"
#include "config/config_file.h"
#include "core/subject.h"

namespace sluice::auth {

namespace {

using config::Value;
using Kind = config::Value::Kind;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool Fail(const config::Position& p, const std::string& message, std::string& error) {
  error = p.ToString() + ": " + message;
  return false;
}

// nats-server asserts the Go type and reports the panic text.
bool ExpectString(const Value& v, std::string& out, std::string& error) {
  if (v.kind != Kind::kString) {
    return Fail(v.key_position, "interface conversion: interface {} is " + GoTypeName(v) + ", not string", error);
  }
  out = v.string;
  return true;
}

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::vector<std::string_view> Fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsWhitespace(s[i])) ++i;
    size_t start = i;
    while (i < s.size() && !IsWhitespace(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// checkPermSubjectArray: a valid subject, or exactly "<valid subject> <queue>".
bool CheckPermSubject(const std::string& s, std::string& message) {
  if (IsValidSubject(s)) return true;
  auto fields = Fields(s);
  if (fields.size() != 2) {
    message = "subject " + GoQuote(s) + " is not a valid subject";
    return false;
  }
  if (!IsValidSubject(fields[0])) {
    message = "subject " + GoQuote(fields[0]) + " is not a valid subject";
    return false;
  }
  return true;
}

// parsePermSubjects: a string or an array of strings. `where` is the position
// used for errors about the value as a whole. An empty array gives nullopt
// (nats-server's nil slice: no list at all).
bool ParsePermSubjects(const Value& v, const config::Position& where,
                       std::optional<std::vector<std::string>>& out, std::string& error) {
  std::vector<std::string> subjects;
  if (v.kind == Kind::kString) {
    subjects.push_back(v.string);
  } else if (v.kind == Kind::kArray) {
    for (const Value& item : v.array) {
      if (item.kind != Kind::kString)
        return Fail(item.position, "Subject in permissions array cannot be cast to string", error);
      subjects.push_back(item.string);
    }
  } else {
    return Fail(where, "Expected subject permissions to be a subject, or array of subjects, got " + GoTypeName(v),
                error);
  }
  for (const auto& s : subjects) {
    std::string message;
    if (!CheckPermSubject(s, message)) return Fail(where, message, error);
  }
  if (subjects.empty()) {
    out.reset();
  } else {
    out = std::move(subjects);
  }
  return true;
}

// parseVariablePermissions: `{ allow, deny }` or the old style (a subject or a
// list: the allow list). An empty map gives nullopt (no restriction).
bool ParseSubjectPermission(const Value& v, std::optional<SubjectPermission>& out, std::string& error) {
  if (v.kind != Kind::kMap) {
    SubjectPermission p;
    if (!ParsePermSubjects(v, v.key_position, p.allow, error)) return false;
    out = std::move(p);
    return true;
  }
  if (v.map.empty()) {
    out.reset();
    return true;
  }
  SubjectPermission p;
  for (size_t i = 0; i < v.map.size(); ++i) {
    const auto& [key, item] = v.map[i];
    std::string k = Lower(key);
    if (k == "allow") {
      if (!ParsePermSubjects(item, item.key_position, p.allow, error)) return false;
    } else if (k == "deny") {
      std::optional<std::vector<std::string>> deny;
      if (!ParsePermSubjects(item, item.key_position, deny, error)) return false;
      p.deny = deny ? std::move(*deny) : std::vector<std::string>{};
    } else if (!item.referenced) {
      return Fail(item.key_position,
                  "Unknown field name " + GoQuote(key) +
                      " parsing subject permissions, only 'allow' or 'deny' are permitted",
                  error);
    }
  }
  out = std::move(p);
  return true;
}

// parseAllowResponses (a map). 0 keeps the default; negative means unlimited.
bool ParseAllowResponses(const Value& v, ResponsePermission& out, std::string& error) {
  if (v.kind != Kind::kMap)
    return Fail(v.key_position, "error parsing response permissions, expected a boolean or a map", error);
  ResponsePermission rp;
  for (const auto& [key, item] : v.map) {
    std::string k = Lower(key);
    if (k == "max" || k == "max_msgs" || k == "max_messages" || k == "max_responses") {
      if (item.kind != Kind::kInteger)
        return Fail(item.key_position, "interface conversion: interface {} is " + GoTypeName(item) + ", not int64",
                    error);
      if (item.integer != 0) rp.max_msgs = item.integer;
    } else if (k == "expires" || k == "expiration" || k == "ttl") {
      if (item.kind != Kind::kString)
        return Fail(item.key_position, "error parsing expires, not a duration string", error);
      std::chrono::nanoseconds ttl{0};
      std::string message;
      if (!config::ParseGoDuration(item.string, ttl, message))
        return Fail(item.key_position, "error parsing expires: " + message, error);
      if (ttl.count() != 0) rp.expires = ttl;
    } else if (!item.referenced) {
      return Fail(item.key_position, "Unknown field " + GoQuote(key) + " parsing permissions", error);
    }
  }
  out = rp;
  return true;
}

bool ParseUser(const Value& entry, User& user, std::string& error) {
  if (entry.kind != Kind::kMap)
    return Fail(entry.position, "Expected user entry to be a map/struct, got " + GoValueString(entry), error);
  for (const auto& [key, v] : entry.map) {
    std::string k = Lower(key);
    if (k == "user" || k == "username") {
      if (!ExpectString(v, user.name, error)) return false;
    } else if (k == "pass" || k == "password") {
      if (!ExpectString(v, user.password, error)) return false;
    } else if (k == "permission" || k == "permissions" || k == "authorization") {
      Permissions p;
      if (!ParsePermissions(v, p, error)) return false;
      user.permissions = std::move(p);
    } else if (k == "allowed_connection_types" || k == "connection_types" || k == "clients") {
      std::vector<std::string> types;
      if (v.kind == Kind::kString) {
        types.push_back(v.string);
      } else if (v.kind == Kind::kArray) {
        for (const Value& t : v.array) {
          if (t.kind != Kind::kString)
            return Fail(t.position, "error parsing allowed connection types: unsupported type in array " + GoTypeName(t),
                        error);
          types.push_back(t.string);
        }
      } else {
        return Fail(v.key_position, "error parsing allowed connection types: unsupported type " + GoTypeName(v),
                    error);
      }
      std::vector<std::string> unknown;
      for (auto t : types) {
        for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (t == "STANDARD" || t == "WEBSOCKET" || t == "LEAFNODE" || t == "LEAFNODE_WS" || t == "MQTT" ||
            t == "MQTT_WS") {
          user.allowed_connection_types.insert(t);
        } else {
          unknown.push_back(t);
        }
      }
      if (!unknown.empty()) {
        std::string list = "[";
        for (size_t i = 0; i < unknown.size(); ++i) list += (i ? " " : "") + GoQuote(unknown[i]);
        return Fail(v.key_position, "invalid connection types " + list + "]", error);
      }
    } else if (k == "nkey") {
      return Fail(v.key_position, "nkey users are not supported yet by sluice-server", error);
    } else if (!v.referenced) {
      return Fail(v.key_position, "unknown field " + GoQuote(key), error);
    }
  }
  if (user.name.empty()) {
    // nats-server reports this at the last field it looked at (Go map order);
    // Sluice uses the entry's last field, or the entry itself when it is empty.
    const config::Position& where = entry.map.empty() ? entry.position : entry.map.back().second.key_position;
    return Fail(where, "User entry requires a user", error);
  }
  return true;
}

bool ParseUsers(const Value& v, std::vector<User>& users, std::string& error) {
  if (v.kind != Kind::kArray)
    return Fail(v.key_position, "Expected users field to be an array, got " + GoValueString(v), error);
  users.clear();
  for (const Value& entry : v.array) {
    User user;
    if (!ParseUser(entry, user, error)) return false;
    users.push_back(std::move(user));
  }
  return true;
}

}  // namespace

bool ParsePermissions(const Value& v, Permissions& out, std::string& error) {
  if (v.kind != Kind::kMap)
    return Fail(v.key_position, "Expected permissions to be a map/struct, got " + GoValueString(v), error);
  Permissions p;
  for (const auto& [key, item] : v.map) {
    std::string k = Lower(key);
    if (k == "pub" || k == "publish" || k == "import") {
      if (!ParseSubjectPermission(item, p.publish, error)) return false;
    } else if (k == "sub" || k == "subscribe" || k == "export") {
      if (!ParseSubjectPermission(item, p.subscribe, error)) return false;
    } else if (k == "publish_allow_responses" || k == "allow_responses") {
      if (item.kind == Kind::kBool) {
        if (item.boolean) {
          p.allow_responses = ResponsePermission{};
        } else {
          p.allow_responses.reset();
        }
      } else {
        ResponsePermission rp;
        if (!ParseAllowResponses(item, rp, error)) return false;
        p.allow_responses = rp;
      }
    } else if (!item.referenced) {
      return Fail(item.key_position, "Unknown field " + GoQuote(key) + " parsing permissions", error);
    }
  }
  // allow_responses turns the blanket publish allow off (nats-server's
  // validateResponsePermissions, applied whatever the key order).
  if (p.allow_responses) {
    if (!p.publish) p.publish = SubjectPermission{};
    if (!p.publish->allow) p.publish->allow = std::vector<std::string>{};
  }
  out = std::move(p);
  return true;
}

bool ParseAuthorization(const Value& block, AuthConfig& out, std::string& error) {
  if (block.kind != Kind::kMap) {
    return Fail(block.key_position,
                "interface conversion: interface {} is " + GoTypeName(block) + ", not map[string]interface {}", error);
  }
  AuthConfig c = out;
  bool users_given = false;
  bool perms_given = false;
  for (const auto& [key, v] : block.map) {
    std::string k = Lower(key);
    if (k == "user" || k == "username") {
      if (!ExpectString(v, c.user, error)) return false;
    } else if (k == "pass" || k == "password") {
      if (!ExpectString(v, c.password, error)) return false;
    } else if (k == "token") {
      if (!ExpectString(v, c.token, error)) return false;
    } else if (k == "timeout") {
      double seconds = 1;  // nats-server: a string (or anything else) there means 1 s
      if (v.kind == Kind::kInteger) seconds = static_cast<double>(v.integer);
      if (v.kind == Kind::kFloat) seconds = v.number;
      if (seconds == 0) {
        c.timeout = std::chrono::seconds(2);
      } else {
        c.timeout = std::chrono::nanoseconds(static_cast<int64_t>(std::llround(seconds * 1e9)));
      }
    } else if (k == "users") {
      if (!ParseUsers(v, c.users, error)) return false;
      users_given = true;
    } else if (k == "default_permission" || k == "default_permissions" || k == "permissions") {
      Permissions p;
      if (!ParsePermissions(v, p, error)) return false;
      c.default_permissions = std::move(p);
      perms_given = true;
    } else if (!v.referenced) {
      return Fail(v.key_position, "unknown field " + GoQuote(key), error);
    }
  }
  const config::Position& where = block.key_position;
  if ((!c.user.empty() || !c.password.empty()) && !c.token.empty())
    return Fail(where, "Cannot have a user/pass and token", error);
  if (users_given) {
    if (!c.user.empty()) return Fail(where, "Can not have a single user/pass and a users array", error);
    if (!c.token.empty()) return Fail(where, "Can not have a token and a users array", error);
    std::vector<std::string_view> names;
    for (const auto& u : c.users) {
      if (std::find(names.begin(), names.end(), u.name) != names.end())
        return Fail(where, "Duplicate user " + GoQuote(u.name) + " detected", error);
      names.push_back(u.name);
    }
  }
  if (perms_given || c.default_permissions) {
    for (auto& u : c.users)
      if (!u.permissions) u.permissions = c.default_permissions;
  }
  out = std::move(c);
  return true;
}

}  // namespace sluice::auth
