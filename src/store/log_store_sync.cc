// LogStore: group commit (sync rounds, durable callbacks), checkpoints,
// close, recovery, and the two factories.
#include <algorithm>

#include "store/log_store.h"

namespace sluice::store {

void LogStore::ScheduleSyncLocked(bool now) {
  if ((sync_scheduled_ && !now) || closed_ || config_.manual_sync || !io_->persistent()) return;
  if (committer_ == nullptr) {
    own_committer_ = std::make_unique<GroupCommitter>(1);
    committer_ = own_committer_.get();
  }
  sync_scheduled_ = true;
  // now: someone waits for this round (Sync, WaitDurable) or a failure
  // report must go out: never deferred to a leader thread.
  committer_->Schedule(this, now ? 0 : config_.sync_interval_ns, /*may_defer=*/!now);
}

void LogStore::NoteWrite(uint64_t seq, DurableCallback cb, std::vector<Callback>* inline_cbs) {
  ScheduleSyncLocked();
  if (!cb) return;
  if (!io_->persistent() || config_.sync_interval_ns > 0) {
    inline_cbs->push_back(Callback{std::move(cb), seq, Status::Ok()});
    return;
  }
  pending_.push_back(PendingAck{write_gen_, seq, std::move(cb)});
}

std::string LogStore::BuildCheckpoint(const Segment& seg, uint64_t covered_len) {
  SegmentIndex x;
  x.segment_id = seg.id;
  x.base_seq = seg.base_seq;
  x.base_ts = seg.base_ts;
  x.covered_len = covered_len;
  x.last_record_offset = seg.last_record_offset;
  x.last_record_crc = seg.last_record_crc;
  x.tombstones = seg.tombstones;
  x.floor = seg.floor;
  x.max_seq = seg.count ? seg.base_seq + seg.count - 1 : 0;
  for (uint64_t t : seg.tombstones) x.max_seq = std::max(x.max_seq, t);
  x.slots.reserve(seg.count);
  std::unordered_map<uint32_t, uint32_t> local;
  for (uint32_t k = 0; k < seg.count; ++k) {
    Slot s = seg.slots.empty() ? Slot{kDeadSlot, 0, 0, 0} : seg.slots[k];
    if (s.offset != kDeadSlot) {
      auto [it, added] = local.emplace(s.subject, static_cast<uint32_t>(x.subjects.size()));
      if (added) x.subjects.push_back(*subjects_[s.subject].name);
      s.subject = it->second;
    } else {
      s = Slot{kDeadSlot, 0, 0, 0};
    }
    x.slots.push_back(s);
  }
  return EncodeCheckpoint(x);
}

void LogStore::RunSyncRound() { (void)SyncPending(); }

namespace {
// A leader round covers at most this many record writes (a synchronous
// publisher's one): more means a
// pipelining publisher, whose loop should keep reading while the committer
// fsyncs.
constexpr uint64_t kLeaderMaxWrites = 1;
}  // namespace

bool LogStore::RunLeaderRound() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!closed_ && write_gen_ - std::max(durable_gen_, failed_gen_) > kLeaderMaxWrites) return false;
  }
  (void)SyncPending();
  return true;
}

