#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "common/result.h"
#include "common/status.h"

// One data directory of a datanode. Layout (written to disk):
//   <root>/current/VERSION                        storage id and layout version (key=value lines)
//   <root>/current/rbw/blk_<id>                   replicas being written, beside
//   <root>/current/rbw/blk_<id>_<genstamp>.meta   their checksum files
//   <root>/current/finalized/subdir<a>/subdir<b>/blk_<id> and blk_<id>_<genstamp>.meta
// where a = (id >> 16) & 31 and b = (id >> 8) & 31, so at most 1024 leaf directories and no
// directory grows huge.
namespace talus::datanode {

inline constexpr int kLayoutVersion = 1;

struct VolumeUsage {
  uint64_t capacity_bytes = 0;   // file system size minus the reserved bytes
  uint64_t used_bytes = 0;       // bytes of replicas (data + meta) on this volume
  uint64_t remaining_bytes = 0;  // free space available to us minus the reserved bytes and
                                 // the space promised to replicas being written
};

// Thread-safe.
class Volume {
 public:
  // Opens (creating on first use) the volume at `root`; `reserved_bytes` of the file system are
  // left for others and never counted as capacity or remaining.
  static Result<std::unique_ptr<Volume>> Open(const std::string& root, uint64_t reserved_bytes);

  const std::string& root() const { return root_; }
  const std::string& storage_id() const { return storage_id_; }
  std::string rbw_dir() const { return root_ + "/current/rbw"; }
  std::string finalized_dir() const { return root_ + "/current/finalized"; }
  // The finalized directory holding block `block_id` (not necessarily created yet).
  std::string FinalizedDirFor(uint64_t block_id) const;

  Result<VolumeUsage> Usage() const;
  void AddUsedBytes(int64_t delta) { used_bytes_.fetch_add(delta); }
  uint64_t used_bytes() const {
    int64_t v = used_bytes_.load();
    return v < 0 ? 0 : static_cast<uint64_t>(v);
  }

  // Space promised to replicas being written (a whole block each, less what they already
  // wrote), as HDFS reserves it: not counted as remaining, so concurrent new replicas do not
  // all pick a volume with room for one.
  void Reserve(uint64_t bytes) { reserved_for_replicas_.fetch_add(static_cast<int64_t>(bytes)); }
  void Release(uint64_t bytes) { reserved_for_replicas_.fetch_sub(static_cast<int64_t>(bytes)); }
  uint64_t reserved_for_replicas() const {
    int64_t v = reserved_for_replicas_.load();
    return v < 0 ? 0 : static_cast<uint64_t>(v);
  }

  bool failed() const { return failed_.load(); }
  std::string failure_reason() const;
  void MarkFailed(const std::string& reason);
  // Returns `s` unchanged, first marking the volume failed if `s` is an I/O error (EIO and kin,
  // not ENOSPC or a missing file), so one bad disk stops taking new replicas.
  Status CheckIo(Status s);

 private:
  Volume(std::string root, uint64_t reserved_bytes, std::string storage_id)
      : root_(std::move(root)), reserved_bytes_(reserved_bytes),
        storage_id_(std::move(storage_id)) {}

  const std::string root_;
  const uint64_t reserved_bytes_;
  const std::string storage_id_;
  std::atomic<int64_t> used_bytes_{0};
  std::atomic<int64_t> reserved_for_replicas_{0};
  std::atomic<bool> failed_{false};
  mutable std::mutex mu_;
  std::string failure_reason_;  // guarded by mu_
};

// "DS-" followed by a random version-4 UUID.
std::string NewStorageId();

}  // namespace talus::datanode
