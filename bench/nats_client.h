// sluice-bench: a minimal raw-socket NATS client, just what the load generator needs.
//
// One Conn is one TCP connection. It connects, does the CONNECT/PING/PONG
// handshake, writes pre-built protocol bytes, and reads what the server sends
// through a small incremental parser that counts MSG/HMSG frames (skipping the
// payload by its declared length), PONGs and -ERR lines. The parser only looks
// at control lines; payload bytes are never copied.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::bench {

// Incremental parser of server-to-client bytes.
class InboundParser {
 public:
  // Called with the argument part of each MSG/HMSG line (after "MSG "), without CR LF.
  using MsgFn = void (*)(void* ctx, std::string_view args);

  // Feeds bytes; returns false on a protocol error (sets error()).
  bool Feed(const char* data, size_t n, MsgFn on_msg, void* ctx);

  // When set, MSG/HMSG payloads are collected instead of skipped, and this is
  // called once per message with its control-line arguments and the whole
  // payload (headers included for HMSG); `msgs` then counts a message only once
  // its payload is complete. Used for PubAcks and API replies.
  using PayloadFn = void (*)(void* ctx, std::string_view args, std::string_view payload);
  PayloadFn on_payload = nullptr;
  void* payload_ctx = nullptr;
  // With on_payload set, this (when set too) picks the messages to capture: it gets
  // the control-line arguments and whether the frame is an HMSG; the messages it
  // declines are skipped and counted as without on_payload (on_msg is called).
  // Lets a consumer skip delivery payloads yet read status messages and API replies.
  using CaptureFn = bool (*)(void* ctx, std::string_view args, bool headers);
  CaptureFn capture_if = nullptr;

  uint64_t msgs = 0;
  uint64_t pongs = 0;
  uint64_t pings = 0;  // PINGs from the server not answered yet
  std::string error;   // first -ERR text seen, or a parse problem

 private:
  bool Line(std::string_view line, MsgFn on_msg, void* ctx);
  size_t skip_ = 0;    // payload bytes (plus CR LF) still to skip
  bool capturing_ = false;     // skip_ bytes go to payload_ (on_payload set)
  std::string pending_args_;   // the control line of the message being captured
  std::string payload_;
  std::string carry_;  // an incomplete control line
};

class Conn {
 public:
  // read_buffer: bytes read per recv (idle connections need little).
  explicit Conn(size_t read_buffer = 256 * 1024) : buf_(read_buffer) {}
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Connects to 127.0.0.1:port (blocking), sets TCP_NODELAY and 10 s socket timeouts,
  // sends CONNECT + PING and waits for the PONG. Returns false with error set.
  bool Open(int port, std::string* error, int timeout_ms = 5000);
  void Close();
  int fd() const { return fd_; }

  void SetNonBlocking(bool on);
  // Writes everything, waiting with poll when the socket is full.
  bool WriteAll(std::string_view bytes, int timeout_ms = 20000);
  // Sends PING and reads (feeding the parser) until its PONG arrives.
  bool Flush(int timeout_ms = 20000);
  // Reads once (up to the buffer size) and feeds the parser. Returns the bytes
  // read, 0 when the peer closed, -1 on EAGAIN, -2 on an error or a protocol problem.
  ssize_t ReadOnce(InboundParser::MsgFn on_msg = nullptr, void* ctx = nullptr);
  // Blocking reads until parser.msgs >= target_msgs (or timeout). Returns false on failure.
  bool ReadUntilMsgs(uint64_t target_msgs, int timeout_ms, InboundParser::MsgFn on_msg = nullptr,
                     void* ctx = nullptr);

  InboundParser parser;
  std::string error;  // why the connection failed
  // When true, ReadOnce answers a server PING at once. A caller that writes
  // frames in pieces turns this off and sends PONG itself between frames (the
  // server PINGs each client ~2 s after it connects to measure the RTT).
  bool auto_pong = true;

 private:
  bool AnswerPings();
  int fd_ = -1;
  std::vector<char> buf_;
};

// Raises the soft RLIMIT_NOFILE to at least `want` (bounded by the hard limit).
void RaiseFileLimit(size_t want);

}  // namespace sluice::bench
