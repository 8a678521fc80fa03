#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
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
