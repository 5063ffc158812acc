#include "progress_line.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace sluice::cli {

std::string WithThousands(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  int since_comma = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (since_comma == 3) {
      out.insert(out.begin(), ',');
      since_comma = 0;
    }
    out.insert(out.begin(), *it);
    ++since_comma;
  }
  return out;
}

bool TerminalStatusLine::StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

TerminalStatusLine::TerminalStatusLine(std::function<std::string(double)> render, bool enabled,
                                       std::chrono::milliseconds delay)
    : render_(std::move(render)), delay_(delay) {
  if (enabled && StderrIsTerminal()) thread_ = std::thread([this] { Run(); });
}

TerminalStatusLine::~TerminalStatusLine() { Stop(); }

void TerminalStatusLine::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (drawn_) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    drawn_ = false;
  }
}

void TerminalStatusLine::Run() {
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  if (cv_.wait_for(lock, delay_, [this] { return stop_; })) return;
  while (!stop_) {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::string line = "\r\033[K" + render_(seconds);
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
    drawn_ = true;
    cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stop_; });
  }
}

ProgressLine::ProgressLine(std::string label, uint64_t total, std::function<uint64_t()> done, bool enabled,
                           std::chrono::milliseconds delay)
    : line_(
          [label = std::move(label), total, done = std::move(done)](double seconds) {
            uint64_t n = done();
            double rate = seconds > 0 ? static_cast<double>(n) / seconds : 0;
            double pct = total > 0 ? 100.0 * static_cast<double>(n) / static_cast<double>(total) : 0;
            return fmt::format("{} {}/{} ({:.0f}%) {} msgs/s", label, WithThousands(n), WithThousands(total), pct,
                               WithThousands(static_cast<uint64_t>(rate)));
          },
          enabled, delay) {}

}  // namespace sluice::cli
