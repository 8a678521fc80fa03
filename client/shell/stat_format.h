#pragma once

#include <string>
#include <string_view>

#include "talus/file_system.h"

namespace talus::shell {

// The format -stat uses when none is given.
inline constexpr std::string_view kDefaultStatFormat = "%y";

// Expands a -stat format for one file as HDFS does:
//   %a octal permissions   %A symbolic permissions  %b length in bytes
//   %F type ("directory", "regular file", "symlink")  %g group  %n name  %o block size
//   %r replication  %u owner  %x/%y access/modification time as UTC "yyyy-MM-dd HH:mm:ss"
//   %X/%Y the same in milliseconds since the epoch.
// Any other character after % is printed as itself (so %% is a percent sign); a trailing lone %
// is dropped. `name` is the last path component ("" for the root).
std::string FormatStat(std::string_view format, const FileInfo& info, std::string_view name);

}  // namespace talus::shell
