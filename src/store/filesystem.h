// The filesystem seam: every byte the file store reads or writes goes through
// these two small interfaces, so tests can inject short writes, fsync errors,
// a full disk and power loss (see fault_filesystem.h).
//
// Durability model the store relies on (POSIX): data written to a file is
// durable after a successful Sync() of that file; a file's existence under a
// name (creation, rename, unlink) is durable after a successful SyncDir() of
// its directory. Nothing else is assumed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/status.h"

namespace sluice::store {

// An open file. Writes go to the end of the file (append-only); reads are
// positional. Not thread-safe for concurrent writers; Sync() may run on
// another thread while one thread writes (the store does exactly that).
class File {
 public:
  virtual ~File() = default;
  // Writes a prefix of data at the end of the file; returns how many bytes
  // were written (possibly fewer than asked: a short write is not an error).
  virtual StatusOr<size_t> Write(std::string_view data) = 0;
  // Reads up to n bytes at offset; returns the count (short at end of file).
  virtual StatusOr<size_t> Read(uint64_t offset, size_t n, char* out) = 0;
  // fdatasync: the data written so far (and the size) are durable when it
  // returns ok.
  virtual Status Sync() = 0;
  virtual Status Truncate(uint64_t size) = 0;
  virtual StatusOr<uint64_t> Size() = 0;
  // Allocates disk space for [offset, offset + len) without changing the
  // file's size (fallocate FALLOC_FL_KEEP_SIZE), so later writes there cannot
  // fail for lack of space. kNoSpace when the disk is full (nothing
  // allocated); kInvalidArgument when the filesystem cannot do it.
  virtual Status Reserve(uint64_t offset, uint64_t len) {
    (void)offset;
    (void)len;
    return InvalidArgument("space reservation is not supported");
  }
};

// Writes all of data, retrying short writes; fails on the first error.
Status WriteAll(File& file, std::string_view data);
// Reads exactly n bytes at offset or returns kCorruption (short file) / kIoError.
Status ReadExact(File& file, uint64_t offset, size_t n, char* out);

enum class OpenMode : uint8_t {
  kRead,            // existing file, read only
  kReadWrite,       // existing file, reads and appends
  kCreate,          // create or open; reads and appends
  kCreateTruncate,  // create or empty an existing file
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual StatusOr<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status Remove(const std::string& path) = 0;
  // Creates the directory and its missing parents (like mkdir -p).
  virtual Status MakeDirs(const std::string& path) = 0;
  // fsync of the directory: its entries (created, renamed, removed) are durable.
  virtual Status SyncDir(const std::string& path) = 0;
  // Names (not paths) of the entries of a directory; kNotFound if missing.
  virtual Status List(const std::string& dir, std::vector<std::string>* names) = 0;
  virtual bool Exists(const std::string& path) = 0;
};

// The real thing: POSIX calls (open, write, pread, fdatasync, rename, …).
// Stateless; one instance can serve every store in the process.
FileSystem& PosixFileSystem();

// Maps an errno to a Status (ENOSPC and EDQUOT become kNoSpace).
Status ErrnoStatus(int err, std::string_view what, std::string_view path);

}  // namespace sluice::store
