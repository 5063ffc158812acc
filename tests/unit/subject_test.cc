// Subjects: validation and wildcard matching (reference §5).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/subject.h"

namespace sluice {
namespace {

TEST(Subject, ValidLiteralSubjects) {
  for (std::string_view s : {"foo", "foo.bar", "a.b.c.d.e", "_INBOX.abc.1", "$JS.API.INFO", "foo*", "*foo",
                             "f>o", "foo>", "x>.*y", "x.>y", "ünï.ç0de", "a-b_c/d:e"}) {
    EXPECT_TRUE(IsValidLiteralSubject(s)) << s;
    EXPECT_TRUE(IsValidSubject(s)) << s;
    EXPECT_FALSE(SubjectHasWildcard(s)) << s;
  }
}

TEST(Subject, WildcardSubjectsAreValidButNotLiteral) {
  for (std::string_view s : {"*", ">", "foo.*", "foo.>", "*.bar", "*.*.*", "a.*.c.>", "*.>"}) {
    EXPECT_TRUE(IsValidSubject(s)) << s;
    EXPECT_FALSE(IsValidLiteralSubject(s)) << s;
    EXPECT_TRUE(SubjectHasWildcard(s)) << s;
  }
}

TEST(Subject, EmptyTokensAreInvalid) {
  for (std::string_view s : {"", ".", "..", ".foo", "foo.", "foo..bar", "a.b.", "*.", ".>", "foo..>"}) {
    EXPECT_FALSE(IsValidSubject(s)) << "[" << s << "]";
    EXPECT_FALSE(IsValidLiteralSubject(s)) << "[" << s << "]";
  }
}

TEST(Subject, WhitespaceIsInvalid) {
  for (std::string_view s : {"foo bar", " foo", "foo ", "foo.\tbar", "foo\r", "foo\nbar", "a.b\f", "a. .b"}) {
    EXPECT_FALSE(IsValidSubject(s)) << s;
    EXPECT_FALSE(IsValidLiteralSubject(s)) << s;
  }
}

TEST(Subject, FullWildcardMustBeLast) {
  EXPECT_FALSE(IsValidSubject(">.foo"));
  EXPECT_FALSE(IsValidSubject("foo.>.bar"));
  EXPECT_FALSE(IsValidSubject(">.>"));
  EXPECT_FALSE(IsValidSubject("a.>.*"));
  EXPECT_TRUE(IsValidSubject("a.*.>"));
}

TEST(Subject, ForEachTokenVisitsTokensAndStops) {
  std::vector<std::string> seen;
  EXPECT_TRUE(ForEachToken("a.bb..c", [&](std::string_view t) {
    seen.emplace_back(t);
    return true;
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "bb", "", "c"}));
  seen.clear();
  EXPECT_FALSE(ForEachToken("a.b.c", [&](std::string_view t) {
    seen.emplace_back(t);
    return t != "b";
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
}

struct MatchCase {
  const char* filter;
  const char* subject;
  bool match;
};

TEST(Subject, MatchesFilter) {
  const MatchCase cases[] = {
      {"foo", "foo", true},
      {"foo", "bar", false},
      {"foo", "foo.bar", false},
      {"foo.bar", "foo", false},
      {"foo", "fo", false},
      {"fo", "foo", false},
      {"*", "foo", true},
      {"*", "foo.bar", false},
      {"foo.*", "foo.bar", true},
      {"foo.*", "foo", false},
      {"foo.*", "foo.bar.baz", false},
      {"*.bar", "foo.bar", true},
      {"*.bar", "foo.baz", false},
      {"*.*", "a.b", true},
      {"*.*", "a", false},
      {">", "foo", true},
      {">", "foo.bar.baz", true},
      {"foo.>", "foo", false},
      {"foo.>", "foo.bar", true},
      {"foo.>", "foo.bar.baz", true},
      {"foo.>", "bar.baz", false},
      {"*.>", "a", false},
      {"*.>", "a.b", true},
      {"foo.*.>", "foo.bar", false},
      {"foo.*.>", "foo.bar.baz", true},
      {"a.*.c", "a.b.c", true},
      {"a.*.c", "a.b.d", false},
      // '*' and '>' inside a token are literal.
      {"foo*", "foo*", true},
      {"foo*", "foox", false},
      {"foo>", "foo.bar", false},
      {"foo>", "foo>", true},
      // Case-sensitive.
      {"Foo", "foo", false},
      // Empty input never matches.
      {"foo", "", false},
      {"", "foo", false},
      {">", "", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(SubjectMatchesFilter(c.filter, c.subject), c.match) << c.filter << " vs " << c.subject;
  }
}

TEST(Subject, LiteralFilterMatchesExactlyItself) {
  const char* subjects[] = {"a", "a.b", "a.b.c", "ab", "a.bc", "b.a"};
  for (const char* f : subjects)
    for (const char* s : subjects)
      EXPECT_EQ(SubjectMatchesFilter(f, s), std::string_view(f) == s) << f << " vs " << s;
}

}  // namespace
}  // namespace sluice
