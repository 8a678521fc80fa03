#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "datanode/server/namenode_link.h"
#include "datanode/server/replica_recovery.h"

// The primary datanode's side of lease recovery (HDFS BlockRecoveryWorker): ask every location
// for its replica, agree on a length, have each cut and finalize its replica, and tell the
// namenode the outcome.
namespace talus::datanode {

// The replicas' holders, reached over their DatanodeProtocol.
class RecoveryPeers {
 public:
  virtual ~RecoveryPeers() = default;
  virtual Result<RecoveryReplica> Init(const PeerId& peer, const BlockRef& block,
                                       uint64_t recovery_id) = 0;
  virtual Result<RecoveryReplica> Update(const PeerId& peer, const BlockRef& block,
                                         uint64_t recovery_id, uint64_t new_length) = 0;
};

// Peers over Thrift; this node itself (by storage id) is called directly.
class ThriftRecoveryPeers : public RecoveryPeers {
 public:
  ThriftRecoveryPeers(std::string self_storage_id, ReplicaRecovery* self, int timeout_ms)
      : self_storage_id_(std::move(self_storage_id)), self_(self), timeout_ms_(timeout_ms) {}
  Result<RecoveryReplica> Init(const PeerId& peer, const BlockRef& block,
                               uint64_t recovery_id) override;
  Result<RecoveryReplica> Update(const PeerId& peer, const BlockRef& block, uint64_t recovery_id,
                                 uint64_t new_length) override;

 private:
  const std::string self_storage_id_;
  ReplicaRecovery* const self_;
  const int timeout_ms_;
};

using CommitFn = std::function<Status(const BlockRef& old_block, const BlockRef& new_block,
                                      const std::vector<std::string>& storage_ids,
                                      bool close_file, bool delete_block)>;

// Runs one recovery to its commit. Fails (and commits nothing; the namenode asks again later)
// when no location could be reached, the finalized replicas disagree, or no replica could be
// updated.
Status RecoverBlock(const RecoveryCommand& command, RecoveryPeers* peers, const CommitFn& commit);

}  // namespace talus::datanode
