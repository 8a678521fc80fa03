#pragma once

#include <cstddef>
#include <cstdint>

// CRC32C (Castagnoli), private to the journal. A shared implementation is planned for common/;
// when it lands, this one should be replaced by it (the values are the same by definition).
namespace talus::journal_crc32c {

// Returns the CRC32C of data[0, n) continuing from `crc`, the CRC32C of some earlier bytes
// (0 for none). Uses the SSE4.2 instruction when the CPU has it, a table otherwise.
uint32_t Extend(uint32_t crc, const void* data, size_t n);

inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }

// The portable path, exposed so tests can compare it with the hardware one.
uint32_t ExtendPortable(uint32_t crc, const void* data, size_t n);

}  // namespace talus::journal_crc32c
