// A progress line on stderr for long runs (pub --count, bench): nothing for
// the first second, then "\r<label> 12,345/100,000 (12%) 45,678 msgs/s"
// four times a second, erased when the run ends. Only when stderr is a
// terminal (scripts and logs get no carriage returns) and --no-progress was
// not given.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace sluice::cli {

class ProgressLine {
 public:
  // `done` is called from the progress thread; it must be thread-safe.
  ProgressLine(std::string label, uint64_t total, std::function<uint64_t()> done, bool enabled,
               std::chrono::milliseconds delay = std::chrono::seconds(1));
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // Stops the thread and erases the line (idempotent).
  void Stop();

  // Whether stderr is a terminal.
  static bool StderrIsTerminal();

 private:
  void Run();

  std::string label_;
  uint64_t total_;
  std::function<uint64_t()> done_;
  std::chrono::milliseconds delay_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  bool drawn_ = false;  // only the progress thread touches it before join
  std::thread thread_;
};

// 1234567 → "1,234,567".
std::string WithThousands(uint64_t n);

}  // namespace sluice::cli
