// LogStore: the write side (append, limits, delete, purge, expiry).
#include "store/log_store.h"

#include <algorithm>

#include "core/subject.h"

namespace sluice::store {
namespace {

constexpr uint64_t kMaxPadding = 4096;  // a larger sequence gap starts a new segment
constexpr int64_t kMaxSegmentSpanMs = INT64_C(0xFFFF0000);

class SystemClockImpl final : public Clock {
 public:
  int64_t NowNs() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

Clock& SystemClock() {
  static SystemClockImpl clock;
  return clock;
}

LogStore::LogStore(const StoreConfig& config, std::unique_ptr<SegmentIo> io)
    : config_(config),
      limits_(config.limits),
      clock_(config.clock ? config.clock : &SystemClock()),
      io_(std::move(io)),
      file_sizes_(io_->persistent()) {
  committer_ = config.committer;
}

LogStore::~LogStore() { (void)Close(); }

uint64_t LogStore::StoredSize(const Slot& s) const {
  uint64_t len = s.len_flags & kLenMask;
  // jetstream-api.md §3.2: file = 30 + subject + payload (+ 4 + headers);
  // memory = 16 + subject + headers + payload. A record is 36 + all three.
  if (file_sizes_) return len - kRecordHeaderSize + 30 + ((s.len_flags & kHasHeaders) ? 4 : 0);
  return len - kRecordHeaderSize + 16;
}

uint32_t LogStore::InternSubject(std::string_view subject) {
  auto it = subject_ids_.find(std::string(subject));
  if (it != subject_ids_.end()) return it->second;
  uint32_t id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
  } else {
    id = static_cast<uint32_t>(subjects_.size());
    subjects_.emplace_back();
  }
  auto ins = subject_ids_.emplace(std::string(subject), id).first;
  subjects_[id] = SubjectInfo{&ins->first, 0, 0, 0, UINT32_MAX};
  subjects_version_++;
  return id;
}

void LogStore::RemoveSlot(Segment& seg, size_t idx) {
  Slot& s = seg.slots[idx];
  uint64_t seq = seg.base_seq + idx;
  msgs_--;
  bytes_ -= StoredSize(s);
  seg.live--;
  SubjectInfo& info = subjects_[s.subject];
  s.offset = kDeadSlot;
  if (--info.count == 0) {
    subject_ids_.erase(*info.name);
    info = SubjectInfo{};
    free_ids_.push_back(s.subject);
    subjects_version_++;
  } else {
    if (seq == info.first) info.first = seq + 1;
    if (seq == info.last) info.last = seq - 1;
  }
  if (seq == first_seq_) first_seq_ = seq + 1;  // a lower bound; AfterRemovals resolves it
  if (!ttl_.empty()) ttl_.Remove(seq);
}

void LogStore::AfterRemovals() {
  if (msgs_ == 0) {
    first_seq_ = next_seq_;
  } else {
    Located loc;
    if (FirstLive(&loc)) first_seq_ = loc.seg->base_seq + loc.idx;
  }
  // Free fully dead sealed segments: their slots now, their files once they
  // reach the front (a tombstone in a later segment may refer to them, and
  // files are removed oldest first so none is ever orphaned).
  for (auto& seg : segments_) {
    if (seg->sealed && seg->live == 0 && !seg->slots.empty()) {
      std::vector<Slot>().swap(seg->slots);
      std::vector<uint32_t>().swap(seg->subjects);
    }
  }
  while (!segments_.empty() && segments_.front()->live == 0 && segments_.front().get() != active_) {
    io_->DropSegment(segments_.front()->id);
    segments_.pop_front();
  }
}

bool LogStore::FirstLive(Located* out) {
  if (msgs_ == 0) return false;
  for (size_t i = SegmentIndexFor(first_seq_ ? first_seq_ : 1); i < segments_.size(); ++i) {
    Segment& seg = *segments_[i];
    if (seg.live == 0) continue;
    size_t from = first_seq_ > seg.base_seq ? first_seq_ - seg.base_seq : 0;
    for (size_t k = from; k < seg.count; ++k) {
      if (seg.slots[k].offset != kDeadSlot) {
        *out = Located{&seg, k};
        return true;
      }
    }
  }
  // first_seq_ may point before the first segment after a recovery.
  for (auto& seg : segments_) {
    if (seg->live == 0) continue;
    for (size_t k = 0; k < seg->count; ++k) {
      if (seg->slots[k].offset != kDeadSlot) {
        *out = Located{seg.get(), k};
        return true;
      }
    }
  }
  return false;
}

void LogStore::SealActive() {
  if (active_ == nullptr) return;
  Segment& seg = *active_;
  seg.sealed = true;
  std::sort(seg.subjects.begin(), seg.subjects.end());
  seg.subjects.erase(std::unique(seg.subjects.begin(), seg.subjects.end()), seg.subjects.end());
  seg.subjects.shrink_to_fit();
  seg.slots.shrink_to_fit();
  if (seg.live == 0) std::vector<Slot>().swap(seg.slots);
  active_ = nullptr;
}

Status LogStore::EnsureActive(uint64_t seq, int64_t ts, size_t bytes) {
  bool roll = active_ == nullptr || needs_roll_;
  if (!roll && io_->ActiveSize() + bytes > config_.segment_bytes && active_->count > 0) roll = true;
  if (!roll && seq != 0) {
    uint64_t next_slot = active_->base_seq + active_->count;
    if (seq < next_slot || seq - next_slot > kMaxPadding) roll = true;
    if ((ts - active_->base_ts) / 1'000'000 > kMaxSegmentSpanMs) roll = true;
  }
  if (!roll) return Status::Ok();
  SealActive();
  auto seg = std::make_unique<Segment>();
  seg->id = next_segment_id_;
  seg->base_seq = seq != 0 ? seq : next_seq_;
  seg->base_ts = std::max(ts, last_ts_);
  SegmentHeader h{seg->id, seg->base_seq, seg->base_ts};
  Status st = io_->CreateSegment(h);
  if (!st.ok()) return st;
  next_segment_id_++;
  needs_roll_ = false;
  active_ = seg.get();
  segments_.push_back(std::move(seg));
  write_gen_++;  // the new file and its directory entry need a sync
  while (segments_.size() > 1 && segments_.front()->live == 0) {
    io_->DropSegment(segments_.front()->id);
    segments_.pop_front();
  }
  return Status::Ok();
}

Status LogStore::WriteRecords(const std::string& bytes) {
  Status st = EnsureActive(0, clock_->NowNs(), bytes.size());
  if (!st.ok()) return st;
  bool unusable = false;
  uint64_t at = io_->ActiveSize();
  st = io_->AppendActive(bytes, &unusable);
  if (unusable) needs_roll_ = true;
  if (!st.ok()) return st;
  for (size_t pos = 0; pos + kRecordHeaderSize <= bytes.size(); pos += kRecordHeaderSize) {
    uint64_t seq = GetU64(bytes.data() + pos + 16);
    if (static_cast<RecordType>(bytes[pos + 12]) == RecordType::kTombstone) active_->tombstones.push_back(seq);
    else active_->floor = std::max(active_->floor, seq);
  }
  active_->last_record_offset = at + bytes.size() - kRecordHeaderSize;
  active_->last_record_crc = GetU32(bytes.data() + bytes.size() - kRecordHeaderSize + 4);
  active_->size = io_->ActiveSize();
  write_gen_++;
  ScheduleSyncLocked();
  return Status::Ok();
}

Status LogStore::WriteFloorIfDirty() {
  if (!floor_dirty_ || !io_->persistent()) {
    floor_dirty_ = false;
    return Status::Ok();
  }
  std::string rec;
  EncodeMarker(&rec, RecordType::kFloor, first_seq_, clock_->NowNs());
  Status st = WriteRecords(rec);
  if (st.ok()) floor_dirty_ = false;
  return st;
}

StatusOr<AppendResult> LogStore::Append(std::string_view subject, std::string_view headers,
                                        std::string_view payload, DurableCallback on_durable,
                                        const AppendOptions& options) {
  std::vector<Callback> inline_cbs;
  AppendResult result;
  bool write_failed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return Closed();
    if (!IsValidLiteralSubject(subject) || subject.size() > 0xFFFF) return InvalidArgument("invalid subject");
    if (limits_.max_msg_size > 0 && static_cast<int64_t>(headers.size() + payload.size()) > limits_.max_msg_size) {
      return Status(StatusCode::kMaxMessageSize, "message size exceeds maximum allowed");
    }
    size_t rec_len = MessageRecordSize(subject.size(), headers.size(), payload.size());
    if (rec_len > kMaxRecordSize) return Status(StatusCode::kMaxMessageSize, "message larger than the store allows");
    if (options.expected_last_seq && *options.expected_last_seq != next_seq_ - 1) {
      return Status(StatusCode::kWrongLastSequence, "wrong last sequence: " + std::to_string(next_seq_ - 1));
    }
    auto sid_it = subject_ids_.find(std::string(subject));
    uint64_t subject_count = sid_it == subject_ids_.end() ? 0 : subjects_[sid_it->second].count;
    if (options.expected_last_subject_seq) {
      std::string_view check = options.expected_subject.empty() ? subject : std::string_view(options.expected_subject);
      auto it = subject_ids_.find(std::string(check));
      uint64_t last = it == subject_ids_.end() ? 0 : ResolveLast(it->second);
      if (last != *options.expected_last_subject_seq) {
        return Status(StatusCode::kWrongLastSequence, "wrong last sequence: " + std::to_string(last));
      }
    }
    Slot probe{0, 0, 0, static_cast<uint32_t>(rec_len) | (headers.empty() ? 0u : kHasHeaders)};
    uint64_t size = StoredSize(probe);
    // Per-subject limit: the oldest messages of the subject make room (or,
    // with discard_new_per_subject, the append is refused).
    std::vector<uint64_t> drop;
    if (limits_.max_msgs_per_subject > 0 && subject_count >= static_cast<uint64_t>(limits_.max_msgs_per_subject)) {
      if (limits_.discard == DiscardPolicy::kNew && limits_.discard_new_per_subject) {
        return Status(StatusCode::kMaxPerSubject, "maximum messages per subject exceeded");
      }
      uint64_t excess = subject_count - limits_.max_msgs_per_subject + 1;
      ForEachMatch(subject, 0, [&](Segment&, size_t, uint64_t seq) {
        drop.push_back(seq);
        return drop.size() < excess;
      });
    }
    uint64_t drop_bytes = 0;
    for (uint64_t seq : drop) {
      Located loc;
      if (LocateLive(seq, &loc)) drop_bytes += StoredSize(loc.seg->slots[loc.idx]);
    }
    if (limits_.max_bytes > 0 && size > static_cast<uint64_t>(limits_.max_bytes)) {
      return Status(StatusCode::kMaxBytes, "maximum bytes exceeded");
    }
    if (limits_.discard == DiscardPolicy::kNew) {
      if (limits_.max_msgs > 0 && msgs_ - drop.size() + 1 > static_cast<uint64_t>(limits_.max_msgs)) {
        return Status(StatusCode::kMaxMessages, "maximum messages exceeded");
      }
      if (limits_.max_bytes > 0 && bytes_ - drop_bytes + size > static_cast<uint64_t>(limits_.max_bytes)) {
        return Status(StatusCode::kMaxBytes, "maximum bytes exceeded");
      }
    }
    int64_t ts = options.timestamp_ns != 0 ? options.timestamp_ns : clock_->NowNs();
    ts = std::max(ts, last_ts_);
    uint64_t seq = next_seq_;
    // Tombstones of the per-subject drops (file backend), then the message.
    const size_t markers = io_->persistent() ? drop.size() * kRecordHeaderSize : 0;
    const size_t total = markers + rec_len;
    Status st = EnsureActive(seq, ts, total);
    if (!st.ok()) return st;
    uint64_t offset = io_->ActiveSize() + markers;
    uint32_t crc = 0;
    auto encode = [&](std::string* out) {
      size_t at = out->size();
      if (markers > 0) {
        for (uint64_t d : drop) EncodeMarker(out, RecordType::kTombstone, d, ts);
      }
      EncodeMessage(out, seq, ts, subject, headers, payload);
      crc = GetU32(out->data() + at + markers + 4);
    };
    if (std::string* direct = io_->BeginAppend(total, &st)) {
      encode(direct);  // straight into the write buffer: no extra copy
      io_->EndAppend(total);
    } else {
      if (!st.ok()) {
        if (config_.log) config_.log("append failed: " + st.ToString());
        return st;
      }
      std::string& buf = append_scratch_;  // reused: no allocation per append
      buf.clear();
      if (buf.capacity() > (1u << 20)) std::string().swap(buf);  // a huge message's buffer is not kept
      encode(&buf);
      bool unusable = false;
      st = io_->AppendActive(buf, &unusable);
      if (unusable) needs_roll_ = true;
      if (!st.ok()) {
        if (config_.log) config_.log("append failed: " + st.ToString());
        return st;
      }
    }
    if (io_->persistent()) active_->tombstones.insert(active_->tombstones.end(), drop.begin(), drop.end());
    active_->last_record_offset = offset;
    active_->last_record_crc = crc;
    active_->size = io_->ActiveSize();
    // The bytes are written: update the index.
    for (uint64_t d : drop) {
      Located loc;
      if (LocateLive(d, &loc)) RemoveSlot(*loc.seg, loc.idx);
    }
    Segment& seg = *active_;
    while (seg.base_seq + seg.count < seq) {
      seg.slots.push_back(Slot{kDeadSlot, 0, 0, 0});
      seg.count++;
    }
    uint32_t sid = InternSubject(subject);
    SubjectInfo& info = subjects_[sid];
    if (info.count == 0) info.first = seq;
    info.count++;
    info.last = seq;
    if (info.last_segment != seg.id) {
      info.last_segment = seg.id;
      seg.subjects.push_back(sid);
    }
    seg.slots.push_back(Slot{static_cast<uint32_t>(offset), sid, static_cast<uint32_t>((ts - seg.base_ts) / 1'000'000),
                             probe.len_flags});
    seg.count++;
    seg.live++;
    msgs_++;
    bytes_ += size;
    if (first_seq_ == 0 || msgs_ == 1) first_seq_ = seq;
    next_seq_ = seq + 1;
    last_ts_ = ts;
    if (options.ttl_ns > 0) ttl_.Add(seq, ts + options.ttl_ns);
    else if (options.ttl_ns < 0) ttl_.AddNever(seq);
    write_gen_++;
    if (!drop.empty()) AfterRemovals();
    if (RemoveOldestForLimits() > 0) AfterRemovals();
    NoteWrite(seq, std::move(on_durable), &inline_cbs);
    result = AppendResult{seq, ts};
    // A buffered write that failed (the buffer filled, or the segment rolled)
    // fails every unacknowledged append, this one included.
    write_failed = HandleDeferredWriteErrorLocked(&inline_cbs);
  }
  for (Callback& c : inline_cbs) c.cb(c.seq, c.status);
  if (write_failed) {
    std::lock_guard<std::mutex> lock(mu_);
    PublishDoneLocked();
  }
  return result;
}

uint64_t LogStore::RemoveOldestForLimits() {
  uint64_t removed = 0;
  auto over = [&] {
    return (limits_.max_msgs > 0 && msgs_ > static_cast<uint64_t>(limits_.max_msgs)) ||
           (limits_.max_bytes > 0 && bytes_ > static_cast<uint64_t>(limits_.max_bytes));
  };
  while (msgs_ > 0 && over()) {
    Located loc;
    if (!FirstLive(&loc)) break;
    RemoveSlot(*loc.seg, loc.idx);
    first_seq_ = loc.seg->base_seq + loc.idx + 1;
    removed++;
  }
  if (removed > 0) floor_dirty_ = true;
  return removed;
}

StatusOr<uint64_t> LogStore::SkipSequence() {
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return Closed();
  uint64_t seq = next_seq_;
  if (io_->persistent()) {
    std::string rec;
    EncodeMarker(&rec, RecordType::kTombstone, seq, clock_->NowNs());
    Status st = WriteRecords(rec);
    if (!st.ok()) return st;
  }
  next_seq_ = seq + 1;
  if (msgs_ == 0) first_seq_ = next_seq_;
  return seq;
}

Status LogStore::FinishMutation(std::unique_lock<std::mutex>& lock, Status st) {
  AfterRemovals();
  bool wait = st.ok() && io_->persistent() && config_.sync_interval_ns == 0;
  lock.unlock();
  if (wait) return Sync();
  return st;
}

Status LogStore::Delete(uint64_t seq) {
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return Closed();
  Located loc;
  if (!LocateLive(seq, &loc)) return NotFound("no message with sequence " + std::to_string(seq));
  if (io_->persistent()) {
    std::string rec;
    EncodeMarker(&rec, RecordType::kTombstone, seq, clock_->NowNs());
    Status st = WriteRecords(rec);
    if (!st.ok()) return st;
    LocateLive(seq, &loc);  // the write may have rolled the segment; slots are unchanged
  }
  RemoveSlot(*loc.seg, loc.idx);
  return FinishMutation(lock, Status::Ok());
}

uint64_t LogStore::PurgeBelow(uint64_t floor, Status* st) {
  if (io_->persistent()) {
    std::string rec;
    EncodeMarker(&rec, RecordType::kFloor, floor, clock_->NowNs());
    *st = WriteRecords(rec);
    if (!st->ok()) return 0;
  }
  uint64_t purged = 0;
  if (floor >= next_seq_) {
    // Everything goes: reset the index wholesale.
    purged = msgs_;
    for (auto& seg : segments_) {
      for (size_t k = 0; k < seg->slots.size(); ++k) seg->slots[k].offset = kDeadSlot;
      seg->live = 0;
    }
    subject_ids_.clear();
    subjects_.clear();
    free_ids_.clear();
    subjects_version_++;
    ttl_.Clear();
    msgs_ = 0;
    bytes_ = 0;
    next_seq_ = floor;
    first_seq_ = floor;
    needs_roll_ = true;  // the next append starts a fresh segment; the old ones are then removed
    return purged;
  }
  for (auto& seg : segments_) {
    if (seg->base_seq >= floor) break;
    for (size_t k = 0; k < seg->slots.size() && seg->base_seq + k < floor; ++k) {
      if (seg->slots[k].offset == kDeadSlot) continue;
      RemoveSlot(*seg, k);
      purged++;
    }
  }
  first_seq_ = std::max(first_seq_, floor);
  return purged;
}

StatusOr<uint64_t> LogStore::Purge(const PurgeRequest& req) {
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return Closed();
  if (req.keep && req.up_to_seq > 0) return InvalidArgument("purge: seq and keep are exclusive");
  if (!req.filter.empty() && !IsValidSubject(req.filter)) return InvalidArgument("purge: invalid filter");
  bool all = req.filter.empty() || req.filter == ">";
  Status st;
  uint64_t purged = 0;
  if (all) {
    uint64_t floor = next_seq_;
    if (req.up_to_seq > 0) {
      floor = req.up_to_seq;
    } else if (req.keep && *req.keep > 0) {
      if (msgs_ <= *req.keep) return uint64_t{0};
      // The keep-th newest live message becomes the first.
      uint64_t kept = 0;
      for (size_t i = segments_.size(); i-- > 0 && kept < *req.keep;) {
        Segment& seg = *segments_[i];
        for (size_t k = seg.slots.size(); k-- > 0;) {
          if (seg.slots[k].offset == kDeadSlot) continue;
          if (++kept == *req.keep) {
            floor = seg.base_seq + k;
            break;
          }
        }
      }
    }
    purged = PurgeBelow(floor, &st);
  } else {
    std::vector<uint64_t> victims;
    ForEachMatch(req.filter, 0, [&](Segment&, size_t, uint64_t seq) {
      if (req.up_to_seq > 0 && seq >= req.up_to_seq) return false;
      victims.push_back(seq);
      return true;
    });
    if (req.keep) victims.resize(victims.size() > *req.keep ? victims.size() - *req.keep : 0);
    if (!victims.empty() && io_->persistent()) {
      std::string buf;
      int64_t now = clock_->NowNs();
      for (uint64_t seq : victims) EncodeMarker(&buf, RecordType::kTombstone, seq, now);
      st = WriteRecords(buf);
    }
    if (st.ok()) {
      for (uint64_t seq : victims) {
        Located loc;
        if (LocateLive(seq, &loc)) {
          RemoveSlot(*loc.seg, loc.idx);
          purged++;
        }
      }
    }
  }
  if (!st.ok()) return st;
  Status fin = FinishMutation(lock, Status::Ok());
  if (!fin.ok()) return fin;
  return purged;
}

// ExpireOld, Expire and NextExpiry: log_store_ttl.cc.

Status LogStore::UpdateLimits(const StreamLimits& limits) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return Closed();
    limits_ = limits;
    if (RemoveOldestForLimits() > 0) AfterRemovals();
    if (limits_.max_msgs_per_subject > 0) {
      std::vector<uint64_t> victims;
      for (uint32_t id = 0; id < subjects_.size(); ++id) {
        SubjectInfo& info = subjects_[id];
        if (info.name == nullptr || info.count <= static_cast<uint64_t>(limits_.max_msgs_per_subject)) continue;
        uint64_t excess = info.count - limits_.max_msgs_per_subject;
        std::string name = *info.name;
        ForEachMatch(name, 0, [&](Segment&, size_t, uint64_t seq) {
          victims.push_back(seq);
          return --excess > 0;
        });
      }
      if (!victims.empty()) {
        std::string buf;
        if (io_->persistent()) {
          for (uint64_t seq : victims) EncodeMarker(&buf, RecordType::kTombstone, seq, clock_->NowNs());
          Status st = WriteRecords(buf);
          if (!st.ok()) return st;
        }
        for (uint64_t seq : victims) {
          Located loc;
          if (LocateLive(seq, &loc)) RemoveSlot(*loc.seg, loc.idx);
        }
        AfterRemovals();
      }
    }
    ScheduleSyncLocked();
  }
  ExpireOld(clock_->NowNs());
  return Status::Ok();
}

}  // namespace sluice::store
