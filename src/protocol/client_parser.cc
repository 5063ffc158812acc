#include "protocol/client_parser.h"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

namespace sluice::protocol {
namespace {

struct OpName {
  std::string_view name;  // upper case
  ClientOp op;
};

// No name is a prefix of another, so the first full match is the only one.
constexpr std::array<OpName, 10> kOpNames = {{
    {"PUB", ClientOp::kPub},
    {"HPUB", ClientOp::kHPub},
    {"SUB", ClientOp::kSub},
    {"UNSUB", ClientOp::kUnsub},
    {"PING", ClientOp::kPing},
    {"PONG", ClientOp::kPong},
    {"CONNECT", ClientOp::kConnect},
    {"INFO", ClientOp::kInfo},
    {"+OK", ClientOp::kOk},
    {"-ERR", ClientOp::kErr},
}};

inline char ToUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }
inline bool IsArgSeparator(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The first argument separator at or after i, or s.size(). Subjects are
// scanned eight bytes at a time: a byte below 0x21 (every separator is one)
// is a candidate, checked exactly; the lowest flagged byte of a word is
// exact (the subtraction's borrows only run upwards), bytes >= 0x80 never
// flag. A control byte that is not a separator is skipped.
size_t FindArgSeparator(std::string_view s, size_t i) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  // (Little-endian only: there the first byte in memory is the lowest.)
  while (std::endian::native == std::endian::little && i + 8 <= s.size()) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    const uint64_t below = (word - kOnes * 0x21) & ~word & kHigh;
    if (below == 0) {
      i += 8;
      continue;
    }
    const size_t at = i + static_cast<size_t>(std::countr_zero(below) >> 3);
    if (IsArgSeparator(s[at])) return at;
    i = at + 1;
  }
  while (i < s.size() && !IsArgSeparator(s[i])) ++i;
  return i;
}

// Splits a control line's arguments on blanks. Returns how many were found;
// more than out.size() arguments yields out.size() + 1.
template <size_t N>
size_t SplitArgs(std::string_view args, std::array<std::string_view, N>& out) {
  size_t count = 0;
  size_t i = 0;
  while (i < args.size()) {
    while (i < args.size() && IsArgSeparator(args[i])) ++i;
    if (i == args.size()) break;
    size_t start = i;
    i = FindArgSeparator(args, i);
    if (count == N) return N + 1;
    out[count++] = args.substr(start, i - start);
  }
  return count;
}

// nats-server's size rule: 1 to 9 decimal digits, else malformed.
constexpr size_t kMaxSizeDigits = 9;
int64_t ParseSize(std::string_view digits) {
  if (digits.empty() || digits.size() > kMaxSizeDigits) return -1;
  int64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

// The parse functions fill the caller's ParsedOp in place: it is large, and
// returning it by value through each layer cost more than the parsing.
void Error(ParsedOp& r, ProtocolError error) {
  r.status = ParseStatus::kError;
  r.error = error;
}

void NeedMore(ParsedOp& r, size_t consumed = 0, size_t min_bytes = 0) {
  r.status = ParseStatus::kNeedMore;
  r.consumed = consumed;
  r.min_bytes = min_bytes;
}

}  // namespace

std::string_view ProtocolErrorText(ProtocolError error) {
  switch (error) {
    case ProtocolError::kUnknownOp: return "Unknown Protocol Operation";
    case ProtocolError::kMaxControlLine: return "maximum control line exceeded";
    case ProtocolError::kMaxPayload: return "Maximum Payload Violation";
    case ProtocolError::kMalformed:
    case ProtocolError::kNone: return "";
  }
  return "";
}

ParsedOp ClientParser::Next(std::string_view buffer) {
  ParsedOp r;
  if (skip_ != SkipState::kNone) {
    FinishSkip(r, buffer);
  } else if (args_pending_) {
    ParseArgs(r, pending_op_, buffer, 0);
    if (r.status != ParseStatus::kNeedMore) args_pending_ = false;
  } else {
    ParseControlLine(r, buffer);
  }
  return r;
}

