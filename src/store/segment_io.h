// Internal: what LogStore needs from a backend. The memory backend keeps
// segments in strings; the file backend in segment files (file_segment_io.cc).
// Every method is called with the store's mutex held, except ExecuteSync and
// WriteCheckpoint, which run on the sync thread without it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/filesystem.h"
#include "store/record_format.h"
#include "store/status.h"

namespace sluice::store {

// A buffered write that failed after the appends it held had returned (see
// FileSegmentIo's write buffer): those records are not in the file.
struct DeferredWriteError {
  Status status;          // ok: none
  uint32_t segment = 0;   // the segment whose buffer was lost
  uint64_t file_size = 0; // what that segment's file holds (whole records)
};

// The files a sync round must fsync, captured under the store mutex.
struct SyncPlan {
  std::vector<std::shared_ptr<File>> files;
  bool dir = false;
  bool parent_dir = false;  // the store's directory itself is new
};

class SegmentIo {
 public:
  virtual ~SegmentIo() = default;
  virtual bool persistent() const = 0;
  // Creates segment h.segment_id and makes it the active one.
  virtual Status CreateSegment(const SegmentHeader& h) = 0;
  // Appends bytes to the active segment. On failure the segment is left as it
  // was before the call, or *unusable is set (the tail could not be cut back:
  // the store must start a new segment before writing again).
  // With a write buffer the bytes may stay in memory until the next PlanSync
  // (or until the buffer fills, or the segment rolls): ReadAt serves them,
  // and space for them is reserved first, so a full disk still fails here.
  // A later failure of that write is reported by TakeDeferredError().
  virtual Status AppendActive(std::string_view bytes, bool* unusable) = 0;
  // The same without a copy, when buffering: returns the write buffer, to
  // which the caller appends exactly n bytes and then calls EndAppend(n).
  // nullptr with *st ok: not buffering, use AppendActive; with *st not ok
  // (kNoSpace): the append is refused.
  virtual std::string* BeginAppend(size_t n, Status* st) {
    (void)n;
    *st = Status::Ok();
    return nullptr;
  }
  virtual void EndAppend(size_t n) { (void)n; }
  virtual uint64_t ActiveSize() const = 0;
  virtual Status ReadAt(uint32_t segment, uint64_t offset, size_t len, std::string* out) = 0;
  // Forgets a segment whose messages are all gone (the file is removed).
  virtual void DropSegment(uint32_t segment) = 0;
  // Writes buffered bytes, then moves the dirty files into plan (under the
  // mutex); ExecuteSync fsyncs them (without).
  virtual void PlanSync(SyncPlan* plan) = 0;
  virtual Status ExecuteSync(const SyncPlan& plan) = 0;
  // Marks what a failed plan covered dirty again (the next round retries it).
  virtual void RestoreSync(const SyncPlan& plan) = 0;
  // Writes segment's index checkpoint (atomic: temp file, fsync, rename).
  virtual Status WriteCheckpoint(uint32_t segment, const std::string& bytes) = 0;
  // The store's directory was just created: its entry in the parent must be
  // made durable by the next sync round.
  virtual void MarkDirectoryNew() {}
  // The first buffered write that failed since the last call (status ok: none).
  virtual DeferredWriteError TakeDeferredError() { return {}; }
};

std::unique_ptr<SegmentIo> NewMemorySegmentIo();
// write_buffer_bytes > 0: appends collect in memory and reach the file in one
// write per sync round (or when this many bytes are buffered); 0: each
// append is written at once.
std::unique_ptr<SegmentIo> NewFileSegmentIo(FileSystem& fs, std::string dir, uint64_t write_buffer_bytes = 0);

// File names inside a store directory.
std::string SegmentFileName(uint32_t id);     // "00000001.log"
std::string CheckpointFileName(uint32_t id);  // "00000001.idx"
bool ParseSegmentFileName(std::string_view name, uint32_t* id);
// Recovery: continue appending to an existing file segment of that size.
Status AdoptActiveSegment(SegmentIo& io, uint32_t id, uint64_t size);

}  // namespace sluice::store
