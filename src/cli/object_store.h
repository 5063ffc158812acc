// The JetStream Object Store convention (nats.go's object.go, nats.js's
// objectstore), which nats.c 3.4 does not implement, on top of nats.c
// publishes and plain $JS.API requests:
//
//   bucket B   → stream OBJ_B on "$O.B.C.>" (chunks) and "$O.B.M.>" (meta)
//   object N   → chunks of at most 128 KiB on "$O.B.C.<nuid>" (a fresh NUID per
//                put) and one meta message on "$O.B.M.<base64url(N)>" holding the
//                ObjectInfo JSON, published with "Nats-Rollup: sub" so only the
//                newest meta of a name is kept; digest "SHA-256=<base64url>".
//
// Objects stream through: Put reads its input a chunk at a time and Get
// writes each chunk as it arrives, so neither holds a whole object. An object
// is visible to readers once its meta message is stored (after every chunk
// was acknowledged, i.e. stored per the server's sync policy); a reader that
// finds chunks missing or a digest that differs reports an error rather than
// returning the bytes as good. Not thread-safe: one command uses one store.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "connection.h"
#include "js_api.h"

namespace sluice::cli {

inline constexpr uint32_t kObjectChunkSize = 128 * 1024;

struct ObjectInfo {
  ojson meta;             // the stored ObjectInfo JSON, "mtime" replaced by the stored time
  std::string name;
  std::string nuid;
  std::string digest;     // "SHA-256=…" ("" for a deleted object)
  uint64_t size = 0;
  uint64_t chunks = 0;
  bool deleted = false;
  std::string mtime;      // when the meta message was stored (RFC 3339)
};

struct ObjectBucketConfig {
  std::string description;
  int64_t ttl_ns = 0;       // 0: objects do not expire
  int64_t max_bytes = -1;
  std::string storage = "file";
  int replicas = 1;
};

// Called with the bytes moved since the previous call.
using TransferProgress = std::function<void(uint64_t)>;

class ObjectStore {
 public:
  // The meta subject of an object name.
  static std::string MetaSubject(const std::string& bucket, const std::string& name);

  ObjectStore(const Connection& conn, std::string bucket, std::chrono::nanoseconds timeout);

  const std::string& bucket() const { return bucket_; }
  std::string stream() const { return "OBJ_" + bucket_; }

  // Creates the bucket's stream (idempotent for the same config); returns the StreamInfo.
  ojson CreateBucket(const ObjectBucketConfig& cfg);
  // The StreamInfo; CliError "object store bucket B not found (10059)" when missing.
  ojson BucketInfo();

  // The current info of `name`, nullopt when there is none (a deleted object is returned with deleted = true).
  std::optional<ObjectInfo> Info(const std::string& name);

  // Stores everything `in` yields as `name` (replacing an older object of
  // that name, whose chunks are purged afterwards). Returns the new info.
  ObjectInfo Put(const std::string& name, std::FILE* in, const std::string& description,
                 const TransferProgress& progress);

  // Writes the object's bytes to `out` and checks their size and digest;
  // CliError when chunks are missing or the digest differs.
  void Get(const ObjectInfo& info, std::FILE* out, const TransferProgress& progress);

  // Every object that is not deleted, by name.
  std::vector<ObjectInfo> List();

  // Marks `name` deleted and purges its chunks; CliError when there is no such object.
  void Delete(const std::string& name);

 private:
  // Reads every message on `filter` from an ephemeral pull consumer
  // (deliver `deliver_policy`), in stream order, each once; returns how many.
  uint64_t ReadAll(const std::string& filter, const std::string& deliver_policy,
                   const std::function<void(natsMsg*)>& on_message);
  ObjectInfo ParseInfo(const std::string& data, const std::string& stored_time) const;
  void Purge(const std::string& subject);

  const Connection& conn_;
  std::string bucket_;
  std::chrono::nanoseconds timeout_;
};

}  // namespace sluice::cli
