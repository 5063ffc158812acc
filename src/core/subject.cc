#include "core/subject.h"

namespace sluice {
namespace {

inline bool IsSubjectWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

// Shared walk: every token non-empty and free of whitespace; wildcards only as
// whole tokens ('>' last). Wildcards refused when allow_wildcards is false.
bool Validate(std::string_view subject, bool allow_wildcards) {
  if (subject.empty()) return false;
  size_t token_start = 0;
  bool saw_full_wildcard = false;
  for (size_t i = 0; i <= subject.size(); ++i) {
    if (i == subject.size() || subject[i] == '.') {
      size_t len = i - token_start;
      if (len == 0 || saw_full_wildcard) return false;
      if (len == 1) {
        char c = subject[token_start];
        if (c == '*' || c == '>') {
          if (!allow_wildcards) return false;
          if (c == '>') saw_full_wildcard = true;
        }
      }
      token_start = i + 1;
      continue;
    }
    if (IsSubjectWhitespace(subject[i])) return false;
  }
  return true;
}

}  // namespace

bool IsValidSubject(std::string_view subject) { return Validate(subject, true); }

bool IsValidLiteralSubject(std::string_view subject) { return Validate(subject, false); }

bool SubjectHasWildcard(std::string_view subject) {
  bool found = false;
  ForEachToken(subject, [&](std::string_view t) {
    if (t == "*" || t == ">") found = true;
    return !found;
  });
  return found;
}

bool SubjectMatchesFilter(std::string_view filter, std::string_view subject) {
  if (subject.empty() || filter.empty()) return false;
  size_t fi = 0, si = 0;
  while (true) {
    size_t fdot = filter.find('.', fi);
    std::string_view ftok = filter.substr(fi, fdot == std::string_view::npos ? std::string_view::npos : fdot - fi);
    // We only get here with a token of the subject still to match.
    if (ftok == ">") return true;
    size_t sdot = subject.find('.', si);
    std::string_view stok = subject.substr(si, sdot == std::string_view::npos ? std::string_view::npos : sdot - si);
    if (ftok != "*" && ftok != stok) return false;
    bool f_last = fdot == std::string_view::npos;
    bool s_last = sdot == std::string_view::npos;
    if (f_last || s_last) return f_last && s_last;
    fi = fdot + 1;
    si = sdot + 1;
  }
}

}  // namespace sluice
