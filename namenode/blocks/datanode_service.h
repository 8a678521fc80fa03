#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "common/thread_pool.h"
#include "namenode/blocks/block_map.h"
#include "namenode/blocks/datanode_manager.h"
#include "talus_rpc/DatanodeNamenode.h"

namespace talus::blocks {

// The DatanodeNamenode Thrift service: validates and converts what datanodes send, delegates to
// DatanodeManager and BlockMap, converts the answer. Every call answers at once on the calling
// thread (nothing here waits on the journal). Thread-safe as its two delegates are.
//
// Dead nodes are collected by the block manager's monitor each pass; heartbeats also run
// BlockMap::HandleDeadDatanodes at most once per heartbeat interval, so a dead node's replicas
// leave the map promptly even with a long monitor interval.
class DatanodeService : public rpc::DatanodeNamenodeCobSvIf {
 public:
  using ExnCob = std::function<void(apache::thrift::TDelayedException*)>;
  template <typename T>
  using Cob = std::function<void(const T&)>;

  // `cluster_id` empty accepts any; otherwise a registration must carry the same id.
  DatanodeService(DatanodeManager* datanodes, BlockMap* block_map, const Clock* clock,
                  std::string cluster_id);

  // Lease recovery's outcome (commitBlockSynchronization) goes to `handler`, which journals and
  // so may block: it runs on `pool`. Set before serving; both must outlive the service.
  using CommitBlockSyncHandler =
      std::function<Status(const Block& old_block, const Block& new_block,
                           const std::vector<std::string>& storage_ids, bool close_file,
                           bool delete_block)>;
  // Whether this namenode leads its Raft group now (and holds its read lease): heartbeat answers
  // carry commands, and say from_leader, only then. Unset: always (a single namenode). Set
  // before serving. `hint` names the leader for the others.
  void SetLeaderCheck(std::function<bool()> is_leader, std::function<std::string()> hint) {
    is_leader_ = std::move(is_leader);
    leader_hint_ = std::move(hint);
  }
  void SetCommitBlockSyncHandler(CommitBlockSyncHandler handler, ThreadPool* pool) {
    commit_block_sync_ = std::move(handler);
    commit_pool_ = pool;
  }

  void registerDatanode(Cob<rpc::DatanodeId> cob, ExnCob exn_cob, const rpc::DatanodeId& id,
                        const std::string& cluster_id) override;
  void heartbeat(Cob<rpc::HeartbeatResponse> cob, ExnCob exn_cob, const rpc::DatanodeId& id,
                 const std::vector<rpc::StorageReport>& reports, int32_t active_transfers,
                 int32_t failed_volumes) override;
  void blockReport(std::function<void()> cob, ExnCob exn_cob, const rpc::DatanodeId& id,
                   const std::string& volume_id,
                   const std::vector<rpc::ReportedReplica>& replicas) override;
  void blockReceivedAndDeleted(std::function<void()> cob, ExnCob exn_cob,
                               const rpc::DatanodeId& id,
                               const std::vector<rpc::ReceivedDeletedBlock>& blocks) override;
  void reportBadBlocks(std::function<void()> cob, ExnCob exn_cob, const rpc::DatanodeId& id,
                       const std::vector<rpc::ExtendedBlock>& blocks) override;

  void commitBlockSynchronization(std::function<void()> cob, ExnCob exn_cob,
                                  const rpc::DatanodeId& id, const rpc::ExtendedBlock& old_block,
                                  const rpc::ExtendedBlock& new_block,
                                  const std::vector<std::string>& storage_ids, bool close_file,
                                  bool delete_block) override;

  // Conversions, public for the client-facing handlers (getBlockLocations, addBlock).
  static Block FromThrift(const rpc::ExtendedBlock& block);
  static rpc::ExtendedBlock ToThrift(const Block& block);
  static rpc::DatanodeId ToThrift(const DatanodeRegistration& registration);

 private:
  void MaybeCollectDead();

  DatanodeManager* const datanodes_;
  BlockMap* const block_map_;
  const Clock* const clock_;
  const std::string cluster_id_;
  std::atomic<int64_t> last_dead_scan_ms_{0};
  CommitBlockSyncHandler commit_block_sync_;
  ThreadPool* commit_pool_ = nullptr;
  std::function<bool()> is_leader_;
  std::function<std::string()> leader_hint_;
};

}  // namespace talus::blocks
