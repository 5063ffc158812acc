// Helpers shared by the store tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "store/fault_filesystem.h"
#include "store/filesystem.h"
#include "store/store.h"

namespace sluice::store::testing {

// A temporary directory removed when the object goes.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sluice-store-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    path_ = p ? p : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string Payload(uint64_t seq, size_t size) {
  std::string p(size, '\0');
  uint64_t x = seq * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p[i] = static_cast<char>('a' + x % 26);
  }
  return p;
}

inline std::unique_ptr<MessageStore> MustOpen(const std::string& dir, const StoreConfig& cfg, FileSystem& fs) {
  StatusOr<std::unique_ptr<MessageStore>> s = OpenFileStore(dir, cfg, fs);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

}  // namespace sluice::store::testing
