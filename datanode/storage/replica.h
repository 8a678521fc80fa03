#pragma once

#include <cstdint>
#include <shared_mutex>
#include <string>

#include "datanode/storage/file_util.h"

namespace talus::datanode {

class Volume;

enum class ReplicaState {
  kFinalized,  // complete and immutable (until an append reopens it)
  kRbw,        // being written by a pipeline
  kRwr,        // was being written when the datanode stopped: waits for lease recovery
};
const char* ReplicaStateName(ReplicaState s);

// A copy of what the datanode knows of one replica, for reports and callers.
struct ReplicaInfo {
  uint64_t block_id = 0;
  uint64_t genstamp = 0;
  ReplicaState state = ReplicaState::kFinalized;
  uint64_t bytes_on_disk = 0;  // data bytes written and checksummed
  Volume* volume = nullptr;
  std::string data_path;
  std::string meta_path;
};

// The live record of a replica. Fields other than block_id are guarded by mu: exclusive to
// change the replica (write, rename, delete), shared to read it.
struct Replica {
  const uint64_t block_id;
  mutable std::shared_mutex mu;
  ReplicaInfo info;  // info.block_id == block_id
  // Open files of an RBW replica, so appends need no open; invalid otherwise.
  ScopedFd data_fd;
  ScopedFd meta_fd;
  bool deleted = false;  // set when removed from the map; later operations get NotFound
  // Data bytes [0, writeback_started) have been handed to the kernel's writeback (see
  // DataSet::AppendLocked), so the fsync at finalize has little left to do.
  uint64_t writeback_started = 0;
  // Space still reserved on the volume for this replica being written (Volume::Reserve): set
  // at creation, shrunk as data arrives, released when it is finalized or deleted.
  uint64_t reserved = 0;

  explicit Replica(uint64_t id) : block_id(id) { info.block_id = id; }
};

}  // namespace talus::datanode
