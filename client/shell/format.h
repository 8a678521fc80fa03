#pragma once

#include <cstdint>
#include <string>

#include "talus/file_system.h"

namespace talus::shell {

// Sizes as HDFS's -h flag prints them: plain bytes below 1024, else one decimal place and a
// binary prefix ("1 K", "1.5 M"); an exact multiple drops the decimals.
std::string HumanSize(int64_t bytes);

// The size column of -ls/-du/-count: HumanSize when `human`, else the plain number.
std::string FormatSize(int64_t bytes, bool human);

// "rwxr-xr-x", with the sticky bit shown as t (others may execute) or T in the last place.
std::string PermissionString(uint32_t mode);

// Octal digits of the permission bits without leading zeros, e.g. "755", "1777".
std::string OctalMode(uint32_t mode);

// "yyyy-MM-dd HH:mm" in the local time zone (the -ls date column).
std::string FormatLocalMinute(const Timestamp& t);
// "yyyy-MM-dd HH:mm:ss" in UTC (-stat %y and %x).
std::string FormatUtcSecond(const Timestamp& t);
// Milliseconds since the epoch (-stat %Y and %X).
int64_t ToMillis(const Timestamp& t);

}  // namespace talus::shell
