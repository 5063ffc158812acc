// A byte progress bar on stderr for transfers (obj put/get):
// "\r<label> [#########.........] 12.0 MiB/50.0 MiB  24%  45.67 MB/s", redrawn
// four times a second from its own thread and erased when the transfer ends.
// Only when stderr is a terminal and the caller enabled it (not with --json);
// MB/s is 10^6 bytes a second, as in the bench summaries.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "progress_line.h"

namespace sluice::cli {

class ByteProgressBar {
 public:
  // total 0: unknown (no bar, no percentage).
  ByteProgressBar(std::string label, uint64_t total, bool enabled,
                  std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  ByteProgressBar(const ByteProgressBar&) = delete;
  ByteProgressBar& operator=(const ByteProgressBar&) = delete;

  // Called by the transferring thread; the drawing thread reads it.
  void Add(uint64_t bytes) { done_.fetch_add(bytes, std::memory_order_relaxed); }
  // Stops the thread and erases the bar (idempotent).
  void Stop() { line_.Stop(); }

  // The line without the leading "\r\033[K" (for tests of the format).
  static std::string Render(const std::string& label, uint64_t done, uint64_t total, double seconds, int width = 24);

 private:
  std::atomic<uint64_t> done_{0};
  TerminalStatusLine line_;  // after done_: its thread reads done_ until it is destroyed
};

}  // namespace sluice::cli
