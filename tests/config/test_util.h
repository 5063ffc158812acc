#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/config_file.h"

namespace sluice::config::testing {

// A fresh directory under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sluice_config_XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  // Writes `content` to `name` (relative to the dir, sub dirs created); returns the full path.
  std::string Write(const std::string& name, const std::string& content) const {
    std::filesystem::path p = std::filesystem::path(path_) / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out << content;
    return p.string();
  }

 private:
  std::string path_;
};

inline Value MustParse(std::string_view text, const std::string& base_dir = ".") {
  Value v;
  std::string error;
  EXPECT_TRUE(ParseText(text, "t.conf", base_dir, v, error)) << "error: " << error << "\ntext:\n" << text;
  return v;
}

inline std::string ParseError(std::string_view text, const std::string& base_dir = ".") {
  Value v;
  std::string error;
  EXPECT_FALSE(ParseText(text, "t.conf", base_dir, v, error)) << "unexpectedly parsed:\n" << text;
  EXPECT_FALSE(error.empty());
  return error;
}

}  // namespace sluice::config::testing
