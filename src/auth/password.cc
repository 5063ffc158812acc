#include <crypt.h>
#include <string.h>  // explicit_bzero

#include <memory>

#include "auth/auth.h"

namespace sluice::auth {

namespace {
// Compares without an early exit, so the time taken does not depend on where
// the first difference is (only on the lengths).
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  size_t n = a.size() > b.size() ? a.size() : b.size();
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = diff | static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}
}  // namespace

bool IsBcryptHash(std::string_view s) {
  // nats-server: ^\$2[abxy]\$\d{2}\$.*
  return s.size() >= 7 && s[0] == '$' && s[1] == '2' &&
         (s[2] == 'a' || s[2] == 'b' || s[2] == 'x' || s[2] == 'y') && s[3] == '$' &&
         s[4] >= '0' && s[4] <= '9' && s[5] >= '0' && s[5] <= '9' && s[6] == '$';
}

bool VerifyPassword(std::string_view given, std::string_view configured) {
  if (!IsBcryptHash(configured)) return ConstantTimeEquals(given, configured);
  // crypt_r takes C strings: an embedded NUL could only shorten what is checked.
  if (given.find('\0') != std::string_view::npos || configured.find('\0') != std::string_view::npos) return false;
  auto data = std::make_unique<crypt_data>();  // ~32 KiB: not on the stack; zeroed (initialized = 0)
  std::string key(given), setting(configured);
  const char* result = crypt_r(key.c_str(), setting.c_str(), data.get());
  bool ok = result != nullptr && result[0] != '*' && ConstantTimeEquals(result, configured);
  // Do not leave the password behind in freed memory.
  explicit_bzero(key.data(), key.size());
  explicit_bzero(data.get(), sizeof(crypt_data));
  return ok;
}

}  // namespace sluice::auth
