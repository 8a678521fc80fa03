// Calls served on a datanode's RPC port (Thrift, like the namenode's): small control calls from
// clients and other datanodes. Bulk data never goes here; it uses the data port's transfer
// protocol (common/transfer/protocol.h).
namespace cpp talus.rpc

include "common.thrift"
include "datanode_namenode.thrift"

struct ReplicaRecoveryInfo {
  1: required i64 block_id,
  2: required i64 generation_stamp,
  3: required i64 num_bytes,
  4: required datanode_namenode.ReplicaState state,
}

service DatanodeProtocol {
  // Bytes of a replica being written that every node of its pipeline has acknowledged (what a
  // reader of a file under construction may read); a finalized replica's length.
  i64 getReplicaVisibleLength(1: common.ExtendedBlock block) throws (1: common.TalusError e),

  // Lease recovery, primary datanode -> each location (itself included). Stops any writer of the
  // replica and returns its state. recovery_id is the new generation stamp; a replica already
  // under a newer recovery refuses (INVALID_ARGUMENT). NOT_FOUND when the node has no replica.
  ReplicaRecoveryInfo initReplicaRecovery(1: common.ExtendedBlock block, 2: i64 recovery_id)
      throws (1: common.TalusError e),
  // Cuts the replica to new_length, moves it to recovery_id and finalizes it durably. Returns
  // the replica as it now is.
  common.ExtendedBlock updateReplicaUnderRecovery(1: common.ExtendedBlock block,
                                                  2: i64 recovery_id, 3: i64 new_length)
      throws (1: common.TalusError e),
}
