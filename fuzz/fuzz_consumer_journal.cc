// libFuzzer target for the consumer state journal's reader
// (jetstream/consumer_state.h ParseJournal) on arbitrary bytes.
//
// Input layout (see fuzz/README.md):
//   byte 0   flags: bit 0 set = seal the header (write the CRC-32C of bytes
//            [0, 16) at offset 16) and name generation 7 in it, so that
//            mutations get past the header; bit 1 set = seal every record
//            frame met while walking (its CRC field = the CRC-32C of its
//            payload), so that mutations reach the record decoder
//   rest     the journal's bytes, parsed for generation 7
// Checks (any failure aborts):
//   - the valid records re-encode (EncodeRecord) to exactly the bytes they
//     were read from, one after the other from offset 20;
//   - a journal cut anywhere after its header yields a prefix of the same
//     records (a torn tail loses only whole records at the end);
//   - a journal is "present" only with a header for generation 7.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "jetstream/consumer_state.h"
#include "store/crc32c.h"

namespace {

using sluice::jetstream::ConsumerJournal;
using sluice::jetstream::EncodeRecord;
using sluice::jetstream::JournalContents;
using sluice::jetstream::ParseJournal;

constexpr uint64_t kGeneration = 7;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "fuzz_consumer_journal: %s\n", what);
  std::abort();
}

void Put32At(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
}
uint32_t Get32At(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(s[at + i])} << (8 * i);
  return v;
}

bool SameRecords(const JournalContents& a, const JournalContents& b, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (EncodeRecord(a.records[i]) != EncodeRecord(b.records[i])) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t header = ConsumerJournal::kHeaderBytes;
  if ((flags & 1) && bytes.size() >= header) {
    Put32At(bytes, 0, ConsumerJournal::kMagic);
    Put32At(bytes, 4, ConsumerJournal::kVersion);
    for (int i = 0; i < 8; ++i) bytes[8 + i] = static_cast<char>(kGeneration >> (8 * i));
    Put32At(bytes, 16, sluice::store::Crc32c(std::string_view(bytes).substr(0, 16)));
  }
  if ((flags & 2) && bytes.size() >= header) {
    size_t pos = header;
    while (bytes.size() - pos >= 8) {
      const uint32_t len = Get32At(bytes, pos);
      if (len > bytes.size() - pos - 8) break;
      Put32At(bytes, pos + 4, sluice::store::Crc32c(std::string_view(bytes).substr(pos + 8, len)));
      pos += 8 + len;
    }
  }

  const JournalContents whole = ParseJournal(bytes, kGeneration);
  const bool header_ok = bytes.size() >= header && bytes.substr(0, header) == sluice::jetstream::EncodeJournalHeader(kGeneration);
  if (whole.present != header_ok) Fail("present without this generation's header, or not with it");
  if (!whole.present && !whole.records.empty()) Fail("records without a header");

  // The records re-encode to the bytes they came from, back to back.
  size_t pos = header;
  for (const auto& r : whole.records) {
    const std::string enc = EncodeRecord(r);
    if (pos + enc.size() > bytes.size() || bytes.compare(pos, enc.size(), enc) != 0) Fail("record does not re-encode");
    pos += enc.size();
  }
  if (whole.present && pos < bytes.size() && whole.problem.empty()) Fail("bytes left over without a problem");

  // A cut journal gives a prefix of the records.
  if (whole.present) {
    for (size_t cut : {size_t{header}, header + (bytes.size() - header) / 2, bytes.size() - 1}) {
      if (cut < header || cut > bytes.size()) continue;
      const JournalContents part = ParseJournal(std::string_view(bytes).substr(0, cut), kGeneration);
      if (!part.present) Fail("a cut journal lost its header");
      if (part.records.size() > whole.records.size() || !SameRecords(part, whole, part.records.size()))
        Fail("a cut journal is not a prefix");
    }
  }
  return 0;
}
