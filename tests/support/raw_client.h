// Test support: a raw TCP client for protocol-level tests.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace sluice::testing {

class RawClient {
 public:
  RawClient() = default;
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool Connect(int port, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  bool Send(std::string_view bytes);
  // Reads until `needle` appears in what was received (and not yet taken) or
  // the peer closes or the timeout passes. Returns everything read up to and
  // including the needle and keeps the rest; on failure returns "" and keeps all.
  std::string ReadUntil(std::string_view needle, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads a first line (INFO) and returns it.
  std::string ReadLine(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads until the peer closes (or the timeout); returns all received bytes not yet taken.
  std::string ReadUntilClosed(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads whatever arrives within `window`.
  std::string ReadFor(std::chrono::milliseconds window);
  // Reads exactly `n` bytes (or fails like ReadUntil: returns "" and keeps all).
  std::string ReadBytes(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Returns what was received and not yet taken, without waiting.
  std::string TakeBuffered();
  bool closed_by_peer() const { return peer_closed_; }
  void Close();
  int fd() const { return fd_; }

 private:
  bool Fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  bool peer_closed_ = false;
  std::string received_;
};

}  // namespace sluice::testing
