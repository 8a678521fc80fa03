#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/result.h"
#include "namenode/blocks/block_types.h"
#include "namenode/blocks/datanode_manager.h"

namespace talus::blocks {

struct ReplicaLocation {
  DatanodeIndex node = 0;
  ReplicaState state = ReplicaState::kFinalized;
};

// A block with the replicas the map knows of (on dead nodes too, until they are collected).
// Replicas known corrupt or being deleted are not locations, unless nothing else is left: then a
// complete block lists its replicas being deleted (they may still be there), or failing that its
// corrupt ones with `corrupt` set, so a reader fails with a checksum error instead of finding
// nothing (HDFS's LocatedBlock.isCorrupt).
struct LocatedBlock {
  Block block;
  int64_t inode_id = 0;
  int32_t expected_replication = 0;
  bool complete = false;
  bool corrupt = false;  // every location listed is a replica known corrupt
  std::vector<ReplicaLocation> replicas;
};

// How one replica counts, given its node's state.
enum class ReplicaClass : uint8_t {
  kLive,             // good (finalized, current stamp, not corrupt) on a live/stale node in service
  kDecommissioning,  // good on a live node not in service: readable, does not count
  kCorrupt,          // known corrupt (reported bad, or finalized at a wrong length)
  kExcess,           // its deletion has been queued: neither counts nor is a location
  kOther,            // being written, another stamp, or on a dead node
};

// A replica as the block manager sees it (BlockMap::Inspect).
struct ReplicaView {
  DatanodeIndex node = 0;
  ReplicaState state = ReplicaState::kFinalized;
  int64_t generation_stamp = 0;
  bool corrupt = false;
  bool excess = false;  // deletion queued
};

struct BlockView {
  Block block;
  int64_t inode_id = 0;
  int32_t expected_replication = 0;
  bool complete = false;
  std::vector<ReplicaView> replicas;
  // Nodes of the block's last write pipeline that had not reported a finalized replica when the
  // block was committed: their reports are on the way, so the monitor counts them as pending
  // copies rather than copying the block again at once (HDFS's addExpectedReplicasToPending).
  // Handed over once: the next Inspect of the block has none.
  std::vector<DatanodeIndex> awaited;
};

// The one rule for how a replica counts; `states` from DatanodeManager::States().
ReplicaClass ClassifyReplica(const ReplicaView& replica, int64_t block_stamp,
                             std::span<const NodeState> states);

struct ReplicaCounts {
  int32_t live = 0;             // kLive: what counts towards the expected replication
  int32_t decommissioning = 0;  // kDecommissioning
  int32_t corrupt = 0;          // kCorrupt on live nodes
  int32_t excess = 0;           // kExcess
  int32_t stale = 0;            // the subset of `live` on stale nodes
  int32_t readable() const { return live + decommissioning; }
};
ReplicaCounts CountReplicas(const BlockView& block, std::span<const NodeState> states);

struct BlockMapStats {
  int64_t total_blocks = 0;
  int64_t total_replicas = 0;
  // Complete blocks with fewer good replicas on live nodes in service than expected (missing
  // ones included).
  int64_t under_replicated = 0;
  // Complete blocks with no good (live, finalized, not corrupt) replica left anywhere, on nodes
  // in service or not: nothing readable.
  int64_t missing = 0;
  int64_t under_construction = 0;
  int64_t complete_blocks = 0;
  // Complete blocks with at least one good replica (in service or not): safe mode's numerator.
  int64_t safe_blocks = 0;
  // Blocks with at least one replica known corrupt (HDFS "Blocks with corrupt replicas").
  int64_t corrupt_replica_blocks = 0;
  // Replicas beyond a block's expected replication: good ones over the target plus those whose
  // deletion is queued (not corrupt ones).
  int64_t excess_replicas = 0;
};

// One block's replicas sorted by how they count (fsck, getFileHealth).
struct BlockHealth {
  Block block;
  int32_t expected_replication = 0;
  bool complete = false;
  std::vector<DatanodeIndex> live;             // good replicas on live/stale nodes in service
  std::vector<DatanodeIndex> decommissioning;  // good replicas on nodes not in service
  std::vector<DatanodeIndex> corrupt;          // replicas known corrupt, on live nodes
  std::vector<DatanodeIndex> stale;            // the subset of `live` on stale nodes
};

// A block with no good replica left, and its file.
struct LostBlock {
  int64_t inode_id = 0;
  Block block;
  bool has_corrupt_replicas = false;  // false: simply missing (every holder gone)
};

// What a full block report changed.
struct BlockReportSummary {
  size_t added = 0;       // replicas newly recorded for this node
  size_t removed = 0;     // replicas the node no longer reports
  size_t to_delete = 0;   // replicas of unknown blocks or old generation stamps: deletes queued
  size_t unchanged = 0;
  size_t ignored = 0;     // newer stamp than a complete block's: not recorded
  size_t corrupt = 0;     // finalized at a wrong length for a complete block: recorded corrupt
};

// Soft state: block id → {generation stamp, length, expected replication, owning inode, replica
// locations}. Filled by AddBlock (from the namespace) and by datanode reports; rebuilt from
// scratch after a namenode restart. Replicas are stored as (node index, volume slot, state,
// stamp): 16 bytes per replica plus one entry in its node's block set, no strings.
//
// A replica counts (for locations and replica counts) only when its stamp equals the block's, it
// is finalized, not known corrupt and not being deleted (see ClassifyReplica); replicas on nodes
// not in service are locations but do not count towards the target.
// A replica reported with a newer stamp than the map's is kept aside while the block is under
// construction (pipeline recovery in flight) and counts once CommitBlock adopts that stamp.
//
// A block is "under construction" from AddBlock until CommitBlock; only complete blocks count as
// under-replicated or missing. A replica is live when its node is live or stale.
//
// Thread-safety: one mutex guards the map. Methods may call into DatanodeManager while holding
// it (lock order: BlockMap → DatanodeManager), so DatanodeManager must never call back in.
class BlockMap {
 public:
  // `datanodes` must outlive the map.
  explicit BlockMap(DatanodeManager* datanodes);

