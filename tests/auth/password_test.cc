// VerifyPassword: plain (constant-time compare) and bcrypt through libcrypt.
// Hashes are made at test time with crypt_gensalt_rn + crypt_r (cost 4 keeps
// it quick), plus one fixed $2b$ hash made by Python's crypt module that
// nats-server 2.9.10 accepted in a probe.
#include <crypt.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "auth/auth.h"

namespace sluice::auth {
namespace {

std::string MakeBcrypt(const std::string& password, const char* prefix) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn(prefix, 4, nullptr, 0, salt, sizeof salt) == nullptr) return "";
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_r(password.c_str(), salt, data.get());
  return hash && hash[0] != '*' ? std::string(hash) : std::string();
}

TEST(PasswordTest, Plain) {
  EXPECT_TRUE(VerifyPassword("secret", "secret"));
  EXPECT_FALSE(VerifyPassword("secreT", "secret"));
  EXPECT_FALSE(VerifyPassword("secret1", "secret"));
  EXPECT_FALSE(VerifyPassword("", "secret"));
  EXPECT_TRUE(VerifyPassword("", ""));
  EXPECT_FALSE(VerifyPassword(std::string_view("a\0b", 3), "a"));
}

TEST(PasswordTest, BcryptPrefixes) {
  for (const char* prefix : {"$2a$", "$2b$", "$2y$"}) {
    std::string hash = MakeBcrypt("s3cret pass", prefix);
    ASSERT_FALSE(hash.empty()) << prefix;
    ASSERT_EQ(hash.substr(0, 4), prefix);
    EXPECT_TRUE(IsBcryptHash(hash));
    EXPECT_TRUE(VerifyPassword("s3cret pass", hash)) << hash;
    EXPECT_FALSE(VerifyPassword("s3cret pasS", hash)) << hash;
    EXPECT_FALSE(VerifyPassword("", hash)) << hash;
    EXPECT_FALSE(VerifyPassword(hash, hash)) << "the hash itself is not the password";
  }
}

TEST(PasswordTest, FixedHashAcceptedByNatsServer) {
  const std::string hash = "$2b$12$BmFFWFCcy4tOxXnLL7SbBOzEA/2PcYgMWJiyxiNzjHGLNqiykSsSS";
  EXPECT_TRUE(VerifyPassword("secret", hash));
  EXPECT_FALSE(VerifyPassword("Secret", hash));
}

TEST(PasswordTest, WhatCountsAsBcrypt) {
  EXPECT_TRUE(IsBcryptHash("$2a$10$abc"));
  EXPECT_TRUE(IsBcryptHash("$2x$10$"));
  EXPECT_FALSE(IsBcryptHash("$2c$10$abc"));
  EXPECT_FALSE(IsBcryptHash("$2a$1$abc"));
  EXPECT_FALSE(IsBcryptHash("2a$10$abc"));
  EXPECT_FALSE(IsBcryptHash("$1$abc"));
  // Looks like bcrypt but is malformed: never matches anything, not even itself.
  EXPECT_FALSE(VerifyPassword("$2a$10$abc", "$2a$10$abc"));
  EXPECT_FALSE(VerifyPassword("", "$2a$10$abc"));
}

}  // namespace
}  // namespace sluice::auth
