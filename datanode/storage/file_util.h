#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"

// Small POSIX helpers for the replica store: every failure becomes a Status naming the path.
namespace talus::datanode {

// Owns a file descriptor; closes it on destruction.
class ScopedFd {
 public:
  ScopedFd() = default;
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() { Reset(); }
  ScopedFd(ScopedFd&& other) noexcept : fd_(other.Release()) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = other.Release();
    }
    return *this;
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset();

 private:
  int fd_ = -1;
};

Result<ScopedFd> OpenFile(const std::string& path, int flags, int mode = 0644);
// Writes all of data at offset (retrying short writes and EINTR).
Status PwriteAll(int fd, const void* data, size_t n, uint64_t offset, const std::string& what);
// Reads exactly n bytes at offset; a short file is Corruption (the caller expected the bytes).
Status PreadAll(int fd, void* data, size_t n, uint64_t offset, const std::string& what);
Result<uint64_t> FileSize(int fd, const std::string& what);
Result<uint64_t> FileSizeAt(const std::string& path);
Status Fdatasync(int fd, const std::string& what);
// fsync of a directory, so a rename or create inside it survives a crash.
Status FsyncDir(const std::string& dir);
Status MakeDirs(const std::string& dir);
Status RenameFile(const std::string& from, const std::string& to);
Status RemoveFile(const std::string& path);
// Writes the whole file durably: temporary file, fsync, rename, fsync of the directory.
Status WriteFileAtomically(const std::string& path, std::string_view contents);
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes);
std::string DirName(const std::string& path);

}  // namespace talus::datanode
