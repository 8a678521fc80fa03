#include "common/crc32c.h"

#include <array>
#include <cstring>

namespace talus::crc32c {
namespace {

// Reflected Castagnoli polynomial.
constexpr uint32_t kPolynomial = 0x82f63b78u;

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? kPolynomial : 0u);
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kTable = MakeTable();

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t ExtendHardware(uint32_t crc, const void* data,
                                                          size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t state = ~crc;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof(word));
    state = __builtin_ia32_crc32di(state, word);
    p += 8;
    n -= 8;
  }
  auto state32 = static_cast<uint32_t>(state);
  while (n > 0) {
    state32 = __builtin_ia32_crc32qi(state32, *p);
    ++p;
    --n;
  }
  return ~state32;
}

// Four independent CRC chains in flight: the crc32 instruction has a latency of three cycles
// but a throughput of one per cycle.
__attribute__((target("sse4.2"))) void ChunksHardware(const unsigned char* p, size_t n,
                                                      size_t chunk, uint32_t* out) {
  const size_t full = n / chunk;
  size_t i = 0;
  if (chunk % 8 == 0) {
    for (; i + 4 <= full; i += 4) {
      const unsigned char* a = p + i * chunk;
      const unsigned char* b = a + chunk;
      const unsigned char* c = b + chunk;
      const unsigned char* d = c + chunk;
      uint64_t sa = 0xffffffffu, sb = 0xffffffffu, sc = 0xffffffffu, sd = 0xffffffffu;
      for (size_t k = 0; k < chunk; k += 8) {
        uint64_t wa, wb, wc, wd;
        std::memcpy(&wa, a + k, 8);
        std::memcpy(&wb, b + k, 8);
        std::memcpy(&wc, c + k, 8);
        std::memcpy(&wd, d + k, 8);
        sa = __builtin_ia32_crc32di(sa, wa);
        sb = __builtin_ia32_crc32di(sb, wb);
        sc = __builtin_ia32_crc32di(sc, wc);
        sd = __builtin_ia32_crc32di(sd, wd);
      }
      out[i] = ~static_cast<uint32_t>(sa);
      out[i + 1] = ~static_cast<uint32_t>(sb);
      out[i + 2] = ~static_cast<uint32_t>(sc);
      out[i + 3] = ~static_cast<uint32_t>(sd);
    }
  }
  for (; i < full; ++i) out[i] = ExtendHardware(0, p + i * chunk, chunk);
  if (n % chunk != 0) out[full] = ExtendHardware(0, p + full * chunk, n % chunk);
}

bool HaveSse42() {
  static const bool have = __builtin_cpu_supports("sse4.2");
  return have;
}
#endif

}  // namespace

uint32_t ExtendPortable(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t state = ~crc;
  for (size_t i = 0; i < n; ++i) state = kTable[(state ^ p[i]) & 0xffu] ^ (state >> 8);
  return ~state;
}

uint32_t Extend(uint32_t crc, const void* data, size_t n) {
#if defined(__x86_64__)
  if (HaveSse42()) return ExtendHardware(crc, data, n);
#endif
  return ExtendPortable(crc, data, n);
}

void ValuesOfChunks(const void* data, size_t n, size_t chunk, uint32_t* out) {
  if (n == 0 || chunk == 0) return;
  const auto* p = static_cast<const unsigned char*>(data);
#if defined(__x86_64__)
  if (HaveSse42()) return ChunksHardware(p, n, chunk, out);
#endif
  for (size_t pos = 0, i = 0; pos < n; pos += chunk, ++i) {
    out[i] = ExtendPortable(0, p + pos, n - pos < chunk ? n - pos : chunk);
  }
}

namespace {

// Polynomials mod P in the reflected bit order the CRC uses: bit 31 is x^0, bit 0 is x^31.
constexpr uint32_t kOne = 1u << 31;

// a * b mod P.
uint32_t MultiplyModP(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t bit = kOne; bit != 0; bit >>= 1) {
    if (a & bit) product ^= b;
    // b *= x (mod P): one step of the shift register.
    b = (b & 1u) ? (b >> 1) ^ kPolynomial : b >> 1;
  }
  return product;
}

// kPowers[k] = x^(2^k) mod P, by repeated squaring from x^1.
// 8 * bytes < 2^67 for any 64-bit byte count, so 67 powers cover every shift.
std::array<uint32_t, 67> MakePowers() {
  std::array<uint32_t, 67> powers{};
  powers[0] = kOne >> 1;  // x^1
  for (size_t k = 1; k < powers.size(); ++k) powers[k] = MultiplyModP(powers[k - 1], powers[k - 1]);
  return powers;
}

// x^(8 * bytes) mod P: the operator that appending `bytes` zero bytes applies to a CRC.
uint32_t ShiftByBytes(uint64_t bytes) {
  static const std::array<uint32_t, 67> kPowers = MakePowers();
  uint32_t result = kOne;
  size_t k = 3;  // 8 * bytes = bytes << 3
  for (uint64_t n = bytes; n != 0; n >>= 1, ++k) {
    if (n & 1u) result = MultiplyModP(kPowers[k], result);
  }
  return result;
}

}  // namespace

// With the CRC's initial and final inversions, crc(A || B) = crc(A) * x^(8|B|) + crc(B) mod P:
// the inversions of A's tail and B's head cancel.
uint32_t Combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b) {
  if (len_b == 0) return crc_a;
  return MultiplyModP(ShiftByBytes(len_b), crc_a) ^ crc_b;
}

}  // namespace talus::crc32c