  // Standby mode, for a namenode following a Raft leader: replicas of blocks this namenode has
  // not applied yet (unknown ids, or a stamp newer than it knows) are postponed, not deleted,
  // and recorded when the edit that adds or re-stamps the block is applied (HDFS's standby
  // keeps such "pending datanode messages" the same way); no deletes are queued for datanodes
  // (only the leader commands them). Leaving standby drops what is still postponed: those
  // replicas are of blocks the leader does not have, deleted at their next report.
  void SetStandby(bool standby);
  bool standby() const;
  size_t PostponedCount() const;
  BlockMap(const BlockMap&) = delete;
  BlockMap& operator=(const BlockMap&) = delete;

  // Records a new block of `inode_id`, under construction, with no replicas. InvalidArgument for
  // a bad id, stamp or replication; AlreadyExists if the id belongs to another inode or stamp.
  // Adding the same block again (journal replay) is a no-op.
  Status AddBlock(int64_t inode_id, const Block& block, int32_t expected_replication);

  // Fixes a block's final stamp and length (complete, lease recovery) and marks it complete.
  // Replicas recorded with an older stamp are forgotten but not deleted: a replica its node has
  // since moved to the new stamp comes back with its next report; a stale one is then deleted.
  Status CommitBlock(const Block& block);

  // Makes a block under construction again with a new (not older) stamp and length: append to
  // a file whose last block is complete, or a pipeline rebuilt after a datanode failure
  // (updatePipeline). Replicas keep their recorded stamps and count again once they report the
  // new one; the others are deleted when they report the old one.
  Status ReopenBlock(const Block& block);

  // Changes the expected replication of every block of a file (setReplication).
  Status SetReplication(int64_t inode_id, int32_t expected_replication);

  // Diffs a node's full report against what the map holds for it. `volume_id` empty means the
  // report covers every volume of the node; otherwise only replicas on that volume are diffed.
  // Replicas of blocks the map does not know, and replicas with an older generation stamp than
  // the map's, are queued for deletion on that node. NotFound if the node is not registered.
  Result<BlockReportSummary> ProcessFullReport(std::string_view storage_id,
                                               std::string_view volume_id,
                                               std::span<const ReportedReplica> replicas);

