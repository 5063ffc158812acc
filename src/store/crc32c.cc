// CRC-32C: slicing-by-8 tables, and the SSE4.2 instruction (three chains at
// once on long inputs) when available.
#include "store/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>
#endif

namespace sluice::store {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;

struct Tables {
  std::array<std::array<uint32_t, 256>, 8> t{};
  Tables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
    }
  }
};

const Tables& GetTables() {
  static const Tables tables;
  return tables;
}

// One zero byte through the raw (not inverted) CRC register.
uint32_t ZeroByte(uint32_t reg) { return (reg >> 8) ^ GetTables().t[0][reg & 0xFF]; }

// Appending `len` zero bytes to a raw CRC register is linear in the register
// (multiplication by x^(8*len) modulo the polynomial), so it is a table
// lookup per register byte: entry [k][b] is the shift of b << 8k. Built from
// the shifts of the 32 single-bit registers.
struct ZeroShift {
  std::array<std::array<uint32_t, 256>, 4> t{};
  explicit ZeroShift(size_t len) {
    std::array<uint32_t, 32> bit{};
    for (int i = 0; i < 32; ++i) {
      uint32_t reg = 1u << i;
      for (size_t z = 0; z < len; ++z) reg = ZeroByte(reg);
      bit[i] = reg;
    }
    for (int k = 0; k < 4; ++k) {
      for (uint32_t b = 0; b < 256; ++b) {
        uint32_t v = 0;
        for (int i = 0; i < 8; ++i)
          if (b & (1u << i)) v ^= bit[8 * k + i];
        t[k][b] = v;
      }
    }
  }
  uint32_t operator()(uint32_t reg) const {
    return t[0][reg & 0xFF] ^ t[1][(reg >> 8) & 0xFF] ^ t[2][(reg >> 16) & 0xFF] ^ t[3][reg >> 24];
  }
};

#if defined(__x86_64__)
// The crc32 instruction has a latency of 3 cycles and a throughput of 1, so
// one dependency chain runs at a third of its speed. Long inputs are cut
// into three consecutive blocks of `block` bytes whose CRCs run as three
// independent chains, then joined: CRC(A|B) = shift(CRC(A), |B|) ^ CRC0(B)
// for raw registers (CRC0: started from 0), the linearity of the CRC.
constexpr size_t kLongBlock = 1024;   // 3 KiB per step: 4 KiB records take one
constexpr size_t kShortBlock = 128;   // 384 B per step: the rest of a record

const ZeroShift& LongShift() {
  static const ZeroShift shift(kLongBlock);
  return shift;
}
const ZeroShift& ShortShift() {
  static const ZeroShift shift(kShortBlock);
  return shift;
}

__attribute__((target("sse4.2"), always_inline)) inline uint64_t Chain8(uint64_t c, const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return _mm_crc32_u64(c, v);
}

// Three chains over blocks of `block` bytes while 3 * block remain.
__attribute__((target("sse4.2"))) uint64_t ThreeWay(uint64_t c, const uint8_t*& p, size_t& n, size_t block,
                                                     const ZeroShift& shift) {
  while (n >= 3 * block) {
    uint64_t c0 = c, c1 = 0, c2 = 0;
    const uint8_t* end = p + block;
    for (; p < end; p += 8) {
      c0 = Chain8(c0, p);
      c1 = Chain8(c1, p + block);
      c2 = Chain8(c2, p + 2 * block);
    }
    c = shift(static_cast<uint32_t>(c0)) ^ static_cast<uint32_t>(c1);
    c = shift(static_cast<uint32_t>(c)) ^ static_cast<uint32_t>(c2);
    p += 2 * block;
    n -= 3 * block;
  }
  return c;
}

__attribute__((target("sse4.2"))) uint32_t ExtendHw(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = ~crc;
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    --n;
  }
  if (n >= 3 * kShortBlock) {
    c = ThreeWay(c, p, n, kLongBlock, LongShift());
    c = ThreeWay(c, p, n, kShortBlock, ShortShift());
  }
  while (n >= 8) {
    c = Chain8(c, p);
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    --n;
  }
  return ~static_cast<uint32_t>(c);
}

bool HaveSse42() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  return (c & bit_SSE4_2) != 0;
}
#endif

}  // namespace

uint32_t Crc32cExtendPortable(uint32_t crc, const void* data, size_t n) {
  const Tables& tb = GetTables();
  const uint8_t* p = static_cast<const uint8_t*>(data);
  uint32_t c = ~crc;
  while (n >= 8) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= c;  // little-endian hosts only (x86-64, aarch64)
    c = tb.t[7][lo & 0xFF] ^ tb.t[6][(lo >> 8) & 0xFF] ^ tb.t[5][(lo >> 16) & 0xFF] ^ tb.t[4][lo >> 24] ^
        tb.t[3][hi & 0xFF] ^ tb.t[2][(hi >> 8) & 0xFF] ^ tb.t[1][(hi >> 16) & 0xFF] ^ tb.t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = tb.t[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
  return ~c;
}

uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n) {
#if defined(__x86_64__)
  static const bool hw = HaveSse42();
  if (hw) return ExtendHw(crc, static_cast<const uint8_t*>(data), n);
#endif
  return Crc32cExtendPortable(crc, data, n);
}

}  // namespace sluice::store
