#include <gtest/gtest.h>

#include <random>
#include <string>

#include "common/crc32c.h"

namespace talus::crc32c {
namespace {

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(Crc32cCombineTest, CombineOfPartsEqualsCrcOfWhole) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 300; ++round) {
    const size_t total = rng() % (round < 200 ? 2000 : 300000);
    const std::string data = RandomBytes(rng, total);
    const size_t split = total == 0 ? 0 : rng() % (total + 1);
    const uint32_t a = Value(data.data(), split);
    const uint32_t b = Value(data.data() + split, total - split);
    EXPECT_EQ(Combine(a, b, total - split), Value(data.data(), total))
        << "total " << total << " split " << split;
  }
}

TEST(Crc32cCombineTest, EmptyPartsAreIdentities) {
  const std::string data = "The quick brown fox jumps over the lazy dog";
  const uint32_t crc = Value(data.data(), data.size());
  EXPECT_EQ(Combine(0, crc, data.size()), crc);  // empty prefix: Value("") == 0
  EXPECT_EQ(Combine(crc, 0, 0), crc);
}

TEST(Crc32cCombineTest, ManyPiecesFoldLikeBlocksOfAFile) {
  std::mt19937_64 rng(7);
  const std::string data = RandomBytes(rng, 1 << 20);
  for (size_t piece : {1u, 511u, 512u, 4096u, 65537u, 1u << 19}) {
    uint32_t crc = 0;
    for (size_t off = 0; off < data.size(); off += piece) {
      const size_t n = std::min(piece, data.size() - off);
      crc = Combine(crc, Value(data.data() + off, n), n);
    }
    EXPECT_EQ(crc, Value(data.data(), data.size())) << "piece " << piece;
  }
}

TEST(Crc32cCombineTest, KnownValue) {
  // CRC32C("123456789") = 0xE3069283 (the standard check value).
  EXPECT_EQ(Combine(Value("12345", 5), Value("6789", 4), 4), 0xE3069283u);
}

TEST(Crc32cCombineTest, HugeLengthsDoNotOverflow) {
  // Shifting by 2^40 bytes twice equals shifting by 2^41 bytes once (crc_b = 0 isolates the
  // shift operator), and the largest byte counts are accepted.
  const uint32_t crc = Value("abc", 3);
  const uint64_t big = 1ULL << 40;
  EXPECT_EQ(Combine(Combine(crc, 0, big), 0, big), Combine(crc, 0, 2 * big));
  const uint64_t half = 1ULL << 63;
  EXPECT_EQ(Combine(Combine(crc, 0, half), 0, half - 1),
            Combine(Combine(crc, 0, half - 1), 0, half));
}

}  // namespace
}  // namespace talus::crc32c
