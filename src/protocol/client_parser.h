// ClientParser: the client-to-server half of the NATS protocol.
//
// Incremental and zero-copy. The caller owns a byte buffer holding what it has
// read and not yet consumed; Next() parses one operation from its front and
// returns views into that buffer (valid until the caller drops or moves the
// bytes). When the front holds only part of an operation Next() returns
// kNeedMore with `consumed` == 0 (or > 0 when it skipped bytes it will never
// need again, such as the tail of a PING line); the caller appends more bytes
// and calls again. `min_bytes` then tells how many bytes the buffer must hold
// before another call can make progress (for a PUB: the payload and its CR;
// then the LF), so a large payload is not rescanned on every read.
//
// The grammar and error texts follow nats-server (docs/protocol-notes.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice::protocol {

enum class ClientOp : uint8_t {
  kConnect,  // args: json
  kPub,      // subject, reply, payload (header empty)
  kHPub,     // subject, reply, header, payload
  kSub,      // subject, queue, sid
  kUnsub,    // sid, max_msgs
  kPing,
  kPong,
  kInfo,  // json (a client may send one; valid JSON is ignored)
  kOk,    // "+OK" from a client: ignored
  kErr,   // "-ERR" from a client: the server closes
};

enum class ParseStatus : uint8_t {
  kOp,        // one operation parsed; `op` and the views are set
  kNeedMore,  // the buffer ends inside an operation
  kError,     // protocol error: see `error`; the connection must close
};

// How a protocol error is reported. Texts are nats-server's.
enum class ProtocolError : uint8_t {
  kNone,
  kUnknownOp,       // -ERR 'Unknown Protocol Operation', then close
  kMaxControlLine,  // -ERR 'maximum control line exceeded', then close
  kMaxPayload,      // -ERR 'Maximum Payload Violation', then close
  kMalformed,       // close without -ERR (bad arguments)
};

std::string_view ProtocolErrorText(ProtocolError error);  // "" for kMalformed

struct ParsedOp {
  ParseStatus status = ParseStatus::kNeedMore;
  ProtocolError error = ProtocolError::kNone;
  ClientOp op = ClientOp::kPing;
  size_t consumed = 0;   // bytes of the buffer this call used up
  size_t min_bytes = 0;  // with kNeedMore: bytes the pending op needs (0 = unknown)

  std::string_view subject;  // PUB/HPUB/SUB
  std::string_view reply;    // PUB/HPUB (may be empty)
  std::string_view queue;    // SUB (may be empty)
  std::string_view sid;      // SUB/UNSUB
  std::string_view json;     // CONNECT/INFO
  std::string_view header;   // HPUB header block (may be empty)
  std::string_view payload;  // PUB/HPUB payload (after the header)
  // UNSUB's limit: > 0 auto-unsubscribes after that many deliveries; 0 (no
  // argument, or one that is not a positive number) removes at once.
  int64_t unsub_max = 0;
  size_t declared_size = 0;          // PUB/HPUB total size as declared
};

struct ParserLimits {
  size_t max_control_line = 4096;
  int64_t max_payload = 1024 * 1024;
};

class ClientParser {
 public:
  explicit ClientParser(ParserLimits limits = {}) : limits_(limits) {}

  void set_limits(ParserLimits limits) { limits_ = limits; }
  const ParserLimits& limits() const { return limits_; }

  // Headers (HPUB) are refused until the client's CONNECT said headers:true.
  void set_headers_allowed(bool allowed) { headers_allowed_ = allowed; }

  // Parses one operation from the front of `buffer`.
  ParsedOp Next(std::string_view buffer);

 private:
  enum class SkipState : uint8_t { kNone, kPingTail, kPongTail, kOkTail };

  void ParseControlLine(ParsedOp& out, std::string_view buffer);
  void FinishSkip(ParsedOp& out, std::string_view buffer);
  void ParseArgs(ParsedOp& out, ClientOp op, std::string_view buffer, size_t pos);

  ParserLimits limits_;
  bool headers_allowed_ = false;
  // A PING/PONG/+OK line whose bytes we dropped before its line end arrived.
  SkipState skip_ = SkipState::kNone;
  // The name of `pending_op_` and the blanks after it were consumed; the
  // buffer now starts at its arguments (or at more blanks).
  bool args_pending_ = false;
  ClientOp pending_op_ = ClientOp::kPing;
};

}  // namespace sluice::protocol
