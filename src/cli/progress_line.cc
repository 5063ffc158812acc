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

bool ProgressLine::StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

ProgressLine::ProgressLine(std::string label, uint64_t total, std::function<uint64_t()> done, bool enabled,
                           std::chrono::milliseconds delay)
    : label_(std::move(label)), total_(total), done_(std::move(done)), delay_(delay) {
  if (enabled && StderrIsTerminal()) thread_ = std::thread([this] { Run(); });
}

ProgressLine::~ProgressLine() { Stop(); }

void ProgressLine::Stop() {
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

void ProgressLine::Run() {
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  if (cv_.wait_for(lock, delay_, [this] { return stop_; })) return;
  while (!stop_) {
    uint64_t done = done_();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
    double pct = total_ > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 0;
    std::string line = fmt::format("\r\033[K{} {}/{} ({:.0f}%) {} msgs/s", label_, WithThousands(done),
                                   WithThousands(total_), pct, WithThousands(static_cast<uint64_t>(rate)));
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
    drawn_ = true;
    cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stop_; });
  }
}

}  // namespace sluice::cli