  // RECEIVING records an rbw replica, RECEIVED a finalized one, DELETED forgets the replica.
  // Unknown blocks or old stamps are queued for deletion as with a full report.
  Status ProcessIncrementalReport(std::string_view storage_id,
                                  std::span<const ReceivedDeletedBlock> blocks);

  // A reader or datanode found `block`'s replica on the node corrupt: the replica is kept in the
  // map marked corrupt (never a location while a good one exists, never counted), so the block
  // manager re-replicates the block from a good copy and then deletes this one. It stays corrupt
  // while its node reports it at the same stamp; a DELETED report forgets it. NotFound for an
  // unknown node or block.
  Status ReportBadReplica(std::string_view storage_id, const Block& block);

  // Forgets every replica on `node`; returns how many there were.
  size_t RemoveDatanode(DatanodeIndex node);
  // Declares silent nodes dead (DatanodeManager::CollectNewlyDead) and forgets their replicas.
  // Returns the nodes declared dead. Call periodically (e.g. every heartbeat interval).
  std::vector<DatanodeIndex> HandleDeadDatanodes();

  // Forgets the blocks of a deleted file and queues deletes to every holder. Returns the number
  // of blocks removed.
  size_t RemoveFile(int64_t inode_id);
  size_t RemoveBlocks(std::span<const int64_t> block_ids);

  // The pipeline a writer was given for a block under construction (addBlock's targets). Until
  // replicas report, readers and lease recovery look there. Forgotten when the block commits.
  Status SetExpectedLocations(int64_t block_id, std::vector<DatanodeIndex> nodes);
  std::vector<DatanodeIndex> ExpectedLocations(int64_t block_id) const;
  // Live nodes that may hold data of a block under construction: every replica reported at any
  // generation stamp, plus the expected locations. For lease recovery.
  std::vector<DatanodeIndex> RecoveryLocations(int64_t block_id) const;
  // Live replicas reported finalized at exactly `generation_stamp` (complete's check that the
  // last block has reached a datanode).
  int32_t CountFinalizedReplicas(int64_t block_id, int64_t generation_stamp) const;

  // Good (finalized, current, not corrupt, not being deleted) replicas on live nodes, in service
  // or not (0 if unknown).
  int32_t CountLiveReplicas(int64_t block_id) const;
  Result<LocatedBlock> GetBlock(int64_t block_id) const;
  // A file's blocks in the order they were added, each with its live replicas only.
  std::vector<LocatedBlock> FileBlocks(int64_t inode_id) const;

  BlockMapStats Stats() const;

  // --- operators' view ---
  std::vector<BlockHealth> FileBlockHealth(int64_t inode_id) const;
  // Complete blocks with no good replica, at most `limit`, in block id order.
  std::vector<LostBlock> LostBlocks(size_t limit) const;
  // Replicas the map holds for a node (every state).
  int64_t NodeBlockCount(DatanodeIndex node) const;

  // --- for the block manager ---
  // Called when a finalized replica of a complete block is recorded (a copy landed), with the
  // map's lock held: it must not call into the map. Lets the monitor run early. Null: none.
  void SetReplicaAddedListener(std::function<void()> listener);
  // Blocks whose replicas, state or expected replication changed since they were last taken (at
  // most `limit`, removed from the set). Blocks since removed are included: Inspect skips them.
  std::vector<int64_t> TakeDirty(size_t limit);
  size_t DirtyCount() const;
  void MarkDirty(std::span<const int64_t> block_ids);
  // Every block with a replica on `node` (its admin state changed).
  void MarkNodeDirty(DatanodeIndex node);
  // Copies of the blocks named that still exist, in the order given (hands over `awaited`).
  std::vector<BlockView> Inspect(std::span<const int64_t> block_ids);
  // Queues deletion of `block`'s replicas on `nodes` (excess or corrupt ones) and marks them as
  // being deleted. Checked again under the lock: nothing happens if the block's stamp moved on,
  // and a good replica is taken only while at least `keep_live` kLive ones remain. Returns the
  // replicas whose deletion was queued.
  size_t InvalidateReplicas(const Block& block, std::span<const DatanodeIndex> nodes,
                            int32_t keep_live, std::span<const NodeState> states);
  // A node (re-)registered: the namenode dropped the commands queued to it, so replicas whose
  // deletion was queued there count again until the monitor decides anew (its full report
  // follows).
  void OnDatanodeRegistered(DatanodeIndex node);
  // Blocks on `node` without enough good replicas on other nodes in service: fewer than their
  // expected replication (capped at `in_service_nodes`, the live nodes in service), or under
  // construction. 0 means a decommissioning node may be marked decommissioned.
  size_t CountDecommissionBlockers(DatanodeIndex node, int32_t in_service_nodes,
                                   std::span<const NodeState> states) const;

