// Private to the consumer files: the status-message texts nats-server sends
// to pull requests and deliver subjects, Go durations, random tokens.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::jetstream::consumer_wire {

// "NATS/1.0 <line>\r\n<extra>\r\n": a header-only status message.
std::string Status(std::string_view line, std::string_view extra = {});
// Nats-Pending-Messages / Nats-Pending-Bytes header lines.
std::string PendingHeaders(int64_t msgs, int64_t bytes);
// Go's time.Duration String ("1.5s", "250ms"), as in 409 Exceeded MaxRequestExpires.
std::string GoDuration(int64_t ns);
// A Go duration ("1s", "250ms", "1m30s") in ns; 0 when not one.
int64_t ParseGoDuration(std::string_view text);
// n random characters of [0-9A-Za-z] (nuid-like ids, flow-control tokens).
std::string RandomToken(size_t n);

inline constexpr char kFlowControlRequest[] = "NATS/1.0 100 FlowControl Request\r\n\r\n";
// Subscription::sink_flags of a consumer's $JS.FC.<stream>.<consumer>.* subscription.
inline constexpr uint32_t kFlowControlSinkFlag = 1;

}  // namespace sluice::jetstream::consumer_wire
