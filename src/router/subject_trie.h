// SubjectTrie: subscriptions indexed by subject tokens, with '*' and '>'.
//
// Not thread-safe: Router guards it with its lock. Holds shared_ptrs so a
// MatchResult stays valid after the subscription is removed.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sluice::router {

class Subscription;

struct MatchResult {
  std::vector<std::shared_ptr<Subscription>> plain;
  // One vector per queue group name; exactly one member gets each message.
  std::vector<std::vector<std::shared_ptr<Subscription>>> queue_groups;
};

class SubjectTrie {
 public:
  SubjectTrie();
  ~SubjectTrie();
  SubjectTrie(const SubjectTrie&) = delete;
  SubjectTrie& operator=(const SubjectTrie&) = delete;

  // The subject must already be valid (IsValidSubject).
  void Insert(const std::shared_ptr<Subscription>& subscription);
  // Returns false when it was not in the trie.
  bool Remove(const Subscription& subscription);
  MatchResult Match(std::string_view literal_subject) const;
  size_t size() const { return count_; }

  template <typename Fn>
  void ForEach(Fn& fn) const {
    ForEachIn(*root_, fn);
  }

 private:
  struct Node;
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using SubVector = std::vector<std::shared_ptr<Subscription>>;
  struct Node {
    std::unordered_map<std::string, std::unique_ptr<Node>, StringHash, std::equal_to<>> literal;
    std::unique_ptr<Node> star;  // '*'
    std::unique_ptr<Node> full;  // '>'
    SubVector plain;
    std::unordered_map<std::string, SubVector, StringHash, std::equal_to<>> queues;
    bool empty() const { return literal.empty() && !star && !full && plain.empty() && queues.empty(); }
  };

  template <typename Fn>
  static void ForEachIn(const Node& node, Fn& fn) {
    for (const auto& s : node.plain) fn(*s);
    for (const auto& [name, group] : node.queues)
      for (const auto& s : group) fn(*s);
    for (const auto& [token, child] : node.literal) ForEachIn(*child, fn);
    if (node.star) ForEachIn(*node.star, fn);
    if (node.full) ForEachIn(*node.full, fn);
  }

  static bool RemoveFrom(Node& node, std::string_view rest, bool at_end, const Subscription& sub);
  static void CollectNode(const Node& node, MatchResult& out,
                          std::unordered_map<std::string_view, size_t>& group_index);
  static void MatchIn(const Node& node, std::string_view rest, bool at_end, MatchResult& out,
                      std::unordered_map<std::string_view, size_t>& group_index);

  std::unique_ptr<Node> root_;
  size_t count_ = 0;
};

}  // namespace sluice::router
