#include "datanode/storage/block_meta.h"

#include <gtest/gtest.h>

#include <string>

#include "common/crc32c.h"

namespace talus::datanode {
namespace {

std::string Bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1103515245 + 12345;
    s[i] = static_cast<char>(seed >> 16);
  }
  return s;
}

TEST(DatanodeBlockMetaTest, HeaderRoundTripAndRejection) {
  std::string h = EncodeMetaHeader();
  ASSERT_EQ(h.size(), kMetaHeaderBytes);
  EXPECT_EQ(h.substr(0, 4), "TLSM");
  EXPECT_TRUE(DecodeMetaHeader(h, "m").ok());
  EXPECT_EQ(DecodeMetaHeader(h.substr(0, 11), "m").code(), ErrorCode::kCorruption);
  std::string bad = h;
  bad[0] = 'X';
  EXPECT_EQ(DecodeMetaHeader(bad, "m").code(), ErrorCode::kCorruption);
  bad = h;
  bad[6] = 2;  // an unknown checksum type
  EXPECT_EQ(DecodeMetaHeader(bad, "m").code(), ErrorCode::kCorruption);
  bad = h;
  bad[10] = 4;  // 1024 bytes per checksum
  EXPECT_EQ(DecodeMetaHeader(bad, "m").code(), ErrorCode::kCorruption);
}

TEST(DatanodeBlockMetaTest, Lengths) {
  EXPECT_EQ(MetaFileLength(0), 12u);
  EXPECT_EQ(MetaFileLength(1), 16u);
  EXPECT_EQ(MetaFileLength(512), 16u);
  EXPECT_EQ(MetaFileLength(513), 20u);
  EXPECT_EQ(ChunkCountAt(0, 0), 0u);
  EXPECT_EQ(ChunkCountAt(100, 412), 1u);
  EXPECT_EQ(ChunkCountAt(100, 413), 2u);
  EXPECT_EQ(ChunkCountAt(512, 1024), 2u);
  EXPECT_EQ(ChecksumOffsetInMeta(1023), 16u);
}

TEST(DatanodeBlockMetaTest, ChecksumsAreBigEndianCrc32cPerAlignedChunk) {
  std::string data = Bytes(1300, 1);
  std::string sums = ComputeChecksums(data, 0);
  ASSERT_EQ(sums.size(), 12u);
  EXPECT_EQ(GetChecksum(sums.data()), crc32c::Value(data.data(), 512));
  EXPECT_EQ(GetChecksum(sums.data() + 8), crc32c::Value(data.data() + 1024, 276));
  EXPECT_EQ(static_cast<unsigned char>(sums[0]), crc32c::Value(data.data(), 512) >> 24);
  EXPECT_TRUE(VerifyChecksums(data, sums, 0, "b").ok());

  // Starting mid-chunk: the first checksum covers only the bytes up to the boundary.
  std::string tail = data.substr(0, 600);
  std::string sums2 = ComputeChecksums(tail, 300);
  ASSERT_EQ(sums2.size(), 8u);
  EXPECT_EQ(GetChecksum(sums2.data()), crc32c::Value(tail.data(), 212));
  EXPECT_TRUE(VerifyChecksums(tail, sums2, 300, "b").ok());
}

TEST(DatanodeBlockMetaTest, VerifyNamesTheBadChunkOffset) {
  std::string data = Bytes(2000, 2);
  std::string sums = ComputeChecksums(data, 4096);
  data[1100] ^= 1;
  Status s = VerifyChecksums(data, sums, 4096, "block 7");
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_NE(s.message().find("offset 5120"), std::string::npos) << s;
  EXPECT_EQ(VerifyChecksums(data, sums.substr(4), 4096, "b").code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace talus::datanode