size_t LogStore::SyncPending() {
  std::lock_guard<std::mutex> sync_lock(sync_mu_);
  SyncPlan plan;
  uint64_t target_gen, target_seq;
  struct Pending {
    uint32_t id;
    uint64_t covered;
    std::string bytes;
  };
  std::vector<Pending> checkpoints;
  DeferredWriteError deferred;
  bool nothing_to_do = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sync_scheduled_ = false;
    (void)WriteFloorIfDirty();
    sync_scheduled_ = false;
    target_gen = write_gen_;
    target_seq = next_seq_ - 1;
    io_->PlanSync(&plan);
    deferred = io_->TakeDeferredError();
    if (io_->persistent()) {
      for (auto& seg : segments_) {
        if (seg->sealed && !seg->checkpointed && !seg->write_failed) {
          checkpoints.push_back(Pending{seg->id, seg->size, BuildCheckpoint(*seg, seg->size)});
        }
      }
      if (active_ != nullptr && !active_->write_failed &&
          active_->size >= active_->checkpointed_size + config_.checkpoint_bytes) {
        checkpoints.push_back(Pending{active_->id, active_->size, BuildCheckpoint(*active_, active_->size)});
      }
    }
    if (deferred.status.ok() && target_gen == durable_gen_ && plan.files.empty() && !plan.dir && !plan.parent_dir &&
        checkpoints.empty()) {
      done_gen_ = durable_gen_;
      done_seq_ = durable_seq_ = std::max(durable_seq_, target_seq);
      durable_cv_.notify_all();
      nothing_to_do = true;
    }
  }
  if (nothing_to_do) {
    ReportWatermark();
    return 0;
  }
  // A buffered write that failed lost records this round was to cover: the
  // round fails as a failed fsync would.
  Status st = deferred.status.ok() ? io_->ExecuteSync(plan) : deferred.status;
  std::vector<std::pair<uint32_t, uint64_t>> written;
  if (st.ok()) {
    for (Pending& c : checkpoints) {
      Status ck = io_->WriteCheckpoint(c.id, c.bytes);
      if (ck.ok()) {
        written.emplace_back(c.id, c.covered);
      } else if (config_.log) {
        config_.log("checkpoint of segment " + std::to_string(c.id) + " failed: " + ck.ToString());
      }
    }
  }
  std::vector<Callback> cbs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (st.ok()) {
      // A buffered write that failed while this round ran withdrew what it
      // was to cover (failed_seq_ >= target_seq): nothing to report then.
      if (target_seq > durable_seq_ && target_seq > failed_seq_) watermark_events_.emplace_back(target_seq, Status::Ok());
      durable_gen_ = std::max(durable_gen_, target_gen);
      durable_seq_ = std::max(durable_seq_, target_seq);
      while (!pending_.empty() && pending_.front().gen <= target_gen) {
        cbs.push_back(Callback{std::move(pending_.front().cb), pending_.front().seq, Status::Ok()});
        pending_.pop_front();
      }
      for (auto [id, covered] : written) {
        for (auto& seg : segments_) {
          if (seg->id != id) continue;
          seg->checkpointed_size = covered;
          if (seg->sealed && covered == seg->size) seg->checkpointed = true;
        }
      }
    } else {
      if (!deferred.status.ok()) MarkWriteFailedLocked(deferred);
      if (config_.sync_interval_ns == 0) {
        FailUndurableLocked(st, &cbs);
      } else {
        last_sync_error_ = st;
        if (config_.log) config_.log("fsync failed: " + st.ToString());
        io_->RestoreSync(plan);
        failed_gen_ = write_gen_;
        failed_seq_ = next_seq_ - 1;
        needs_roll_ = true;
      }
    }
    if (write_gen_ > durable_gen_ && write_gen_ > failed_gen_) ScheduleSyncLocked();
  }
  for (Callback& c : cbs) c.cb(c.seq, c.status);
  ReportWatermark();
  {
    std::lock_guard<std::mutex> lock(mu_);
    PublishDoneLocked();
  }
  return cbs.size();
}

void LogStore::ReportWatermark() {
  if (!config_.on_durable_seq) return;
  std::vector<std::pair<uint64_t, Status>> events;
  {
    std::lock_guard<std::mutex> lock(mu_);
    events.swap(watermark_events_);
  }
  for (auto& [seq, st] : events) config_.on_durable_seq(seq, st);
}

void LogStore::PublishDoneLocked() {
  done_gen_ = durable_gen_;
  done_seq_ = durable_seq_;
  done_failed_gen_ = failed_gen_;
  done_failed_seq_ = failed_seq_;
  durable_cv_.notify_all();
}

