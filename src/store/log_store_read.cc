// LogStore: the read side (loads, filtered scans, subjects, state, memory).
#include <algorithm>

#include "core/subject.h"
#include "store/log_store.h"

namespace sluice::store {

size_t LogStore::SegmentIndexFor(uint64_t seq) const {
  // The last segment whose base_seq <= seq.
  auto it = std::upper_bound(segments_.begin(), segments_.end(), seq,
                             [](uint64_t s, const std::unique_ptr<Segment>& seg) { return s < seg->base_seq; });
  if (it == segments_.begin()) return segments_.empty() ? 0 : 0;
  return static_cast<size_t>(it - segments_.begin()) - 1;
}

bool LogStore::LocateLive(uint64_t seq, Located* out) {
  if (segments_.empty() || seq == 0) return false;
  size_t i = SegmentIndexFor(seq);
  Segment& seg = *segments_[i];
  if (seq < seg.base_seq || seq >= seg.base_seq + seg.count || seg.slots.empty()) return false;
  size_t idx = seq - seg.base_seq;
  if (seg.slots[idx].offset == kDeadSlot) return false;
  *out = Located{&seg, idx};
  return true;
}

bool LogStore::SegmentMayHold(const Segment& seg, uint32_t id) const {
  if (seg.live == 0) return false;
  if (!seg.sealed) return subjects_[id].last_segment == seg.id;
  return std::binary_search(seg.subjects.begin(), seg.subjects.end(), id);
}

bool LogStore::SegmentMayHoldAny(const Segment& seg, const std::vector<bool>& ids) const {
  if (seg.live == 0) return false;
  for (uint32_t id : seg.subjects) {
    if (id < ids.size() && ids[id]) return true;
  }
  return false;
}

const std::vector<bool>* LogStore::MatchingIds(std::string_view filter) {
  if (match_version_ != subjects_version_ || match_filter_ != filter) {
    match_ids_.assign(subjects_.size(), false);
    for (uint32_t id = 0; id < subjects_.size(); ++id) {
      if (subjects_[id].name != nullptr && SubjectMatchesFilter(filter, *subjects_[id].name)) match_ids_[id] = true;
    }
    match_filter_ = std::string(filter);
    match_version_ = subjects_version_;
  }
  return &match_ids_;
}

void LogStore::ForEachMatch(std::string_view filter, uint64_t start,
                            const std::function<bool(Segment&, size_t, uint64_t)>& fn) {
  if (msgs_ == 0) return;
  start = std::max<uint64_t>(start, first_seq_);
  bool all = filter.empty() || filter == ">";
  uint32_t literal = UINT32_MAX;
  const std::vector<bool>* ids = nullptr;
  uint64_t stop = next_seq_;
  if (!all) {
    if (!SubjectHasWildcard(filter)) {
      auto it = subject_ids_.find(std::string(filter));
      if (it == subject_ids_.end()) return;
      literal = it->second;
      start = std::max(start, subjects_[literal].first);
      stop = subjects_[literal].last + 1;
    } else {
      ids = MatchingIds(filter);
      if (std::find(ids->begin(), ids->end(), true) == ids->end()) return;
    }
  }
  for (size_t i = SegmentIndexFor(start); i < segments_.size(); ++i) {
    Segment& seg = *segments_[i];
    if (seg.base_seq >= stop) return;
    if (seg.live == 0) continue;
    if (literal != UINT32_MAX && !SegmentMayHold(seg, literal)) continue;
    if (ids != nullptr && !SegmentMayHoldAny(seg, *ids)) continue;
    size_t k = start > seg.base_seq ? start - seg.base_seq : 0;
    for (; k < seg.count; ++k) {
      const Slot& s = seg.slots[k];
      if (s.offset == kDeadSlot) continue;
      if (literal != UINT32_MAX && s.subject != literal) continue;
      if (ids != nullptr && !(*ids)[s.subject]) continue;
      if (!fn(seg, k, seg.base_seq + k)) return;
    }
  }
}

uint64_t LogStore::ResolveFirst(uint32_t id) {
  SubjectInfo& info = subjects_[id];
  uint64_t found = 0;
  ForEachMatch(*info.name, info.first, [&](Segment&, size_t, uint64_t seq) {
    found = seq;
    return false;
  });
  if (found) info.first = found;
  return found;
}

uint64_t LogStore::ResolveLast(uint32_t id) {
  SubjectInfo& info = subjects_[id];
  if (info.count == 0) return 0;
  for (size_t i = SegmentIndexFor(info.last) + 1; i-- > 0;) {
    Segment& seg = *segments_[i];
    if (!SegmentMayHold(seg, id)) continue;
    size_t k = std::min<uint64_t>(seg.count, info.last - seg.base_seq + 1);
    while (k-- > 0) {
      const Slot& s = seg.slots[k];
      if (s.offset != kDeadSlot && s.subject == id) {
        info.last = seg.base_seq + k;
        return info.last;
      }
    }
  }
  return 0;
}

StatusOr<StoredMessage> LogStore::ReadSlot(Segment& seg, size_t idx) {
  const Slot& s = seg.slots[idx];
  uint64_t seq = seg.base_seq + idx;
  std::string buf;
  Status st = io_->ReadAt(seg.id, s.offset, s.len_flags & kLenMask, &buf);
  RecordView rec;
  if (st.ok() && (ParseRecord(buf, &rec) != ParseResult::kOk || rec.seq != seq || rec.type != RecordType::kMessage)) {
    st = Corruption("record " + std::to_string(seq) + " failed its checksum");
  }
  if (!st.ok()) {
    if (st.code() == StatusCode::kCorruption) {
      // Count it as lost once and stop serving it.
      lost_msgs_++;
      lost_bytes_ += s.len_flags & kLenMask;
      if (lost_seqs_.size() < 1000) lost_seqs_.push_back(seq);
      if (config_.log) config_.log("corrupt record found on read: sequence " + std::to_string(seq));
      RemoveSlot(seg, idx);
      AfterRemovals();
    }
    return st;
  }
  StoredMessage m;
  m.seq = seq;
  m.timestamp_ns = rec.timestamp_ns;
  m.subject.assign(rec.subject);
  m.headers.assign(rec.headers);
  m.payload.assign(rec.payload);
  return m;
}

int64_t LogStore::ExactTs(Segment& seg, size_t idx) {
  const Slot& s = seg.slots[idx];
  std::string buf;
  if (io_->ReadAt(seg.id, s.offset, kRecordHeaderSize, &buf).ok()) return static_cast<int64_t>(GetU64(buf.data() + 24));
  return seg.base_ts + int64_t{s.ts_ms} * 1'000'000;
}

StatusOr<StoredMessage> LogStore::Load(uint64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return Closed();
  Located loc;
  if (!LocateLive(seq, &loc)) return NotFound("no message with sequence " + std::to_string(seq));
  return ReadSlot(*loc.seg, loc.idx);
}

StatusOr<StoredMessage> LogStore::LoadNext(std::string_view filter, uint64_t start) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return Closed();
  while (true) {
    Located loc;
    ForEachMatch(filter, start, [&](Segment& seg, size_t idx, uint64_t) {
      loc = Located{&seg, idx};
      return false;
    });
    if (loc.seg == nullptr) return NotFound("no message matches");
    StatusOr<StoredMessage> m = ReadSlot(*loc.seg, loc.idx);
    if (m.ok() || m.status().code() != StatusCode::kCorruption) return m;
    // A corrupt record was just counted lost and removed: try the next one.
  }
}

