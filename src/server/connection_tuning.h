// Tuning constants shared by the files of ClientConnection (private to server/).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace sluice::server {

inline constexpr size_t kMaxReadPerWakeup = 1 << 20;  // fairness between connections of a loop
inline constexpr size_t kKeepBufferBytes = 64 * 1024;  // larger idle buffers are released by the sweep
// A busy connection keeps output buffers up to this size between flushes:
// freeing and re-faulting them on every batch cost more than the copies.
inline constexpr size_t kKeepBusyOutputBytes = 1 << 20;
// Staged output for one receiver is committed mid-batch past this size.
inline constexpr size_t kCommitEarlyBytes = 256 * 1024;
// Subscription::sink_flags bit: check deliveries against deny rules.
inline constexpr uint32_t kFilterDelivery = 1;
// Reply subjects remembered for allow_responses before old ones are pruned.
inline constexpr size_t kMaxResponsePermits = 4096;
inline constexpr std::chrono::seconds kFirstPingMax{2};
// A publisher feeding a consumer that is behind is paused for at most this
// long per read batch (nats-server stalls its producers likewise), checking
// every kStallCheck whether the consumer has caught up.
inline constexpr std::chrono::milliseconds kMaxStall{1000};
inline constexpr std::chrono::microseconds kStallCheck{500};

}  // namespace sluice::server
