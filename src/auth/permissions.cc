#include "auth/permissions.h"

#include <algorithm>
#include <functional>

#include "auth/go_format.h"
#include "core/subject.h"

namespace sluice::auth {

namespace {

struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Splits "subject [queue]" the way nats-server does for subscribe entries:
// whitespace-separated fields, one or two of them (more: the entry is ignored).
bool SplitSubjectQueue(std::string_view entry, std::string_view& subject, std::string_view& queue) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (i < entry.size()) {
    while (i < entry.size() && space(entry[i])) ++i;
    size_t start = i;
    while (i < entry.size() && !space(entry[i])) ++i;
    if (i > start) fields.push_back(entry.substr(start, i - start));
  }
  if (fields.empty() || fields.size() > 2) return false;
  subject = fields[0];
  queue = fields.size() == 2 ? fields[1] : std::string_view{};
  return true;
}

// nats-server's isSubsetMatchTokenized: is every subject matched by the
// pattern `tokens` also matched by the pattern `test`? (Used for queue names.)
bool IsSubsetMatch(std::string_view tokens_text, std::string_view test_text) {
  std::vector<std::string_view> tokens, test;
  ForEachToken(tokens_text, [&](std::string_view t) { tokens.push_back(t); return true; });
  ForEachToken(test_text, [&](std::string_view t) { test.push_back(t); return true; });
  for (size_t i = 0; i < test.size(); ++i) {
    if (i >= tokens.size()) return false;
    std::string_view t2 = test[i];
    if (t2.empty()) return false;
    if (t2 == ">") return true;
    std::string_view t1 = tokens[i];
    if (t1.empty() || t1 == ">") return false;
    if (t1 == "*") {
      if (t2 != "*") return false;
      continue;
    }
    if (t2 != "*" && t1 != t2) return false;
  }
  return tokens.size() == test.size();
}

// Can some literal subject match both patterns?
bool PatternsIntersect(std::string_view a, std::string_view b) {
  std::vector<std::string_view> ta, tb;
  ForEachToken(a, [&](std::string_view t) { ta.push_back(t); return true; });
  ForEachToken(b, [&](std::string_view t) { tb.push_back(t); return true; });
  for (size_t i = 0;; ++i) {
    if (i == ta.size() || i == tb.size()) return ta.size() == tb.size();
    if (ta[i] == ">" || tb[i] == ">") return true;
    if (ta[i] != "*" && tb[i] != "*" && ta[i] != tb[i]) return false;
  }
}

bool HasEmptyToken(std::string_view subject) {
  if (subject.empty() || subject.front() == '.' || subject.back() == '.') return true;
  return subject.find("..") != std::string_view::npos;
}

}  // namespace

// A token trie in the manner of nats-server's sublist: "*" and ">" entry
// tokens are wildcards, every other token (including "*" or ">" inside a
// longer token) is literal. Subject tokens are always literal.
struct PermissionRules::Trie {
  struct Node {
    std::unordered_map<std::string, std::unique_ptr<Node>, StringViewHash, std::equal_to<>> literal;
    std::unique_ptr<Node> pwc, fwc;
    bool plain = false;               // a plain entry ends here
    std::vector<std::string> queues;  // queue entries ending here
  };
  Node root;
  std::vector<std::string> plain_entries;  // for NeedsDeliveryFilter

  // Returns false (and inserts nothing) for a malformed entry.
  bool Insert(std::string_view subject, std::string_view queue) {
    if (HasEmptyToken(subject)) return false;
    // Validate first: no token after ">".
    bool after_fwc = false, bad = false;
    ForEachToken(subject, [&](std::string_view t) {
      if (after_fwc) bad = true;
      if (t == ">") after_fwc = true;
      return !bad;
    });
    if (bad) return false;
    Node* n = &root;
    ForEachToken(subject, [&](std::string_view t) {
      std::unique_ptr<Node>* slot;
      if (t == "*") {
        slot = &n->pwc;
      } else if (t == ">") {
        slot = &n->fwc;
      } else {
        auto it = n->literal.find(t);
        if (it == n->literal.end()) it = n->literal.emplace(std::string(t), nullptr).first;
        slot = &it->second;
      }
      if (!*slot) *slot = std::make_unique<Node>();
      n = slot->get();
      return true;
    });
    if (queue.empty()) {
      n->plain = true;
      plain_entries.emplace_back(subject);
    } else if (std::find(n->queues.begin(), n->queues.end(), queue) == n->queues.end()) {
      n->queues.emplace_back(queue);
    }
    return true;
  }

