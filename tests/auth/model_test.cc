// Property test: the optimised checker (token trie + cache) against a small
// reference model that states nats-server's rules plainly, on thousands of
// random subjects over a tiny token alphabet and random allow/deny lists.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <random>
#include <string>
#include <vector>

#include "auth/permissions.h"

namespace sluice::auth {
namespace {

// ------------------------------- the model -------------------------------
namespace model {

std::vector<std::string> Tokens(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == '.') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

bool HasEmptyToken(const std::string& s) {
  for (const auto& t : Tokens(s))
    if (t.empty()) return true;
  return false;
}

// Rule 1: an entry matches a subject when, token by token, "*" takes any one
// token, a final ">" takes one or more, and anything else must be equal. The
// subject's tokens are plain strings, even "*" and ">". A subject with an
// empty token matches nothing.
bool EntryMatches(const std::string& entry, const std::string& subject) {
  if (HasEmptyToken(subject) || HasEmptyToken(entry)) return false;
  auto e = Tokens(entry), s = Tokens(subject);
  for (size_t i = 0; i < e.size(); ++i) {
    if (e[i] == ">") return i == e.size() - 1 && s.size() > i;
    if (i >= s.size()) return false;
    if (e[i] != "*" && e[i] != s[i]) return false;
  }
  return e.size() == s.size();
}

// Literal subjects used as witnesses for a relation between two patterns:
// every token sequence over the literal tokens the two patterns use plus one
// token neither mentions ("~"), up to one token longer than the longer
// pattern. That is enough to tell the patterns apart whenever they differ.
std::vector<std::string> Universe(const std::string& p1, const std::string& p2) {
  std::set<std::string> alphabet = {"~"};
  for (const auto* p : {&p1, &p2})
    for (const auto& t : Tokens(*p))
      if (t != "*" && t != ">") alphabet.insert(t);
  size_t max_len = std::max(Tokens(p1).size(), Tokens(p2).size()) + 1;
  static std::map<std::pair<std::set<std::string>, size_t>, std::vector<std::string>> cache;
  auto& all = cache[{alphabet, max_len}];
  if (!all.empty()) return all;
  std::vector<std::string> level = {""};
  for (size_t len = 1; len <= max_len; ++len) {
    std::vector<std::string> next;
    for (const auto& prefix : level)
      for (const auto& t : alphabet) {
        std::string subject = prefix;
        if (!subject.empty()) subject += '.';
        subject += t;
        next.push_back(std::move(subject));
      }
    all.insert(all.end(), next.begin(), next.end());
    level = std::move(next);
  }
  return all;
}

bool HasWildcard(const std::string& s) {
  for (const auto& t : Tokens(s))
    if (t == "*" || t == ">") return true;
  return false;
}

// Rule 2: a queue entry's name covers a SUB's queue name when they are equal,
// or when the name has wildcards and every subject the SUB's queue (read as a
// pattern) matches is matched by the name (a subset test, by brute force).
bool QueueCovered(const std::string& queue, const std::string& name) {
  if (queue == name) return true;
  if (!HasWildcard(name)) return false;
  for (const auto& s : Universe(queue, name))
    if (EntryMatches(queue, s) && !EntryMatches(name, s)) return false;
  return true;
}

struct Entry {
  std::string subject, queue;
};

Entry Split(const std::string& e) {
  auto sp = e.find(' ');
  if (sp == std::string::npos) return {e, ""};
  return {e.substr(0, sp), e.substr(sp + 1)};
}

// Rule 3 (publish): allowed when there is no allow list or an allow entry
// matches, and no deny entry matches. An allow list that is present but
// empty allows nothing.
bool Publish(const Permissions& p, const std::string& subject) {
  if (!p.publish && !p.allow_responses) return true;
  std::optional<std::vector<std::string>> allow;
  std::vector<std::string> deny;
  if (p.publish) allow = p.publish->allow, deny = p.publish->deny;
  if (p.allow_responses && !allow) allow = std::vector<std::string>{};
  if (allow) {
    bool any = false;
    for (const auto& e : *allow) any = any || EntryMatches(e, subject);
    if (!any) return false;
  }
  for (const auto& e : deny)
    if (EntryMatches(e, subject)) return false;
  return true;
}

// Rule 4 (subscribe), per list: P = a plain entry matches the SUB subject,
// Q = the queue names of the queue entries that match it. Allow list (if
// non-empty): allowed = P, but for a queue SUB with Q non-empty, allowed =
// "some name in Q covers the queue". Then, if still allowed, deny list:
// allowed = !P, but for a queue SUB with Q non-empty, allowed = "no name in Q
// covers the queue".
bool Subscribe(const Permissions& p, const std::string& subject, const std::string& queue) {
  if (!p.subscribe) return true;
  auto verdict = [&](const std::vector<std::string>& list, bool& plain, bool& queue_covered, bool& any_queue) {
    plain = queue_covered = any_queue = false;
    for (const auto& raw : list) {
      Entry e = Split(raw);
      if (!EntryMatches(e.subject, subject)) continue;
      if (e.queue.empty()) {
        plain = true;
      } else {
        any_queue = true;
        if (QueueCovered(queue, e.queue)) queue_covered = true;
      }
    }
  };
  bool allowed = true, plain, covered, any_queue;
  if (p.subscribe->allow && !p.subscribe->allow->empty()) {
    verdict(*p.subscribe->allow, plain, covered, any_queue);
    allowed = plain;
    if (!queue.empty() && any_queue) allowed = covered;
  }
  if (allowed && !p.subscribe->deny.empty()) {
    verdict(p.subscribe->deny, plain, covered, any_queue);
    allowed = !plain;
    if (!queue.empty() && any_queue) allowed = !covered;
  }
  return allowed;
}

// Rule 5 (deliveries): a wildcard SUB needs the filter when some literal
// subject matches both it and a plain deny entry; the filter lets a message
// through when no plain deny entry matches its subject.
bool DeliveryAllowed(const Permissions& p, const std::string& subject) {
  if (!p.subscribe) return true;
  for (const auto& raw : p.subscribe->deny) {
    Entry e = Split(raw);
    if (e.queue.empty() && EntryMatches(e.subject, subject)) return false;
  }
  return true;
}

bool NeedsDeliveryFilter(const Permissions& p, const std::string& sub) {
  if (!p.subscribe || !HasWildcard(sub)) return false;
  for (const auto& raw : p.subscribe->deny) {
    Entry e = Split(raw);
    if (!e.queue.empty()) continue;
    for (const auto& s : Universe(e.subject, sub))
      if (EntryMatches(e.subject, s) && EntryMatches(sub, s)) return true;
  }
  return false;
}

}  // namespace model

// ------------------------------ generators -------------------------------
class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(int percent) { return Int(1, 100) <= percent; }

