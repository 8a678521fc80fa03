#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"

// The checksum ("meta") file kept beside every replica's data file.
//
// On-disk format, written to disk: never change the meaning of a field, bump kMetaVersion.
//   offset 0   4 bytes  magic "TLSM"
//   offset 4   2 bytes  format version, big-endian (kMetaVersion = 1)
//   offset 6   1 byte   checksum type (1 = CRC32C)
//   offset 7   1 byte   reserved, 0
//   offset 8   4 bytes  bytes per checksum, big-endian (512)
//   offset 12  ...      one CRC32C per chunk of the data file, 4 bytes each, big-endian
// Chunk i covers data bytes [i * 512, min((i + 1) * 512, data length)): the last chunk may be
// partial, and its checksum covers only the bytes present. So a meta file for a data file of
// length L is exactly kMetaHeaderBytes + 4 * ceil(L / 512) bytes.
namespace talus::datanode {

inline constexpr char kMetaMagic[4] = {'T', 'L', 'S', 'M'};
inline constexpr uint16_t kMetaVersion = 1;
inline constexpr uint8_t kChecksumTypeCrc32c = 1;
inline constexpr uint32_t kBytesPerChecksum = 512;
inline constexpr size_t kMetaHeaderBytes = 12;
inline constexpr size_t kChecksumBytes = 4;

// Number of checksum chunks covering `data_length` bytes.
inline uint64_t ChunkCount(uint64_t data_length) {
  return (data_length + kBytesPerChecksum - 1) / kBytesPerChecksum;
}
// The meta file length matching a data file of `data_length` bytes.
inline uint64_t MetaFileLength(uint64_t data_length) {
  return kMetaHeaderBytes + kChecksumBytes * ChunkCount(data_length);
}
// Offset in the meta file of the checksum of the chunk holding data offset `data_offset`.
inline uint64_t ChecksumOffsetInMeta(uint64_t data_offset) {
  return kMetaHeaderBytes + kChecksumBytes * (data_offset / kBytesPerChecksum);
}

std::string EncodeMetaHeader();
// Checks magic, version, checksum type and chunk size.
Status DecodeMetaHeader(std::string_view header, const std::string& what);

inline void PutChecksum(char* out, uint32_t crc) {
  out[0] = static_cast<char>(crc >> 24);
  out[1] = static_cast<char>(crc >> 16);
  out[2] = static_cast<char>(crc >> 8);
  out[3] = static_cast<char>(crc);
}
inline uint32_t GetChecksum(const char* in) {
  const auto* p = reinterpret_cast<const unsigned char*>(in);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Checksums of `data` cut into chunks whose boundaries fall on multiples of 512 counted from
// `start_offset` in the replica: the first chunk ends at the next 512 boundary (so it is short
// when start_offset is not aligned), the others are whole except possibly the last.
// Returns the big-endian checksums concatenated (4 bytes per chunk).
std::string ComputeChecksums(std::string_view data, uint64_t start_offset);

// Verifies `data` against `checksums` (encoded as ComputeChecksums does, same chunking).
// A mismatch is Corruption naming the replica offset of the bad chunk; `what` names the replica.
Status VerifyChecksums(std::string_view data, std::string_view checksums, uint64_t start_offset,
                       const std::string& what);

// Number of chunks ComputeChecksums produces for n bytes at start_offset.
uint64_t ChunkCountAt(uint64_t start_offset, uint64_t n);

}  // namespace talus::datanode
