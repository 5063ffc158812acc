// Durations on the command line, written the way Go (and so natscli) writes
// them: "500ms", "1.5s", "2m", "1h30m", "250us", "100ns". A bare number is
// seconds.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::cli {

// nullopt when the text is not a duration or is negative.
std::optional<std::chrono::nanoseconds> ParseDuration(std::string_view text);

// ParseDuration or a UsageError naming the flag.
std::chrono::nanoseconds RequireDuration(std::string_view text, std::string_view flag);

// "850ns", "12.3µs", "4.56ms", "1.234s": three significant digits or so.
std::string FormatDuration(std::chrono::nanoseconds d);

}  // namespace sluice::cli
