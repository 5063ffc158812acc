// The file backend's segments: one file per segment, appended to through the
// filesystem seam, fsynced by the sync round.
#include <algorithm>
#include <cstdio>
#include <utility>
#include <map>
#include <set>

#include "store/segment_io.h"

namespace sluice::store {

std::string SegmentFileName(uint32_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08u.log", id);
  return buf;
}
std::string CheckpointFileName(uint32_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08u.idx", id);
  return buf;
}
bool ParseSegmentFileName(std::string_view name, uint32_t* id) {
  if (name.size() != 12 || name.substr(8) != ".log") return false;
  uint32_t v = 0;
  for (char c : name.substr(0, 8)) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  *id = v;
  return true;
}

namespace {

class FileSegmentIo final : public SegmentIo {
 public:
  FileSegmentIo(FileSystem& fs, std::string dir, uint64_t write_buffer_bytes)
      : fs_(fs), dir_(std::move(dir)), buffer_limit_(write_buffer_bytes) {}

  bool persistent() const override { return true; }

  Status CreateSegment(const SegmentHeader& h) override {
    // The previous segment's buffered records go to its file first; a
    // failure is reported through TakeDeferredError (the new segment is
    // still created: nothing in it depends on the old one's tail).
    FlushBuffer();
    if (active_ && written_size_ < reserved_end_) {
      (void)active_->Truncate(written_size_);  // releases the reservation past its end
    }
    std::string path = Path(h.segment_id);
    StatusOr<std::unique_ptr<File>> f = fs_.Open(path, OpenMode::kCreateTruncate);
    if (!f.ok()) return f.status();
    std::shared_ptr<File> file(std::move(*f));
    Status st = WriteAll(*file, EncodeSegmentHeader(h));
    if (!st.ok()) {
      file.reset();
      (void)fs_.Remove(path);
      return st;
    }
    active_id_ = h.segment_id;
    active_ = file;
    active_size_ = written_size_ = reserved_end_ = kSegmentHeaderSize;
    files_[h.segment_id] = file;
    dirty_.insert(h.segment_id);
    dir_dirty_ = true;  // the new name must be durable before its records are acknowledged
    return Status::Ok();
  }

  // Used by recovery: continue appending to an existing segment.
  Status AdoptActive(uint32_t id, uint64_t size) {
    StatusOr<std::unique_ptr<File>> f = fs_.Open(Path(id), OpenMode::kReadWrite);
    if (!f.ok()) return f.status();
    active_ = std::shared_ptr<File>(std::move(*f));
    files_[id] = active_;
    active_id_ = id;
    active_size_ = written_size_ = reserved_end_ = size;
    return Status::Ok();
  }

  std::string* BeginAppend(size_t n, Status* st) override {
    *st = Status::Ok();
    if (buffer_limit_ == 0 || !active_) return nullptr;
    Status reserved = ReserveFor(n);
    if (reserved.ok()) return &buffer_;
    if (reserved.code() == StatusCode::kNoSpace) {
      *st = reserved;
      return nullptr;
    }
    buffer_limit_ = 0;  // no reservations: unbuffered from now on (see AppendActive)
    FlushBuffer();
    return nullptr;
  }

  void EndAppend(size_t n) override {
    active_size_ += n;
    dirty_.insert(active_id_);
    if (buffer_.size() >= buffer_limit_) FlushBuffer();
  }

  Status AppendActive(std::string_view bytes, bool* unusable) override {
    if (!active_) return IoError("no active segment");
    if (buffer_limit_ > 0) {
      Status st = ReserveFor(bytes.size());
      if (st.ok()) {
        buffer_.append(bytes);
        active_size_ += bytes.size();
        dirty_.insert(active_id_);
        if (buffer_.size() >= buffer_limit_) FlushBuffer();
        return Status::Ok();
      }
      if (st.code() == StatusCode::kNoSpace) return st;
      // The filesystem cannot reserve space: without it a buffered write
      // could fail for lack of space after its append returned, so write
      // each append at once from now on.
      buffer_limit_ = 0;
      FlushBuffer();
    }
    Status st = WriteAll(*active_, bytes);
    if (!st.ok()) {
      // Cut back whatever part of the write landed, so the segment ends on a
      // whole record. If even that fails, the store starts a new segment.
      if (!active_->Truncate(written_size_).ok()) *unusable = true;
      return st;
    }
    written_size_ += bytes.size();
    active_size_ = written_size_;
    dirty_.insert(active_id_);
    return Status::Ok();
  }

