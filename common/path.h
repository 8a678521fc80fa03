#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace talus {

// Limits every path that crosses a trust boundary is held to (POSIX NAME_MAX and PATH_MAX).
inline constexpr size_t kMaxNameBytes = 255;
inline constexpr size_t kMaxPathBytes = 4096;
// What the namenode's namespace accepts internally. A path that names an inode
// ("/.reserved/.inodes/<id>/<name>", see namenode/namespace/reserved_path.h) is held to
// kMaxPathBytes as sent, but the real path it stands for may be longer: the FUSE mount reaches
// directories of any depth by inode id. The namespace resolves real paths up to this limit.
inline constexpr size_t kMaxNamespacePathBytes = 64 * 1024;

// Checks a path as the namenode accepts it: absolute, no empty, "." or ".." components, no NUL
// byte, no component over kMaxNameBytes, at most kMaxPathBytes in all. "/" is valid. A trailing
// slash is rejected: clients normalize before sending. `max_bytes` is kMaxNamespacePathBytes
// only for real paths the namenode itself derived from an inode path.
Status ValidatePath(std::string_view path, size_t max_bytes = kMaxPathBytes);

// Checks one directory entry name (no '/', not "." or "..", no NUL, 1..kMaxNameBytes bytes).
Status ValidateName(std::string_view name);

// Splits a valid absolute path into its components; "/" gives an empty vector.
std::vector<std::string_view> SplitPath(std::string_view path);

// "/a/b/c" -> "/a/b"; "/a" -> "/"; "/" -> "/".
std::string_view ParentPath(std::string_view path);
// "/a/b/c" -> "c"; "/" -> "".
std::string_view BaseName(std::string_view path);
// Joins a directory path and a name: ("/", "a") -> "/a", ("/a", "b") -> "/a/b".
std::string JoinPath(std::string_view dir, std::string_view name);
// True when `descendant` is `ancestor` or lies below it ("/a" is under "/a" and "/", not "/ab").
bool IsSameOrUnder(std::string_view descendant, std::string_view ancestor);

// Client-side normalization of what a user typed: resolves a relative path against `working_dir`
// (itself absolute), collapses repeated slashes and drops a trailing slash. "." alone names the
// working directory. Other "." and ".." components are rejected with kInvalidArgument, as the
// namenode would reject them, rather than silently guessed at.
Result<std::string> NormalizeUserPath(std::string_view path, std::string_view working_dir);

}  // namespace talus
