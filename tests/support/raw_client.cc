#include "raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sluice::testing {

RawClient::~RawClient() { Close(); }

void RawClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawClient::Connect(int port, std::chrono::milliseconds timeout) {
  Close();
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    Close();
    return false;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  peer_closed_ = false;
  received_.clear();
  return true;
}

bool RawClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool RawClient::Fill(std::chrono::steady_clock::time_point deadline) {
  if (fd_ < 0 || peer_closed_) return false;
  auto now = std::chrono::steady_clock::now();
  if (now >= deadline) return false;
  int wait_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count()) + 1;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, wait_ms) != 1) return false;
  char buf[65536];
  ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
  if (n <= 0) {
    peer_closed_ = true;
    return false;
  }
  received_.append(buf, static_cast<size_t>(n));
  return true;
}

std::string RawClient::ReadUntil(std::string_view needle, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    size_t pos = received_.find(needle);
    if (pos != std::string::npos) {
      std::string out = received_.substr(0, pos + needle.size());
      received_.erase(0, pos + needle.size());
      return out;
    }
    if (!Fill(deadline)) return "";
  }
}

std::string RawClient::ReadLine(std::chrono::milliseconds timeout) { return ReadUntil("\r\n", timeout); }

std::string RawClient::ReadUntilClosed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Fill(deadline)) {
  }
  std::string out;
  out.swap(received_);
  return out;
}

std::string RawClient::ReadFor(std::chrono::milliseconds window) {
  auto deadline = std::chrono::steady_clock::now() + window;
  while (Fill(deadline)) {
  }
  std::string out;
  out.swap(received_);
  return out;
}

std::string RawClient::ReadBytes(size_t n, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (received_.size() < n) {
    if (!Fill(deadline)) return "";
  }
  std::string out = received_.substr(0, n);
  received_.erase(0, n);
  return out;
}

std::string RawClient::TakeBuffered() {
  std::string out;
  out.swap(received_);
  return out;
}

}  // namespace sluice::testing
