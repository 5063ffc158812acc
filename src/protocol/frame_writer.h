// Server-to-client frames: MSG, HMSG, INFO, PING/PONG, +OK, -ERR.
//
// Each function appends one complete frame to an output buffer. The buffer
// type is any contiguous byte container with append(const char*, size_t).
#pragma once

#include <string>
#include <string_view>

#include "protocol/byte_buffer.h"

namespace sluice::protocol {

inline constexpr std::string_view kPing = "PING\r\n";
inline constexpr std::string_view kPong = "PONG\r\n";
inline constexpr std::string_view kOk = "+OK\r\n";

// The bytes AppendMessage will write, for accounting before the copy.
size_t MessageFrameSize(std::string_view subject, std::string_view sid, std::string_view reply,
                        size_t header_size, size_t payload_size, bool with_headers);

// MSG <subject> <sid> [reply] <size>\r\n<payload>\r\n, or
// HMSG <subject> <sid> [reply] <hdr> <total>\r\n<header><payload>\r\n when the
// message has a header block and the receiver negotiated headers. A receiver
// without headers gets the payload alone, as nats-server does.
void AppendMessage(ByteBuffer& out, std::string_view subject, std::string_view sid, std::string_view reply,
                   std::string_view header, std::string_view payload, bool receiver_has_headers);

// -ERR '<text>'\r\n
void AppendError(std::string& out, std::string_view text);

// INFO <json> \r\n (nats-server writes a space before CR LF).
void AppendInfo(std::string& out, std::string_view json);

}  // namespace sluice::protocol