 private:
  struct Replica {
    DatanodeIndex node;
    uint16_t volume;
    ReplicaState state;
    bool corrupt : 1;
    bool excess : 1;
    int64_t generation_stamp;

    ReplicaView View() const { return ReplicaView{node, state, generation_stamp, corrupt, excess}; }
  };
  struct BlockInfo {
    int64_t generation_stamp;
    int64_t num_bytes;
    int64_t inode_id;
    int32_t expected_replication;
    bool complete;
    std::vector<Replica> replicas;
    std::vector<DatanodeIndex> expected;  // under construction only
    std::vector<DatanodeIndex> awaited;   // see BlockView::awaited
  };
  struct NodeBlocks {
    std::unordered_set<int64_t> blocks;
    std::vector<std::string> volumes;  // slot → volume id
  };

  enum class Verdict { kRecorded, kUnchanged, kDelete, kIgnored, kCorrupt };

  // Records one reported replica; kDelete when it must be removed from the node.
  Verdict RecordReplicaUnlocked(DatanodeIndex node, uint16_t volume, const Block& reported,
                                ReplicaState state);
  void RemoveReplicaUnlocked(DatanodeIndex node, int64_t block_id);
  uint16_t VolumeSlotUnlocked(DatanodeIndex node, std::string_view volume_id);
  NodeBlocks& NodeUnlocked(DatanodeIndex node);
  // Finds `block` and moves it to its (not older) stamp and length; mutex_ held. Shared by
  // CommitBlock and ReopenBlock, which differ only in what they make of it afterwards.
  Result<BlockInfo*> FindForNewStampUnlocked(const Block& block);
  size_t RemoveBlockUnlocked(int64_t block_id,
                             std::unordered_map<DatanodeIndex, std::vector<Block>>* deletes);
  void QueueDeletes(const std::unordered_map<DatanodeIndex, std::vector<Block>>& deletes);
  // `live_only`: drop replicas on dead nodes (null: keep every replica).
  LocatedBlock LocateUnlocked(int64_t block_id, const BlockInfo& info,
                              const std::vector<NodeState>* live_only) const;
  ReplicaCounts CountUnlocked(const BlockInfo& info, std::span<const NodeState> states) const;

  DatanodeManager* const datanodes_;

  mutable std::mutex mutex_;
  std::unordered_map<int64_t, BlockInfo> blocks_;
  std::unordered_map<int64_t, std::vector<int64_t>> file_blocks_;  // inode → block ids in order
  std::vector<NodeBlocks> node_blocks_;                            // by DatanodeIndex
  std::unordered_set<int64_t> dirty_;  // for the block manager (TakeDirty)
  bool standby_ = false;
  struct PostponedReplica {
    DatanodeIndex node;
    uint16_t volume;
    Block block;
    ReplicaState state;
  };
  std::unordered_map<int64_t, std::vector<PostponedReplica>> postponed_;
  size_t postponed_count_ = 0;
  // Records what was postponed for `block_id` (the block was just added or re-stamped).
  void ReplayPostponedUnlocked(int64_t block_id);
  // Stores a replica report the standby cannot place yet; false when the store is full.
  void PostponeUnlocked(DatanodeIndex node, uint16_t volume, const Block& reported,
                        ReplicaState state);
  // Queues deletes to one node, unless in standby.
  void QueueNodeDeletesUnlocked(DatanodeIndex node, const std::vector<Block>& blocks);
  std::function<void()> replica_added_;
};

}  // namespace talus::blocks
