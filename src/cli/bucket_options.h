// What `kv` and `obj` share: the bucket name rule and the options of
// `kv add` / `obj add` that both kinds of bucket have.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace sluice::cli {

// Letters, digits, '_' and '-' (the clients' rule for KV and Object Store
// bucket names); throws UsageError otherwise.
void CheckBucketName(const std::string& bucket);

struct BucketAddOptions {
  std::string ttl;               // --ttl: empty = keep forever
  std::string max_bytes = "-1";  // --max-bytes: -1 = unlimited
  std::string storage = "file";  // --storage file|memory
  int replicas = 1;              // --replicas
  std::string description;       // --description

  int64_t TtlNs() const;     // 0 when --ttl is not given; throws UsageError when invalid
  int64_t MaxBytes() const;  // throws UsageError when invalid
};

// Registers --ttl, --max-bytes, --storage, --replicas and --description on
// `add`; `kept` names what the bucket holds ("values", "objects").
void AddBucketAddOptions(CLI::App* add, BucketAddOptions& options, const std::string& kept);

}  // namespace sluice::cli
