// The fixed permission table: each case is a `permissions` block and the
// verdicts nats-server 2.9.10 gave (probed over raw TCP, see
// src/auth/README.md). permissions_test.cc checks the library against it;
// nats_probe_test.cc replays it against a live nats-server.
#pragma once

#include <string>
#include <vector>

namespace sluice::auth::testing {

struct PermOp {
  char kind;  // 'S' = SUB, 'P' = PUB
  std::string subject;
  std::string queue;  // SUB only
  bool allowed;
};

struct PermCase {
  std::string user;
  std::string permissions;  // the text of the permissions map, braces included
  std::vector<PermOp> ops;
};

inline const std::vector<PermCase>& PermissionTable() {
  static const std::vector<PermCase> table = {
      // Subscribe allow lists: the SUB subject's wildcards are literal tokens.
      {"a1", R"({subscribe: ["foo.bar"]})",
       {{'S', "foo.bar", "", true}, {'S', "foo.*", "", false}, {'S', "foo.>", "", false}, {'S', ">", "", false},
        {'S', "*.bar", "", false}, {'S', "foo.bar", "q", true}}},
      {"a2", R"({subscribe: ["foo.*"]})",
       {{'S', "foo.bar", "", true}, {'S', "foo.*", "", true}, {'S', "foo.>", "", true}, {'S', "*.bar", "", false},
        {'S', ">", "", false}, {'S', "foo.bar.baz", "", false}, {'S', "foo", "", false}}},
      {"a3", R"({subscribe: ["foo.>"]})",
       {{'S', "foo.bar", "", true}, {'S', "foo.*", "", true}, {'S', "foo.>", "", true}, {'S', "foo", "", false},
        {'S', ">", "", false}, {'S', "*.*", "", false}, {'S', "foo.a.b", "", true}}},
      // Subscribe deny lists: a broader wildcard SUB is allowed (deliveries are filtered).
      {"d1", R"({subscribe: {deny: ["foo.>"]}})",
       {{'S', ">", "", true}, {'S', "foo.*", "", false}, {'S', "foo.bar", "", false}, {'S', "*.bar", "", true},
        {'S', "foo", "", true}, {'S', "foo.>", "", false}, {'S', "*.>", "", true}}},
      {"d2", R"({subscribe: {allow: ">", deny: ["foo.bar"]}})",
       {{'S', "foo.*", "", true}, {'S', ">", "", true}, {'S', "foo.bar", "", false}, {'S', "foo.baz", "", true}}},
      // Queue entries.
      {"q1", R"({subscribe: ["foo q"]})",
       {{'S', "foo", "", false}, {'S', "foo", "q", true}, {'S', "foo", "r", false}, {'S', "foo.*", "q", false}}},
      {"q2", R"({subscribe: ["foo", "foo q"]})",
       {{'S', "foo", "", true}, {'S', "foo", "q", true}, {'S', "foo", "r", false}}},
      {"q3", R"({subscribe: {deny: ["foo q"]}})",
       {{'S', "foo", "", true}, {'S', "foo", "q", false}, {'S', "foo", "r", true}}},
      {"q4", R"({subscribe: {deny: ["foo", "foo q"]}})",
       {{'S', "foo", "", false}, {'S', "foo", "q", false}, {'S', "foo", "r", true}}},
      {"q5", R"({subscribe: ["foo q.*"]})",
       {{'S', "foo", "q.a", true}, {'S', "foo", "q.*", true}, {'S', "foo", "q.a.b", false}, {'S', "foo", "q", false},
        {'S', "foo", "q.>", false}, {'S', "foo", "*", false}}},
      {"q6", R"({subscribe: ["foo.* q"]})",
       {{'S', "foo.bar", "q", true}, {'S', "foo.bar", "", false}, {'S', "foo.*", "q", true}, {'S', "foo.>", "q", true},
        {'S', "foo.bar", "r", false}}},
      {"q7", R"({subscribe: ["foo"]})", {{'S', "foo", "q", true}, {'S', "foo", "", true}}},
      {"q8", R"({subscribe: ["foo q.>"]})",
       {{'S', "foo", "q.a", true}, {'S', "foo", "q.a.b", true}, {'S', "foo", "q", false}, {'S', "foo", "q.*", true},
        {'S', "foo", "q.>", true}}},
      // Publish.
      {"p1", R"({publish: ["foo.*"]})",
       {{'P', "foo.bar", "", true}, {'P', "foo.*", "", true}, {'P', "foo.>", "", true}, {'P', "foo.bar.baz", "", false},
        {'P', "foo", "", false}}},
      {"p2", R"({publish: {deny: "foo.>"}})",
       {{'P', "foo.bar", "", false}, {'P', "foo.*", "", false}, {'P', "foo.>", "", false}, {'P', "foo", "", true},
        {'P', "bar", "", true}, {'P', "*.bar", "", true}, {'P', ">", "", true}}},
      {"p3", R"({publish: []})", {{'P', "foo", "", true}, {'P', "bar", "", true}}},
      {"p4", R"({publish: {allow: []}})", {{'P', "foo", "", true}, {'P', "bar", "", true}}},
      {"p5", R"({publish: {}})", {{'P', "foo", "", true}, {'P', "bar", "", true}}},
      {"p6", R"({publish: {allow: ["foo.>"], deny: ["foo.bar"]}})",
       {{'P', "foo.bar", "", false}, {'P', "foo.baz", "", true}, {'P', "foo.*", "", true}, {'P', "foo.>", "", true}}},
      // allow_responses without a publish list: only replies may be published.
      {"r1", R"({allow_responses: true, subscribe: "req"})",
       {{'P', "other", "", false}, {'P', "req", "", false}, {'S', "req", "", true}, {'S', "other", "", false}}},
      {"r2", R"({allow_responses: {max: 2}, publish: "pub.ok"})",
       {{'P', "pub.ok", "", true}, {'P', "pub.no", "", false}}},
  };
  return table;
}

}  // namespace sluice::auth::testing
