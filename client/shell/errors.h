#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace talus::shell {

// The one place where a Status becomes the words HDFS users know. Every error the shell prints
// goes through here, so `talus dfs` says "No such file or directory" whichever command failed.

// The text for `status` alone: "No such file or directory", "File exists", "Is a directory",
// "Is not a directory", "Directory is not empty", "Permission denied: user=...", ...; the
// namenode's explanation is kept where the code alone would not say what is wrong (invalid
// paths, permissions, I/O errors).
std::string DescribeStatus(const Status& status);

// A Status whose message is what the shell prints after "cmd: ", for a failure on one path:
// "`/a/b': No such file or directory". Failures that are not about the path (an unreachable
// namenode, a permission error that names its own inode) are not given the path prefix.
Status PathError(std::string_view display, const Status& cause);
// A failure the shell itself detected, e.g. PathError("/a", ErrorCode::kIsADirectory).
Status PathError(std::string_view display, ErrorCode code);
// A failure with custom text: "`/a': Not a zero-length file".
Status PathError(std::string_view display, std::string_view text);

// A failure involving two paths: "`/a' to `/b/a': is a subdirectory of itself".
Status PathPairError(std::string_view from, std::string_view to, std::string_view text);
Status PathPairError(std::string_view from, std::string_view to, const Status& cause);

// "Cannot connect ..."-style errors that apply to the whole command rather than one path.
bool IsConnectionError(const Status& status);

}  // namespace talus::shell
