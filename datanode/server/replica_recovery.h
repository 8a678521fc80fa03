#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "datanode/storage/dataset.h"
#include "datanode/storage/replica.h"

// Lease recovery on the datanode side (HDFS: initReplicaRecovery / updateReplicaUnderRecovery
// and the primary's syncBlock). No Thrift here: the RPC service and the primary's worker call
// in.
namespace talus::datanode {

class ReplicaEvents;

// A block at one version, as the namenode and peers name it.
struct BlockRef {
  uint64_t id = 0;
  uint64_t genstamp = 0;
  uint64_t num_bytes = 0;
};

// What one replica holds when its recovery starts.
struct RecoveryReplica {
  uint64_t block_id = 0;
  uint64_t genstamp = 0;
  uint64_t num_bytes = 0;
  ReplicaState state = ReplicaState::kRbw;
};

// This node's half of a recovery: stops the writer, reports the replica, then cuts, restamps
// and finalizes it. Thread-safe.
class ReplicaRecovery {
 public:
  // `stop_writer` aborts any write in progress on a block and returns once it has stopped;
  // `events` hears of each replica finalized by a recovery (for the incremental report).
  ReplicaRecovery(DataSet* data, std::function<void(uint64_t)> stop_writer,
                  ReplicaEvents* events);

  // Starts recovery `recovery_id` (the new generation stamp) of `block`. NotFound when this
  // node has no replica; InvalidArgument when the replica is older than `block` or already
  // at or under a recovery not older than recovery_id.
  Result<RecoveryReplica> Init(const BlockRef& block, uint64_t recovery_id);
  // Cuts the replica to new_length, moves it to recovery_id and finalizes it durably. The
  // replica must be under that very recovery (Init), or already its result (a retry).
  Result<RecoveryReplica> Update(const BlockRef& block, uint64_t recovery_id,
                                 uint64_t new_length);

 private:
  DataSet* const data_;
  const std::function<void(uint64_t)> stop_writer_;
  ReplicaEvents* const events_;
  std::mutex mu_;
  std::map<uint64_t, uint64_t> recovery_ids_;  // block id -> newest recovery started; mu_
};

// One location's answer to Init.
struct RecoveryAnswer {
  std::string storage_id;
  RecoveryReplica replica;
};

// What the primary does with the answers.
struct RecoveryPlan {
  bool delete_block = false;         // no replica has the block: drop it from the file
  uint64_t length = 0;               // the agreed length
  std::vector<size_t> participants;  // indexes into the answers: replicas to update
};

// The HDFS rule: when some replica is FINALIZED its length wins (finalized replicas of another
// length are corrupt: Corruption) and RBW replicas at least that long join it; otherwise RBW
// replicas (or, when there are none, RWR ones) agree on the shortest length among them.
// Replicas older than `block_genstamp` never take part. No answers: delete_block.
Result<RecoveryPlan> PlanRecovery(uint64_t block_genstamp,
                                  const std::vector<RecoveryAnswer>& answers);

}  // namespace talus::datanode
