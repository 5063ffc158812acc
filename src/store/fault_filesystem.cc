// The fault-injecting in-memory filesystem (see fault_filesystem.h).
#include "store/fault_filesystem.h"

#include <algorithm>

namespace sluice::store {

class FaultFile final : public File {
 public:
  FaultFile(FaultFileSystem* fs, std::shared_ptr<FaultFileSystem::Inode> inode, std::string path, bool writable)
      : fs_(fs), inode_(std::move(inode)), path_(std::move(path)), writable_(writable) {}

  StatusOr<size_t> Write(std::string_view data) override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    if (!writable_) return IoError("write on a read-only file " + path_);
    if (fs_->fail_writes_ > 0) {
      fs_->fail_writes_--;
      return IoError("write " + path_ + ": Input/output error (injected)");
    }
    size_t n = data.size();
    if (fs_->short_writes_ && n > 1) n = (n + 1) / 2;
    uint64_t used = fs_->UsedBytesLocked();
    if (fs_->space_limit_ != UINT64_MAX) {
      uint64_t room = used >= fs_->space_limit_ ? 0 : fs_->space_limit_ - used;
      if (inode_->reserved > inode_->data.size()) room += inode_->reserved - inode_->data.size();
      if (room == 0) return Status(StatusCode::kNoSpace, "write " + path_ + ": No space left on device");
      n = std::min<uint64_t>(n, room);
    }
    inode_->data.append(data.data(), n);
    return n;
  }
  StatusOr<size_t> Read(uint64_t offset, size_t n, char* out) override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    if (offset >= inode_->data.size()) return size_t{0};
    size_t got = std::min<uint64_t>(n, inode_->data.size() - offset);
    std::copy_n(inode_->data.data() + offset, got, out);
    return got;
  }
  Status Sync() override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    fs_->syncs_++;
    if (fs_->fail_syncs_ > 0) {
      fs_->fail_syncs_--;
      return IoError("fdatasync " + path_ + ": Input/output error (injected)");
    }
    inode_->durable = inode_->data;
    return Status::Ok();
  }
  Status Truncate(uint64_t size) override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    inode_->data.resize(size);
    inode_->reserved = std::min<uint64_t>(inode_->reserved, size);  // like ftruncate: frees space past the end
    return Status::Ok();
  }
  Status Reserve(uint64_t offset, uint64_t len) override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    if (!writable_) return IoError("fallocate on a read-only file " + path_);
    uint64_t now = std::max<uint64_t>(inode_->data.size(), inode_->reserved);
    uint64_t want = std::max(now, offset + len);
    if (fs_->space_limit_ != UINT64_MAX && fs_->UsedBytesLocked() + (want - now) > fs_->space_limit_) {
      return Status(StatusCode::kNoSpace, "fallocate " + path_ + ": No space left on device");
    }
    inode_->reserved = want;
    return Status::Ok();
  }
  StatusOr<uint64_t> Size() override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    return static_cast<uint64_t>(inode_->data.size());
  }

 private:
  FaultFileSystem* fs_;
  std::shared_ptr<FaultFileSystem::Inode> inode_;
  std::string path_;
  bool writable_;
};

std::string FaultFileSystem::Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

uint64_t FaultFileSystem::UsedBytesLocked() const {
  uint64_t used = 0;
  for (const auto& [name, inode] : entries_) used += std::max<uint64_t>(inode->data.size(), inode->reserved);
  return used;
}

StatusOr<std::unique_ptr<File>> FaultFileSystem::Open(const std::string& path, OpenMode mode) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(path);
  if (it == entries_.end()) {
    if (mode == OpenMode::kRead || mode == OpenMode::kReadWrite) {
      return Status(StatusCode::kNotFound, "open " + path + ": No such file or directory");
    }
    if (!dirs_.count(Parent(path))) return Status(StatusCode::kNotFound, "open " + path + ": no directory");
    it = entries_.emplace(path, std::make_shared<Inode>()).first;
  } else if (mode == OpenMode::kCreateTruncate) {
    it->second->data.clear();
  }
  return std::unique_ptr<File>(new FaultFile(this, it->second, path, mode != OpenMode::kRead));
}

