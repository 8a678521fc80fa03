#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "fuse/inode_table.h"
#include "talus/file_system.h"

namespace talus::fuse {

// An open file (fuse_file_info::fh points to one).
struct FileHandle {
  std::shared_ptr<InodeState> inode;
  std::shared_ptr<FileSystem> fs;  // of the user who opened it
  int flags = 0;

  std::mutex mu;  // guards the stream fields
  // Opened at the first read on ".../<id>"; reopened when the inode's data_version moves on.
  std::shared_ptr<InputStream> stream;
  uint64_t stream_version = 0;
};

// Open files by number. fuse_file_info::fh carries the number, never a pointer: a FLUSH or
// WRITE still running when the kernel sends RELEASE for the same handle (a close interrupted by
// a signal lets the kernel release while the daemon still works on the flush) keeps the handle
// alive until it returns, and a stray or repeated number finds nothing instead of freed memory.
class FileHandleRegistry {
 public:
  uint64_t Add(std::shared_ptr<FileHandle> handle) {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t number = next_++;
    handles_.emplace(number, std::move(handle));
    return number;
  }
  // Null when the number names no open handle.
  std::shared_ptr<FileHandle> Get(uint64_t number) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = handles_.find(number);
    return it == handles_.end() ? nullptr : it->second;
  }
  std::shared_ptr<FileHandle> Remove(uint64_t number) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = handles_.find(number);
    if (it == handles_.end()) return nullptr;
    std::shared_ptr<FileHandle> handle = std::move(it->second);
    handles_.erase(it);
    return handle;
  }

 private:
  mutable std::mutex mu_;
  uint64_t next_ = 1;
  std::unordered_map<uint64_t, std::shared_ptr<FileHandle>> handles_;  // guarded by mu_
};

// An open directory: a snapshot of its entries taken at the first readdir (and again at each
// rewind), so offsets stay stable across pages however the directory changes meanwhile.
struct DirHandle {
  uint64_t id = 0;
  std::shared_ptr<FileSystem> fs;
  std::mutex mu;
  bool loaded = false;
  std::vector<FileInfo> entries;
};

}  // namespace talus::fuse
