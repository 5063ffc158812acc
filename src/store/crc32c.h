// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI,
// ext4 and LevelDB. Uses the SSE4.2 crc32 instruction when the CPU has it
// (checked once at run time), a slicing-by-8 table otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice::store {

// Extends crc (the value returned for the bytes before data; 0 to start).
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);
inline uint32_t Crc32c(std::string_view data) { return Crc32cExtend(0, data.data(), data.size()); }
// The portable path, exposed so tests can compare both.
uint32_t Crc32cExtendPortable(uint32_t crc, const void* data, size_t n);

}  // namespace sluice::store
