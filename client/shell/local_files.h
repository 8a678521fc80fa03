#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "talus/file_system.h"

namespace talus::shell {

// The local side of -put, -get, -appendToFile and -getmerge: plain POSIX calls whose failures
// come back as Status values with the errno's meaning, ready for PathError.

// Bytes per read or write when copying between the local disk and the cluster: large enough
// that a copy is a few system calls and packets per MiB, small enough to stay in cache.
constexpr size_t kCopyBufferBytes = 4 << 20;

Status ErrnoStatus(int err, const std::string& what = "");

// What lstat says about a local path; nullopt when nothing is there.
Result<std::optional<struct stat>> StatLocal(const std::string& path);

// Names in a local directory (no "." or ".."), sorted.
Result<std::vector<std::string>> ListLocalDirectory(const std::string& path);

// The local paths a pattern names: the pattern itself when it has no glob characters (whether
// or not it exists), else its matches, sorted (none: empty).
Result<std::vector<std::string>> ExpandLocalGlob(const std::string& pattern);

// The last component of a local or cluster path ("/a/b/" -> "b").
std::string BaseName(const std::string& path);
// "dir" + "name" with one slash between.
std::string JoinLocal(const std::string& dir, const std::string& name);
// The directory part of a local path ("a" -> ".", "/a" -> "/").
std::string LocalParent(const std::string& path);

// Writes all of `data`, retrying short writes and EINTR.
Status WriteFully(int fd, const void* data, size_t n);
// Reads up to n bytes, retrying EINTR; 0 at end of file.
Result<size_t> ReadSome(int fd, void* data, size_t n);

Timestamp ToTimestamp(const struct timespec& ts);

// A file descriptor closed on destruction.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd();
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&& other) noexcept;
  int get() const { return fd_; }
  // Closes now and reports what close said (the last chance to see a write error).
  Status Close();

 private:
  int fd_;
};

}  // namespace talus::shell
