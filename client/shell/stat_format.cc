#include "client/shell/stat_format.h"

#include "client/shell/format.h"

namespace talus::shell {

namespace {

const char* TypeName(FileType type) {
  switch (type) {
    case FileType::kDirectory:
      return "directory";
    case FileType::kFile:
      return "regular file";
    case FileType::kSymlink:
      return "symlink";
  }
  return "unknown";
}

}  // namespace

std::string FormatStat(std::string_view format, const FileInfo& info, std::string_view name) {
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    if (i + 1 == format.size()) break;
    char spec = format[++i];
    switch (spec) {
      case 'a':
        out += OctalMode(info.mode);
        break;
      case 'A':
        out += PermissionString(info.mode);
        break;
      case 'b':
        out += std::to_string(info.length);
        break;
      case 'F':
        out += TypeName(info.type);
        break;
      case 'g':
        out += info.group;
        break;
      case 'n':
        out += name;
        break;
      case 'o':
        out += std::to_string(info.block_size);
        break;
      case 'r':
        out += std::to_string(info.replication);
        break;
      case 'u':
        out += info.owner;
        break;
      case 'x':
        out += FormatUtcSecond(info.atime);
        break;
      case 'X':
        out += std::to_string(ToMillis(info.atime));
        break;
      case 'y':
        out += FormatUtcSecond(info.mtime);
        break;
      case 'Y':
        out += std::to_string(ToMillis(info.mtime));
        break;
      default:
        out += spec;
        break;
    }
  }
  return out;
}

}  // namespace talus::shell