void LogStore::FailUndurableLocked(const Status& st, std::vector<Callback>* cbs) {
  last_sync_error_ = st;
  if (config_.log) config_.log("fsync or write failed: " + st.ToString());
  // Nothing written since the last good fsync can be trusted: fail those
  // appends (no acknowledgement), withdraw their messages, and continue in a
  // new segment.
  for (PendingAck& p : pending_) cbs->push_back(Callback{std::move(p.cb), p.seq, st});
  pending_.clear();
  WithdrawUndurable();
  failed_gen_ = write_gen_;
  failed_seq_ = next_seq_ - 1;
  needs_roll_ = true;
  if (failed_seq_ > durable_seq_) {
    watermark_events_.emplace_back(failed_seq_, st);
    ScheduleSyncLocked(/*now=*/true);  // a round delivers the report (a failed write outside a round)
  }
}

void LogStore::MarkWriteFailedLocked(const DeferredWriteError& e) {
  for (auto& seg : segments_) {
    if (seg->id != e.segment) continue;
    seg->size = e.file_size;  // its index must not describe bytes the file lacks
    seg->write_failed = true;
  }
}

bool LogStore::HandleDeferredWriteErrorLocked(std::vector<Callback>* cbs) {
  DeferredWriteError e = io_->TakeDeferredError();
  if (e.status.ok()) return false;
  MarkWriteFailedLocked(e);
  FailUndurableLocked(e.status, cbs);
  return true;
}

void LogStore::WithdrawUndurable() {
  if (next_seq_ - 1 > durable_seq_) {
    withdrawn_.emplace_back(durable_seq_ + 1, next_seq_ - 1);
    if (withdrawn_.size() > 64) withdrawn_.erase(withdrawn_.begin());
  }
  for (auto& seg : segments_) {
    if (seg->base_seq + seg->count <= durable_seq_ + 1 || seg->slots.empty()) continue;
    for (size_t k = 0; k < seg->count; ++k) {
      if (seg->base_seq + k > durable_seq_ && seg->slots[k].offset != kDeadSlot) RemoveSlot(*seg, k);
    }
  }
  AfterRemovals();
}

Status LogStore::WaitDurable(uint64_t seq) {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (!io_->persistent() || config_.sync_interval_ns > 0) return Status::Ok();
      if (!config_.manual_sync) {
        // A round deferred to a leader might be this very thread's.
        if (done_seq_ < seq && done_failed_seq_ < seq && !closed_) ScheduleSyncLocked(/*now=*/true);
        durable_cv_.wait(lock, [&] { return done_seq_ >= seq || done_failed_seq_ >= seq || closed_; });
      }
      for (auto [from, to] : withdrawn_) {
        if (seq >= from && seq <= to && done_failed_seq_ >= seq) return last_sync_error_;
      }
      if (done_seq_ >= seq) return Status::Ok();
      if (done_failed_seq_ >= seq) return last_sync_error_;
      if (closed_) return Closed();
    }
    SyncPending();
  }
}

Status LogStore::Sync() {
  uint64_t gen;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!io_->persistent()) return Status::Ok();
    if (closed_) return Closed();
    (void)WriteFloorIfDirty();
    gen = write_gen_;
  }
  while (true) {
    bool manual;
    {
      std::unique_lock<std::mutex> lock(mu_);
      manual = config_.manual_sync || committer_ == nullptr;
      if (!manual) {
        ScheduleSyncLocked(/*now=*/true);
        durable_cv_.wait(lock, [&] { return done_gen_ >= gen || done_failed_gen_ >= gen; });
      }
      if (done_gen_ >= gen) return Status::Ok();
      if (done_failed_gen_ >= gen) return last_sync_error_;
    }
    SyncPending();
  }
}

Status LogStore::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return Status::Ok();
  }
  Status st = Sync();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (io_->persistent() && active_ != nullptr && active_->checkpointed_size < active_->size) {
      active_->checkpointed_size = 0;  // force a checkpoint of the active segment
      config_.checkpoint_bytes = 0;
    }
  }
  SyncPending();
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    durable_cv_.notify_all();
  }
  if (committer_ != nullptr) committer_->Cancel(this);
  own_committer_.reset();
  return st;
}

