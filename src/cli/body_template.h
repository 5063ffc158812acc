// Message bodies (and header values) with natscli's template functions:
//   {{Count}} (also {{Cnt}})  the message number, from 1
//   {{Time}}                  the local time, "3:04PM"
//   {{TimeStamp}}             the local time, RFC 3339
//   {{Unix}}, {{UnixNano}}    seconds / nanoseconds since the epoch
//   {{ID}}                    a unique 22-character id
//   {{Random(10,20)}}         10 to 20 random letters and digits (also {{Random 10 20}})
//   {{Request}}               the request's body (reply only)
// Spaces inside the braces are ignored. Anything else in braces is an error,
// found when the template is parsed, before anything is sent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::cli {

struct TemplateContext {
  uint64_t count = 1;
  std::string_view request;
};

class BodyTemplate {
 public:
  // Throws UsageError for an unknown function or an unclosed "{{".
  static BodyTemplate Parse(std::string_view text, bool allow_request = false);

  std::string Render(const TemplateContext& context) const;
  // True when Render returns the same text every time.
  bool is_static() const { return is_static_; }

 private:
  enum class Kind { kText, kCount, kTime, kTimeStamp, kUnix, kUnixNano, kId, kRandom, kRequest };
  struct Part {
    Kind kind = Kind::kText;
    std::string text;
    uint32_t min = 0, max = 0;
  };
  std::vector<Part> parts_;
  bool is_static_ = true;
};

// `length` random letters and digits.
std::string RandomAlphanumeric(size_t length);

}  // namespace sluice::cli
