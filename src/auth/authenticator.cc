#include <algorithm>

#include "auth/auth.h"

namespace sluice::auth {

bool AuthConfig::has_plaintext_passwords() const {
  if (!password.empty() && !IsBcryptHash(password)) return true;
  for (const auto& u : users)
    if (!IsBcryptHash(u.password)) return true;
  return false;
}

bool ValidateAuthConfig(const AuthConfig& c, std::string& error) {
  if ((!c.user.empty() || !c.password.empty()) && !c.token.empty()) {
    error = "Cannot have a user/pass and token";
    return false;
  }
  if (!c.users.empty() && !c.user.empty()) {
    error = "Can not have a single user/pass and a users array";
    return false;
  }
  if (!c.users.empty() && !c.token.empty()) {
    error = "Can not have a token and a users array";
    return false;
  }
  if (!c.no_auth_user.empty()) {
    if (c.users.empty()) {
      error = "no_auth_user: \"" + c.no_auth_user + "\" present, but users are not defined";
      return false;
    }
    bool found = std::any_of(c.users.begin(), c.users.end(), [&](const User& u) { return u.name == c.no_auth_user; });
    if (!found) {
      error = "no_auth_user: \"" + c.no_auth_user +
              "\" not present as user in authorization block or account configuration";
      return false;
    }
  }
  return true;
}

Authenticator::Authenticator(AuthConfig config) : config_(std::move(config)) {
  users_.reserve(config_.users.size());
  for (const auto& u : config_.users) {
    std::shared_ptr<const PermissionRules> rules;
    if (u.permissions) rules = PermissionRules::Compile(*u.permissions);
    users_.push_back({&u, std::move(rules)});
  }
  // Stable: with duplicate names (refused by ParseAuthorization) the last one wins, as in nats-server's map.
  std::stable_sort(users_.begin(), users_.end(),
                   [](const CompiledUser& a, const CompiledUser& b) { return a.user->name < b.user->name; });
}

const Authenticator::CompiledUser* Authenticator::Find(std::string_view name) const {
  auto it = std::upper_bound(users_.begin(), users_.end(), name,
                             [](std::string_view n, const CompiledUser& u) { return n < u.user->name; });
  if (it == users_.begin()) return nullptr;
  --it;
  return it->user->name == name ? &*it : nullptr;
}

std::optional<Identity> Authenticator::Authenticate(const ConnectCredentials& c) const {
  if (!required()) return Identity{};
  if (!users_.empty()) {
    std::string_view name = c.user;
    std::string_view pass = c.pass;
    if (!config_.no_auth_user.empty() && c.user.empty() && c.pass.empty() && c.token.empty()) {
      if (const CompiledUser* u = Find(config_.no_auth_user)) {
        // nats-server puts the configured password in as the client's: a
        // bcrypt-protected no_auth_user therefore never matches (kept as is).
        name = u->user->name;
        pass = u->user->password;
      }
    }
    if (name.empty()) return std::nullopt;
    const CompiledUser* u = Find(name);
    if (u == nullptr) return std::nullopt;
    const auto& types = u->user->allowed_connection_types;
    if (!types.empty() && !types.count("STANDARD")) return std::nullopt;
    if (!VerifyPassword(pass, u->user->password)) return std::nullopt;
    return Identity{u->user->name, u->rules};
  }
  if (!config_.token.empty()) {
    if (!VerifyPassword(c.token, config_.token)) return std::nullopt;
    return Identity{};
  }
  if (!config_.user.empty()) {
    if (c.user != config_.user || !VerifyPassword(c.pass, config_.password)) return std::nullopt;
    return Identity{config_.user, nullptr};
  }
  return std::nullopt;
}

}  // namespace sluice::auth
