#pragma once

#include <string>

#include "common/result.h"

namespace talus::cluster {

// The whole file; NotFound if it does not exist.
Result<std::string> ReadFileToString(const std::string& path);

// Replaces `path` with `contents` so that readers see the old or the new file, never a part:
// writes PATH.tmp, fsyncs it and renames it over PATH.
Status WriteFileAtomically(const std::string& path, const std::string& contents);

// Appends `text` to `path`, creating it if needed.
Status AppendToFile(const std::string& path, const std::string& text);

// mkdir -p.
Status CreateDirectories(const std::string& path);

// Removes a file; a file that does not exist is not an error.
Status RemoveFileIfExists(const std::string& path);

// The last `max_lines` lines of `path` that follow the last line starting with `marker` (all
// of the file when `marker` is empty or absent), each indented by two spaces. Empty if the file
// is missing or empty. Reads at most the last 64 KiB, so a huge log costs nothing.
std::string TailOfFile(const std::string& path, int max_lines, const std::string& marker = "");

// `path` made absolute against the current directory, with "." and ".." components and
// repeated slashes resolved lexically (symbolic links are kept as they are).
Result<std::string> AbsolutePath(const std::string& path);

}  // namespace talus::cluster
