// Client authentication: the `authorization {}` configuration, the
// credential check made on CONNECT, and password verification (plain or
// bcrypt). Permissions live in auth/permissions.h. Behaviour follows
// nats-server 2.9.10; src/auth/README.md has the rules and the differences.
//
// Nothing here logs, and no error text carries a password or token.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "auth/permissions.h"

namespace sluice::config {
struct Value;
}

namespace sluice::auth {

// -ERR texts (without the "-ERR '...'" framing). Both close the connection.
inline constexpr std::string_view kAuthorizationViolation = "Authorization Violation";
inline constexpr std::string_view kAuthenticationTimeout = "Authentication Timeout";

struct User {
  std::string name;
  std::string password;                        // plain, or a bcrypt hash ($2a$, $2b$, $2x$, $2y$)
  std::optional<Permissions> permissions;      // nullopt: all allowed (after default_permissions)
  std::set<std::string> allowed_connection_types;  // upper case; empty: any. Sluice clients are "STANDARD".
};

struct AuthConfig {
  // The three styles; exactly one may be used (ValidateAuthConfig).
  std::string token;                     // plain or bcrypt
  std::string user, password;            // single user (a password alone requires nothing)
  std::vector<User> users;               // the users list
  // authorization { default_permissions | permissions {...} }: given to each
  // listed user without permissions of its own (already applied by ParseAuthorization).
  std::optional<Permissions> default_permissions;
  std::string no_auth_user;              // top-level key; must name a listed user
  std::chrono::nanoseconds timeout{std::chrono::seconds(2)};  // authorization { timeout }

  // nats-server: a token, a user name or a non-empty users list turns auth on.
  bool required() const { return !token.empty() || !user.empty() || !users.empty(); }
  // nats-server warns "Plaintext passwords detected, use nkeys or bcrypt" when true.
  bool has_plaintext_passwords() const;
};

// Reads an `authorization` value into `out` (fields not in the block keep their
// values, so flags can be applied before or after). Keys are case-insensitive:
// user|username, pass|password, token, timeout (seconds, integer or float; any
// other type means 1 s; 0 means the 2 s default), users, and
// default_permission|default_permissions|permissions. Errors are nats-server's
// texts prefixed with "<file>:<line>:<col>: " (see README for the cases where
// nats-server prints no position and Sluice does). Returns false on the first error.
bool ParseAuthorization(const config::Value& block, AuthConfig& out, std::string& error);

// Reads a `permissions` block (also what a user entry's `permissions` holds).
bool ParsePermissions(const config::Value& block, Permissions& out, std::string& error);

// Checks across fields, once the config file and the flags are merged:
// one style only, no_auth_user names a listed user (nats-server's texts, no position).
bool ValidateAuthConfig(const AuthConfig& config, std::string& error);

// CONNECT's credential fields.
struct ConnectCredentials {
  std::string user, pass, token;
};

struct Identity {
  std::string user;  // "" for token, anonymous and no-auth servers
  std::shared_ptr<const PermissionRules> permissions;  // nullptr: everything allowed
};

// Immutable after construction: share one across threads; build a new one on reload.
class Authenticator {
 public:
  explicit Authenticator(AuthConfig config);

  bool required() const { return config_.required(); }
  std::chrono::nanoseconds timeout() const { return config_.timeout; }

  // std::nullopt: reply kAuthorizationViolation and close. Order as in
  // nats-server: no auth required -> anonymous; users list -> no_auth_user when
  // user, pass and token are all empty, then lookup by exact name and password
  // check; else token (user/pass ignored); else single user/password.
  // Note: a bcrypt check costs tens of milliseconds of CPU by design.
  std::optional<Identity> Authenticate(const ConnectCredentials& c) const;

  const AuthConfig& config() const { return config_; }

 private:
  struct CompiledUser {
    const User* user;
    std::shared_ptr<const PermissionRules> rules;
  };
  AuthConfig config_;
  std::vector<CompiledUser> users_;  // sorted by name
  const CompiledUser* Find(std::string_view name) const;
};

// True when `configured` looks like a bcrypt hash to nats-server ("$2[abxy]$NN$...").
bool IsBcryptHash(std::string_view configured);
// bcrypt via libcrypt's crypt_r when IsBcryptHash(configured), with a
// constant-time compare of the result; otherwise a constant-time compare.
bool VerifyPassword(std::string_view given, std::string_view configured);

}  // namespace sluice::auth