  uint64_t ActiveSize() const override { return active_size_; }

  Status ReadAt(uint32_t segment, uint64_t offset, size_t len, std::string* out) override {
    if (segment == active_id_ && active_ && offset + len > written_size_) {
      // Part or all of it is still in the write buffer.
      if (offset + len > active_size_) return Corruption("read past the end of the active segment");
      out->resize(len);
      size_t from_file = offset < written_size_ ? static_cast<size_t>(written_size_ - offset) : 0;
      if (from_file > 0) {
        Status st = ReadExact(*active_, offset, from_file, out->data());
        if (!st.ok()) return st;
      }
      buffer_.copy(out->data() + from_file, len - from_file, offset + from_file - written_size_);
      return Status::Ok();
    }
    auto it = files_.find(segment);
    if (it == files_.end()) {
      StatusOr<std::unique_ptr<File>> f = fs_.Open(Path(segment), OpenMode::kRead);
      if (!f.ok()) return f.status();
      it = files_.emplace(segment, std::shared_ptr<File>(std::move(*f))).first;
    }
    out->resize(len);
    return ReadExact(*it->second, offset, len, out->data());
  }

  void DropSegment(uint32_t segment) override {
    files_.erase(segment);
    dirty_.erase(segment);
    (void)fs_.Remove(Path(segment));
    (void)fs_.Remove(dir_ + "/" + CheckpointFileName(segment));
    dir_dirty_ = true;
    if (segment == active_id_) {
      active_.reset();
      buffer_.clear();
      active_size_ = written_size_ = reserved_end_ = 0;
    }
  }

  void PlanSync(SyncPlan* plan) override {
    FlushBuffer();
    for (uint32_t id : dirty_) {
      auto it = files_.find(id);
      if (it != files_.end()) plan->files.push_back(it->second);
    }
    plan_ids_.assign(dirty_.begin(), dirty_.end());
    dirty_.clear();
    plan->dir = dir_dirty_;
    dir_dirty_ = false;
    plan->parent_dir = parent_dirty_;
    parent_dirty_ = false;
  }

  void MarkDirectoryNew() override { parent_dirty_ = true; }

  DeferredWriteError TakeDeferredError() override { return std::exchange(deferred_, DeferredWriteError{}); }

  Status ExecuteSync(const SyncPlan& plan) override {
    // Older segments first, then the directory: a record is durable only
    // once its file's name is.
    for (const auto& f : plan.files) {
      Status st = f->Sync();
      if (!st.ok()) return st;
    }
    if (plan.dir) {
      Status st = fs_.SyncDir(dir_);
      if (!st.ok()) return st;
    }
    if (plan.parent_dir) {
      size_t slash = dir_.find_last_of('/');
      std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : dir_.substr(0, slash));
      return fs_.SyncDir(parent);
    }
    return Status::Ok();
  }

  void RestoreSync(const SyncPlan& plan) override {
    for (uint32_t id : plan_ids_) dirty_.insert(id);
    if (plan.dir) dir_dirty_ = true;
    if (plan.parent_dir) parent_dirty_ = true;
  }

  Status WriteCheckpoint(uint32_t segment, const std::string& bytes) override {
    std::string final_path = dir_ + "/" + CheckpointFileName(segment);
    std::string tmp = final_path + ".tmp";
    StatusOr<std::unique_ptr<File>> f = fs_.Open(tmp, OpenMode::kCreateTruncate);
    if (!f.ok()) return f.status();
    Status st = WriteAll(**f, bytes);
    if (st.ok()) st = (*f)->Sync();
    f->reset();
    if (st.ok()) st = fs_.Rename(tmp, final_path);
    if (!st.ok()) (void)fs_.Remove(tmp);
    // The rename need not be durable at once: a checkpoint that a power loss
    // takes back is an older or a missing one, and recovery handles both.
    return st;
  }

 private:
  std::string Path(uint32_t id) const { return dir_ + "/" + SegmentFileName(id); }

