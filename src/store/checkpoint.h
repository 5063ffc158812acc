// Internal: a segment's index as it is held in memory, written to its
// checkpoint file (<id>.idx) and rebuilt by recovery. Layout in
// docs/storage-format.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "store/filesystem.h"
#include "store/status.h"

namespace sluice::store {

// One sequence of a segment: 16 bytes, the whole resident cost per message.
struct Slot {
  uint32_t offset;     // of the record in the segment; kDeadSlot when removed
  uint32_t subject;    // subject id (global in memory, local in a checkpoint)
  uint32_t ts_ms;      // (timestamp - segment base_ts) / 1 ms, rounded down
  uint32_t len_flags;  // record length | kHasHeaders
};
inline constexpr uint32_t kDeadSlot = UINT32_MAX;
inline constexpr uint32_t kHasHeaders = 0x80000000u;
inline constexpr uint32_t kLenMask = 0x7FFFFFFFu;

// What recovery (or a checkpoint) knows about one segment.
struct SegmentIndex {
  uint32_t segment_id = 0;
  uint64_t base_seq = 0;
  int64_t base_ts = 0;
  uint64_t covered_len = 0;  // bytes of the segment file described
  uint64_t last_record_offset = UINT64_MAX;
  uint32_t last_record_crc = 0;
  std::vector<std::string> subjects;  // local subject table
  std::vector<Slot> slots;            // slot i <-> sequence base_seq + i
  std::vector<uint64_t> tombstones;   // sequences removed by tombstone records
  uint64_t floor = 0;                 // highest floor record (0: none)
  uint64_t max_seq = 0;               // highest sequence of any record
  uint64_t lost_msgs = 0;
  uint64_t lost_bytes = 0;
  std::vector<uint64_t> lost_seqs;    // not kept in checkpoints
};

std::string EncodeCheckpoint(const SegmentIndex& index);
// Checks framing and CRC; kCorruption when the file is not a valid checkpoint.
Status DecodeCheckpoint(std::string_view bytes, SegmentIndex* index);

// Recovers one segment file: loads its checkpoint when it is valid for the
// file as it is now, scans the records the checkpoint does not cover (all of
// them without one), resynchronises past corrupt records (counting them as
// lost) and cuts a torn tail. *used_checkpoint tells which path ran.
struct RecoveryReport {
  bool used_checkpoint = false;
  uint64_t checkpoint_len = 0;  // bytes the loaded checkpoint covered
  bool header_ok = true;
  uint64_t file_size = 0;
  uint64_t cut_bytes = 0;     // torn tail removed
  uint64_t skipped_regions = 0;
};
Status RecoverSegment(FileSystem& fs, const std::string& dir, uint32_t id, SegmentIndex* index,
                      RecoveryReport* report, const std::function<void(std::string_view)>& log);

}  // namespace sluice::store
