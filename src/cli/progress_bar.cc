#include "progress_bar.h"

#include <fmt/format.h>

#include <cstdio>

#include "js_api.h"
#include "progress_line.h"

namespace sluice::cli {

ByteProgressBar::ByteProgressBar(std::string label, uint64_t total, bool enabled, std::chrono::milliseconds delay)
    : line_([this, label = std::move(label), total](
                double seconds) { return Render(label, done_.load(std::memory_order_relaxed), total, seconds); },
            enabled, delay) {}

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

}  // namespace sluice::cli
