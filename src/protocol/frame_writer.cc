#include "protocol/frame_writer.h"

#include <charconv>
#include <cstring>

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

void AppendMessage(ByteBuffer& out, std::string_view subject, std::string_view sid, std::string_view reply,
                   std::string_view header, std::string_view payload, bool receiver_has_headers) {
  const bool with_headers = receiver_has_headers && !header.empty();
  const size_t body = with_headers ? header.size() + payload.size() : payload.size();
  char digits[2][24];
  char* hdr_end = with_headers ? std::to_chars(digits[0], digits[0] + 24, header.size()).ptr : digits[0];
  char* body_end = std::to_chars(digits[1], digits[1] + 24, body).ptr;
  const size_t hdr_len = static_cast<size_t>(hdr_end - digits[0]);
  const size_t body_len = static_cast<size_t>(body_end - digits[1]);
  const size_t total = (with_headers ? 5 : 4) + subject.size() + 1 + sid.size() + 1 +
                       (reply.empty() ? 0 : reply.size() + 1) + (with_headers ? hdr_len + 1 : 0) + body_len + 2 +
                       body + 2;
  char* p = out.Extend(total);
  auto put = [&p](const char* s, size_t n) {
    std::memcpy(p, s, n);
    p += n;
  };
  if (with_headers) {
    put("HMSG ", 5);
  } else {
    put("MSG ", 4);
  }
  put(subject.data(), subject.size());
  *p++ = ' ';
  put(sid.data(), sid.size());
  *p++ = ' ';
  if (!reply.empty()) {
    put(reply.data(), reply.size());
    *p++ = ' ';
  }
  if (with_headers) {
    put(digits[0], hdr_len);
    *p++ = ' ';
  }
  put(digits[1], body_len);
  *p++ = '\r';
  *p++ = '\n';
  if (with_headers) put(header.data(), header.size());
  put(payload.data(), payload.size());
  *p++ = '\r';
  *p++ = '\n';
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
