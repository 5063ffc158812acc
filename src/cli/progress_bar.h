// A byte progress bar on stderr for transfers (obj put/get):
// "\r<label> [#########.........] 12.0 MiB/50.0 MiB  24%  45.67 MB/s", redrawn
// four times a second from its own thread and erased when the transfer ends.
// Only when stderr is a terminal and the caller enabled it (not with --json);
// MB/s is 10^6 bytes a second, as in the bench summaries.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace sluice::cli {

class ByteProgressBar {
 public:
  // total 0: unknown (no bar, no percentage).
  ByteProgressBar(std::string label, uint64_t total, bool enabled,
                  std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  ~ByteProgressBar();
  ByteProgressBar(const ByteProgressBar&) = delete;
  ByteProgressBar& operator=(const ByteProgressBar&) = delete;

  // Called by the transferring thread; the drawing thread reads it.
  void Add(uint64_t bytes) { done_.fetch_add(bytes, std::memory_order_relaxed); }
  // Stops the thread and erases the bar (idempotent).
  void Stop();

  // The line without the leading "\r\033[K" (for tests of the format).
  static std::string Render(const std::string& label, uint64_t done, uint64_t total, double seconds, int width = 24);

 private:
  void Run();

  std::string label_;
  uint64_t total_;
  std::chrono::milliseconds delay_;
  std::atomic<uint64_t> done_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;   // guarded by mu_
  bool drawn_ = false;  // only the drawing thread touches it before join
  std::thread thread_;
};

}  // namespace sluice::cli