Status LogStore::Recover(FileSystem& fs, const std::string& dir) {
  auto fail = [&](Status st) {
    closed_ = true;
    return st;
  };
  bool existed = fs.Exists(dir);
  Status st = fs.MakeDirs(dir);
  if (!st.ok()) return fail(st);
  if (!existed) io_->MarkDirectoryNew();
  bool changed = false;  // files removed or cut: the directory needs an fsync
  std::vector<std::string> names;
  st = fs.List(dir, &names);
  if (!st.ok()) return fail(st);
  std::vector<uint32_t> ids;
  for (const std::string& n : names) {
    uint32_t id;
    if (ParseSegmentFileName(n, &id)) ids.push_back(id);
    else if (n.size() > 4 && n.compare(n.size() - 4, 4, ".tmp") == 0) (void)fs.Remove(dir + "/" + n);
  }
  std::sort(ids.begin(), ids.end());
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t max_seq = 0, floor = 0;
  std::vector<SegmentIndex> xs;
  std::vector<RecoveryReport> reports;
  for (uint32_t id : ids) {
    SegmentIndex x;
    RecoveryReport rep;
    st = RecoverSegment(fs, dir, id, &x, &rep, config_.log);
    if (!st.ok()) return fail(st);
    next_segment_id_ = id + 1;
    changed |= rep.cut_bytes > 0;
    if (!rep.header_ok && x.last_record_offset == UINT64_MAX) {
      // Created but never written (or its header torn): nothing to keep.
      if (config_.log) config_.log("segment " + std::to_string(id) + ": empty or headerless; removed");
      (void)fs.Remove(dir + "/" + SegmentFileName(id));
      (void)fs.Remove(dir + "/" + CheckpointFileName(id));
      changed = true;
      continue;
    }
    xs.push_back(std::move(x));
    reports.push_back(rep);
  }
  for (size_t i = 0; i < xs.size(); ++i) {
    SegmentIndex& x = xs[i];
    max_seq = std::max({max_seq, x.max_seq, x.base_seq ? x.base_seq - 1 : 0});
    floor = std::max(floor, x.floor);
    lost_msgs_ += x.lost_msgs;
    lost_bytes_ += x.lost_bytes;
    for (uint64_t s : x.lost_seqs) {
      if (lost_seqs_.size() < 1000) lost_seqs_.push_back(s);
    }
    if (i + 1 < xs.size() && reports[i].cut_bytes > 0 && xs[i + 1].base_seq > x.base_seq + x.slots.size()) {
      uint64_t gap = xs[i + 1].base_seq - (x.base_seq + x.slots.size());
      lost_msgs_ += gap;
      if (config_.log) config_.log("segment " + std::to_string(x.segment_id) + ": " + std::to_string(gap) +
                                   " messages lost in its torn tail");
    }
    auto seg = std::make_unique<Segment>();
    seg->id = x.segment_id;
    seg->base_seq = x.base_seq;
    seg->base_ts = x.base_ts;
    seg->count = static_cast<uint32_t>(x.slots.size());
    seg->size = x.covered_len;
    seg->last_record_offset = x.last_record_offset;
    seg->last_record_crc = x.last_record_crc;
    seg->tombstones = std::move(x.tombstones);
    seg->floor = x.floor;
    seg->checkpointed_size = reports[i].checkpoint_len;
    std::vector<uint32_t> ids_of(x.subjects.size(), UINT32_MAX);
    seg->slots = std::move(x.slots);
    for (size_t k = 0; k < seg->slots.size(); ++k) {
      Slot& s = seg->slots[k];
      if (s.offset == kDeadSlot) continue;
      uint64_t seq = seg->base_seq + k;
      if (ids_of[s.subject] == UINT32_MAX) ids_of[s.subject] = InternSubject(x.subjects[s.subject]);
      s.subject = ids_of[s.subject];
      SubjectInfo& info = subjects_[s.subject];
      if (info.count++ == 0) info.first = seq;
      info.last = seq;
      if (info.last_segment != seg->id) {
        info.last_segment = seg->id;
        seg->subjects.push_back(s.subject);
      }
      seg->live++;
      msgs_++;
      bytes_ += StoredSize(s);
    }
    if (seg->count > 0) max_seq = std::max(max_seq, seg->base_seq + seg->count - 1);
    segments_.push_back(std::move(seg));
  }
  next_seq_ = std::max(max_seq, floor ? floor - 1 : 0) + 1;
  first_seq_ = segments_.empty() && floor == 0 ? 0 : 1;
  // Seal all but the last segment; continue appending to the last.
  for (auto& seg : segments_) {
    active_ = seg.get();
    SealActive();
  }
  if (!segments_.empty() && reports.back().header_ok) {
    Segment& last = *segments_.back();
    last.sealed = false;
    last.slots.reserve(last.count);
    if (last.live == 0) last.slots.assign(last.count, Slot{kDeadSlot, 0, 0, 0});
    for (uint32_t id : last.subjects) subjects_[id].last_segment = last.id;
    st = AdoptActiveSegment(*io_, last.id, last.size);
    if (!st.ok()) return fail(st);
    active_ = &last;
  }
  for (auto& seg : segments_) seg->checkpointed = seg->sealed && seg->checkpointed_size == seg->size;
  // Apply removals recorded as floors and tombstones.
  if (floor > 0) {
    for (auto& seg : segments_) {
      for (size_t k = 0; k < seg->slots.size() && seg->base_seq + k < floor; ++k) {
        if (seg->slots[k].offset != kDeadSlot) RemoveSlot(*seg, k);
      }
    }
  }
  for (auto& seg : segments_) {
    for (uint64_t t : seg->tombstones) {
      Located loc;
      if (LocateLive(t, &loc)) RemoveSlot(*loc.seg, loc.idx);
    }
  }
  // Timestamps: the last message's, for the monotonic clamp and the state.
  for (size_t i = segments_.size(); i-- > 0 && last_ts_ == 0;) {
    Segment& seg = *segments_[i];
    last_ts_ = seg.base_ts;
    for (size_t k = seg.slots.size(); k-- > 0;) {
      if (seg.slots[k].offset != kDeadSlot) {
        last_ts_ = ExactTs(seg, k);
        break;
      }
    }
  }
  first_seq_ = std::max(first_seq_, floor);
  AfterRemovals();
  if (msgs_ == 0 && segments_.empty() && floor == 0) first_seq_ = 0;
  if (RemoveOldestForLimits() > 0) AfterRemovals();
  if (changed) (void)fs.SyncDir(dir);
  // Indexes rebuilt by scanning are checkpointed now, so the next start is fast.
  for (auto& seg : segments_) {
    if (seg->sealed && !seg->checkpointed) {
      if (io_->WriteCheckpoint(seg->id, BuildCheckpoint(*seg, seg->size)).ok()) seg->checkpointed = true;
    }
  }
  return Status::Ok();
}

