// Publish/subscribe permissions: the data (as read from `permissions {}`
// blocks) and the compiled checkers. The rules follow nats-server 2.9.10
// exactly except where src/auth/README.md says otherwise; the README has the
// full rules table with the probes behind it.
//
// Two layers:
//   PermissionRules    compiled, immutable, shared by every connection of a
//                      user; all methods const and thread-safe.
//   PermissionChecker  one per connection: a small bounded publish cache and
//                      the `allow_responses` reply bookkeeping on top of the rules.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sluice::auth {

// One direction (publish or subscribe).
//   allow == nullopt          no allow list: everything not denied is allowed.
//   allow == empty vector     publish: nothing is allowed (this is what
//                             `allow_responses` does to a missing publish allow
//                             list); subscribe: same as nullopt (nats-server
//                             builds the subscribe allow list only when non-empty).
// Subscribe entries may carry a queue group after whitespace: "foo.> workers";
// the queue may itself hold wildcards ("foo q.*").
struct SubjectPermission {
  std::optional<std::vector<std::string>> allow;
  std::vector<std::string> deny;
};

// `allow_responses`: a client may publish to the reply subject of a message it
// received, up to max_msgs times (<= 0: unlimited) within `expires` of the
// delivery (<= 0: forever). nats-server's defaults: 1 message, 2 minutes.
struct ResponsePermission {
  int64_t max_msgs = 1;
  std::chrono::nanoseconds expires = std::chrono::minutes(2);
};

struct Permissions {
  std::optional<SubjectPermission> publish;    // nullopt: all publishes allowed
  std::optional<SubjectPermission> subscribe;  // nullopt: all subscriptions allowed
  std::optional<ResponsePermission> allow_responses;
};

// Error texts as nats-server sends them (without the "-ERR '...'" framing).
// Subjects and queues are quoted like Go's %q.
std::string PublishViolation(std::string_view subject);
std::string SubscribeViolation(std::string_view subject, std::string_view queue = {});

class PermissionRules {
 public:
  // Compiles `p` (invalid entries are ignored, as nats-server does at run time;
  // ParseAuthorization refuses them up front).
  static std::shared_ptr<const PermissionRules> Compile(const Permissions& p);
  ~PermissionRules();

  // Static publish rule: (no allow list, or some allow entry matches) and no
  // deny entry matches. Entries match the subject token by token, with the
  // subject's own "*" / ">" tokens taken literally (an entry "foo.*" covers a
  // publish to "foo.>"; an entry "foo.bar" does not cover "foo.*").
  bool Publish(std::string_view subject) const;
  // SUB rule, nats-server's (see README): plain entries and "subject queue"
  // entries are matched as in Publish against the SUB subject (wildcards in it
  // taken literally); queue entries restrict queue subscriptions.
  bool Subscribe(std::string_view subject, std::string_view queue = {}) const;

  // Delivery filter for wildcard subscriptions: a subscription allowed by
  // Subscribe() can still cover denied subjects (SUB ">" with deny "foo.>").
  // NeedsDeliveryFilter(sub) is true when `sub` has wildcards and overlaps a
  // plain subscribe deny entry; for such a subscription call DeliveryAllowed()
  // on every message subject before delivering it.
  bool NeedsDeliveryFilter(std::string_view subscription_subject) const;
  bool DeliveryAllowed(std::string_view subject) const;

  bool has_publish_rules() const { return pub_allow_ || pub_deny_; }
  const std::optional<ResponsePermission>& allow_responses() const { return responses_; }
  const Permissions& source() const { return source_; }

 private:
  struct Trie;  // defined in permissions.cc
  PermissionRules() = default;
  Permissions source_;
  std::unique_ptr<Trie> pub_allow_, pub_deny_, sub_allow_, sub_deny_;
  std::optional<ResponsePermission> responses_;
};

// Per connection. Not thread-safe except where noted: the connection's own
// thread calls CanPublish/CanSubscribe; NoteReply and DeliveryAllowed may be
// called from any thread (they are what a delivering thread needs).
class PermissionChecker {
 public:
  using Clock = std::chrono::steady_clock;

  explicit PermissionChecker(std::shared_ptr<const PermissionRules> rules);
  explicit PermissionChecker(const Permissions& p);

  // Publish check including `allow_responses`: a subject the static rules
  // refuse is allowed when it is the reply subject of a message delivered to
  // this connection (NoteReply) within the response limits; each such use
  // counts against max_msgs.
  bool CanPublish(std::string_view subject, Clock::time_point now = Clock::now());
  bool CanSubscribe(std::string_view subject, std::string_view queue = {}) const {
    return rules_->Subscribe(subject, queue);
  }
  bool NeedsDeliveryFilter(std::string_view subscription_subject) const {
    return rules_->NeedsDeliveryFilter(subscription_subject);
  }
  // Thread-safe.
  bool DeliveryAllowed(std::string_view subject) const { return rules_->DeliveryAllowed(subject); }

  // True when NoteReply has to be called for deliveries (allow_responses set).
  bool tracks_replies() const { return rules_->allow_responses().has_value(); }
  // Thread-safe. Records that a message with this reply subject was delivered
  // to the connection (a no-op without allow_responses). The table is bounded
  // (kMaxTrackedReplies): used-up and expired entries are pruned first, then
  // the oldest entries go.
  void NoteReply(std::string_view reply, Clock::time_point now = Clock::now());

  const std::optional<ResponsePermission>& allow_responses() const { return rules_->allow_responses(); }
  const PermissionRules& rules() const { return *rules_; }

  static constexpr size_t kCacheSlots = 256;
  static constexpr size_t kMaxTrackedReplies = 65536;

 private:
  struct CacheSlot {
    std::string subject;
    bool used = false;
    bool allowed = false;
  };
  struct Reply {
    Clock::time_point at;
    int64_t uses = 0;
    uint64_t order = 0;
  };
  bool ConsumeReply(std::string_view subject, Clock::time_point now);
  void PruneRepliesLocked(Clock::time_point now);

  std::shared_ptr<const PermissionRules> rules_;
  std::vector<CacheSlot> cache_;  // direct-mapped by hash of the subject
  mutable std::mutex replies_mu_;
  std::unordered_map<std::string, Reply> replies_;  // guarded by replies_mu_
  uint64_t reply_order_ = 0;                        // guarded by replies_mu_
};

}  // namespace sluice::auth
