// The on-disk record and segment-header layouts (docs/storage-format.md) and
// the scanner that recovery uses to walk a segment, resynchronising past
// corrupt bytes on the next valid record header.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace sluice::store {

inline constexpr uint32_t kRecordMagic = 0x52434C53;   // "SLCR" in file byte order
inline constexpr uint32_t kSegmentMagic = 0x47534C53;  // "SLSG"
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kRecordHeaderSize = 36;
inline constexpr size_t kSegmentHeaderSize = 32;
inline constexpr uint32_t kMaxRecordSize = 256u << 20;  // sanity bound when parsing

enum class RecordType : uint8_t {
  kMessage = 1,    // a stored message with sequence `seq`
  kTombstone = 2,  // sequence `seq` was removed (or skipped: assigned, never stored)
  kFloor = 3,      // every sequence below `seq` is removed; the next sequence is >= seq
};

struct RecordView {
  RecordType type = RecordType::kMessage;
  uint64_t seq = 0;
  int64_t timestamp_ns = 0;
  uint32_t length = 0;  // the whole record, header included
  uint32_t crc = 0;
  std::string_view subject, headers, payload;
};

enum class ParseResult { kOk, kTruncated, kBadMagic, kBadLength, kBadCrc };

// Parses the record at the start of buf (which may hold more bytes after it).
ParseResult ParseRecord(std::string_view buf, RecordView* out);

// Appends one encoded record to out.
void EncodeMessage(std::string* out, uint64_t seq, int64_t ts, std::string_view subject,
                   std::string_view headers, std::string_view payload);
void EncodeMarker(std::string* out, RecordType type, uint64_t seq, int64_t ts);
inline size_t MessageRecordSize(size_t subject, size_t headers, size_t payload) {
  return kRecordHeaderSize + subject + headers + payload;
}

struct SegmentHeader {
  uint32_t segment_id = 0;
  uint64_t base_seq = 0;  // the first sequence this segment may hold
  int64_t base_ts = 0;    // timestamps in the segment are >= base_ts
};
std::string EncodeSegmentHeader(const SegmentHeader& h);
bool ParseSegmentHeader(std::string_view buf, SegmentHeader* out);

// Walks data[start, size) record by record. on_record is called for every
// valid record with its offset; on_skip for every corrupt region that a valid
// record follows (it is skipped, resynchronising on that record). Returns the
// offset just past the last valid record: bytes after it are a torn or
// half-written tail.
uint64_t ScanRecords(std::string_view data, uint64_t start,
                     const std::function<void(uint64_t offset, const RecordView&)>& on_record,
                     const std::function<void(uint64_t from, uint64_t to)>& on_skip);

// Little-endian helpers shared with the checkpoint code.
inline void PutU16(std::string* s, uint16_t v) { s->append(reinterpret_cast<const char*>(&v), 2); }
inline void PutU32(std::string* s, uint32_t v) { s->append(reinterpret_cast<const char*>(&v), 4); }
inline void PutU64(std::string* s, uint64_t v) { s->append(reinterpret_cast<const char*>(&v), 8); }
uint16_t GetU16(const char* p);
uint32_t GetU32(const char* p);
uint64_t GetU64(const char* p);

}  // namespace sluice::store
