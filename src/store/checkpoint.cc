// Segment index checkpoints (encode, decode) and the recovery of one segment.
#include "store/checkpoint.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "store/crc32c.h"
#include "store/record_format.h"
#include "store/segment_io.h"

namespace sluice::store {
namespace {

constexpr uint32_t kCheckpointMagic = 0x58494C53;  // "SLIX"
constexpr size_t kCheckpointHeaderSize = 96;

}  // namespace

std::string EncodeCheckpoint(const SegmentIndex& x) {
  std::string out;
  size_t subject_bytes = 0;
  for (const std::string& s : x.subjects) subject_bytes += 2 + s.size();
  out.reserve(kCheckpointHeaderSize + subject_bytes + x.slots.size() * sizeof(Slot) + x.tombstones.size() * 8 + 4);
  PutU32(&out, kCheckpointMagic);
  PutU32(&out, kFormatVersion);
  PutU32(&out, x.segment_id);
  PutU32(&out, static_cast<uint32_t>(x.slots.size()));
  PutU64(&out, x.base_seq);
  PutU64(&out, static_cast<uint64_t>(x.base_ts));
  PutU64(&out, x.covered_len);
  PutU64(&out, x.last_record_offset);
  PutU32(&out, x.last_record_crc);
  PutU32(&out, static_cast<uint32_t>(x.subjects.size()));
  PutU32(&out, static_cast<uint32_t>(x.tombstones.size()));
  PutU32(&out, 0);
  PutU64(&out, x.floor);
  PutU64(&out, x.lost_msgs);
  PutU64(&out, x.lost_bytes);
  PutU64(&out, x.max_seq);
  for (const std::string& s : x.subjects) {
    PutU16(&out, static_cast<uint16_t>(s.size()));
    out.append(s);
  }
  out.append(reinterpret_cast<const char*>(x.slots.data()), x.slots.size() * sizeof(Slot));
  out.append(reinterpret_cast<const char*>(x.tombstones.data()), x.tombstones.size() * 8);
  PutU32(&out, Crc32c(out));
  return out;
}

Status DecodeCheckpoint(std::string_view b, SegmentIndex* x) {
  if (b.size() < kCheckpointHeaderSize + 4) return Corruption("checkpoint too short");
  const char* p = b.data();
  if (GetU32(p) != kCheckpointMagic || GetU32(p + 4) != kFormatVersion) return Corruption("checkpoint: bad magic");
  if (Crc32c(b.substr(0, b.size() - 4)) != GetU32(p + b.size() - 4)) return Corruption("checkpoint: bad CRC");
  x->segment_id = GetU32(p + 8);
  uint32_t slots = GetU32(p + 12);
  x->base_seq = GetU64(p + 16);
  x->base_ts = static_cast<int64_t>(GetU64(p + 24));
  x->covered_len = GetU64(p + 32);
  x->last_record_offset = GetU64(p + 40);
  x->last_record_crc = GetU32(p + 48);
  uint32_t subjects = GetU32(p + 52);
  uint32_t tombstones = GetU32(p + 56);
  x->floor = GetU64(p + 64);
  x->lost_msgs = GetU64(p + 72);
  x->lost_bytes = GetU64(p + 80);
  x->max_seq = GetU64(p + 88);
  size_t pos = kCheckpointHeaderSize;
  size_t end = b.size() - 4;
  x->subjects.clear();
  x->subjects.reserve(subjects);
  for (uint32_t i = 0; i < subjects; ++i) {
    if (pos + 2 > end) return Corruption("checkpoint: truncated subjects");
    uint16_t n = GetU16(p + pos);
    if (pos + 2 + n > end) return Corruption("checkpoint: truncated subjects");
    x->subjects.emplace_back(p + pos + 2, n);
    pos += 2 + n;
  }
  if (pos + uint64_t{slots} * sizeof(Slot) + uint64_t{tombstones} * 8 != end) {
    return Corruption("checkpoint: bad lengths");
  }
  x->slots.resize(slots);
  if (slots > 0) std::memcpy(x->slots.data(), p + pos, slots * sizeof(Slot));
  pos += slots * sizeof(Slot);
  x->tombstones.resize(tombstones);
  if (tombstones > 0) std::memcpy(x->tombstones.data(), p + pos, tombstones * 8);
  for (const Slot& s : x->slots) {
    if (s.offset != kDeadSlot && s.subject >= subjects) return Corruption("checkpoint: bad subject index");
  }
  return Status::Ok();
}

namespace {

struct ViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Reads a whole file through the seam.
Status ReadFile(FileSystem& fs, const std::string& path, std::string* out) {
  StatusOr<std::unique_ptr<File>> f = fs.Open(path, OpenMode::kRead);
  if (!f.ok()) return f.status();
  StatusOr<uint64_t> size = (*f)->Size();
  if (!size.ok()) return size.status();
  out->resize(*size);
  return ReadExact(**f, 0, *size, out->data());
}

// Is the checkpoint consistent with the segment file as it is now?
bool CheckpointFits(File& file, uint64_t file_size, const SegmentIndex& x, uint32_t id) {
  if (x.segment_id != id || x.covered_len > file_size) return false;
  if (x.last_record_offset == UINT64_MAX) return x.covered_len <= kSegmentHeaderSize;
  if (x.last_record_offset + kRecordHeaderSize > x.covered_len) return false;
  char head[kRecordHeaderSize];
  if (!ReadExact(file, x.last_record_offset, sizeof head, head).ok()) return false;
  return GetU32(head) == kRecordMagic && GetU32(head + 4) == x.last_record_crc &&
         x.last_record_offset + GetU32(head + 8) == x.covered_len;
}

}  // namespace

Status RecoverSegment(FileSystem& fs, const std::string& dir, uint32_t id, SegmentIndex* x,
                      RecoveryReport* report, const std::function<void(std::string_view)>& log) {
  auto say = [&](const std::string& line) {
    if (log) log(line);
  };
  std::string path = dir + "/" + SegmentFileName(id);
  StatusOr<std::unique_ptr<File>> opened = fs.Open(path, OpenMode::kReadWrite);
  if (!opened.ok()) return opened.status();
  File& file = **opened;
  StatusOr<uint64_t> size = file.Size();
  if (!size.ok()) return size.status();
  report->file_size = *size;

  SegmentHeader header;
  char hbuf[kSegmentHeaderSize];
  report->header_ok = *size >= kSegmentHeaderSize && ReadExact(file, 0, sizeof hbuf, hbuf).ok() &&
                      ParseSegmentHeader(std::string_view(hbuf, sizeof hbuf), &header) && header.segment_id == id;

  // 1. The checkpoint, when there is one that fits the file.
  *x = SegmentIndex();
  uint64_t start = kSegmentHeaderSize;
  std::string ck;
  std::string ck_path = dir + "/" + CheckpointFileName(id);
  if (report->header_ok && fs.Exists(ck_path) && ReadFile(fs, ck_path, &ck).ok()) {
    SegmentIndex loaded;
    if (DecodeCheckpoint(ck, &loaded).ok() && loaded.base_seq == header.base_seq &&
        CheckpointFits(file, *size, loaded, id)) {
      *x = std::move(loaded);
      start = x->covered_len;
      report->used_checkpoint = true;
      report->checkpoint_len = x->covered_len;
    } else {
      say("segment " + std::to_string(id) + ": checkpoint is stale or corrupt; rebuilding its index");
    }
  }
  if (!report->used_checkpoint) {
    x->segment_id = id;
    x->base_seq = report->header_ok ? header.base_seq : 0;
    x->base_ts = report->header_ok ? header.base_ts : 0;
    if (!report->header_ok) start = 0;  // find the records by their magic
  }

  // 2. Scan what the checkpoint does not cover.
  std::string data;
  if (*size > start) {
    data.resize(*size - start);
    Status st = ReadExact(file, start, data.size(), data.data());
    if (!st.ok()) return st;
  }
  std::unordered_map<std::string, uint32_t, ViewHash, std::equal_to<>> local;
  for (uint32_t i = 0; i < x->subjects.size(); ++i) local.emplace(x->subjects[i], i);
  bool after_skip = false;
  uint64_t skip_bytes = 0;
  auto on_record = [&](uint64_t off, const RecordView& rec) {
    uint64_t abs = start + off;
    if (x->base_seq == 0) x->base_seq = rec.seq;
    if (x->base_ts == 0 && !report->header_ok) x->base_ts = rec.timestamp_ns;
    if (rec.type != RecordType::kFloor) x->max_seq = std::max(x->max_seq, rec.seq);
    x->last_record_offset = abs;
    x->last_record_crc = rec.crc;
    if (rec.type == RecordType::kMessage) {
      if (rec.seq < x->base_seq + x->slots.size()) return;  // out of order: ignore
      uint64_t expected = x->base_seq + x->slots.size();
      if (after_skip && rec.seq > expected) {
        x->lost_msgs += rec.seq - expected;
        for (uint64_t s = expected; s < rec.seq && x->lost_seqs.size() < 1000; ++s) x->lost_seqs.push_back(s);
      }
      while (x->base_seq + x->slots.size() < rec.seq) x->slots.push_back(Slot{kDeadSlot, 0, 0, 0});
      auto it = local.find(rec.subject);
      if (it == local.end()) {
        it = local.emplace(std::string(rec.subject), static_cast<uint32_t>(x->subjects.size())).first;
        x->subjects.emplace_back(rec.subject);
      }
      int64_t delta = rec.timestamp_ns - x->base_ts;
      x->slots.push_back(Slot{static_cast<uint32_t>(abs), it->second,
                              static_cast<uint32_t>(delta > 0 ? delta / 1'000'000 : 0),
                              rec.length | (rec.headers.empty() ? 0u : kHasHeaders)});
    } else if (rec.type == RecordType::kTombstone) {
      x->tombstones.push_back(rec.seq);
    } else {
      x->floor = std::max(x->floor, rec.seq);
    }
    after_skip = false;
  };
  auto on_skip = [&](uint64_t from, uint64_t to) {
    after_skip = true;
    skip_bytes += to - from;
    report->skipped_regions++;
    say("segment " + std::to_string(id) + ": corrupt bytes [" + std::to_string(start + from) + ", " +
        std::to_string(start + to) + ") skipped; resynchronised on the next record");
  };
  uint64_t valid_end = start + ScanRecords(data, 0, on_record, on_skip);
  x->lost_bytes += skip_bytes;
  if (valid_end < start) valid_end = start;
  if (!report->header_ok && valid_end == 0) valid_end = 0;
  // 3. Cut a torn or half-written tail.
  if (valid_end < *size && (report->header_ok || x->last_record_offset != UINT64_MAX)) {
    report->cut_bytes = *size - valid_end;
    say("segment " + std::to_string(id) + ": cut a torn tail of " + std::to_string(report->cut_bytes) + " bytes");
    Status st = file.Truncate(valid_end);
    if (st.ok()) st = file.Sync();
    if (!st.ok()) return st;
  }
  x->covered_len = std::max<uint64_t>(valid_end, report->header_ok ? kSegmentHeaderSize : 0);
  // Records found by scanning may be in the page cache only (the previous
  // process was killed before its fsync): make them durable before new
  // records are acknowledged behind them.
  if (!data.empty()) {
    Status st = file.Sync();
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

}  // namespace sluice::store
