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

// A line on stderr redrawn four times a second by its own thread, starting
// after `delay`, and erased by Stop(). Nothing at all unless enabled and
// stderr is a terminal. ProgressLine (messages) and ByteProgressBar (bytes)
// are drawn with it.
class TerminalStatusLine {
 public:
  // `render` gets the seconds since construction and returns the line's text;
  // it runs on the drawing thread, so what it reads must be thread-safe.
  TerminalStatusLine(std::function<std::string(double seconds)> render, bool enabled, std::chrono::milliseconds delay);
  ~TerminalStatusLine();
  TerminalStatusLine(const TerminalStatusLine&) = delete;
  TerminalStatusLine& operator=(const TerminalStatusLine&) = delete;

  // Stops the thread and erases the line (idempotent).
  void Stop();

  static bool StderrIsTerminal();

 private:
  void Run();

  std::function<std::string(double)> render_;
  std::chrono::milliseconds delay_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;   // guarded by mu_
  bool drawn_ = false;  // only the drawing thread touches it before join
  std::thread thread_;
};

class ProgressLine {
 public:
  // `done` is called from the progress thread; it must be thread-safe.
  ProgressLine(std::string label, uint64_t total, std::function<uint64_t()> done, bool enabled,
               std::chrono::milliseconds delay = std::chrono::seconds(1));

  // Stops the thread and erases the line (idempotent).
  void Stop() { line_.Stop(); }

  // Whether stderr is a terminal.
  static bool StderrIsTerminal() { return TerminalStatusLine::StderrIsTerminal(); }

 private:
  TerminalStatusLine line_;
};

std::string WithThousands(uint64_t n);

}  // namespace sluice::cli
