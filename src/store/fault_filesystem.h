// An in-memory FileSystem for tests that can fail on purpose and can lose
// power. Thread-safe (one mutex).
//
// It tracks, for every file, the bytes written and the bytes that a completed
// Sync() covered, and for every directory the entries that a completed
// SyncDir() covered. CloneAfter(kPowerLoss) returns what a machine would find
// after losing power now: every write no completed fsync covered is dropped,
// of file data and of directory entries (files created, renamed or removed
// since the last SyncDir come back as they were). CloneAfter(kProcessCrash)
// keeps everything (the kernel still has it), like SIGKILL.
//
// Faults: FailSyncs(n) makes the next n Sync()/SyncDir() calls fail with EIO
// (FailWrites(n): the next n Write() calls);
// SetSpaceLimit(bytes) makes writes beyond that many bytes in total fail with
// ENOSPC (after a short write of what still fits); SetShortWrites(true) makes
// every write write at most half of what it was given (at least one byte).
// Reserve() allocates space like fallocate(KEEP_SIZE): it counts against the
// limit, and writes into reserved space never fail for lack of it.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "store/filesystem.h"

namespace sluice::store {

class FaultFileSystem final : public FileSystem {
 public:
  enum class Crash { kProcessCrash, kPowerLoss };
  struct Inode {
    std::string data;
    std::string durable;  // content as of the last completed Sync()
    uint64_t reserved = 0;  // Reserve()d space: the inode uses max(data.size(), reserved) bytes
  };

  FaultFileSystem() = default;

  StatusOr<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Status MakeDirs(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Status List(const std::string& dir, std::vector<std::string>* names) override;
  bool Exists(const std::string& path) override;

  // A new filesystem holding what survives the crash. With kPowerLoss and
  // torn_tail_seed != 0, each file keeps a random prefix of its un-synced
  // bytes (a disk may have written some of them), the rest is dropped.
  std::unique_ptr<FaultFileSystem> CloneAfter(Crash kind, uint64_t torn_tail_seed = 0);

  void FailSyncs(int count);
  void FailWrites(int count);  // the next count Write() calls fail with EIO
  void SetSpaceLimit(uint64_t bytes);  // UINT64_MAX: unlimited
  void SetShortWrites(bool on);

  // Test helpers that bypass fault injection.
  bool ReadWhole(const std::string& path, std::string* out);
  void WriteWhole(const std::string& path, const std::string& data);  // durable at once
  uint64_t sync_count() const;

 private:
  friend class FaultFile;
  static std::string Parent(const std::string& path);
  uint64_t UsedBytesLocked() const;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Inode>> entries_;          // current names
  std::map<std::string, std::shared_ptr<Inode>> durable_entries_;  // as of SyncDir
  std::map<std::string, bool> dirs_;
  int fail_syncs_ = 0;
  int fail_writes_ = 0;
  uint64_t space_limit_ = UINT64_MAX;
  bool short_writes_ = false;
  uint64_t syncs_ = 0;
};

}  // namespace sluice::store
