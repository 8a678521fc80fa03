// Datanode <-> namenode: registration, heartbeats (commands come back in the reply), reports.
namespace cpp talus.rpc

include "common.thrift"

struct StorageReport {
  1: required string volume_id,
  2: required i64 capacity,
  3: required i64 used,
  4: required i64 remaining,
  5: required bool failed,
}

enum DatanodeCommandType {
  DELETE_BLOCKS = 1,
  REPLICATE_BLOCKS = 2,
  RECOVER_BLOCKS = 3,
  REREGISTER = 4,
}

struct BlockTransfer {
  1: required common.ExtendedBlock block,
  2: required list<common.DatanodeId> targets,
}

// One block whose lease holder is gone: the primary datanode (the one receiving the command)
// asks every location for its replica, agrees on the length the live ones hold in common,
// cuts and finalizes them under new_generation_stamp, then calls commitBlockSynchronization.
struct RecoveringBlock {
  1: required common.ExtendedBlock block,
  2: required i64 new_generation_stamp,
  3: required list<common.DatanodeId> locations,
}

struct DatanodeCommand {
  1: required DatanodeCommandType type,
  2: optional list<common.ExtendedBlock> blocks,        // DELETE_BLOCKS, RECOVER_BLOCKS
  3: optional list<BlockTransfer> transfers,            // REPLICATE_BLOCKS
  4: optional i64 new_generation_stamp,                 // unused; see recoveries
  5: optional list<RecoveringBlock> recoveries,         // RECOVER_BLOCKS
}

struct HeartbeatResponse {
  1: required list<DatanodeCommand> commands,
  2: required bool from_leader,   // only the leader's commands are carried out
  3: optional string leader_hint,
}

enum ReplicaState {
  FINALIZED = 1,
  RBW = 2,        // being written
  RWR = 3,        // was being written when its datanode restarted; waits for recovery
}

struct ReportedReplica {
  1: required common.ExtendedBlock block,
  2: required ReplicaState state,
}

enum ReceivedDeletedStatus {
  RECEIVING = 1,
  RECEIVED = 2,
  DELETED = 3,
}

struct ReceivedDeletedBlock {
  1: required common.ExtendedBlock block,
  2: required ReceivedDeletedStatus status,
}

service DatanodeNamenode {
  // Returns the registration as the namenode records it (it may fill in the host it saw).
  common.DatanodeId registerDatanode(1: common.DatanodeId id, 2: string cluster_id)
      throws (1: common.TalusError e),
  HeartbeatResponse heartbeat(1: common.DatanodeId id, 2: list<StorageReport> reports,
                              3: i32 active_transfers, 4: i32 failed_volumes)
      throws (1: common.TalusError e),
  void blockReport(1: common.DatanodeId id, 2: string volume_id,
                   3: list<ReportedReplica> replicas) throws (1: common.TalusError e),
  void blockReceivedAndDeleted(1: common.DatanodeId id, 2: list<ReceivedDeletedBlock> blocks)
      throws (1: common.TalusError e),
  void reportBadBlocks(1: common.DatanodeId id, 2: list<common.ExtendedBlock> blocks)
      throws (1: common.TalusError e),
  // The outcome of a RECOVER_BLOCKS command. new_block carries the recovery's generation stamp
  // and the agreed length; storage_ids are the datanodes whose replicas now hold exactly that,
  // finalized. close_file: the file is closed with this as its last block. delete_block: no
  // replica survived with data; the (empty) block is dropped from the file instead.
  void commitBlockSynchronization(1: common.DatanodeId id, 2: common.ExtendedBlock old_block,
                                  3: common.ExtendedBlock new_block, 4: list<string> storage_ids,
                                  5: bool close_file, 6: bool delete_block)
      throws (1: common.TalusError e),
}