StatusOr<std::unique_ptr<MessageStore>> OpenFileStore(const std::string& dir, const StoreConfig& config,
                                                      FileSystem& fs) {
  // Buffered writes only with sync "always": with sync_interval an append is
  // reported durable at once and must reach the kernel at once.
  uint64_t buffer = config.sync_interval_ns == 0 ? config.write_buffer_bytes : 0;
  auto store = std::make_unique<LogStore>(config, NewFileSegmentIo(fs, dir, buffer));
  Status st = store->Recover(fs, dir);
  if (!st.ok()) return st;
  if (config.message_ttl) store->RebuildTtlIndex();
  return std::unique_ptr<MessageStore>(std::move(store));
}

std::unique_ptr<MessageStore> NewMemoryStore(const StoreConfig& config) {
  return std::make_unique<LogStore>(config, NewMemorySegmentIo());
}

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kIoError: return "io_error";
    case StatusCode::kNoSpace: return "no_space";
    case StatusCode::kMaxMessages: return "max_messages";
    case StatusCode::kMaxBytes: return "max_bytes";
    case StatusCode::kMaxPerSubject: return "max_per_subject";
    case StatusCode::kMaxMessageSize: return "max_message_size";
    case StatusCode::kWrongLastSequence: return "wrong_last_sequence";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kClosed: return "closed";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

}  // namespace sluice::store