Status FaultFileSystem::Rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(from);
  if (it == entries_.end()) return Status(StatusCode::kNotFound, "rename " + from + ": No such file");
  entries_[to] = it->second;
  entries_.erase(from);
  return Status::Ok();
}

Status FaultFileSystem::Remove(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.erase(path) == 0) return Status(StatusCode::kNotFound, "unlink " + path + ": No such file");
  return Status::Ok();
}

Status FaultFileSystem::MakeDirs(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  // Directories are treated as durable at once (the store creates its
  // directory once, before it writes anything).
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos == path.size() || path[pos] == '/') dirs_[path.substr(0, pos)] = true;
  }
  return Status::Ok();
}

Status FaultFileSystem::SyncDir(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  syncs_++;
  if (fail_syncs_ > 0) {
    fail_syncs_--;
    return IoError("fsync dir " + path + ": Input/output error (injected)");
  }
  for (auto it = durable_entries_.begin(); it != durable_entries_.end();) {
    it = Parent(it->first) == path ? durable_entries_.erase(it) : std::next(it);
  }
  for (const auto& [name, inode] : entries_) {
    if (Parent(name) == path) durable_entries_[name] = inode;
  }
  return Status::Ok();
}

Status FaultFileSystem::List(const std::string& dir, std::vector<std::string>* names) {
  std::lock_guard<std::mutex> lock(mu_);
  names->clear();
  if (!dirs_.count(dir)) return Status(StatusCode::kNotFound, "opendir " + dir + ": No such directory");
  for (const auto& [name, inode] : entries_) {
    if (Parent(name) == dir) names->push_back(name.substr(dir.size() + 1));
  }
  return Status::Ok();
}

bool FaultFileSystem::Exists(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.count(path) != 0 || dirs_.count(path) != 0;
}

std::unique_ptr<FaultFileSystem> FaultFileSystem::CloneAfter(Crash kind, uint64_t torn_tail_seed) {
  std::lock_guard<std::mutex> lock(mu_);
  auto out = std::make_unique<FaultFileSystem>();
  out->dirs_ = dirs_;
  std::mt19937_64 rng(torn_tail_seed);
  // Inodes shared by several names stay shared in the clone.
  std::map<Inode*, std::shared_ptr<Inode>> copies;
  auto copy = [&](const std::shared_ptr<Inode>& in) {
    auto& slot = copies[in.get()];
    if (slot) return slot;
    slot = std::make_shared<Inode>();
    if (kind == Crash::kProcessCrash) {
      slot->data = in->data;
    } else {
      slot->data = in->durable;
      // Keep a random part of the un-synced appends when they extend the
      // durable content (a torn write); never anything that is not a prefix.
      if (torn_tail_seed != 0 && in->data.size() > in->durable.size() &&
          in->data.compare(0, in->durable.size(), in->durable) == 0) {
        size_t extra = in->data.size() - in->durable.size();
        size_t keep = rng() % (extra + 1);
        slot->data.append(in->data, in->durable.size(), keep);
      }
    }
    slot->durable = slot->data;
    return slot;
  };
  const auto& names = kind == Crash::kProcessCrash ? entries_ : durable_entries_;
  for (const auto& [name, inode] : names) out->entries_[name] = copy(inode);
  out->durable_entries_ = out->entries_;
  return out;
}

void FaultFileSystem::FailSyncs(int count) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_syncs_ = count;
}
void FaultFileSystem::FailWrites(int count) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_writes_ = count;
}
void FaultFileSystem::SetSpaceLimit(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  space_limit_ = bytes;
}
void FaultFileSystem::SetShortWrites(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  short_writes_ = on;
}
bool FaultFileSystem::ReadWhole(const std::string& path, std::string* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(path);
  if (it == entries_.end()) return false;
  *out = it->second->data;
  return true;
}
void FaultFileSystem::WriteWhole(const std::string& path, const std::string& data) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& inode = entries_[path];
  if (!inode) inode = std::make_shared<Inode>();
  inode->data = data;
  inode->durable = data;
  durable_entries_[path] = inode;
}
uint64_t FaultFileSystem::sync_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return syncs_;
}

}  // namespace sluice::store
