// libFuzzer target for the store's record and segment-header decoders
// (store/record_format.h), on arbitrary bytes.
//
// Input layout (see fuzz/README.md):
//   byte 0   flags: bit 0 set = seal the CRC of the first record before
//            decoding (write the CRC-32C of bytes [8, length) at offset 4 when
//            the length field fits the input), so that mutations reach the
//            fields behind the CRC; bit 1 set = same for the segment header
//            bits 2-7: where ScanRecords starts (when inside the bytes)
//   rest     the bytes, decoded as one record, as a segment header and walked
//            with ScanRecords
// The bytes are copied into a buffer of exactly their size, so ASan reports
// any read past them. Checks (any failure aborts):
//   - a record that decodes lies inside the buffer, its parts add up to its
//     length, and re-encoding it gives the same bytes;
//   - a segment header that decodes re-encodes to the same 32 bytes;
//   - ScanRecords reports records in order, inside the data and not
//     overlapping, each decodes on its own, skipped regions lie between them,
//     and the end it returns is the end of the last record (or the start).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "store/crc32c.h"
#include "store/record_format.h"

namespace {

using sluice::store::kRecordHeaderSize;
using sluice::store::kSegmentHeaderSize;
using sluice::store::ParseResult;
using sluice::store::RecordType;
using sluice::store::RecordView;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "fuzz_store_record: %s\n", what);
  std::abort();
}

bool Inside(std::string_view part, std::string_view buf) {
  return part.data() >= buf.data() && part.data() + part.size() <= buf.data() + buf.size();
}

void CheckRecord(std::string_view buf, const RecordView& rec) {
  if (rec.length < kRecordHeaderSize || rec.length > buf.size()) Fail("record length outside the buffer");
  std::string_view whole = buf.substr(0, rec.length);
  if (!Inside(rec.subject, whole) || !Inside(rec.headers, whole) || !Inside(rec.payload, whole)) {
    Fail("record view outside the record");
  }
  if (kRecordHeaderSize + rec.subject.size() + rec.headers.size() + rec.payload.size() != rec.length) {
    Fail("record parts do not add up to its length");
  }
  std::string again;
  if (rec.type == RecordType::kMessage) {
    sluice::store::EncodeMessage(&again, rec.seq, rec.timestamp_ns, rec.subject, rec.headers, rec.payload);
  } else {
    sluice::store::EncodeMarker(&again, rec.type, rec.seq, rec.timestamp_ns);
  }
  if (again != whole) Fail("a decoded record does not re-encode to the same bytes");
}

void SealRecordCrc(std::string& bytes) {
  if (bytes.size() < kRecordHeaderSize) return;
  const uint32_t len = sluice::store::GetU32(bytes.data() + 8);
  if (len < 8 || len > bytes.size()) return;
  const uint32_t crc = sluice::store::Crc32cExtend(0, bytes.data() + 8, len - 8);
  std::memcpy(bytes.data() + 4, &crc, 4);
}

void SealSegmentCrc(std::string& bytes) {
  if (bytes.size() < kSegmentHeaderSize) return;
  const uint32_t crc = sluice::store::Crc32c(std::string_view(bytes.data(), 28));
  std::memcpy(bytes.data() + 28, &crc, 4);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (flags & 1) SealRecordCrc(bytes);
  if (flags & 2) SealSegmentCrc(bytes);
  // An exact-size heap copy: reading one byte past it is an ASan report.
  std::unique_ptr<char[]> heap(new char[bytes.size() + 1]);
  std::memcpy(heap.get(), bytes.data(), bytes.size());
  const std::string_view buf(heap.get(), bytes.size());

  RecordView rec;
  if (sluice::store::ParseRecord(buf, &rec) == ParseResult::kOk) CheckRecord(buf, rec);

  sluice::store::SegmentHeader header;
  if (sluice::store::ParseSegmentHeader(buf, &header)) {
    if (sluice::store::EncodeSegmentHeader(header) != buf.substr(0, kSegmentHeaderSize)) {
      Fail("a decoded segment header does not re-encode to the same bytes");
    }
  }

  const uint64_t start = flags >> 2 < buf.size() ? flags >> 2 : 0;
  uint64_t last_end = start;
  uint64_t records_end = start;
  const uint64_t end = sluice::store::ScanRecords(
      buf, start,
      [&](uint64_t offset, const RecordView& r) {
        if (offset < last_end || offset >= buf.size()) Fail("ScanRecords: record out of order or outside the data");
        std::string_view at = buf.substr(offset);
        RecordView again;
        if (sluice::store::ParseRecord(at, &again) != ParseResult::kOk || again.length != r.length) {
          Fail("ScanRecords: a reported record does not decode on its own");
        }
        CheckRecord(at, r);
        last_end = offset + r.length;
        records_end = last_end;
      },
      [&](uint64_t from, uint64_t to) {
        if (from != last_end || to <= from || to > buf.size()) Fail("ScanRecords: bad skipped region");
        last_end = to;
      });
  if (end != records_end) Fail("ScanRecords: the returned end is not the end of the last record");
  return 0;
}
