// A test driver for ClientParser that behaves like a connection's read loop:
// it keeps the unconsumed tail of its buffer, appends the next chunk, drops
// `consumed` bytes even on kNeedMore, and waits for `min_bytes` before calling
// the parser again. It records every operation (copying the views) and the
// error that ended the stream. Shared by the unit tests and the fuzzer.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/client_parser.h"

namespace sluice::testing {

using protocol::ClientOp;
using protocol::ClientParser;
using protocol::ParsedOp;
using protocol::ParserLimits;
using protocol::ParseStatus;
using protocol::ProtocolError;

struct RecordedOp {
  ClientOp op = ClientOp::kPing;
  std::string subject, reply, queue, sid, json, header, payload;
  int64_t unsub_max = 0;
  size_t declared_size = 0;

  bool operator==(const RecordedOp&) const = default;
};

inline const char* OpName(ClientOp op) {
  switch (op) {
    case ClientOp::kConnect: return "CONNECT";
    case ClientOp::kPub: return "PUB";
    case ClientOp::kHPub: return "HPUB";
    case ClientOp::kSub: return "SUB";
    case ClientOp::kUnsub: return "UNSUB";
    case ClientOp::kPing: return "PING";
    case ClientOp::kPong: return "PONG";
    case ClientOp::kInfo: return "INFO";
    case ClientOp::kOk: return "+OK";
    case ClientOp::kErr: return "-ERR";
  }
  return "?";
}

inline const char* ErrorName(ProtocolError e) {
  switch (e) {
    case ProtocolError::kNone: return "none";
    case ProtocolError::kUnknownOp: return "UnknownOp";
    case ProtocolError::kMaxControlLine: return "MaxControlLine";
    case ProtocolError::kMaxPayload: return "MaxPayload";
    case ProtocolError::kMalformed: return "Malformed";
  }
  return "?";
}

inline std::ostream& operator<<(std::ostream& os, const RecordedOp& r) {
  os << OpName(r.op);
  auto field = [&](const char* name, const std::string& v) {
    if (!v.empty()) os << ' ' << name << "=[" << (v.size() > 40 ? v.substr(0, 40) + "..." : v) << ']';
  };
  field("subject", r.subject);
  field("reply", r.reply);
  field("queue", r.queue);
  field("sid", r.sid);
  field("json", r.json);
  field("header", r.header);
  field("payload", r.payload);
  if (r.unsub_max != 0) os << " max=" << r.unsub_max;
  if (r.declared_size != 0) os << " size=" << r.declared_size;
  return os;
}

enum class HeadersMode { kNever, kAlways, kAfterConnect };

struct DriverOptions {
  ParserLimits limits{};
  // kAfterConnect: HPUB becomes legal after a CONNECT whose JSON says
  // "headers":true, as the connection does it.
  HeadersMode headers = HeadersMode::kAlways;
  bool use_min_bytes_hint = true;
};

struct DriveResult {
  std::vector<RecordedOp> ops;
  ProtocolError error = ProtocolError::kNone;
  bool errored = false;
  // Largest buffer kept between two reads (after the parser ran).
  size_t max_retained = 0;
  // Bytes left unconsumed at the end (a trailing partial operation).
  size_t leftover = 0;
  // Problems with the parser's contract, described; empty when none.
  std::string contract_violation;

  bool SameOutcome(const DriveResult& o) const {
    return ops == o.ops && error == o.error && errored == o.errored;
  }
};

inline std::ostream& operator<<(std::ostream& os, const DriveResult& r) {
  os << "{ops:";
  for (const auto& op : r.ops) os << "\n  " << op;
  os << "\n error=" << ErrorName(r.error) << " errored=" << r.errored << " leftover=" << r.leftover;
  if (!r.contract_violation.empty()) os << " violation=" << r.contract_violation;
  return os << " }";
}

class ParserDriver {
 public:
  explicit ParserDriver(DriverOptions options = {}) : options_(options), parser_(options.limits) {
    parser_.set_headers_allowed(options.headers == HeadersMode::kAlways);
  }