  // A pattern over {a,b,c} with "*" anywhere and ">" last.
  std::string Pattern(int max_len, int wildcard_percent) {
    int len = Int(1, max_len);
    std::string s;
    for (int i = 0; i < len; ++i) {
      if (i) s += '.';
      if (i == len - 1 && Chance(wildcard_percent / 2)) {
        s += '>';
      } else if (Chance(wildcard_percent)) {
        s += '*';
      } else {
        s += "abc"[Int(0, 2)];
      }
    }
    return s;
  }
  std::string QueueName() {
    static const char* names[] = {"q", "r", "q.a", "q.*", "q.>", "*", ">", "q.a.b"};
    return names[Int(0, 7)];
  }
  std::vector<std::string> List(bool queues) {
    std::vector<std::string> out;
    int n = Int(1, 3);
    for (int i = 0; i < n; ++i) {
      std::string e = Pattern(3, 30);
      if (queues && Chance(30)) {
        e += ' ';
        e += QueueName();
      }
      out.push_back(e);
    }
    return out;
  }
  std::optional<SubjectPermission> Direction(bool queues) {
    if (Chance(20)) return std::nullopt;
    SubjectPermission p;
    if (Chance(60)) p.allow = List(queues);
    if (Chance(60)) p.deny = List(queues);
    return p;
  }
  Permissions Perms() {
    Permissions p;
    p.publish = Direction(false);
    p.subscribe = Direction(true);
    if (Chance(10)) p.allow_responses = ResponsePermission{};
    return p;
  }
  std::string Subject(int wildcard_percent) {
    if (Chance(3)) return Chance(50) ? "a..b" : "a.";
    return Pattern(4, wildcard_percent);
  }

