// Record encoding, parsing and the resynchronising scanner.
#include "store/record_format.h"

#include <cstring>

#include "store/crc32c.h"

namespace sluice::store {

uint16_t GetU16(const char* p) { uint16_t v; std::memcpy(&v, p, 2); return v; }
uint32_t GetU32(const char* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
uint64_t GetU64(const char* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }

namespace {

void EncodeHeader(std::string* out, RecordType type, uint64_t seq, int64_t ts, size_t subject,
                  size_t headers, size_t payload) {
  size_t len = MessageRecordSize(subject, headers, payload);
  PutU32(out, kRecordMagic);
  PutU32(out, 0);  // crc, filled in last
  PutU32(out, static_cast<uint32_t>(len));
  out->push_back(static_cast<char>(type));
  out->push_back(0);
  PutU16(out, static_cast<uint16_t>(subject));
  PutU64(out, seq);
  PutU64(out, static_cast<uint64_t>(ts));
  PutU32(out, static_cast<uint32_t>(headers));
}

void SealCrc(std::string* out, size_t start) {
  uint32_t crc = Crc32cExtend(0, out->data() + start + 8, out->size() - start - 8);
  std::memcpy(out->data() + start + 4, &crc, 4);
}

}  // namespace

void EncodeMessage(std::string* out, uint64_t seq, int64_t ts, std::string_view subject,
                   std::string_view headers, std::string_view payload) {
  size_t start = out->size();
  out->reserve(start + MessageRecordSize(subject.size(), headers.size(), payload.size()));
  EncodeHeader(out, RecordType::kMessage, seq, ts, subject.size(), headers.size(), payload.size());
  out->append(subject);
  out->append(headers);
  out->append(payload);
  SealCrc(out, start);
}

void EncodeMarker(std::string* out, RecordType type, uint64_t seq, int64_t ts) {
  size_t start = out->size();
  EncodeHeader(out, type, seq, ts, 0, 0, 0);
  SealCrc(out, start);
}

ParseResult ParseRecord(std::string_view buf, RecordView* out) {
  if (buf.size() < 4) return ParseResult::kTruncated;
  if (GetU32(buf.data()) != kRecordMagic) return ParseResult::kBadMagic;
  if (buf.size() < kRecordHeaderSize) return ParseResult::kTruncated;
  const char* p = buf.data();
  uint32_t len = GetU32(p + 8);
  uint8_t type = static_cast<uint8_t>(p[12]);
  uint8_t flags = static_cast<uint8_t>(p[13]);
  uint16_t subject = GetU16(p + 14);
  uint32_t headers = GetU32(p + 32);
  if (len < kRecordHeaderSize || len > kMaxRecordSize || type < 1 || type > 3 ||
      static_cast<uint64_t>(subject) + headers + kRecordHeaderSize > len) {
    return ParseResult::kBadLength;
  }
  // Only what EncodeMessage / EncodeMarker write is a record: flags 0, and a
  // tombstone or floor without a body (found by fuzz/fuzz_store_record.cc).
  if (flags != 0 || (type != static_cast<uint8_t>(RecordType::kMessage) && len != kRecordHeaderSize)) {
    return ParseResult::kBadLength;
  }
  if (buf.size() < len) return ParseResult::kTruncated;
  uint32_t crc = GetU32(p + 4);
  if (Crc32cExtend(0, p + 8, len - 8) != crc) return ParseResult::kBadCrc;
  out->type = static_cast<RecordType>(type);
  out->length = len;
  out->crc = crc;
  out->seq = GetU64(p + 16);
  out->timestamp_ns = static_cast<int64_t>(GetU64(p + 24));
  out->subject = buf.substr(kRecordHeaderSize, subject);
  out->headers = buf.substr(kRecordHeaderSize + subject, headers);
  out->payload = buf.substr(kRecordHeaderSize + subject + headers, len - kRecordHeaderSize - subject - headers);
  return ParseResult::kOk;
}

std::string EncodeSegmentHeader(const SegmentHeader& h) {
  std::string out;
  PutU32(&out, kSegmentMagic);
  PutU32(&out, kFormatVersion);
  PutU64(&out, h.base_seq);
  PutU64(&out, static_cast<uint64_t>(h.base_ts));
  PutU32(&out, h.segment_id);
  PutU32(&out, Crc32c(out));
  return out;
}

bool ParseSegmentHeader(std::string_view buf, SegmentHeader* out) {
  if (buf.size() < kSegmentHeaderSize) return false;
  const char* p = buf.data();
  if (GetU32(p) != kSegmentMagic || GetU32(p + 4) != kFormatVersion) return false;
  if (Crc32c(buf.substr(0, 28)) != GetU32(p + 28)) return false;
  out->base_seq = GetU64(p + 8);
  out->base_ts = static_cast<int64_t>(GetU64(p + 16));
  out->segment_id = GetU32(p + 24);
  return true;
}

uint64_t ScanRecords(std::string_view data, uint64_t start,
                     const std::function<void(uint64_t, const RecordView&)>& on_record,
                     const std::function<void(uint64_t, uint64_t)>& on_skip) {
  uint64_t pos = start;
  uint64_t valid_end = start;
  const char magic[4] = {'S', 'L', 'C', 'R'};
  while (pos < data.size()) {
    RecordView rec;
    if (ParseRecord(data.substr(pos), &rec) == ParseResult::kOk) {
      on_record(pos, rec);
      pos += rec.length;
      valid_end = pos;
      continue;
    }
    // Corrupt or incomplete: look for the next record that parses.
    uint64_t next = pos + 1;
    bool found = false;
    while (next + 4 <= data.size()) {
      const void* hit = memmem(data.data() + next, data.size() - next, magic, 4);
      if (hit == nullptr) break;
      next = static_cast<const char*>(hit) - data.data();
      if (ParseRecord(data.substr(next), &rec) == ParseResult::kOk) {
        found = true;
        break;
      }
      ++next;
    }
    if (!found) break;  // nothing valid follows: a torn tail
    on_skip(pos, next);
    pos = next;
  }
  return valid_end;
}

}  // namespace sluice::store
