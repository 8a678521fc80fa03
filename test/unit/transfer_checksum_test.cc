#include "common/transfer/checksum.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/crc32c.h"
#include "common/transfer/byte_codec.h"
#include "common/transfer/protocol.h"

namespace talus::transfer {
namespace {

std::vector<uint8_t> RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> out(n);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

TEST(TransferChecksumTest, KnownCrc32cValues) {
  // Check values from RFC 3720 (iSCSI) appendix B.4 and the common "123456789" check.
  EXPECT_EQ(crc32c::Value("123456789", 9), 0xE3069283u);
  std::vector<uint8_t> zeros(32, 0), ones(32, 0xff), ascending(32);
  for (int i = 0; i < 32; ++i) ascending[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(crc32c::Value(zeros.data(), 32), 0x8A9136AAu);
  EXPECT_EQ(crc32c::Value(ones.data(), 32), 0x62A8AB43u);
  EXPECT_EQ(crc32c::Value(ascending.data(), 32), 0x46DD794Eu);

  // A single short chunk's checksum is that CRC, little-endian on the wire.
  uint8_t out[4];
  ComputeChunkChecksums(0, reinterpret_cast<const uint8_t*>("123456789"), 9, 512, out);
  EXPECT_EQ(out[0], 0x83);
  EXPECT_EQ(out[3], 0xE3);
}

TEST(TransferChecksumTest, CountsPiecesCutAtChunkBoundaries) {
  EXPECT_EQ(ChecksumCount(0, 0, 512), 0u);
  EXPECT_EQ(ChecksumCount(0, 1, 512), 1u);
  EXPECT_EQ(ChecksumCount(0, 511, 512), 1u);
  EXPECT_EQ(ChecksumCount(0, 512, 512), 1u);
  EXPECT_EQ(ChecksumCount(0, 513, 512), 2u);
  EXPECT_EQ(ChecksumCount(0, 65536, 512), 128u);
  EXPECT_EQ(ChecksumCount(1024, 65537, 512), 129u);
  // Mid-chunk starts (after a partial-chunk hflush, append or recovery).
  EXPECT_EQ(ChecksumCount(100, 412, 512), 1u);
  EXPECT_EQ(ChecksumCount(100, 413, 512), 2u);
  EXPECT_EQ(ChecksumCount(100, 1000, 512), 3u);
  EXPECT_EQ(ChecksumCount(511, 2, 512), 2u);
}

TEST(TransferChecksumTest, ComputesOneCrcPerPieceIncludingPartialFirstAndLast) {
  std::vector<uint8_t> data = RandomBytes(1000, 1);
  // Block bytes [100, 1100): pieces [100,512) [512,1024) [1024,1100).
  std::vector<uint8_t> sums(ChecksumCount(100, data.size(), 512) * 4);
  ASSERT_EQ(sums.size(), 12u);
  ComputeChunkChecksums(100, data.data(), data.size(), 512, sums.data());
  EXPECT_EQ(LoadLe32(&sums[0]), crc32c::Value(data.data(), 412));
  EXPECT_EQ(LoadLe32(&sums[4]), crc32c::Value(data.data() + 412, 512));
  EXPECT_EQ(LoadLe32(&sums[8]), crc32c::Value(data.data() + 924, 76));
  EXPECT_TRUE(VerifyChunkChecksums(100, data.data(), data.size(), 512, sums.data(), sums.size())
                  .ok());
}

TEST(TransferChecksumTest, PartialChunkCrcExtendsToTheWholeChunk) {
  // What a datanode does when a packet completes a partial last chunk: extend the stored CRC.
  std::vector<uint8_t> chunk = RandomBytes(512, 2);
  uint8_t first[4], rest[4];
  ComputeChunkChecksums(0, chunk.data(), 100, 512, first);
  ComputeChunkChecksums(100, chunk.data() + 100, 412, 512, rest);
  EXPECT_EQ(LoadLe32(rest), crc32c::Value(chunk.data() + 100, 412));
  EXPECT_EQ(crc32c::Extend(LoadLe32(first), chunk.data() + 100, 412),
            crc32c::Value(chunk.data(), 512));
}

TEST(TransferChecksumTest, ReportsTheFirstBadChunkOffset) {
  std::vector<uint8_t> data = RandomBytes(4096 + 17, 3);
  const uint64_t base = 8192;
  std::vector<uint8_t> sums(ChecksumCount(base, data.size(), 512) * 4);
  ComputeChunkChecksums(base, data.data(), data.size(), 512, sums.data());
  data[1500] ^= 0x01;  // in the piece starting at 1024
  data[3000] ^= 0x80;  // a later one; the first is reported
  uint64_t bad = 0;
  Status s = VerifyChunkChecksums(base, data.data(), data.size(), 512, sums.data(), sums.size(),
                                  &bad);
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_EQ(bad, base + 1024);
  EXPECT_NE(s.message().find("block offset 9216"), std::string::npos) << s;

  // Corruption in the partial last piece.
  data[1500] ^= 0x01;
  data[3000] ^= 0x80;
  data[4096 + 16] ^= 0x10;
  s = VerifyChunkChecksums(base, data.data(), data.size(), 512, sums.data(), sums.size(), &bad);
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_EQ(bad, base + 4096);
}

TEST(TransferChecksumTest, WrongChecksumLengthIsInvalidArgument) {
  std::vector<uint8_t> data = RandomBytes(1024, 4);
  std::vector<uint8_t> sums(8);
  ComputeChunkChecksums(0, data.data(), data.size(), 512, sums.data());
  EXPECT_EQ(VerifyChunkChecksums(0, data.data(), data.size(), 512, sums.data(), 4).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(VerifyChunkChecksums(0, data.data(), 1025, 512, sums.data(), 8).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(VerifyChunkChecksums(0, data.data(), 0, 512, nullptr, 0).ok());
}

}  // namespace
}  // namespace talus::transfer