  struct Result {
    bool plain = false;
    std::vector<const std::string*> queues;
  };

  // Collects what `subject` matches. With plain_only, stops at the first plain match.
  void Match(std::string_view subject, Result& r, bool plain_only) const {
    if (HasEmptyToken(subject)) return;
    MatchFrom(&root, subject, false, r, plain_only);
  }

 private:
  static void Add(const Node* n, Result& r, bool plain_only) {
    if (n->plain) r.plain = true;
    if (!plain_only)
      for (const auto& q : n->queues) r.queues.push_back(&q);
  }
  // `rest` holds the tokens still to match; `done` means none are left.
  static void MatchFrom(const Node* n, std::string_view rest, bool done, Result& r, bool plain_only) {
    if (plain_only && r.plain) return;
    if (done) {
      Add(n, r, plain_only);
      return;
    }
    if (n->fwc) Add(n->fwc.get(), r, plain_only);  // ">" takes all remaining tokens (at least one)
    size_t dot = rest.find('.');
    std::string_view token = rest.substr(0, dot);
    std::string_view next = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
    bool last = dot == std::string_view::npos;
    if (n->pwc) MatchFrom(n->pwc.get(), next, last, r, plain_only);
    auto it = n->literal.find(token);
    if (it != n->literal.end()) MatchFrom(it->second.get(), next, last, r, plain_only);
  }
};

PermissionRules::~PermissionRules() = default;

std::shared_ptr<const PermissionRules> PermissionRules::Compile(const Permissions& p) {
  std::shared_ptr<PermissionRules> rules(new PermissionRules());
  rules->source_ = p;
  rules->responses_ = p.allow_responses;
  if (p.publish) {
    if (p.publish->allow || p.allow_responses) {
      rules->pub_allow_ = std::make_unique<Trie>();
      if (p.publish->allow)
        for (const auto& e : *p.publish->allow) rules->pub_allow_->Insert(e, {});
    }
    if (!p.publish->deny.empty()) {
      rules->pub_deny_ = std::make_unique<Trie>();
      for (const auto& e : p.publish->deny) rules->pub_deny_->Insert(e, {});
    }
  } else if (p.allow_responses) {
    // nats-server: allow_responses turns off the blanket publish allow.
    rules->pub_allow_ = std::make_unique<Trie>();
  }
  if (p.subscribe) {
    std::string_view subject, queue;
    if (p.subscribe->allow && !p.subscribe->allow->empty()) {
      rules->sub_allow_ = std::make_unique<Trie>();
      for (const auto& e : *p.subscribe->allow)
        if (SplitSubjectQueue(e, subject, queue)) rules->sub_allow_->Insert(subject, queue);
    }
    if (!p.subscribe->deny.empty()) {
      rules->sub_deny_ = std::make_unique<Trie>();
      for (const auto& e : p.subscribe->deny)
        if (SplitSubjectQueue(e, subject, queue)) rules->sub_deny_->Insert(subject, queue);
    }
  }
  return rules;
}

bool PermissionRules::Publish(std::string_view subject) const {
  if (pub_allow_) {
    Trie::Result r;
    pub_allow_->Match(subject, r, true);
    if (!r.plain) return false;
  }
  if (pub_deny_) {
    Trie::Result r;
    pub_deny_->Match(subject, r, true);
    if (r.plain) return false;
  }
  return true;
}

namespace {
bool QueueMatches(std::string_view queue, const std::vector<const std::string*>& names) {
  for (const std::string* name : names) {
    if (queue == *name) return true;
    if (SubjectHasWildcard(*name) && IsSubsetMatch(queue, *name)) return true;
  }
  return false;
}
}  // namespace

bool PermissionRules::Subscribe(std::string_view subject, std::string_view queue) const {
  bool allowed = true;
  if (sub_allow_) {
    Trie::Result r;
    sub_allow_->Match(subject, r, false);
    allowed = r.plain;
    if (!queue.empty() && !r.queues.empty()) allowed = QueueMatches(queue, r.queues);
  }
  if (allowed && sub_deny_) {
    Trie::Result r;
    sub_deny_->Match(subject, r, false);
    allowed = !r.plain;
    if (!queue.empty() && !r.queues.empty()) allowed = !QueueMatches(queue, r.queues);
  }
  return allowed;
}

