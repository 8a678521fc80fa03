// ValuesOfChunks (interleaved hardware CRCs of consecutive chunks) agrees with one CRC per chunk,
// for chunk sizes that are and are not multiples of 8, and lengths with a partial last chunk.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "common/crc32c.h"
#include "common/transfer/checksum.h"

namespace talus {
namespace {

TEST(Crc32cChunksTest, MatchesOneValuePerChunk) {
  std::mt19937 rng(7);
  std::vector<uint8_t> data(70000);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  for (size_t chunk : {1u, 7u, 8u, 512u, 520u, 4096u}) {
    for (size_t n : {0u, 1u, 511u, 512u, 513u, 2048u, 2049u, 65536u, 69999u}) {
      std::vector<uint32_t> got((n + chunk - 1) / chunk + 1, 0xdeadbeef);
      crc32c::ValuesOfChunks(data.data(), n, chunk, got.data());
      for (size_t i = 0, pos = 0; pos < n; ++i, pos += chunk) {
        size_t len = std::min(chunk, n - pos);
        ASSERT_EQ(got[i], crc32c::Value(data.data() + pos, len))
            << "chunk " << chunk << " n " << n << " piece " << i;
        ASSERT_EQ(got[i], crc32c::ExtendPortable(0, data.data() + pos, len));
      }
      EXPECT_EQ(got[(n + chunk - 1) / chunk], 0xdeadbeef) << "wrote past the end";
    }
  }
}

TEST(Crc32cChunksTest, PacketChecksumsRoundTripFromAnyOffset) {
  std::mt19937 rng(11);
  std::vector<uint8_t> data(200000);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  for (uint64_t offset : {0ull, 1ull, 511ull, 512ull, 700ull, 1ull << 20}) {
    for (size_t len : {1u, 100u, 512u, 65536u, 131073u}) {
      std::vector<uint8_t> sums(transfer::ChecksumCount(offset, len, 512) * 4);
      transfer::ComputeChunkChecksums(offset, data.data(), len, 512, sums.data());
      EXPECT_TRUE(transfer::VerifyChunkChecksums(offset, data.data(), len, 512, sums.data(),
                                                 sums.size())
                      .ok());
      // A flipped bit anywhere is found, at the right chunk.
      std::vector<uint8_t> bad(data.begin(), data.begin() + len);
      const size_t flip = len / 2;
      bad[flip] ^= 0x10;
      uint64_t at = 0;
      Status s = transfer::VerifyChunkChecksums(offset, bad.data(), len, 512, sums.data(),
                                                sums.size(), &at);
      EXPECT_EQ(s.code(), ErrorCode::kCorruption) << s;
      EXPECT_LE(at, offset + flip);
      EXPECT_GT(at + 512, offset + flip);
    }
  }
}

}  // namespace
}  // namespace talus
