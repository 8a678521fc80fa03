#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace talus::client {

// The unflushed changes of a file being rewritten in place, over its committed content: the
// byte ranges written (kept in memory) and the truncations. Pure bookkeeping, no I/O: what a
// range of the file holds now and which blocks a flush must rewrite. Not thread-safe.
//
// A truncation below the committed length hides the committed bytes above it for good (until
// the next commit): growing the file again shows zeros there, as POSIX requires, never the old
// bytes.
class DirtyExtents {
 public:
  explicit DirtyExtents(int64_t committed_length = 0) { Reset(committed_length); }

  // Forgets every change: `committed_length` is the file's length as committed now.
  void Reset(int64_t committed_length);

  void Write(int64_t offset, const void* data, size_t n);
  void Truncate(int64_t length);

  int64_t length() const { return length_; }
  int64_t committed_length() const { return committed_length_; }
  // Committed bytes below this offset are still the file's; above it they read as zeros.
  int64_t committed_visible() const {
    return low_water_ < committed_length_ ? low_water_ : committed_length_;
  }
  // Bytes held in memory for unflushed writes.
  size_t dirty_bytes() const { return dirty_bytes_; }
  // True when a flush has anything to commit (writes, or a length other than the committed).
  bool changed() const {
    return !extents_.empty() || length_ != committed_length_ || low_water_ < committed_length_;
  }

  // Reads from the committed file: `n` bytes at `offset` (below committed_visible()) into
  // `out`. Must fill all of them.
  using CommittedReader = std::function<Status(int64_t offset, size_t n, char* out)>;

  // Fills out[0, n) with the file's bytes at [offset, offset + n), which must lie within
  // length(): committed bytes not covered by a write come from `read_committed` (only the
  // ranges actually needed), holes are zeros, written ranges come from memory.
  Status Fill(int64_t offset, size_t n, char* out, const CommittedReader& read_committed) const;

  // One block a flush rewrites: its index in the file's block list, where it starts in the
  // file and its new length.
  struct BlockChange {
    int32_t index = 0;
    int64_t offset = 0;
    int64_t length = 0;
    bool operator==(const BlockChange&) const = default;
  };
  // The blocks whose content differs from the committed ones, given the committed blocks'
  // lengths (in file order) and the file's block size. Blocks past the new length are not
  // listed: the commit cuts them. Every block but the last of the new length is a full one.
  std::vector<BlockChange> ChangedBlocks(int64_t block_size,
                                         const std::vector<int64_t>& committed_block_lengths) const;

  // Written ranges as (offset, length), in order (tests).
  std::vector<std::pair<int64_t, int64_t>> Ranges() const;

 private:
  // Non-overlapping written ranges by start offset.
  std::map<int64_t, std::string> extents_;
  size_t dirty_bytes_ = 0;
  int64_t length_ = 0;
  int64_t committed_length_ = 0;
  int64_t low_water_ = 0;  // the lowest length truncated to since the last commit
};

}  // namespace talus::client
