#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <vector>

#include "common/result.h"

// File-level pieces of a write-ahead log kept as segment files (the namenode's LocalJournal,
// raft::DiskStorage): segment names, listing, reading and verifying a segment, appending to
// one, and the POSIX calls that make those durable.
namespace talus::wal {

// "log-" followed by the first index, zero-padded to 20 digits, so names sort by index.
std::string SegmentFileName(uint64_t first_index);
// True, with *first_index set, when `name` is exactly a segment file name.
bool ParseSegmentFileName(std::string_view name, uint64_t* first_index);
// Names a segment has while its header is being written, before it is renamed into place.
bool IsTemporarySegmentName(std::string_view name);

// What ScanSegment found in one segment file.
struct SegmentScan {
  uint64_t first_index = 0;
  uint64_t last_index = 0;   // first_index - 1 when the segment holds no record
  uint64_t valid_bytes = 0;  // the header plus every record that verified, in order
  uint64_t file_bytes = 0;
  // Empty when the whole file verified; otherwise why the bytes at valid_bytes are not a
  // record (a torn write if this is the last segment, damage otherwise).
  std::string damage;
};

// Called for each verified record in index order; a non-OK Status stops the scan.
using RecordVisitor =
    std::function<Status(uint64_t term, uint64_t index, std::string_view payload)>;

// Reads `path` and verifies its header (which must name `expected_first_index`) and its
// records, stopping at the first record that does not verify (reported in `damage`).
// A record that verifies but does not carry the next index is Corruption. `visit`, when set,
// sees every verified record.
Result<SegmentScan> ScanSegment(const std::string& path, uint64_t expected_first_index,
                                const RecordVisitor& visit);

// Appends to one segment file. Not thread-safe: one writer owns it.
class SegmentWriter {
 public:
  // Creates the segment for `first_index` in `dir`: the header is written to a temporary
  // name, synced and renamed into place, and the directory synced, so a segment file always
  // has a complete header.
  static Result<std::unique_ptr<SegmentWriter>> Create(const std::string& dir,
                                                      uint64_t first_index);
  // Opens an existing segment to append after its first `valid_bytes` bytes; anything beyond
  // (a torn tail) is cut off and the cut made durable.
  static Result<std::unique_ptr<SegmentWriter>> OpenForAppend(const std::string& dir,
                                                             uint64_t first_index,
                                                             uint64_t valid_bytes);
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Writes all of `data` at the end of the records (not yet durable). The file is kept
  // zero-filled ahead of the records in kPreallocateBytes steps, so that most syncs write
  // data only: on ext4 a sync that also grows the file costs a second, metadata write.
  Status Append(std::string_view data);
  // Cuts the zero-filled room off the end and syncs, before the log moves on to a new
  // segment: only the last segment may end in something that is not a record.
  Status Seal();
  // Makes everything appended so far durable (fdatasync).
  Status Sync();
  // Cuts the file back to `size` bytes (not yet durable: Sync after): used to drop a batch
  // whose write or sync failed, or a suffix of records that is being replaced.
  Status TruncateTo(uint64_t size);

  uint64_t size() const { return size_; }
  uint64_t first_index() const { return first_index_; }
  const std::string& path() const { return path_; }

 private:
  SegmentWriter(int fd, std::string path, uint64_t first_index, uint64_t size)
      : fd_(fd), path_(std::move(path)), first_index_(first_index), size_(size), allocated_(size) {}

  int fd_;
  std::string path_;
  uint64_t first_index_;
  uint64_t size_;       // bytes of header and records
  uint64_t allocated_;  // bytes in the file: size_ plus zero-filled room
};

inline constexpr uint64_t kPreallocateBytes = 1 << 20;

// fsync()s a directory so that files created, renamed or removed in it stay so.
Status FsyncDirectory(const std::string& dir);

// dir + "/" + SegmentFileName(first_index).
std::string SegmentPath(const std::string& dir, uint64_t first_index);

// Creates `dir` if needed, syncing its parent so that a new directory itself survives a crash.
Status EnsureDirectory(const std::string& dir);

// Lists the segment files of `dir` by first index, oldest first, removing (and syncing the
// removal of) leftovers of an interrupted segment creation.
Status ListSegments(const std::string& dir, std::vector<uint64_t>* first_indexes);

// Removes the named segments, in the order given, then syncs the directory once.
Status RemoveSegments(const std::string& dir, const std::vector<uint64_t>& first_indexes);

}  // namespace talus::wal
