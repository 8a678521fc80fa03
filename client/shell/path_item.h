#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "talus/file_system.h"

namespace talus::shell {

// One path a command works on: where it lives, how the user should see it, and what the
// namenode said about it (nothing when it does not exist).
struct PathItem {
  FileSystem* fs = nullptr;  // owned by the ShellContext
  std::string display;       // as printed: relative stays relative, URIs stay URIs
  std::string path;          // absolute and valid
  std::optional<FileInfo> info;

  bool exists() const { return info.has_value(); }
  bool is_directory() const { return info && info->IsDirectory(); }
  // The last component of the path ("" for the root), as -stat %n prints it.
  std::string name() const;
  // The entry `child` of this directory, displayed below this item's display.
  PathItem Child(const FileInfo& child) const;
};

// How an entry below a displayed directory is displayed: "/a" + "b" -> "/a/b", "/" + "b" -> "/b",
// "." + "b" -> "b" (HDFS shows the working directory's entries by name alone).
std::string ChildDisplay(std::string_view parent_display, std::string_view name);

// What the user typed, tidied as HDFS prints it: repeated slashes collapsed and a trailing slash
// dropped ("/a//b/" -> "/a/b"), leaving "scheme://authority" prefixes alone.
std::string CleanDisplay(std::string_view arg);

// The display of the parent directory of `item`, or its absolute path when the display has no
// parent part (a bare relative name).
std::string ParentDisplay(const PathItem& item);

}  // namespace talus::shell
