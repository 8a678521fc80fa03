#pragma once
#include <cstdint>

// gflags validators shared by the daemons (DEFINE_validator(name, &talus::IsPortFlag)): each
// prints why a value is refused, naming the flag, and the daemon does not start.
namespace talus {

bool IsPortFlag(const char* flag, int32_t value);          // 0..65535 (0: ephemeral)
bool IsPositiveFlag(const char* flag, int64_t value);
bool IsPositiveFlag32(const char* flag, int32_t value);

}  // namespace talus
