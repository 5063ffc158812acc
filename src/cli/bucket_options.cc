#include "bucket_options.h"

#include <fmt/format.h>

#include <cctype>

#include "cli_common.h"
#include "js_api.h"

namespace sluice::cli {

void CheckBucketName(const std::string& bucket) {
  bool ok = !bucket.empty();
  for (char c : bucket) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  if (!ok) throw UsageError(fmt::format("invalid bucket name \"{}\": use letters, digits, '_' and '-'", bucket));
}

int64_t BucketAddOptions::TtlNs() const { return ttl.empty() ? 0 : RequireLongDuration(ttl, "--ttl").count(); }

int64_t BucketAddOptions::MaxBytes() const { return RequireSize(max_bytes, "--max-bytes"); }

void AddBucketAddOptions(CLI::App* add, BucketAddOptions& o, const std::string& kept) {
  add->add_option("--ttl", o.ttl, fmt::format("remove {} older than this (1h, 7d; default never)", kept));
  add->add_option("--max-bytes", o.max_bytes, "most bytes the bucket holds (-1: unlimited)")->capture_default_str();
  add->add_option("--storage", o.storage, "file or memory")
      ->check(CLI::IsMember({"file", "memory"}))
      ->capture_default_str();
  add->add_option("--replicas", o.replicas, "replicas (1 on a single server)")
      ->check(CLI::Range(1, 5))
      ->capture_default_str();
  add->add_option("--description", o.description, "a description");
}

}  // namespace sluice::cli
