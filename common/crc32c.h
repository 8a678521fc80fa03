#pragma once

#include <cstddef>
#include <cstdint>

// CRC32C (Castagnoli): journal records, replica checksums (one per 512-byte chunk), wire
// packets.
namespace talus::crc32c {

// Returns the CRC32C of data[0, n) continuing from `crc`, the CRC32C of some earlier bytes
// (0 for none). Uses the SSE4.2 instruction when the CPU has it, a table otherwise.
uint32_t Extend(uint32_t crc, const void* data, size_t n);

inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }

// The CRC32C of each consecutive `chunk`-byte piece of data[0, n) (the last may be shorter)
// into out[0, ceil(n / chunk)). Several pieces are computed at once, interleaved, which hides
// the CRC instruction's latency: about three times the speed of one Value() per piece. This is
// how per-chunk checksums of replicas and packets are made and verified.
void ValuesOfChunks(const void* data, size_t n, size_t chunk, uint32_t* out);

// The CRC32C of A followed by B, given crc_a = Value(A), crc_b = Value(B) and len_b = |B|,
// without the bytes (polynomial arithmetic over GF(2)); O(log len_b). Builds a whole file's CRC
// from its blocks' CRCs.
uint32_t Combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

// The portable path, exposed so tests can compare it with the hardware one.
uint32_t ExtendPortable(uint32_t crc, const void* data, size_t n);

}  // namespace talus::crc32c