 private:
  std::mt19937 rng_;
};

std::string Describe(const Permissions& p) {
  auto list = [](const std::vector<std::string>& v) {
    std::string s = "[";
    for (const auto& e : v) s += "\"" + e + "\" ";
    return s + "]";
  };
  auto dir = [&](const std::optional<SubjectPermission>& d) {
    if (!d) return std::string("none");
    return std::string("allow=") + (d->allow ? list(*d->allow) : "none") + " deny=" + list(d->deny);
  };
  return "publish{" + dir(p.publish) + "} subscribe{" + dir(p.subscribe) + "}" +
         (p.allow_responses ? " allow_responses" : "");
}

TEST(PermissionModelTest, CheckerAgreesWithModel) {
  // SLUICE_AUTH_SEED=<n> replays another sequence.
  const char* env = std::getenv("SLUICE_AUTH_SEED");
  const uint32_t seed = env ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10)) : 20240611;
  Gen gen(seed);
  int checks = 0, sub_allowed = 0, sub_denied = 0, pub_allowed = 0, pub_denied = 0, filtered = 0;
  for (int round = 0; round < 1000; ++round) {
    Permissions p = gen.Perms();
    PermissionChecker checker(p);
    SCOPED_TRACE("seed " + std::to_string(seed) + " round " + std::to_string(round) + ": " + Describe(p));
    for (int i = 0; i < 40; ++i) {
      std::string pub = gen.Subject(10);
      bool pub_ok = model::Publish(p, pub);
      ASSERT_EQ(checker.CanPublish(pub), pub_ok) << "PUB " << pub;
      (pub_ok ? pub_allowed : pub_denied)++;
      std::string sub = gen.Subject(35);
      std::string queue = gen.Chance(40) ? gen.QueueName() : "";
      bool sub_ok = model::Subscribe(p, sub, queue);
      ASSERT_EQ(checker.CanSubscribe(sub, queue), sub_ok) << "SUB " << sub << " " << queue;
      (sub_ok ? sub_allowed : sub_denied)++;
      bool filter = model::NeedsDeliveryFilter(p, sub);
      ASSERT_EQ(checker.NeedsDeliveryFilter(sub), filter) << "filter for SUB " << sub;
      filtered += filter;
      std::string msg = gen.Subject(0);
      ASSERT_EQ(checker.DeliveryAllowed(msg), model::DeliveryAllowed(p, msg)) << "deliver " << msg;
      checks += 4;
    }
  }
  EXPECT_GT(checks, 150000);
  // The generator must produce both verdicts often enough to mean something.
  EXPECT_GT(std::min(pub_allowed, pub_denied), 5000) << pub_allowed << "/" << pub_denied;
  EXPECT_GT(std::min(sub_allowed, sub_denied), 5000) << sub_allowed << "/" << sub_denied;
  EXPECT_GT(filtered, 1000);
  std::printf("publish %d allowed / %d denied, subscribe %d / %d, %d filtered wildcard subscriptions\n",
              pub_allowed, pub_denied, sub_allowed, sub_denied, filtered);
}

}  // namespace
}  // namespace sluice::auth
