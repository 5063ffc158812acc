// Subjects: validation and wildcard matching (NATS rules).
//
// A subject is one or more non-empty tokens separated by '.'; tokens hold no
// whitespace. In a subscription (a "filter") a token that is exactly "*"
// matches one token, and a final token that is exactly ">" matches one or more.
// Everything here works on string_views and allocates nothing.
#pragma once

#include <string_view>

namespace sluice {

// A well-formed subject that may contain wildcards (SUB, stream filters).
bool IsValidSubject(std::string_view subject);

// A well-formed subject with no wildcard tokens (what a pedantic PUB needs).
bool IsValidLiteralSubject(std::string_view subject);

// True when the subject has a "*" or ">" token.
bool SubjectHasWildcard(std::string_view subject);

// Does a literal subject match a (possibly wildcard) filter?
bool SubjectMatchesFilter(std::string_view filter, std::string_view subject);

// Calls fn(token) for every '.'-separated token, left to right; stops early
// when fn returns false. Returns false when stopped early.
template <typename Fn>
bool ForEachToken(std::string_view subject, Fn&& fn) {
  size_t start = 0;
  while (true) {
    size_t dot = subject.find('.', start);
    std::string_view token = subject.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!fn(token)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace sluice
