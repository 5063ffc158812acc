// ConsumerConfig: parsing a client's JSON (jetstream-api.md §4.2), nats-server's
// defaults, validation against the stream, the update rules (§4.1) and the
// JSON written back. Pure functions: no I/O, no locks.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "jetstream/errors.h"
#include "jetstream/stream_config.h"

namespace sluice::jetstream {

enum class DeliverPolicy : uint8_t { kAll, kLast, kNew, kByStartSequence, kByStartTime, kLastPerSubject };
enum class AckPolicy : uint8_t { kNone, kAll, kExplicit };
// nats-server 2.11's priority_policy ("none" is never written back).
enum class PriorityPolicy : uint8_t { kNone, kOverflow, kPinnedClient };

struct ConsumerConfig {
  std::string durable_name;
  std::string name;
  std::string description;
  DeliverPolicy deliver_policy = DeliverPolicy::kAll;
  uint64_t opt_start_seq = 0;
  std::string opt_start_time;  // as sent (RFC 3339)
  int64_t opt_start_time_ns = 0;
  AckPolicy ack_policy = AckPolicy::kNone;
  int64_t ack_wait_ns = 0;
  int64_t max_deliver = 0;
  std::vector<int64_t> backoff_ns;
  std::string filter_subject;
  std::vector<std::string> filter_subjects;
  std::string replay_policy = "instant";
  uint64_t rate_limit_bps = 0;
  std::string sample_freq;
  int64_t max_waiting = 0;
  int64_t max_ack_pending = 0;
  bool flow_control = false;
  int64_t idle_heartbeat_ns = 0;
  bool headers_only = false;
  int64_t max_batch = 0;
  int64_t max_expires_ns = 0;
  int64_t max_bytes = 0;
  std::string deliver_subject;
  std::string deliver_group;
  int64_t inactive_threshold_ns = 0;
  int64_t num_replicas = 0;
  bool mem_storage = false;
  std::map<std::string, std::string> metadata;
  // nats-server 2.11's consumer pause: while now < pause_until_ns nothing is
  // delivered. pause_until is the deadline as written back (UTC RFC 3339);
  // absent (or JSON null) is has_pause_until false. A deadline in the past
  // is kept in the config but does not pause.
  bool has_pause_until = false;
  int64_t pause_until_ns = 0;
  std::string pause_until;
  // nats-server 2.11's priority groups (pull consumers only; ADR-42). Only
  // the first group is served (as 2.11: one pin, one info entry); the rest
  // are validated and kept. priority_timeout_ns: how long a pinned client
  // may go without a pull request before its pin goes (pinned_client only;
  // NormalizeConsumer fills the 2-minute default).
  std::vector<std::string> priority_groups;
  PriorityPolicy priority_policy = PriorityPolicy::kNone;
  int64_t priority_timeout_ns = 0;
  // Present in the request but not built yet (refused by ValidateConsumer).
  std::vector<std::string> unsupported;

  bool durable() const { return !durable_name.empty(); }
  bool pull() const { return deliver_subject.empty(); }
  // filter_subject or filter_subjects, as one list (empty: everything).
  std::vector<std::string> Filters() const;
  // Is the consumer paused at `now_ns` (Unix ns)?
  bool PausedAt(int64_t now_ns) const { return has_pause_until && now_ns < pause_until_ns; }
  // Sets (has = true) or clears the pause deadline, normalising its text to UTC.
  void SetPauseUntil(bool has, int64_t unix_ns, const std::string& as_sent = {});
  // sample_freq as nats-server reads it ("N" or "N%"; 0: no sampling; >= 100:
  // every ack). Only meaningful after ValidateConsumer accepted the text.
  int32_t SamplePercent() const;
};

inline constexpr int64_t kDefaultAckWaitNs = 30'000'000'000;
inline constexpr int64_t kDefaultInactiveThresholdNs = 5'000'000'000;
inline constexpr int64_t kDefaultPinnedTtlNs = 120'000'000'000;  // nats-server's JsDefaultPinnedTTL

// A priority group name as nats-server accepts it: 1-16 of [A-Za-z0-9/_=-].
bool ValidPriorityGroupName(const std::string& group);

ApiError ParseConsumerConfig(const nlohmann::json& body, ConsumerConfig& out);
// nats-server's defaults (ack_wait, max_deliver, max_waiting, max_ack_pending,
// inactive_threshold of ephemerals).
void NormalizeConsumer(ConsumerConfig& config);
// Checks a normalised config against its stream (not against other consumers).
ApiError ValidateConsumer(const ConsumerConfig& config, const StreamConfig& stream);
// What an update may not change (both normalised): 10012 with the reason.
ApiError ValidateConsumerUpdate(const ConsumerConfig& old_config, const ConsumerConfig& new_config);
nlohmann::ordered_json ToJson(const ConsumerConfig& config);
bool SameConfig(const ConsumerConfig& a, const ConsumerConfig& b);

// The Go-style zero time nats-server writes for an unset time.Time.
inline constexpr const char* kGoZeroTime = "0001-01-01T00:00:00Z";
// Unix ns as RFC 3339 in UTC (Go's RFC3339Nano), Unix 0 included (unlike
// FormatTime, which writes kGoZeroTime for 0).
std::string FormatPauseTime(int64_t unix_ns);

// RFC 3339 ("2024-05-01T10:00:00.5Z", "...+02:00") to Unix ns; false when malformed.
bool ParseTime(const std::string& text, int64_t& out_ns);

}  // namespace sluice::jetstream