void ClientParser::FinishSkip(ParsedOp& r, std::string_view buffer) {
  size_t lf = buffer.find('\n');
  if (lf == std::string_view::npos) return NeedMore(r, buffer.size());
  r.status = ParseStatus::kOp;
  r.op = skip_ == SkipState::kPingTail ? ClientOp::kPing
         : skip_ == SkipState::kPongTail ? ClientOp::kPong
                                          : ClientOp::kOk;
  r.consumed = lf + 1;
  skip_ = SkipState::kNone;
  return;
}

void ClientParser::ParseControlLine(ParsedOp& r, std::string_view buffer) {
  if (buffer.empty()) return NeedMore(r);

  // 0. Fast path for the frequent ops when their whole name is present
  //    (`| 0x20` folds the case of these letters and of nothing else they
  //    could be confused with).
  if (buffer.size() >= 5) {
    const char c0 = static_cast<char>(buffer[0] | 0x20), c1 = static_cast<char>(buffer[1] | 0x20),
               c2 = static_cast<char>(buffer[2] | 0x20), c3 = static_cast<char>(buffer[3] | 0x20);
    if (c0 == 'p' && c1 == 'u' && c2 == 'b') return ParseArgs(r, ClientOp::kPub, buffer, 3);
    if (c0 == 'h' && c1 == 'p' && c2 == 'u' && c3 == 'b') return ParseArgs(r, ClientOp::kHPub, buffer, 4);
    if (c0 == 's' && c1 == 'u' && c2 == 'b') return ParseArgs(r, ClientOp::kSub, buffer, 3);
    if (c0 == 'p' && c1 == 'i' && c2 == 'n' && c3 == 'g') return ParseArgs(r, ClientOp::kPing, buffer, 4);
    if (c0 == 'p' && c1 == 'o' && c2 == 'n' && c3 == 'g') return ParseArgs(r, ClientOp::kPong, buffer, 4);
  }

  // 1. The operation name, case-insensitive, checked byte by byte so that a
  //    wrong byte is refused as soon as it arrives, as nats-server does.
  const OpName* matched = nullptr;
  bool any_prefix = false;
  for (const OpName& candidate : kOpNames) {
    size_t n = std::min(candidate.name.size(), buffer.size());
    bool prefix = true;
    for (size_t i = 0; i < n; ++i) {
      if (ToUpper(buffer[i]) != candidate.name[i]) {
        prefix = false;
        break;
      }
    }
    if (!prefix) continue;
    any_prefix = true;
    if (n == candidate.name.size()) {
      matched = &candidate;
      break;
    }
  }
  if (!any_prefix) return Error(r, ProtocolError::kUnknownOp);
  if (matched == nullptr) return NeedMore(r);

  const size_t name_len = matched->name.size();
  const ClientOp op = matched->op;
  return ParseArgs(r, op, buffer, name_len);
}

