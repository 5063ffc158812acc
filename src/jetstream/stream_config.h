// StreamConfig: parsing a client's JSON (jetstream-api.md §3.1), normalising
// it to the defaults nats-server writes back, validating it with nats-server's
// errors, and writing it out again. Pure functions: no I/O, no locks.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "jetstream/errors.h"

namespace sluice::jetstream {

enum class Retention : uint8_t { kLimits, kInterest, kWorkQueue };
enum class Discard : uint8_t { kOld, kNew };
enum class Storage : uint8_t { kFile, kMemory };

struct StreamConfig {
  std::string name;
  std::string description;
  std::vector<std::string> subjects;
  Retention retention = Retention::kLimits;
  int64_t max_consumers = -1;
  int64_t max_msgs = -1;
  int64_t max_bytes = -1;
  int64_t max_age_ns = 0;
  int64_t max_msgs_per_subject = -1;
  int64_t max_msg_size = -1;
  Discard discard = Discard::kOld;
  Storage storage = Storage::kFile;
  int64_t num_replicas = 1;
  bool no_ack = false;
  int64_t duplicate_window_ns = 0;
  bool allow_direct = false;
  bool mirror_direct = false;
  bool discard_new_per_subject = false;
  bool sealed = false;
  bool deny_delete = false;
  bool deny_purge = false;
  bool allow_rollup_hdrs = false;
  // Per-message TTL (2.11, ADR-43): `Nats-TTL` headers accepted; once on it
  // cannot be turned off. A marker TTL > 0 turns on subject delete markers
  // (and, as nats-server does outside pedantic mode, allow_msg_ttl and
  // rollups, clearing deny_purge: see Normalize).
  bool allow_msg_ttl = false;
  int64_t subject_delete_marker_ttl_ns = 0;
  uint64_t first_seq = 0;
  std::map<std::string, std::string> metadata;
  nlohmann::json placement;        // echoed as sent (null: omitted)
  nlohmann::json consumer_limits;  // echoed as sent ({} when absent)
  // Present in the request but not built yet (refused by Validate).
  std::vector<std::string> unsupported;
};

inline constexpr int64_t kDefaultDuplicateWindowNs = 120'000'000'000;
inline constexpr int64_t kMinWindowNs = 100'000'000;
inline constexpr int64_t kSecondNs = 1'000'000'000;

// Parses a request body. Wrong types or enum values: 10025.
ApiError ParseStreamConfig(const nlohmann::json& body, StreamConfig& out);
// Applies nats-server's defaults (subjects, 0 → -1 limits, duplicate window,
// what subject delete markers switch on).
void Normalize(StreamConfig& config);
// Checks a normalised config on its own (not against other streams).
// create: sealed is refused, replicas > 1 is 10074.
ApiError Validate(const StreamConfig& config, bool create);
// Checks what an update may not change (both configs normalised).
ApiError ValidateUpdate(const StreamConfig& old_config, const StreamConfig& new_config);
// The config as nats-server writes it back (ordered keys).
nlohmann::ordered_json ToJson(const StreamConfig& config);
// Same normalised config (what makes a create idempotent).
bool SameConfig(const StreamConfig& a, const StreamConfig& b);

const char* RetentionName(Retention r);
const char* StorageName(Storage s);

}  // namespace sluice::jetstream