  // Appends one chunk as if it had just been read from the socket.
  void Feed(std::string_view chunk) {
    if (result_.errored) return;
    buffer_.append(chunk.data(), chunk.size());
    if (!(options_.use_min_bytes_hint && need_ > 0 && buffer_.size() < need_)) Pump();
    result_.max_retained = std::max(result_.max_retained, buffer_.size());
    result_.leftover = buffer_.size();
  }

  const DriveResult& result() const { return result_; }
  const std::string& buffer() const { return buffer_; }

 private:
  void Violation(const std::string& what) {
    if (result_.contract_violation.empty()) result_.contract_violation = what;
  }

  bool Inside(std::string_view view) const {
    if (view.empty()) return true;  // an empty view may point anywhere
    const char* b = buffer_.data();
    const char* e = b + buffer_.size();
    return view.data() >= b && view.data() + view.size() <= e;
  }

  void Pump() {
    need_ = 0;
    // Bounds the loop: every kOp consumes at least one byte.
    while (true) {
      ParsedOp r = parser_.Next(buffer_);
      if (r.consumed > buffer_.size()) {
        Violation("consumed more than the buffer");
        r.consumed = buffer_.size();
      }
      switch (r.status) {
        case ParseStatus::kOp: {
          for (std::string_view v : {r.subject, r.reply, r.queue, r.sid, r.json, r.header, r.payload})
            if (!Inside(v)) Violation("view outside the buffer");
          if (r.consumed == 0)
            Violation("kOp consumed nothing");
          for (std::string_view v : {r.subject, r.reply, r.queue, r.sid, r.json, r.header, r.payload})
            if (!v.empty() && v.data() + v.size() > buffer_.data() + r.consumed)
              Violation("view beyond the consumed bytes");
          RecordedOp op;
          op.op = r.op;
          op.subject = r.subject;
          op.reply = r.reply;
          op.queue = r.queue;
          op.sid = r.sid;
          op.json = r.json;
          op.header = r.header;
          op.payload = r.payload;
          op.unsub_max = r.unsub_max;
          op.declared_size = r.declared_size;
          if (r.op == ClientOp::kConnect && options_.headers == HeadersMode::kAfterConnect &&
              op.json.find("\"headers\":true") != std::string::npos)
            parser_.set_headers_allowed(true);
          result_.ops.push_back(std::move(op));
          if (r.consumed == 0) {
            result_.errored = true;  // would loop forever
            return;
          }
          buffer_.erase(0, r.consumed);
          continue;
        }
        case ParseStatus::kNeedMore:
          buffer_.erase(0, r.consumed);
          if (r.min_bytes > 0) {
            if (r.min_bytes <= r.consumed) Violation("min_bytes not beyond consumed");
            need_ = r.min_bytes > r.consumed ? r.min_bytes - r.consumed : 0;
            if (need_ > 0 && need_ <= buffer_.size()) Violation("min_bytes already available");
          }
          return;
        case ParseStatus::kError:
          result_.errored = true;
          result_.error = r.error;
          if (r.error == ProtocolError::kNone) Violation("kError without an error");
          return;
      }
    }
  }

  DriverOptions options_;
  ClientParser parser_;
  std::string buffer_;
  size_t need_ = 0;
  DriveResult result_;
};

// Feeds `stream` cut at the given offsets (sorted, each in (0, size)).
inline DriveResult DriveSplit(std::string_view stream, const std::vector<size_t>& cuts,
                              const DriverOptions& options = {}) {
  ParserDriver d(options);
  size_t pos = 0;
  for (size_t cut : cuts) {
    if (cut <= pos || cut >= stream.size()) continue;
    d.Feed(stream.substr(pos, cut - pos));
    pos = cut;
  }
  d.Feed(stream.substr(pos));
  DriveResult r = d.result();
  return r;
}

inline DriveResult DriveWhole(std::string_view stream, const DriverOptions& options = {}) {
  return DriveSplit(stream, {}, options);
}

}  // namespace sluice::testing
