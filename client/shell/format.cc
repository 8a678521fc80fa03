#include "client/shell/format.h"

#include <cinttypes>
#include <cstdio>
#include <ctime>

namespace talus::shell {

namespace {

struct BinaryPrefix {
  char symbol;
  int shift;
};
constexpr BinaryPrefix kPrefixes[] = {{'K', 10}, {'M', 20}, {'G', 30},
                                      {'T', 40}, {'P', 50}, {'E', 60}};
constexpr int kNumPrefixes = sizeof(kPrefixes) / sizeof(kPrefixes[0]);

std::string OneDecimal(uint64_t n, int shift) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.1f",
                static_cast<double>(n) / static_cast<double>(uint64_t{1} << shift));
  return buf;
}

std::string FormatTm(const std::tm& tm, const char* format) {
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), format, &tm);
  return std::string(buf, n);
}

}  // namespace

std::string HumanSize(int64_t bytes) {
  std::string out;
  // Unsigned so that the most negative value still has a magnitude.
  uint64_t n = static_cast<uint64_t>(bytes);
  if (bytes < 0) {
    out += '-';
    n = uint64_t{0} - n;
  }
  if (n < 1024) return out + std::to_string(n);
  int i = 0;
  while (i < kNumPrefixes && n >= (uint64_t{1} << kPrefixes[i].shift)) ++i;
  int p = i - 1;
  uint64_t unit_mask = (uint64_t{1} << kPrefixes[p].shift) - 1;
  std::string number;
  if ((n & unit_mask) == 0) {
    number = std::to_string(n >> kPrefixes[p].shift);
  } else {
    number = OneDecimal(n, kPrefixes[p].shift);
    // 1023.96 K rounds to "1024.0": say 1.0 M instead, as HDFS does.
    if (number.rfind("1024", 0) == 0 && p + 1 < kNumPrefixes) {
      ++p;
      number = OneDecimal(n, kPrefixes[p].shift);
    }
  }
  out += number;
  out += ' ';
  out += kPrefixes[p].symbol;
  return out;
}

std::string FormatSize(int64_t bytes, bool human) {
  return human ? HumanSize(bytes) : std::to_string(bytes);
}

std::string PermissionString(uint32_t mode) {
  static const char kLetters[] = "rwxrwxrwx";
  std::string out(9, '-');
  for (int i = 0; i < 9; ++i) {
    if (mode & (0400u >> i)) out[i] = kLetters[i];
  }
  if (mode & 01000) out[8] = (mode & 01) ? 't' : 'T';
  return out;
}

std::string OctalMode(uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%o", mode & 07777);
  return buf;
}

std::string FormatLocalMinute(const Timestamp& t) {
  std::time_t secs = static_cast<std::time_t>(t.sec);
  std::tm tm{};
  localtime_r(&secs, &tm);
  return FormatTm(tm, "%Y-%m-%d %H:%M");
}

std::string FormatUtcSecond(const Timestamp& t) {
  std::time_t secs = static_cast<std::time_t>(t.sec);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return FormatTm(tm, "%Y-%m-%d %H:%M:%S");
}

int64_t ToMillis(const Timestamp& t) { return t.sec * 1000 + t.nsec / 1000000; }

}  // namespace talus::shell
