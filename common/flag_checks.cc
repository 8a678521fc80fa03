#include "common/flag_checks.h"

#include <cstdio>

namespace talus {

bool IsPortFlag(const char* flag, int32_t value) {
  if (value >= 0 && value <= 65535) return true;
  std::fprintf(stderr, "--%s must be within 0..65535\n", flag);
  return false;
}

bool IsPositiveFlag(const char* flag, int64_t value) {
  if (value > 0) return true;
  std::fprintf(stderr, "--%s must be positive\n", flag);
  return false;
}

bool IsPositiveFlag32(const char* flag, int32_t value) {
  return IsPositiveFlag(flag, value);
}

}  // namespace talus
