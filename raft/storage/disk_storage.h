#pragma once

// DiskStorage: the durable state of one Raft member in a directory: the log (segment files of
// CRC-checked records, the layout of common/wal), the hard state (term, vote, commit) and the
// snapshot meta the log starts after. Implements raft::Storage for Core::Create.
//
// Durability: Append and SetHardState return once their data is on disk (fdatasync / fsync
// and rename), except that a change of commit alone is written without a sync (a lower commit
// after a crash is safe: it is learned again from the leader).
//
// Files in `dir` (all integers little-endian; state files are raft/storage/state_file.h's):
//   log-<first index, 20 digits>  segments: records carry (term, index, data); common/wal
//   hard_state     "TALUSRHS" term, vote, commit: replaced atomically (temp file, fsync,
//                  rename, fsync dir) whenever term or vote change
//   commit         "TALUSRCM" commit: overwritten in place WITHOUT a sync when only the commit
//                  changes; read back as max(hard_state.commit, commit), a damaged one ignored
//   snapshot_meta  "TALUSRSM" index, term, reset_pending: where the log starts; replaced
//                  atomically by Compact and ResetToSnapshot (reset_pending makes the reset
//                  atomic: Open finishes deleting the old log)
//   LOCK           flock'd while open (Busy for a second opener)
//
// Rules: Append writes a batch with one pwrite and one fdatasync (plus one sync of the cut
// when it replaces a suffix: later segments are deleted newest first and the directory
// synced, then the straddling segment truncated and synced, so a crash never leaves new
// records followed by old ones). Rejected inputs (gap, index <= snapshot index, indexes not
// consecutive, terms going down, entry over 16 MiB; a term going down or a second vote in a
// term; a compaction point outside the log or with the wrong term) change nothing. After an
// I/O error in the middle of a change every later change fails with that error: reopen.
// Only the last segment may end torn (cut off at Open); damage elsewhere, a hole between
// segments, a log starting after snapshot.index + 1, a term at snapshot.index differing from
// the meta's, or terms going down are Corruption. The log is indexed in memory (term and
// offset per entry); Entries reads each segment's run with one pread and re-verifies CRCs.
// Thread-safe (one mutex); LoadEntries CHECK-fails if the verified log cannot be read back.

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "raft/core/storage.h"

namespace talus::raft {

struct DiskStorageOptions {
  std::string dir;
  uint64_t segment_size_limit_bytes = 64ull << 20;
};

class DiskStorage final : public Storage {
 public:
  // Creates the directory when missing; verifies every segment; cuts a torn tail off the last
  // one (an unacknowledged write); Corruption for any other damage.
  static Result<std::unique_ptr<DiskStorage>> Open(DiskStorageOptions options);
  ~DiskStorage() override;

  // Storage.
  HardState LoadHardState() const override;
  SnapshotMeta LoadSnapshotMeta() const override;
  std::vector<Entry> LoadEntries() const override;

  // Durably appends entries; entries at or after the first one's index are replaced (their
  // suffix is cut off first). The first index must be <= LastIndex() + 1 and above the
  // snapshot index.
  Status Append(const std::vector<Entry>& entries);
  Status SetHardState(const HardState& hs);
  // Forgets entries up to and including meta.index (the state machine holds them durably);
  // whole segments below are deleted. meta.term must be the term of that entry.
  Status Compact(const SnapshotMeta& meta);
  // After a snapshot was installed: the log becomes empty and starts after meta.
  Status ResetToSnapshot(const SnapshotMeta& meta);

  Index FirstIndex() const;  // snapshot index + 1
  Index LastIndex() const;   // snapshot index when the log is empty
  // Entries [lo, hi) from disk or cache, at most max_bytes (at least one entry).
  Result<std::vector<Entry>> Entries(Index lo, Index hi, size_t max_bytes) const;

 private:
  class Impl;
  explicit DiskStorage(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace talus::raft
