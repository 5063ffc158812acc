#include "router/subject_trie.h"

#include "router/router.h"

namespace sluice::router {
namespace {

// Splits off the first token of `rest`. Sets at_end when it was the last.
std::string_view FirstToken(std::string_view rest, std::string_view& after, bool& last) {
  size_t dot = rest.find('.');
  if (dot == std::string_view::npos) {
    last = true;
    after = {};
    return rest;
  }
  last = false;
  after = rest.substr(dot + 1);
  return rest.substr(0, dot);
}

}  // namespace

SubjectTrie::SubjectTrie() : root_(std::make_unique<Node>()) {}
SubjectTrie::~SubjectTrie() = default;

void SubjectTrie::Insert(const std::shared_ptr<Subscription>& sub) {
  Node* node = root_.get();
  std::string_view rest = sub->subject();
  bool last = false;
  while (!last) {
    std::string_view after;
    std::string_view token = FirstToken(rest, after, last);
    std::unique_ptr<Node>* slot;
    if (token == "*") {
      slot = &node->star;
    } else if (token == ">") {
      slot = &node->full;
    } else {
      auto it = node->literal.find(token);
      if (it == node->literal.end()) it = node->literal.emplace(std::string(token), nullptr).first;
      slot = &it->second;
    }
    if (!*slot) *slot = std::make_unique<Node>();
    node = slot->get();
    rest = after;
  }
  SubVector* vec;
  if (sub->queue().empty()) {
    vec = &node->plain;
  } else {
    auto it = node->queues.find(std::string_view(sub->queue()));
    if (it == node->queues.end()) it = node->queues.emplace(sub->queue(), SubVector{}).first;
    vec = &it->second;
  }
  sub->trie_slot_ = vec->size();
  vec->push_back(sub);
  ++count_;
}

bool SubjectTrie::RemoveFrom(Node& node, std::string_view rest, bool at_end, const Subscription& sub) {
  if (at_end) {
    SubVector* vec;
    decltype(node.queues)::iterator qit;
    if (sub.queue().empty()) {
      vec = &node.plain;
    } else {
      qit = node.queues.find(std::string_view(sub.queue()));
      if (qit == node.queues.end()) return false;
      vec = &qit->second;
    }
    size_t slot = sub.trie_slot_;
    if (slot >= vec->size() || (*vec)[slot].get() != &sub) return false;
    if (slot != vec->size() - 1) {
      (*vec)[slot] = std::move(vec->back());
      (*vec)[slot]->trie_slot_ = slot;
    }
    vec->pop_back();
    if (!sub.queue().empty() && vec->empty()) node.queues.erase(qit);
    return true;
  }
  std::string_view after;
  bool last = false;
  std::string_view token = FirstToken(rest, after, last);
  std::unique_ptr<Node>* child;
  decltype(node.literal)::iterator lit;
  if (token == "*") {
    child = &node.star;
  } else if (token == ">") {
    child = &node.full;
  } else {
    lit = node.literal.find(token);
    if (lit == node.literal.end()) return false;
    child = &lit->second;
  }
  if (!*child) return false;
  if (!RemoveFrom(**child, after, last, sub)) return false;
  if ((*child)->empty()) {
    if (token == "*" || token == ">") {
      child->reset();
    } else {
      node.literal.erase(lit);
    }
  }
  return true;
}

bool SubjectTrie::Remove(const Subscription& sub) {
  if (!RemoveFrom(*root_, sub.subject(), false, sub)) return false;
  --count_;
  return true;
}

void SubjectTrie::CollectNode(const Node& node, MatchResult& out,
                              std::unordered_map<std::string_view, size_t>& group_index) {
  out.plain.insert(out.plain.end(), node.plain.begin(), node.plain.end());
  for (const auto& [name, group] : node.queues) {
    auto [it, inserted] = group_index.emplace(std::string_view(name), out.queue_groups.size());
    if (inserted) out.queue_groups.emplace_back();
    auto& target = out.queue_groups[it->second];
    target.insert(target.end(), group.begin(), group.end());
  }
}

void SubjectTrie::MatchIn(const Node& node, std::string_view rest, bool at_end, MatchResult& out,
                          std::unordered_map<std::string_view, size_t>& group_index) {
  if (at_end) {
    CollectNode(node, out, group_index);
    return;
  }
  // At least one token remains: '>' here matches all of them.
  if (node.full) CollectNode(*node.full, out, group_index);
  std::string_view after;
  bool last = false;
  std::string_view token = FirstToken(rest, after, last);
  if (!node.literal.empty()) {
    auto it = node.literal.find(token);
    if (it != node.literal.end()) MatchIn(*it->second, after, last, out, group_index);
  }
  if (node.star) MatchIn(*node.star, after, last, out, group_index);
}

MatchResult SubjectTrie::Match(std::string_view subject) const {
  MatchResult out;
  // A subject with an empty token ("foo.", ".foo", "a..b") matches nothing,
  // not even '>': nats-server 2.9.10 delivers such a publish to no one.
  if (subject.empty() || subject.front() == '.' || subject.back() == '.' ||
      subject.find("..") != std::string_view::npos)
    return out;
  std::unordered_map<std::string_view, size_t> group_index;
  MatchIn(*root_, subject, false, out, group_index);
  return out;
}

}  // namespace sluice::router
