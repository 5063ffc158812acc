#include "sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace sluice::cli {

struct Sha256::Context {
  EVP_MD_CTX* md;
};

Sha256::Sha256() : ctx_(new Context{EVP_MD_CTX_new()}) {
  // Only allocation failure can make these fail; a digest we cannot compute
  // must not be reported as a mismatch, so stop loudly.
  if (ctx_->md == nullptr || EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1) std::abort();
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(ctx_->md);
  delete ctx_;
}

void Sha256::Update(const void* data, size_t len) {
  if (len > 0 && EVP_DigestUpdate(ctx_->md, data, len) != 1) std::abort();
}

std::array<uint8_t, 32> Sha256::Finish() {
  std::array<uint8_t, 32> out{};
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx_->md, out.data(), &n) != 1 || n != out.size()) std::abort();
  return out;
}

std::string Base64UrlEncode(const void* data, size_t len) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const auto* p = static_cast<const uint8_t*>(data);
  std::string out;
  out.reserve((len + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < len; i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < len) {
    uint32_t v = uint32_t{p[i]} << 16;
    if (i + 1 < len) v |= uint32_t{p[i + 1]} << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < len ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace sluice::cli