namespace {
// LoadNextBatch reads a run of records with one ReadAt: a run ends at a
// segment boundary, at a gap of more than kReadAheadMaxGap bytes (dead or
// non-matching records in between), or once it spans kReadAheadMaxRun bytes.
constexpr uint64_t kReadAheadMaxRun = 256 * 1024;
constexpr uint64_t kReadAheadMaxGap = 16 * 1024;
}  // namespace

StatusOr<size_t> LogStore::LoadNextBatch(std::string_view filter, uint64_t start, size_t max_msgs, size_t max_bytes,
                                         const MessageVisitor& visit) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return Closed();
  struct Pick {
    Segment* seg;
    size_t idx;
  };
  // Scratch of the calling thread (in the server, the consumers' dispatcher):
  // an idle store holds no read buffer.
  thread_local std::string run;
  thread_local std::vector<Pick> picks;
  size_t visited = 0;
  uint64_t bytes = 0;
  // One message through ReadSlot (a run's read failed, or a record in it did
  // not check): it confirms corruption, counts it lost and removes the slot.
  enum class Slow { kVisited, kStop, kRestart, kError };
  Status error;
  auto read_one = [&](Segment& seg, size_t idx) {
    const uint64_t seq = seg.base_seq + idx;
    const size_t len = seg.slots[idx].len_flags & kLenMask;
    StatusOr<StoredMessage> m = ReadSlot(seg, idx);  // a corrupt record's removal may free seg
    if (!m.ok()) {
      if (m.status().code() == StatusCode::kCorruption) {
        start = seq + 1;  // removed: the index changed, pick again after it
        return Slow::kRestart;
      }
      error = m.status();
      return Slow::kError;
    }
    ++visited;
    bytes += len;
    start = seq + 1;
    return visit(MessageView{m->seq, m->timestamp_ns, m->subject, m->headers, m->payload}) ? Slow::kVisited
                                                                                             : Slow::kStop;
  };
  while (visited < max_msgs && (visited == 0 || bytes < max_bytes)) {
    picks.clear();
    uint64_t planned = bytes;
    ForEachMatch(filter, start, [&](Segment& seg, size_t idx, uint64_t) {
      picks.push_back({&seg, idx});
      planned += seg.slots[idx].len_flags & kLenMask;
      return visited + picks.size() < max_msgs && planned < max_bytes;
    });
    if (picks.empty()) break;
    bool restart = false;
    for (size_t i = 0; i < picks.size() && !restart;) {
      Segment& seg = *picks[i].seg;
      const uint64_t begin = seg.slots[picks[i].idx].offset;
      uint64_t end = begin + (seg.slots[picks[i].idx].len_flags & kLenMask);
      size_t j = i + 1;
      for (; j < picks.size() && picks[j].seg == &seg; ++j) {
        const Slot& s = seg.slots[picks[j].idx];
        const uint64_t s_end = s.offset + (s.len_flags & kLenMask);
        if (s.offset < end || s.offset - end > kReadAheadMaxGap || s_end - begin > kReadAheadMaxRun) break;
        end = s_end;
      }
      if (!io_->ReadAt(seg.id, begin, end - begin, &run).ok()) {
        switch (read_one(seg, picks[i].idx)) {
          case Slow::kVisited: ++i; continue;
          case Slow::kStop: return visited;
          case Slow::kRestart: restart = true; continue;
          case Slow::kError: return visited > 0 ? StatusOr<size_t>(visited) : StatusOr<size_t>(error);
        }
      }
      for (size_t k = i; k < j; ++k) {
        const Slot& s = seg.slots[picks[k].idx];
        const uint64_t seq = seg.base_seq + picks[k].idx;
        const size_t len = s.len_flags & kLenMask;
        RecordView rec;
        if (ParseRecord(std::string_view(run).substr(s.offset - begin, len), &rec) != ParseResult::kOk ||
            rec.seq != seq || rec.type != RecordType::kMessage) {
          Slow r = read_one(seg, picks[k].idx);
          if (r == Slow::kVisited) continue;
          if (r == Slow::kStop) return visited;
          if (r == Slow::kError) return visited > 0 ? StatusOr<size_t>(visited) : StatusOr<size_t>(error);
          restart = true;
          break;
        }
        ++visited;
        bytes += len;
        start = seq + 1;
        if (!visit(MessageView{seq, rec.timestamp_ns, rec.subject, rec.headers, rec.payload})) return visited;
      }
      i = j;
    }
  }
  return visited;
}

