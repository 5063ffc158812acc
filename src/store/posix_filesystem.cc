// POSIX implementation of the filesystem seam.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/filesystem.h"

namespace sluice::store {

Status ErrnoStatus(int err, std::string_view what, std::string_view path) {
  std::string msg = std::string(what) + " " + std::string(path) + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return Status(StatusCode::kNoSpace, msg);
  if (err == ENOENT) return Status(StatusCode::kNotFound, msg);
  return Status(StatusCode::kIoError, msg);
}

Status WriteAll(File& file, std::string_view data) {
  // At most 1 MiB per write(2). Appending 8 MiB write(2)s to a new file ran
  // at a quarter of the bandwidth of the same bytes in 1 MiB writes, and at
  // several times the CPU (store_bench's raw rows, ext4 on this VM's disk);
  // checkpoints and records behind a full write buffer exceed 1 MiB.
  constexpr size_t kMaxWrite = 1 << 20;
  while (!data.empty()) {
    StatusOr<size_t> n = file.Write(data.substr(0, kMaxWrite));
    if (!n.ok()) return n.status();
    if (*n == 0) return IoError("write made no progress");
    data.remove_prefix(*n);
  }
  return Status::Ok();
}

Status ReadExact(File& file, uint64_t offset, size_t n, char* out) {
  size_t done = 0;
  while (done < n) {
    StatusOr<size_t> got = file.Read(offset + done, n - done, out + done);
    if (!got.ok()) return got.status();
    if (*got == 0) return Corruption("short read: file ends before the record does");
    done += *got;
  }
  return Status::Ok();
}

namespace {

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override { ::close(fd_); }

  StatusOr<size_t> Write(std::string_view data) override {
    while (true) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n >= 0) return static_cast<size_t>(n);
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path_);
    }
  }
  StatusOr<size_t> Read(uint64_t offset, size_t n, char* out) override {
    while (true) {
      ssize_t got = ::pread(fd_, out, n, static_cast<off_t>(offset));
      if (got >= 0) return static_cast<size_t>(got);
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "pread", path_);
    }
  }
  Status Sync() override {
    if (::fdatasync(fd_) != 0) return ErrnoStatus(errno, "fdatasync", path_);
    return Status::Ok();
  }
  Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return ErrnoStatus(errno, "ftruncate", path_);
    return Status::Ok();
  }
  Status Reserve(uint64_t offset, uint64_t len) override {
    while (::fallocate(fd_, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset), static_cast<off_t>(len)) != 0) {
      if (errno == EINTR) continue;
      if (errno == EOPNOTSUPP || errno == ENOSYS) return InvalidArgument("fallocate unsupported on " + path_);
      return ErrnoStatus(errno, "fallocate", path_);
    }
    return Status::Ok();
  }
  StatusOr<uint64_t> Size() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoStatus(errno, "fstat", path_);
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  int fd_;
  std::string path_;
};

class PosixFs final : public FileSystem {
 public:
  StatusOr<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) override {
    int flags = O_CLOEXEC;
    switch (mode) {
      case OpenMode::kRead: flags |= O_RDONLY; break;
      case OpenMode::kReadWrite: flags |= O_RDWR | O_APPEND; break;
      case OpenMode::kCreate: flags |= O_RDWR | O_APPEND | O_CREAT; break;
      case OpenMode::kCreateTruncate: flags |= O_RDWR | O_APPEND | O_CREAT | O_TRUNC; break;
    }
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return ErrnoStatus(errno, "open", path);
    return std::unique_ptr<File>(new PosixFile(fd, path));
  }
  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus(errno, "rename", from);
    return Status::Ok();
  }
  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus(errno, "unlink", path);
    return Status::Ok();
  }
  Status MakeDirs(const std::string& path) override {
    for (size_t pos = 1; pos <= path.size(); ++pos) {
      if (pos != path.size() && path[pos] != '/') continue;
      std::string prefix = path.substr(0, pos);
      if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoStatus(errno, "mkdir", prefix);
    }
    return Status::Ok();
  }
  Status SyncDir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, "open dir", path);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus(err, "fsync dir", path);
    return Status::Ok();
  }
  Status List(const std::string& dir, std::vector<std::string>* names) override {
    names->clear();
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return ErrnoStatus(errno, "opendir", dir);
    while (struct dirent* e = ::readdir(d)) {
      std::string_view n = e->d_name;
      if (n == "." || n == "..") continue;
      names->emplace_back(n);
    }
    ::closedir(d);
    return Status::Ok();
  }
  bool Exists(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }
};

}  // namespace

FileSystem& PosixFileSystem() {
  static PosixFs fs;
  return fs;
}

}  // namespace sluice::store
