#include "nats_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace sluice::bench {
namespace {

constexpr std::string_view kConnect =
    "CONNECT {\"verbose\":false,\"pedantic\":false,\"tls_required\":false,\"name\":\"sluice-bench\","
    "\"lang\":\"cpp\",\"version\":\"0.1.0\",\"protocol\":1,\"echo\":true,\"headers\":true,"
    "\"no_responders\":true}\r\nPING\r\n";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != prefix[i]) return false;
  }
  return true;
}

}  // namespace

bool InboundParser::Line(std::string_view line, MsgFn on_msg, void* ctx) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return true;
  const char c = line[0];
  if (c == 'M' || c == 'H' || c == 'm' || c == 'h') {
    const bool headers = c == 'H' || c == 'h';
    const size_t op = headers ? 5 : 4;  // "HMSG " / "MSG "
    if (line.size() <= op) {
      error = "short MSG line";
      return false;
    }
    // The last token is the (total) payload size.
    size_t end = line.size();
    while (end > op && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
    size_t begin = end;
    while (begin > op && line[begin - 1] >= '0' && line[begin - 1] <= '9') --begin;
    if (begin == end) {
      error = "MSG line without size: " + std::string(line);
      return false;
    }
    size_t size = 0;
    for (size_t i = begin; i < end; ++i) size = size * 10 + static_cast<size_t>(line[i] - '0');
    skip_ = size + 2;
    if (on_payload && (!capture_if || capture_if(payload_ctx, line.substr(op), headers))) {
      capturing_ = true;
      pending_args_.assign(line.substr(op));
      payload_.clear();
      return true;
    }
    ++msgs;
    if (on_msg) on_msg(ctx, line.substr(op));
    return true;
  }
  if (StartsWithNoCase(line, "PONG")) {
    ++pongs;
  } else if (StartsWithNoCase(line, "PING")) {
    ++pings;
  } else if (StartsWithNoCase(line, "-ERR")) {
    if (error.empty()) error = std::string(line);
  }
  // INFO and +OK are ignored.
  return true;
}

bool InboundParser::Feed(const char* data, size_t n, MsgFn on_msg, void* ctx) {
  size_t pos = 0;
  if (!carry_.empty()) {
    const void* nl = std::memchr(data, '\n', n);
    if (!nl) {
      carry_.append(data, n);
      if (carry_.size() > 64 * 1024) {
        error = "control line too long";
        return false;
      }
      return true;
    }
    size_t len = static_cast<const char*>(nl) - data;
    carry_.append(data, len);
    std::string line;
    line.swap(carry_);
    if (!Line(line, on_msg, ctx)) return false;
    pos = len + 1;
  }
  while (pos < n) {
    if (skip_ > 0) {
      size_t k = std::min(skip_, n - pos);
      if (capturing_) payload_.append(data + pos, k);
      skip_ -= k;
      pos += k;
      if (capturing_ && skip_ == 0) {
        capturing_ = false;
        if (payload_.size() >= 2) payload_.resize(payload_.size() - 2);  // the CR LF after the payload
        ++msgs;
        on_payload(payload_ctx, pending_args_, payload_);
      }
      continue;
    }
    const void* nl = std::memchr(data + pos, '\n', n - pos);
    if (!nl) {
      carry_.assign(data + pos, n - pos);
      return true;
    }
    size_t end = static_cast<const char*>(nl) - data;
    if (!Line(std::string_view(data + pos, end - pos), on_msg, ctx)) return false;
    pos = end + 1;
  }
  return true;
}

Conn::~Conn() { Close(); }

void Conn::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool Conn::Open(int port, std::string* err, int timeout_ms) {
  Close();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    *err = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  // Blocking reads and writes give up after a while instead of hanging a run.
  timeval tv{10, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    *err = std::string("connect: ") + std::strerror(errno);
    Close();
    return false;
  }
  if (!WriteAll(kConnect, timeout_ms)) {
    *err = error;
    Close();
    return false;
  }
  const int64_t deadline = NowMs() + timeout_ms;
  while (parser.pongs == 0) {
    pollfd p{fd_, POLLIN, 0};
    int left = static_cast<int>(deadline - NowMs());
    if (left <= 0 || ::poll(&p, 1, left) <= 0) {
      *err = "no PONG to the handshake PING";
      Close();
      return false;
    }
    if (ReadOnce() <= 0) {
      *err = error.empty() ? "closed during handshake" : error;
      Close();
      return false;
    }
  }
  parser.pongs = 0;
  return true;
}

void Conn::SetNonBlocking(bool on) {
  int flags = ::fcntl(fd_, F_GETFL, 0);
  ::fcntl(fd_, F_SETFL, on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK));
}

bool Conn::WriteAll(std::string_view bytes, int timeout_ms) {
  const int64_t deadline = NowMs() + timeout_ms;
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t w = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (w > 0) {
      off += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      int left = static_cast<int>(deadline - NowMs());
      if (left <= 0) {
        error = "write timed out";
        return false;
      }
      ::poll(&p, 1, left);
      continue;
    }
    error = std::string("write: ") + std::strerror(errno);
    return false;
  }
  return true;
}

bool Conn::AnswerPings() {
  while (parser.pings > 0) {
    --parser.pings;
    if (!WriteAll("PONG\r\n")) return false;
  }
  return true;
}

ssize_t Conn::ReadOnce(InboundParser::MsgFn on_msg, void* ctx) {
  ssize_t n = ::recv(fd_, buf_.data(), buf_.size(), 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return -1;
    error = std::string("read: ") + std::strerror(errno);
    return -2;
  }
  if (n == 0) {
    if (error.empty()) error = parser.error.empty() ? "closed by server" : "closed by server after " + parser.error;
    return 0;
  }
  if (!parser.Feed(buf_.data(), static_cast<size_t>(n), on_msg, ctx)) {
    error = parser.error;
    return -2;
  }
  if (!parser.error.empty()) {  // a -ERR from the server
    error = parser.error;
    return -2;
  }
  if (auto_pong && parser.pings > 0 && !AnswerPings()) return -2;
  return n;
}

bool Conn::ReadUntilMsgs(uint64_t target, int timeout_ms, InboundParser::MsgFn on_msg, void* ctx) {
  const int64_t deadline = NowMs() + timeout_ms;
  while (parser.msgs < target) {
    ssize_t n = ReadOnce(on_msg, ctx);
    if (n == -1) {
      pollfd p{fd_, POLLIN, 0};
      int left = static_cast<int>(deadline - NowMs());
      if (left <= 0) {
        error = "timed out waiting for messages";
        return false;
      }
      ::poll(&p, 1, left);
      continue;
    }
    if (n <= 0) return false;
  }
  return true;
}

bool Conn::Flush(int timeout_ms) {
  const uint64_t want = parser.pongs + 1;
  if (!WriteAll("PING\r\n", timeout_ms)) return false;
  const int64_t deadline = NowMs() + timeout_ms;
  while (parser.pongs < want) {
    ssize_t n = ReadOnce();
    if (n == -1) {
      pollfd p{fd_, POLLIN, 0};
      int left = static_cast<int>(deadline - NowMs());
      if (left <= 0) {
        error = "no PONG (flush timed out)";
        return false;
      }
      ::poll(&p, 1, left);
      continue;
    }
    if (n <= 0) return false;
  }
  return true;
}

void RaiseFileLimit(size_t want) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur >= want) return;
  rl.rlim_cur = std::min<rlim_t>(want, rl.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &rl);
}

}  // namespace sluice::bench