StatusOr<StoredMessage> LogStore::LoadLast(std::string_view filter) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return Closed();
  if (msgs_ == 0) return NotFound("stream is empty");
  uint64_t best = 0;
  if (filter.empty() || filter == ">") {
    for (size_t i = segments_.size(); i-- > 0 && best == 0;) {
      Segment& seg = *segments_[i];
      if (seg.live == 0) continue;
      for (size_t k = seg.count; k-- > 0;) {
        if (seg.slots[k].offset != kDeadSlot) {
          best = seg.base_seq + k;
          break;
        }
      }
    }
  } else if (!SubjectHasWildcard(filter)) {
    auto it = subject_ids_.find(std::string(filter));
    if (it != subject_ids_.end()) best = ResolveLast(it->second);
  } else {
    std::vector<bool> ids = *MatchingIds(filter);
    for (uint32_t id = 0; id < ids.size(); ++id) {
      if (ids[id]) best = std::max(best, ResolveLast(id));
    }
  }
  Located loc;
  if (best == 0 || !LocateLive(best, &loc)) return NotFound("no message matches");
  return ReadSlot(*loc.seg, loc.idx);
}

std::map<std::string, uint64_t> LogStore::SubjectCounts(std::string_view filter) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, uint64_t> out;
  bool all = filter.empty() || filter == ">";
  for (const SubjectInfo& info : subjects_) {
    if (info.name == nullptr || info.count == 0) continue;
    if (all || SubjectMatchesFilter(filter, *info.name)) out[*info.name] = info.count;
  }
  return out;
}

StoreState LogStore::State() {
  std::lock_guard<std::mutex> lock(mu_);
  StoreState st;
  st.msgs = msgs_;
  st.bytes = bytes_;
  st.last_seq = next_seq_ - 1;
  st.last_ts = last_ts_;
  st.first_seq = first_seq_;
  Located loc;
  if (FirstLive(&loc)) {
    st.first_seq = loc.seg->base_seq + loc.idx;
    st.first_ts = ExactTs(*loc.seg, loc.idx);
  }
  if (msgs_ > 0) st.num_deleted = (st.last_seq - st.first_seq + 1) - msgs_;
  st.num_subjects = subject_ids_.size();
  st.lost_msgs = lost_msgs_;
  st.lost_bytes = lost_bytes_;
  st.lost_seqs = lost_seqs_;
  return st;
}

uint64_t LogStore::StoredBytes() {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

uint64_t LogStore::IndexMemoryBytes() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t total = sizeof(*this);
  for (const auto& seg : segments_) {
    total += sizeof(Segment) + sizeof(void*) + seg->slots.capacity() * sizeof(Slot) +
             seg->subjects.capacity() * sizeof(uint32_t);
  }
  total += subjects_.capacity() * sizeof(SubjectInfo) + free_ids_.capacity() * sizeof(uint32_t);
  for (const auto& [name, id] : subject_ids_) {
    // node: key string (+ heap buffer when long), value, hash and next pointers, bucket
    total += sizeof(std::string) + (name.size() > 15 ? name.capacity() + 1 : 0) + 8 + 16 + 8;
  }
  total += match_ids_.capacity() / 8;
  return total;
}

}  // namespace sluice::store
