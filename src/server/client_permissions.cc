// ClientConnection, identity and permissions: what CONNECT authenticated,
// allow_responses bookkeeping, and applying reloaded settings.
#include "server/client_connection.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "auth/permissions.h"
#include "protocol/frame_writer.h"
#include "server/connection_tuning.h"
#include "server/event_loop.h"
#include "server/server.h"

namespace sluice::server {

using Clock = std::chrono::steady_clock;

void ClientConnection::SetIdentity(auth::Identity identity) {
  authorized_user_ = identity.user;
  permissions_ = identity.permissions;
  std::lock_guard lock(permissions_mutex_);
  delivery_rules_ = permissions_;
  const auto* responses = permissions_ ? &permissions_->allow_responses() : nullptr;
  if (responses && responses->has_value()) {
    response_max_msgs_ = (*responses)->max_msgs;
    response_ttl_ = (*responses)->expires;
    allow_responses_.store(true, std::memory_order_relaxed);
  } else {
    allow_responses_.store(false, std::memory_order_relaxed);
    response_permissions_.clear();
  }
}

void ClientConnection::NoteResponsePermission(std::string_view reply) {
  std::lock_guard lock(permissions_mutex_);
  ResponsePermit& permit = response_permissions_[std::string(reply)];
  permit.remaining = response_max_msgs_ > 0 ? response_max_msgs_ : 1;
  permit.expires = response_ttl_.count() > 0 ? Clock::now() + response_ttl_ : Clock::time_point::max();
  if (response_permissions_.size() > kMaxResponsePermits) PruneResponsePermits();
}

void ClientConnection::PruneResponsePermits() {
  auto now = Clock::now();
  for (auto it = response_permissions_.begin(); it != response_permissions_.end();) {
    it = (it->second.expires <= now || it->second.remaining <= 0) ? response_permissions_.erase(it) : std::next(it);
  }
}

bool ClientConnection::PublishAllowed(std::string_view subject) {
  if (permissions_->Publish(subject)) return true;
  if (!allow_responses_.load(std::memory_order_relaxed)) return false;
  std::lock_guard lock(permissions_mutex_);
  auto it = response_permissions_.find(std::string(subject));
  if (it == response_permissions_.end()) return false;
  if (it->second.expires <= Clock::now()) {
    response_permissions_.erase(it);
    return false;
  }
  if (--it->second.remaining <= 0) response_permissions_.erase(it);
  return true;
}

void ClientConnection::ApplySettings(std::shared_ptr<const RuntimeSettings> fresh) {
  if (closed_) return;
  const bool auth_changed = fresh->authenticator != settings_->authenticator;
  const auto old_ping = settings_->ping_interval;
  settings_ = std::move(fresh);
  parser_.set_limits({static_cast<size_t>(settings_->max_control_line), settings_->max_payload});
  max_pending_.store(static_cast<size_t>(settings_->max_pending), std::memory_order_relaxed);
  if (settings_->ping_interval != old_ping) ArmPingTimer(settings_->ping_interval);
  if (!auth_changed || !connect_received_) return;
  if (!settings_->authenticator) {
    SetIdentity({});
    return;
  }
  auto identity = settings_->authenticator->Authenticate(credentials_);
  if (!identity) {
    spdlog::info("{} - cid:{} - credentials no longer valid after reload", remote_address_, client_id_);
    // nats-server closes a client whose user is gone from a users list
    // without a word (as if it had moved account); one whose password
    // changed is told.
    const auto& users = settings_->authenticator->config().users;
    const bool user_gone = !credentials_.user.empty() && !users.empty() &&
                           std::none_of(users.begin(), users.end(),
                                        [&](const auth::User& u) { return u.name == credentials_.user; });
    if (user_gone) {
      CloseAfterFlush(CloseReason::kClientClosed);
    } else {
      SendError("Authorization Violation");
      CloseAfterFlush(CloseReason::kAuthViolation);
    }
    return;
  }
  SetIdentity(std::move(*identity));
  // Subscriptions the new permissions no longer allow are removed, as
  // nats-server does on reload.
  if (!permissions_) return;
  for (auto it = subscriptions_.begin(); it != subscriptions_.end();) {
    const auto& sub = it->second;
    if (permissions_->Subscribe(sub->subject(), sub->queue())) {
      ++it;
      continue;
    }
    SendError(fmt::format("Permissions Violation for Subscription to \"{}\" (sid \"{}\")", sub->subject(), it->first));
    server_.router().Remove(sub);
    it = subscriptions_.erase(it);
  }
}

}  // namespace sluice::server