  // Reserves file space up to the end of the buffered bytes plus n, a
  // buffer's worth at a time (just what is needed when the disk is nearly full).
  Status ReserveFor(size_t n) {
    uint64_t need = active_size_ + n;
    if (need <= reserved_end_) return Status::Ok();
    uint64_t chunk = std::max<uint64_t>(need - reserved_end_, std::max<uint64_t>(buffer_limit_, 64 * 1024));
    Status st = active_->Reserve(reserved_end_, chunk);
    if (st.code() == StatusCode::kNoSpace && chunk > need - reserved_end_) {
      chunk = need - reserved_end_;
      st = active_->Reserve(reserved_end_, chunk);
    }
    if (st.ok()) reserved_end_ += chunk;
    return st;
  }

  // Writes the buffer to the active segment (one write, retried if short).
  // On failure the file is cut back to its last whole record, the buffered
  // records are dropped and the error is kept for TakeDeferredError.
  void FlushBuffer() {
    if (buffer_.empty()) return;
    Status st = WriteAll(*active_, buffer_);
    if (st.ok()) {
      written_size_ += buffer_.size();
    } else {
      (void)active_->Truncate(written_size_);
      reserved_end_ = written_size_;
      active_size_ = written_size_;
      if (deferred_.status.ok()) deferred_ = DeferredWriteError{st, active_id_, written_size_};
    }
    // Memory: a busy store keeps its buffer's capacity from round to round;
    // one whose rounds got much smaller (or that fell back to unbuffered
    // writes) gives it back, so idle streams hold no big buffers.
    size_t flushed = buffer_.size();
    buffer_.clear();
    if (buffer_.capacity() > std::max<size_t>(4 * flushed, 256 * 1024) || buffer_limit_ == 0) {
      std::string().swap(buffer_);
    }
  }

  FileSystem& fs_;
  std::string dir_;
  uint32_t active_id_ = 0;
  std::shared_ptr<File> active_;
  uint64_t active_size_ = 0;   // of the active segment, buffered bytes included
  uint64_t written_size_ = 0;  // what its file holds (active_size_ minus the buffer)
  uint64_t reserved_end_ = 0;  // file space is reserved up to here
  uint64_t buffer_limit_;      // 0: no buffering (each append written at once)
  std::string buffer_;         // appended records not yet written, from written_size_ on
  DeferredWriteError deferred_;
  std::map<uint32_t, std::shared_ptr<File>> files_;  // open handles, opened on first read
  std::set<uint32_t> dirty_;                         // written since the last planned sync
  std::vector<uint32_t> plan_ids_;
  bool dir_dirty_ = false;
  bool parent_dirty_ = false;
};

class MemorySegmentIo final : public SegmentIo {
 public:
  bool persistent() const override { return false; }
  Status CreateSegment(const SegmentHeader& h) override {
    active_id_ = h.segment_id;
    active_ = &segments_[h.segment_id];
    active_->clear();
    return Status::Ok();
  }
  Status AppendActive(std::string_view bytes, bool*) override {
    active_->append(bytes);
    return Status::Ok();
  }
  uint64_t ActiveSize() const override { return active_ ? active_->size() : 0; }
  Status ReadAt(uint32_t segment, uint64_t offset, size_t len, std::string* out) override {
    auto it = segments_.find(segment);
    if (it == segments_.end() || offset + len > it->second.size()) return NotFound("no such record");
    out->assign(it->second, offset, len);
    return Status::Ok();
  }
  void DropSegment(uint32_t segment) override {
    if (segment == active_id_) active_ = nullptr;
    segments_.erase(segment);
  }
  void PlanSync(SyncPlan*) override {}
  Status ExecuteSync(const SyncPlan&) override { return Status::Ok(); }
  void RestoreSync(const SyncPlan&) override {}
  Status WriteCheckpoint(uint32_t, const std::string&) override { return Status::Ok(); }

 private:
  std::map<uint32_t, std::string> segments_;
  uint32_t active_id_ = 0;
  std::string* active_ = nullptr;
};

}  // namespace

std::unique_ptr<SegmentIo> NewMemorySegmentIo() { return std::make_unique<MemorySegmentIo>(); }
std::unique_ptr<SegmentIo> NewFileSegmentIo(FileSystem& fs, std::string dir, uint64_t write_buffer_bytes) {
  return std::make_unique<FileSegmentIo>(fs, std::move(dir), write_buffer_bytes);
}
Status AdoptActiveSegment(SegmentIo& io, uint32_t id, uint64_t size) {
  return static_cast<FileSegmentIo&>(io).AdoptActive(id, size);
}

}  // namespace sluice::store
