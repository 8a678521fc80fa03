#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "datanode/storage/file_util.h"
#include "datanode/storage/replica_map.h"
#include "datanode/storage/volume.h"
#include "datanode/storage/volume_chooser.h"

// The replica store of one datanode: its volumes, the replica map and every operation the data
// path performs on replica files. No network here: the transfer server and the namenode
// protocol call into this.
namespace talus::datanode {

struct DataSetOptions {
  std::vector<std::string> volume_dirs;  // absolute paths, one per volume
  uint64_t reserved_bytes_per_volume = 0;
  // Space a new replica is assumed to need when its volume is chosen, since a write does not
  // say how large its block will grow: a volume with less remaining (after the reserve) takes
  // no new replica, so a block is not started where it cannot end. 0: only what CreateRbw's
  // caller expects.
  uint64_t expected_block_bytes = 0;
  uint64_t max_block_bytes = uint64_t{2} << 30;  // a replica never grows past this
  uint64_t max_io_bytes = uint64_t{16} << 20;    // one Append or Read moves at most this
  // At start-up, delete files that belong to no replica (a data file without its meta file or
  // the reverse, stale duplicates, temporary files). When false they are only reported.
  bool remove_orphans = true;
};

// What the start-up scan found, for logs and tests.
struct ScanReport {
  uint64_t finalized = 0;
  uint64_t rwr = 0;
  uint64_t duplicates_dropped = 0;
  std::vector<std::string> removed_files;
  std::vector<std::string> problems;       // each a sentence naming a file
  std::vector<std::string> failed_volumes;  // "dir: reason"
};

// A verified read: whole checksum chunks covering the requested range.
struct ReadResult {
  uint64_t aligned_offset = 0;  // replica offset of data[0], a multiple of 512
  uint64_t skip = 0;            // requested offset - aligned_offset
  std::string data;             // bytes [aligned_offset, aligned_offset + data.size())
  std::string checksums;        // 4 big-endian bytes per 512-byte chunk of data
  uint64_t replica_length = 0;  // visible length of the replica at the time of the read
};

// Open files for a zero-copy sender (sendfile). Not verified: the receiver checks checksums.
struct SendHandle {
  ScopedFd data_fd;
  ScopedFd meta_fd;
  uint64_t aligned_offset = 0;  // first data byte to send, a multiple of 512
  uint64_t end_offset = 0;      // one past the last data byte to send
  uint64_t meta_offset = 0;     // meta file offset of the checksum of the first chunk
  uint64_t replica_length = 0;
  uint64_t genstamp = 0;
};

// Thread-safe. Operations on different replicas run in parallel; on one replica they are
// serialized (reads share).
class DataSet {
 public:
  // Opens every volume, scans it and builds the replica map. A volume that cannot be opened or
  // scanned is left out and listed in report->failed_volumes; no usable volume is an error.
  static Result<std::unique_ptr<DataSet>> Open(const DataSetOptions& options,
                                               ScanReport* report);
  ~DataSet();

  // Creates an empty replica being written, on a volume chosen round robin among those with at
  // least max(expected_bytes, options.expected_block_bytes) (plus its meta file) remaining.
  // AlreadyExists if the block id is known; NoSpace (naming the volumes) if no volume has room.
  Result<ReplicaInfo> CreateRbw(uint64_t block_id, uint64_t genstamp, uint64_t expected_bytes);

