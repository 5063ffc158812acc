#include "progress_bar.h"

#include <fmt/format.h>

#include <cstdio>

#include "js_api.h"
#include "progress_line.h"

namespace sluice::cli {

ByteProgressBar::ByteProgressBar(std::string label, uint64_t total, bool enabled, std::chrono::milliseconds delay)
    : label_(std::move(label)), total_(total), delay_(delay) {
  if (enabled && ProgressLine::StderrIsTerminal()) thread_ = std::thread([this] { Run(); });
}

ByteProgressBar::~ByteProgressBar() { Stop(); }

void ByteProgressBar::Stop() {
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

std::string ByteProgressBar::Render(const std::string& label, uint64_t done, uint64_t total, double seconds,
                                    int width) {
  double rate = seconds > 0 ? static_cast<double>(done) / seconds / 1e6 : 0;
  if (total == 0) return fmt::format("{} {}  {:.2f} MB/s", label, FormatBytes(static_cast<double>(done)), rate);
  double fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
  int filled = static_cast<int>(fraction * width);
  return fmt::format("{} [{}{}] {}/{} {:3.0f}%  {:.2f} MB/s", label, std::string(filled, '#'),
                     std::string(width - filled, '.'), FormatBytes(static_cast<double>(done)),
                     FormatBytes(static_cast<double>(total)), fraction * 100, rate);
}

void ByteProgressBar::Run() {
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  if (cv_.wait_for(lock, delay_, [this] { return stop_; })) return;
  while (!stop_) {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::string line = "\r\033[K" + Render(label_, done_.load(std::memory_order_relaxed), total_, seconds);
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
    drawn_ = true;
    cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stop_; });
  }
}

}  // namespace sluice::cli
