// The consumer state journal: what a durable consumer of a file stream
// changed since its last snapshot, appended as CRC-framed records to
// <stream dir>/obs/<name>.journal (docs/storage-format.md, "Consumer state").
//
// The snapshot is <name>.json (config, created, delivered position, every
// pending ack), rewritten whole (temp file, fsync, rename, dir fsync) only
// when the consumer is created or updated, at its first commit after a load,
// and when the journal has grown past the bound
// (ConsumerJournal::ShouldCompact). Each state commit in
// between appends one record with the round's changes and fdatasyncs the
// journal: a commit costs O(change), not O(pending).
//
// A journal belongs to one snapshot: both carry a generation number, and a
// journal whose header names another generation is ignored (a crash after a
// new snapshot was renamed into place but before its journal was started).
// Not thread-safe: the owning Consumer calls it under Consumer::mu_.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/filesystem.h"
#include "store/status.h"

namespace sluice::jetstream {

// One pending ack as the journal stores it.
struct JournalPending {
  uint64_t sseq = 0, cseq = 0;
  uint32_t deliveries = 0;
};

// The changes of one commit. The scalars are the position after it; `set`
// are pending acks added or changed (a delivery, a redelivery: the new
// delivery count); `removed` are runs of stream sequences that left the
// pending set (acked, terminated, max_deliver reached, gone from the stream).
struct StateDelta {
  uint64_t next_sseq = 1, dseq = 0, delivered_sseq = 0;
  uint32_t last_per_subject_left = 0;  // entries of the last-per-subject list still to deliver
  std::vector<JournalPending> set;
  struct Run {
    uint64_t first = 0;
    uint32_t count = 0;
  };
  std::vector<Run> removed;
};

// Record framing (little endian): u32 payload length, u32 CRC-32C of the
// payload, then the payload (EncodeDelta).
std::string EncodeRecord(const StateDelta& delta);
// Appends sorted, distinct sequences to `removed` as runs.
void AppendRemovedRuns(const std::vector<uint64_t>& sorted_seqs, std::vector<StateDelta::Run>& removed);

// What a journal file held for the snapshot's generation.
struct JournalContents {
  std::vector<StateDelta> records;  // the valid records, in order
  bool present = false;             // the file exists with a header of the wanted generation
  // Non-empty: why replay stopped early (a torn tail: the record was never
  // confirmed; a corrupt record in the middle: logged).
  std::string problem;
};
// Reads the journal at path. A missing file or another generation gives no
// records; a bad header, torn or corrupt record ends the list (problem says
// which).
JournalContents ReadJournal(store::FileSystem& fs, const std::string& path, uint64_t generation);
// The same on a journal's bytes (consumer_state_format.cc: no file access).
JournalContents ParseJournal(std::string_view bytes, uint64_t generation);
// A journal's 20-byte header for snapshot `generation`.
std::string EncodeJournalHeader(uint64_t generation);

class ConsumerJournal {
 public:
  static constexpr uint32_t kMagic = 0x4A434C53;  // "SLCJ" read as little-endian bytes
  static constexpr uint32_t kVersion = 1;
  static constexpr size_t kHeaderBytes = 20;  // magic, version, generation, CRC-32C of those 16 bytes
  // The journal is compacted (a fresh snapshot) once it is bigger than the
  // last snapshot and than this floor.
  static constexpr uint64_t kDefaultCompactFloorBytes = 1 << 20;

  ConsumerJournal(store::FileSystem& fs, std::string path, bool sync);
  // Starts an empty journal for snapshot `generation` (truncates, writes the
  // header, syncs the file and its directory).
  store::Status Reset(uint64_t generation);
  // Appends one record and fdatasyncs: the changes are durable when ok.
  // After an error the journal is unusable until the next Reset.
  store::Status Append(const StateDelta& delta);
  bool usable() const { return file_ != nullptr; }
  uint64_t bytes() const { return bytes_; }
  // Should the next commit write a snapshot instead of a record?
  bool ShouldCompact(uint64_t snapshot_bytes) const;
  void Close() { file_.reset(); }

  // Tests: the floor of every journal (default kDefaultCompactFloorBytes).
  static void SetCompactFloorForTesting(uint64_t bytes);

 private:
  store::FileSystem& fs_;
  std::string path_;
  bool sync_;
  std::unique_ptr<store::File> file_;
  uint64_t bytes_ = 0;  // file size: header + records
};

}  // namespace sluice::jetstream