  // Writes data at replica offset `offset` of an RBW replica. A write that fails (ENOSPC, EIO)
  // leaves the replica as it was: both files are cut back to its previous length. `checksums` are the CRC32Cs the
  // sender computed (4 big-endian bytes each) over chunks aligned on the replica's 512-byte
  // boundaries: when offset is not a multiple of 512 the first chunk covers only the bytes up
  // to the next boundary. They are verified (Corruption on mismatch, nothing written). offset
  // may lie anywhere in the last partial chunk (a resend after hflush) up to the end; the
  // stored checksum of that chunk is recomputed over old and new bytes. A range already wholly
  // on disk is accepted and ignored. Data reaches the OS page cache on return (hflush).
  Status Append(uint64_t block_id, uint64_t genstamp, uint64_t offset, std::string_view data,
                std::string_view checksums);
  // fdatasync of data and meta (hsync).
  Status Sync(uint64_t block_id, uint64_t genstamp);
  // RBW or RWR -> FINALIZED: both files synced, moved to finalized/ by rename, directories
  // synced. Finalizing a finalized replica of the same genstamp is a no-op.
  Result<ReplicaInfo> Finalize(uint64_t block_id, uint64_t genstamp);

  // Reads [offset, offset + length) with checksum verification; the replica must hold the
  // range. `genstamp` is the reader's: a replica with an older one is stale (InvalidArgument).
  Result<ReadResult> Read(uint64_t block_id, uint64_t genstamp, uint64_t offset,
                          uint64_t length);
  Result<SendHandle> OpenForSend(uint64_t block_id, uint64_t genstamp, uint64_t offset,
                                 uint64_t length);

  // Lease recovery: cuts an RBW or RWR replica to new_length (<= its length) durably.
  Status Truncate(uint64_t block_id, uint64_t genstamp, uint64_t new_length);
  // Renames the meta file to the new generation stamp (new_genstamp > old_genstamp).
  Status BumpGenstamp(uint64_t block_id, uint64_t old_genstamp, uint64_t new_genstamp);
  // Deletes the replica's files and forgets it. The genstamp must match.
  Status Delete(uint64_t block_id, uint64_t genstamp);
  // Reopens a finalized replica for appending, as RBW with new_genstamp (> old_genstamp).
  Result<ReplicaInfo> AppendToFinalized(uint64_t block_id, uint64_t old_genstamp,
                                        uint64_t new_genstamp);

  Result<ReplicaInfo> GetReplica(uint64_t block_id) const;
  // Every replica, sorted by block id (a full block report).
  std::vector<ReplicaInfo> Replicas() const { return map_.Snapshot(); }
  std::vector<Volume*> volumes() const;
  // Sums over the healthy volumes, for heartbeats.
  VolumeUsage TotalUsage() const;
  // "root: reason" for each failed volume.
  std::vector<std::string> FailedVolumes() const;
  const DataSetOptions& options() const { return options_; }

 private:
  explicit DataSet(DataSetOptions options) : options_(std::move(options)) {}

  // Scans one volume into `found`, cleaning what belongs to no replica.
  Status ScanVolume(Volume* v, std::vector<std::shared_ptr<Replica>>* found, ScanReport* report);
  Status RecoverRbw(Volume* v, Replica* r, ScanReport* report);
  void AddReplicaFromScan(std::shared_ptr<Replica> r, ScanReport* report);
  void DropReplicaFiles(const ReplicaInfo& info, ScanReport* report);

  // Looks up the replica and checks its genstamp equals `genstamp` (callers hold r->mu).
  Result<std::shared_ptr<Replica>> Lookup(uint64_t block_id) const;
  Status CheckGenstamp(const Replica& r, uint64_t genstamp, bool allow_newer) const;
  Status OpenRbwFiles(Replica* r);
  Status AppendLocked(Replica* r, uint64_t offset, std::string_view data,
                      std::string_view checksums);
  // Gives back up to `bytes` of the space reserved for `r` (all of it by default).
  void ReleaseReserved(Replica* r, uint64_t bytes = UINT64_MAX);
  // Cuts both files of `r` back to `length` bytes of data after a failed write.
  void RollBackAppend(Replica* r, uint64_t length);

  const DataSetOptions options_;
  std::vector<std::unique_ptr<Volume>> volumes_;
  RoundRobinVolumeChooser chooser_;
  ReplicaMap map_;
};

std::string BlockFileName(uint64_t block_id);
std::string MetaFileName(uint64_t block_id, uint64_t genstamp);

}  // namespace talus::datanode
