#include "common/transfer/checksum.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "common/crc32c.h"
#include "common/transfer/byte_codec.h"
#include "common/transfer/protocol.h"

namespace talus::transfer {
namespace {

// Length of the piece starting at block offset `offset` with `remaining` bytes left.
size_t PieceLength(uint64_t offset, size_t remaining, uint32_t bpc) {
  size_t to_boundary = bpc - static_cast<size_t>(offset % bpc);
  return remaining < to_boundary ? remaining : to_boundary;
}

}  // namespace

size_t ChecksumCount(uint64_t offset_in_block, size_t len, uint32_t bpc) {
  if (len == 0) return 0;
  uint64_t first_chunk = offset_in_block / bpc;
  uint64_t last_chunk = (offset_in_block + len - 1) / bpc;
  return static_cast<size_t>(last_chunk - first_chunk + 1);
}

// Checksums are computed a batch at a time into a stack buffer (the interleaved CRC wants
// several chunks at once), then stored or compared.
constexpr size_t kBatchChunks = 256;

void ComputeChunkChecksums(uint64_t offset_in_block, const uint8_t* data, size_t len,
                           uint32_t bpc, uint8_t* out) {
  if (len == 0) return;
  size_t pos = 0;
  // A leading partial piece (a packet that starts mid-chunk), then whole chunks.
  if (offset_in_block % bpc != 0) {
    pos = PieceLength(offset_in_block, len, bpc);
    StoreLe32(out, crc32c::Value(data, pos));
    out += kChecksumBytes;
  }
  uint32_t crcs[kBatchChunks];
  while (pos < len) {
    size_t n = std::min(len - pos, kBatchChunks * bpc);
    crc32c::ValuesOfChunks(data + pos, n, bpc, crcs);
    size_t count = (n + bpc - 1) / bpc;
    for (size_t i = 0; i < count; ++i, out += kChecksumBytes) StoreLe32(out, crcs[i]);
    pos += n;
  }
}

Status VerifyChunkChecksums(uint64_t offset_in_block, const uint8_t* data, size_t len,
                            uint32_t bpc, const uint8_t* checksums, size_t checksums_len,
                            uint64_t* first_bad_offset) {
  size_t expected_len = ChecksumCount(offset_in_block, len, bpc) * kChecksumBytes;
  if (checksums_len != expected_len) {
    return Status::InvalidArgument(std::to_string(checksums_len) + " bytes of checksums for " +
                                   std::to_string(len) + " bytes of data at block offset " +
                                   std::to_string(offset_in_block) + " (expected " +
                                   std::to_string(expected_len) + ")");
  }
  auto mismatch = [&](size_t pos, size_t piece, uint32_t expected, uint32_t actual) {
    uint64_t bad = offset_in_block + pos;
    if (first_bad_offset != nullptr) *first_bad_offset = bad;
    char crcs[48];
    std::snprintf(crcs, sizeof(crcs), "expected 0x%08x, computed 0x%08x", expected, actual);
    return Status::Corruption("checksum mismatch in the " + std::to_string(piece) +
                              " bytes at block offset " + std::to_string(bad) + ": " + crcs);
  };
  if (len == 0) return Status::OK();
  size_t pos = 0;
  if (offset_in_block % bpc != 0) {
    size_t piece = PieceLength(offset_in_block, len, bpc);
    uint32_t expected = LoadLe32(checksums);
    uint32_t actual = crc32c::Value(data, piece);
    if (expected != actual) return mismatch(0, piece, expected, actual);
    checksums += kChecksumBytes;
    pos = piece;
  }
  uint32_t crcs[kBatchChunks];
  while (pos < len) {
    size_t n = std::min(len - pos, kBatchChunks * bpc);
    crc32c::ValuesOfChunks(data + pos, n, bpc, crcs);
    size_t count = (n + bpc - 1) / bpc;
    for (size_t i = 0; i < count; ++i, checksums += kChecksumBytes) {
      uint32_t expected = LoadLe32(checksums);
      if (expected != crcs[i]) {
        size_t at = pos + i * bpc;
        return mismatch(at, std::min<size_t>(bpc, len - at), expected, crcs[i]);
      }
    }
    pos += n;
  }
  return Status::OK();
}

}  // namespace talus::transfer
