#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace talus {

inline constexpr uint64_t kRootInodeId = 1;  // also FUSE_ROOT_ID, so the mount maps 1:1

enum class InodeType : int32_t { kFile = 1, kDirectory = 2, kSymlink = 3 };

struct NsTime {
  int64_t sec = 0;
  int32_t nsec = 0;
  bool operator==(const NsTime&) const = default;
};

struct BlockInfo {
  int64_t block_id = 0;
  int64_t generation_stamp = 0;
  int64_t num_bytes = 0;
};

// A file, directory or symlink as the namespace stores it (the core type; the LevelDB record
// and the wire FileStatus are converted from and to it in codecs).
struct Inode {
  uint64_t id = 0;
  uint64_t parent_id = 0;
  std::string name;
  InodeType type = InodeType::kFile;
  uint32_t mode = 0;  // permission bits 07777
  std::string owner;
  std::string group;
  NsTime mtime;
  NsTime atime;
  NsTime ctime;
  int16_t replication = 0;
  int64_t block_size = 0;
  int64_t length = 0;
  std::vector<BlockInfo> blocks;
  std::string lease_holder;  // non-empty while under construction
  std::string symlink_target;
  // Copy-on-write (openForOverwrite/allocateBlock/commitBlocks): blocks allocated to the lease
  // holder and not committed yet; they are not part of the file's contents.
  std::vector<BlockInfo> pending_blocks;
  // The lease is a copy-on-write one: every block in `blocks` is complete (none is being
  // streamed), so readers see them all as final and lease expiry needs no block recovery.
  bool overwriting = false;

  bool IsDirectory() const { return type == InodeType::kDirectory; }
  bool IsFile() const { return type == InodeType::kFile; }
  bool IsSymlink() const { return type == InodeType::kSymlink; }
  bool UnderConstruction() const { return !lease_holder.empty(); }
  // No block of the file is being streamed: closed, held for copy-on-write, or without blocks.
  bool BlocksAllComplete() const { return !UnderConstruction() || overwriting || blocks.empty(); }
};

}  // namespace talus
