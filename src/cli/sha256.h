// SHA-256 fed in pieces (OpenSSL's EVP digest underneath): the Object Store
// digest of objects streamed through the CLI without holding them in memory.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace sluice::cli {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const void* data, size_t len);
  // The 32-byte digest; the object must not be updated afterwards.
  std::array<uint8_t, 32> Finish();

 private:
  struct Context;  // OpenSSL's EVP_MD_CTX, kept out of this header
  Context* ctx_;
};

// Base64 with the URL-safe alphabet ('-', '_') and '=' padding, as the
// Object Store writes digests and meta subjects.
std::string Base64UrlEncode(const void* data, size_t len);

}  // namespace sluice::cli
