#include "protocol/frame_writer.h"

#include <charconv>

namespace sluice::protocol {
namespace {

inline size_t DecimalDigits(size_t v) {
  size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

inline void AppendDecimal(std::string& out, size_t v) {
  char digits[24];
  auto res = std::to_chars(digits, digits + sizeof(digits), v);
  out.append(digits, static_cast<size_t>(res.ptr - digits));
}

}  // namespace

size_t MessageFrameSize(std::string_view subject, std::string_view sid, std::string_view reply, size_t header_size,
                        size_t payload_size, bool with_headers) {
  size_t n = subject.size() + 1 + sid.size() + 1 + (reply.empty() ? 0 : reply.size() + 1) + 2 + 2;
  if (with_headers && header_size > 0) {
    n += 5 + DecimalDigits(header_size) + 1 + DecimalDigits(header_size + payload_size) + header_size + payload_size;
  } else {
    n += 4 + DecimalDigits(payload_size) + payload_size;
  }
  return n;
}

void AppendMessage(std::string& out, std::string_view subject, std::string_view sid, std::string_view reply,
                   std::string_view header, std::string_view payload, bool receiver_has_headers) {
  const bool with_headers = receiver_has_headers && !header.empty();
  out.append(with_headers ? "HMSG " : "MSG ", with_headers ? 5 : 4);
  out.append(subject);
  out.push_back(' ');
  out.append(sid);
  out.push_back(' ');
  if (!reply.empty()) {
    out.append(reply);
    out.push_back(' ');
  }
  if (with_headers) {
    AppendDecimal(out, header.size());
    out.push_back(' ');
    AppendDecimal(out, header.size() + payload.size());
    out.append("\r\n", 2);
    out.append(header);
  } else {
    AppendDecimal(out, payload.size());
    out.append("\r\n", 2);
  }
  out.append(payload);
  out.append("\r\n", 2);
}

void AppendError(std::string& out, std::string_view text) {
  out.append("-ERR '");
  out.append(text);
  out.append("'\r\n");
}

void AppendInfo(std::string& out, std::string_view json) {
  out.append("INFO ");
  out.append(json);
  out.append(" \r\n");
}

}  // namespace sluice::protocol