bool PermissionRules::NeedsDeliveryFilter(std::string_view subscription_subject) const {
  if (!sub_deny_ || !SubjectHasWildcard(subscription_subject)) return false;
  for (const auto& e : sub_deny_->plain_entries)
    if (PatternsIntersect(e, subscription_subject)) return true;
  return false;
}

bool PermissionRules::DeliveryAllowed(std::string_view subject) const {
  if (!sub_deny_) return true;
  Trie::Result r;
  sub_deny_->Match(subject, r, true);
  return !r.plain;
}

std::string PublishViolation(std::string_view subject) {
  return "Permissions Violation for Publish to " + GoQuote(subject);
}

std::string SubscribeViolation(std::string_view subject, std::string_view queue) {
  std::string text = "Permissions Violation for Subscription to " + GoQuote(subject);
  if (!queue.empty()) text += " using queue " + GoQuote(queue);
  return text;
}

// ---------------------------------------------------------------------------

PermissionChecker::PermissionChecker(std::shared_ptr<const PermissionRules> rules)
    : rules_(std::move(rules)), cache_(kCacheSlots) {}

PermissionChecker::PermissionChecker(const Permissions& p) : PermissionChecker(PermissionRules::Compile(p)) {}

bool PermissionChecker::CanPublish(std::string_view subject, Clock::time_point now) {
  if (!rules_->has_publish_rules()) return true;
  CacheSlot& slot = cache_[std::hash<std::string_view>{}(subject) % kCacheSlots];
  bool allowed;
  if (slot.used && slot.subject == subject) {
    allowed = slot.allowed;
  } else {
    allowed = rules_->Publish(subject);
    slot.subject.assign(subject);
    slot.used = true;
    slot.allowed = allowed;
  }
  if (!allowed && rules_->allow_responses()) allowed = ConsumeReply(subject, now);
  return allowed;
}

bool PermissionChecker::ConsumeReply(std::string_view subject, Clock::time_point now) {
  const ResponsePermission& rp = *rules_->allow_responses();
  std::lock_guard lock(replies_mu_);
  auto it = replies_.find(std::string(subject));
  if (it == replies_.end()) return false;
  Reply& reply = it->second;
  ++reply.uses;
  if (rp.max_msgs > 0 && reply.uses > rp.max_msgs) {
    replies_.erase(it);
    return false;
  }
  if (rp.expires.count() > 0 && now - reply.at > rp.expires) {
    replies_.erase(it);
    return false;
  }
  if (rp.max_msgs > 0 && reply.uses == rp.max_msgs) replies_.erase(it);  // used up
  return true;
}

void PermissionChecker::NoteReply(std::string_view reply, Clock::time_point now) {
  if (!rules_->allow_responses() || reply.empty()) return;
  std::lock_guard lock(replies_mu_);
  // A repeated reply subject starts afresh, as in nats-server.
  replies_.insert_or_assign(std::string(reply), Reply{now, 0, ++reply_order_});
  if (replies_.size() > kMaxTrackedReplies) PruneRepliesLocked(now);
}

void PermissionChecker::PruneRepliesLocked(Clock::time_point now) {
  const ResponsePermission& rp = *rules_->allow_responses();
  for (auto it = replies_.begin(); it != replies_.end();) {
    bool expired = rp.expires.count() > 0 && now - it->second.at > rp.expires;
    bool used_up = rp.max_msgs > 0 && it->second.uses >= rp.max_msgs;
    it = (expired || used_up) ? replies_.erase(it) : std::next(it);
  }
  if (replies_.size() <= kMaxTrackedReplies) return;
  // Still full of live entries: drop the oldest eighth in one go.
  std::vector<uint64_t> orders;
  orders.reserve(replies_.size());
  for (const auto& [key, r] : replies_) orders.push_back(r.order);
  size_t drop = replies_.size() / 8;
  std::nth_element(orders.begin(), orders.begin() + drop, orders.end());
  uint64_t cutoff = orders[drop];
  for (auto it = replies_.begin(); it != replies_.end();)
    it = it->second.order < cutoff ? replies_.erase(it) : std::next(it);
}

}  // namespace sluice::auth
