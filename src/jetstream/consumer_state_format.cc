// The consumer state journal's bytes: header, records, and reading them
// back (consumer_state.h); no file access here, so the fuzzer
// (fuzz/fuzz_consumer_journal.cc) can drive it. Layout byte by byte in
// docs/storage-format.md, "Consumer state".
#include <cstring>
#include <string>

#include "jetstream/consumer_state.h"
#include "store/crc32c.h"

namespace sluice::jetstream {
namespace {

constexpr uint8_t kRecordCommit = 1;
constexpr size_t kFrameBytes = 8;                  // u32 length, u32 CRC-32C
constexpr size_t kFixedPayloadBytes = 1 + 24 + 4 + 4 + 4;
constexpr size_t kSetEntryBytes = 20;              // u64 sseq, u64 cseq, u32 deliveries
constexpr size_t kRunBytes = 12;                   // u64 first, u32 count
constexpr uint32_t kMaxRecordBytes = 256u << 20;   // a length above this is corruption

void Put32(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 4);
}
void Put64(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 8);
}
uint32_t Get32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}
uint64_t Get64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}

std::string HeaderBytes(uint64_t generation) {
  std::string h;
  Put32(h, ConsumerJournal::kMagic);
  Put32(h, ConsumerJournal::kVersion);
  Put64(h, generation);
  Put32(h, store::Crc32c(h));
  return h;
}

// Parses one payload; false when its inner lengths do not add up.
bool DecodeDelta(std::string_view p, StateDelta& d) {
  if (p.size() < kFixedPayloadBytes || static_cast<uint8_t>(p[0]) != kRecordCommit) return false;
  const char* q = p.data() + 1;
  d.next_sseq = Get64(q);
  d.dseq = Get64(q + 8);
  d.delivered_sseq = Get64(q + 16);
  d.last_per_subject_left = Get32(q + 24);
  q += 28;
  size_t left = p.size() - 29;
  uint64_t n_set = Get32(q);
  q += 4;
  left -= 4;
  if (n_set * kSetEntryBytes > left) return false;
  d.set.resize(n_set);
  for (auto& e : d.set) {
    e.sseq = Get64(q);
    e.cseq = Get64(q + 8);
    e.deliveries = Get32(q + 16);
    q += kSetEntryBytes;
  }
  left -= n_set * kSetEntryBytes;
  if (left < 4) return false;
  uint64_t n_runs = Get32(q);
  q += 4;
  left -= 4;
  if (n_runs * kRunBytes != left) return false;
  d.removed.resize(n_runs);
  for (auto& r : d.removed) {
    r.first = Get64(q);
    r.count = Get32(q + 8);
    q += kRunBytes;
  }
  return true;
}

}  // namespace

std::string EncodeJournalHeader(uint64_t generation) { return HeaderBytes(generation); }

std::string EncodeRecord(const StateDelta& d) {
  const size_t payload = kFixedPayloadBytes + d.set.size() * kSetEntryBytes + d.removed.size() * kRunBytes;
  std::string out;
  out.reserve(kFrameBytes + payload);
  Put32(out, static_cast<uint32_t>(payload));
  Put32(out, 0);  // CRC, filled in below
  out.push_back(static_cast<char>(kRecordCommit));
  Put64(out, d.next_sseq);
  Put64(out, d.dseq);
  Put64(out, d.delivered_sseq);
  Put32(out, d.last_per_subject_left);
  Put32(out, static_cast<uint32_t>(d.set.size()));
  for (const auto& e : d.set) {
    Put64(out, e.sseq);
    Put64(out, e.cseq);
    Put32(out, e.deliveries);
  }
  Put32(out, static_cast<uint32_t>(d.removed.size()));
  for (const auto& r : d.removed) {
    Put64(out, r.first);
    Put32(out, r.count);
  }
  std::string crc;
  Put32(crc, store::Crc32c(std::string_view(out).substr(kFrameBytes)));
  std::memcpy(out.data() + 4, crc.data(), 4);
  return out;
}

void AppendRemovedRuns(const std::vector<uint64_t>& seqs, std::vector<StateDelta::Run>& removed) {
  for (uint64_t s : seqs) {
    if (!removed.empty() && removed.back().first + removed.back().count == s && removed.back().count < UINT32_MAX) {
      ++removed.back().count;
    } else {
      removed.push_back({s, 1});
    }
  }
}

JournalContents ParseJournal(std::string_view text, uint64_t generation) {
  JournalContents out;
  if (text.size() < ConsumerJournal::kHeaderBytes ||
      Get32(text.data() + 16) != store::Crc32c(std::string_view(text).substr(0, 16)) ||
      Get32(text.data()) != ConsumerJournal::kMagic || Get32(text.data() + 4) != ConsumerJournal::kVersion) {
    // A header torn while a new journal was started: its snapshot is complete.
    if (!text.empty()) out.problem = "bad header";
    return out;
  }
  if (Get64(text.data() + 8) != generation) return out;  // belongs to an older snapshot
  out.present = true;
  size_t pos = ConsumerJournal::kHeaderBytes;
  while (pos < text.size()) {
    if (text.size() - pos < kFrameBytes) {
      out.problem = "torn record at offset " + std::to_string(pos);
      break;
    }
    uint32_t len = Get32(text.data() + pos), crc = Get32(text.data() + pos + 4);
    if (len > kMaxRecordBytes) {
      out.problem = "corrupt record length at offset " + std::to_string(pos);
      break;
    }
    if (text.size() - pos - kFrameBytes < len) {
      out.problem = "torn record at offset " + std::to_string(pos);
      break;
    }
    std::string_view payload(text.data() + pos + kFrameBytes, len);
    StateDelta d;
    if (store::Crc32c(payload) != crc || !DecodeDelta(payload, d)) {
      out.problem = "corrupt record at offset " + std::to_string(pos);
      break;
    }
    out.records.push_back(std::move(d));
    pos += kFrameBytes + len;
  }
  return out;
}

}  // namespace sluice::jetstream