// `pos` is where the op name ended (0 when the name and the blanks after it
// were consumed by an earlier call, see args_pending_).
void ClientParser::ParseArgs(ParsedOp& r, ClientOp op, std::string_view buffer, size_t pos) {
  const size_t name_len = pos;

  // 2. Ops whose line tail is ignored: PING, PONG, +OK.
  if (op == ClientOp::kPing || op == ClientOp::kPong || op == ClientOp::kOk) {
    size_t lf = buffer.find('\n', name_len);
    if (lf == std::string_view::npos) {
      skip_ = op == ClientOp::kPing ? SkipState::kPingTail
              : op == ClientOp::kPong ? SkipState::kPongTail
                                      : SkipState::kOkTail;
      return NeedMore(r, buffer.size());
    }
    r.status = ParseStatus::kOp;
    r.op = op;
    r.consumed = lf + 1;
    return;
  }

  // 3. Ops with arguments. CONNECT and INFO need no blank after the name;
  //    the others need a space or tab.
  if (!args_pending_ && op != ClientOp::kConnect && op != ClientOp::kInfo) {
    if (buffer.size() == name_len) return NeedMore(r);
    if (!IsBlank(buffer[name_len])) return Error(r, ProtocolError::kUnknownOp);
  }
  size_t args_start = name_len;
  while (args_start < buffer.size() && IsBlank(buffer[args_start])) ++args_start;
  if (args_start == buffer.size()) {
    // Nothing but the name and blanks so far: drop them (any number of
    // blanks is allowed here, so keeping them would let the buffer grow
    // without bound) and resume at the arguments on the next call.
    args_pending_ = true;
    pending_op_ = op;
    return NeedMore(r, buffer.size());
  }

  size_t lf = buffer.find('\n', args_start);
  if (lf == std::string_view::npos) {
    // A CR at the very end is the line end arriving, not an argument byte.
    size_t pending = buffer.size() - args_start;
    if (buffer.back() == '\r') --pending;
    if (pending > limits_.max_control_line) return Error(r, ProtocolError::kMaxControlLine);
    return NeedMore(r);
  }
  size_t line_end = lf;
  if (line_end > args_start && buffer[line_end - 1] == '\r') --line_end;
  std::string_view args = buffer.substr(args_start, line_end - args_start);
  if (args.size() > limits_.max_control_line) return Error(r, ProtocolError::kMaxControlLine);
  r.status = ParseStatus::kOp;
  r.op = op;
  r.consumed = lf + 1;

  switch (op) {
    case ClientOp::kConnect:
    case ClientOp::kInfo:
      r.json = args;
      return;
    case ClientOp::kErr:
      return;
    case ClientOp::kSub: {
      std::array<std::string_view, 3> a;
      size_t n = SplitArgs(args, a);
      if (n == 2) {
        r.subject = a[0];
        r.sid = a[1];
      } else if (n == 3) {
        r.subject = a[0];
        r.queue = a[1];
        r.sid = a[2];
      } else {
        return Error(r, ProtocolError::kMalformed);
      }
      return;
    }
    case ClientOp::kUnsub: {
      std::array<std::string_view, 2> a;
      size_t n = SplitArgs(args, a);
      if (n == 1 || n == 2) {
        r.sid = a[0];
        if (n == 2) {
          int64_t max = ParseSize(a[1]);
          r.unsub_max = max > 0 ? max : 0;
        }
        return;
      }
      return Error(r, ProtocolError::kMalformed);
    }
    case ClientOp::kPub:
    case ClientOp::kHPub: {
      const bool with_headers = op == ClientOp::kHPub;
      if (with_headers && !headers_allowed_) return Error(r, ProtocolError::kMalformed);
      std::array<std::string_view, 4> a;
      size_t n = SplitArgs(args, a);
      int64_t header_size = 0;
      int64_t total_size = -1;
      if (!with_headers && n == 2) {
        r.subject = a[0];
        total_size = ParseSize(a[1]);
      } else if (!with_headers && n == 3) {
        r.subject = a[0];
        r.reply = a[1];
        total_size = ParseSize(a[2]);
      } else if (with_headers && n == 3) {
        r.subject = a[0];
        header_size = ParseSize(a[1]);
        total_size = ParseSize(a[2]);
      } else if (with_headers && n == 4) {
        r.subject = a[0];
        r.reply = a[1];
        header_size = ParseSize(a[2]);
        total_size = ParseSize(a[3]);
      } else {
        return Error(r, ProtocolError::kMalformed);
      }
      if (total_size < 0 || header_size < 0 || header_size > total_size) return Error(r, ProtocolError::kMalformed);
      if (total_size > limits_.max_payload) return Error(r, ProtocolError::kMaxPayload);

      const size_t payload_start = lf + 1;
      const size_t needed = payload_start + static_cast<size_t>(total_size) + 2;
      // The payload must be followed by CR LF; a wrong byte is refused as
      // soon as it arrives, before the rest.
      // min_bytes asks for the CR first, so that a caller that waits for
      // min_bytes before calling again also sees a wrong byte there at once.
      if (buffer.size() < needed - 1) return NeedMore(r, 0, needed - 1);
      if (buffer[needed - 2] != '\r') return Error(r, ProtocolError::kUnknownOp);
      if (buffer.size() < needed) return NeedMore(r, 0, needed);
      if (buffer[needed - 1] != '\n') return Error(r, ProtocolError::kUnknownOp);
      r.declared_size = static_cast<size_t>(total_size);
      r.header = buffer.substr(payload_start, static_cast<size_t>(header_size));
      r.payload = buffer.substr(payload_start + static_cast<size_t>(header_size),
                                static_cast<size_t>(total_size - header_size));
      r.consumed = needed;
      return;
    }
    default:
      return Error(r, ProtocolError::kUnknownOp);
  }
}

}  // namespace sluice::protocol
