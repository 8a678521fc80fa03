#pragma once

#include <cstddef>
#include <cstdint>

#include "common/status.h"

// Chunk checksums of packet data (protocol.h, part 2): one little-endian CRC32C per piece of the
// data, pieces cut at the block's multiples of bytes_per_checksum.
namespace talus::transfer {

// How many checksums cover block bytes [offset_in_block, offset_in_block + len). 0 for len 0.
size_t ChecksumCount(uint64_t offset_in_block, size_t len, uint32_t bytes_per_checksum);

// Writes ChecksumCount(...) * 4 bytes of checksums for data[0, len) to out.
void ComputeChunkChecksums(uint64_t offset_in_block, const uint8_t* data, size_t len,
                           uint32_t bytes_per_checksum, uint8_t* out);

// Checks data[0, len) against checksums[0, checksums_len). On a mismatch returns Corruption
// naming the block offset of the first bad piece, also stored in *first_bad_offset if given.
// A checksums_len that does not match the data is InvalidArgument.
Status VerifyChunkChecksums(uint64_t offset_in_block, const uint8_t* data, size_t len,
                            uint32_t bytes_per_checksum, const uint8_t* checksums,
                            size_t checksums_len, uint64_t* first_bad_offset = nullptr);

}  // namespace talus::transfer
