// The file backend's segments: one file per segment, appended to through the
// filesystem seam, fsynced by the sync round.
#include <cstdio>
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
  FileSegmentIo(FileSystem& fs, std::string dir) : fs_(fs), dir_(std::move(dir)) {}

  bool persistent() const override { return true; }

  Status CreateSegment(const SegmentHeader& h) override {
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
    active_size_ = kSegmentHeaderSize;
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
    active_size_ = size;
    return Status::Ok();
  }

  Status AppendActive(std::string_view bytes, bool* unusable) override {
    if (!active_) return IoError("no active segment");
    Status st = WriteAll(*active_, bytes);
    if (!st.ok()) {
      // Cut back whatever part of the write landed, so the segment ends on a
      // whole record. If even that fails, the store starts a new segment.
      if (!active_->Truncate(active_size_).ok()) *unusable = true;
      return st;
    }
    active_size_ += bytes.size();
    dirty_.insert(active_id_);
    return Status::Ok();
  }

  uint64_t ActiveSize() const override { return active_size_; }

  Status ReadAt(uint32_t segment, uint64_t offset, size_t len, std::string* out) override {
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
    if (segment == active_id_) active_.reset();
  }

  void PlanSync(SyncPlan* plan) override {
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

  FileSystem& fs_;
  std::string dir_;
  uint32_t active_id_ = 0;
  std::shared_ptr<File> active_;
  uint64_t active_size_ = 0;
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
std::unique_ptr<SegmentIo> NewFileSegmentIo(FileSystem& fs, std::string dir) {
  return std::make_unique<FileSegmentIo>(fs, std::move(dir));
}
Status AdoptActiveSegment(SegmentIo& io, uint32_t id, uint64_t size) {
  return static_cast<FileSegmentIo&>(io).AdoptActive(id, size);
}

}  // namespace sluice::store
