#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "namenode/blocks/block_map.h"
#include "namenode/blocks/clock.h"
#include "namenode/blocks/datanode_manager.h"
#include "namenode/blocks/placement_policy.h"
#include "namenode/blocks/safe_mode.h"

namespace talus::blocks {

struct BlockManagerOptions {
  // How often the monitor runs: dead-node collection, safe mode, replication and deletion
  // scheduling, decommission progress (flag --replication_interval_ms; HDFS 3 s).
  int64_t monitor_interval_ms = 3000;
  // A copy handed to a datanode that has not been reported within this long is scheduled again
  // elsewhere (flag --replication_timeout_ms; HDFS 5 min).
  int64_t pending_replication_timeout_ms = 300'000;
  // Copies one datanode may be sending at once (flag --max_replication_streams; HDFS 2, hard
  // limit 4 for the highest priority).
  int32_t max_replication_streams = 2;
  int32_t max_replication_streams_hard_limit = 4;

  Status Validate() const;
};

// What the monitor is doing, for dfsadmin -report, /metrics and tests.
struct ReplicationStats {
  int64_t under_replicated = 0;      // in the needed-replication queues (kept outside safe mode)
  int64_t pending_replication = 0;   // blocks with copies handed out, not yet reported
  int64_t pending_deletion = 0;      // deletes queued to datanodes, not yet handed out
  int64_t scheduled_total = 0;       // copies (one per target) handed out since start
  int64_t timed_out_total = 0;       // copies that timed out and were rescheduled
  int64_t excess_deleted_total = 0;  // excess replicas whose deletion was scheduled
  int64_t corrupt_deleted_total = 0; // corrupt replicas deleted once a good copy was made
  int64_t decommissioned_total = 0;  // nodes moved to Decommissioned
};

// The namenode's block-health loop (HDFS's RedundancyMonitor, HeartbeatManager's dead-node check
// and DatanodeAdminManager in one thread): keeps every block at its expected replication.
//
// Each pass (RunOnce):
//  1. declares silent datanodes dead (their replicas leave the map) and, while safe mode is on,
//     feeds it the block counts; in safe mode nothing else happens.
//  2. forgets copies whose source went away (dead or re-registered) and copies past
//     pending_replication_timeout_ms (the block is looked at again, avoiding that source and
//     target).
//  3. re-evaluates the blocks the map marked changed (BlockMap::TakeDirty; nodes whose admin
//     state changed mark all their blocks): pending copies a target has reported are done;
//     corrupt replicas are deleted once the block has its expected good replicas; good replicas
//     beyond the target are deleted from the fullest nodes, keeping racks; the block is put in a
//     needed queue: highest (one good replica in service left, or only replicas on nodes leaving
//     service), under-replicated, misplaced (all on one rack of several), or "no good replica"
//     (missing or all corrupt: nothing to copy from, not scheduled).
//  4. schedules copies round robin through the queues, highest first, at most
//     2 x live nodes x max_replication_streams blocks: a source holding a good replica (in
//     service and fresh first, with fewer than max_replication_streams copies pending, the hard
//     limit for the highest priority), targets from the placement policy excluding every node
//     holding any replica of the block or a pending copy.
//  5. marks decommissioning nodes whose blocks all have enough replicas elsewhere Decommissioned.
// Per-pass cost follows the blocks that changed or need work, except step 5 (scans the blocks of
// nodes being decommissioned) and the safe-mode counts (a full scan while safe mode is on).
//
// Thread-safe; the delegates must outlive it. Lock order: BlockManager → BlockMap →
// DatanodeManager.
class BlockManager {
 public:
  BlockManager(BlockManagerOptions options, BlockMap* block_map, DatanodeManager* datanodes,
               PlacementPolicy* placement, SafeMode* safe_mode, const Clock* clock);
  ~BlockManager();
  BlockManager(const BlockManager&) = delete;
  BlockManager& operator=(const BlockManager&) = delete;

  // Starts / stops the monitor thread. While it runs, a copy landing (a finalized replica
  // recorded while copies are pending) wakes it early, at most every
  // min(monitor_interval_ms, 50 ms), so sources get their next copies without waiting a whole
  // interval.
  void Start();
  void Stop();
  // One pass of the monitor, on the calling thread (unit tests drive it with a FakeClock).
  void RunOnce();
  // A Raft follower's monitor only collects dead nodes and tracks safe mode: re-replication,
  // excess deletion and decommissioning are the leader's. Active by default.
  void SetActive(bool active) { active_.store(active); }
  bool active() const { return active_.load(); }

  ReplicationStats Stats() const;

 private:
  std::atomic<bool> active_{true};
  enum Priority : int { kHighest = 0, kUnderReplicated = 1, kMisplaced = 2, kNoGoodReplica = 3 };
  static constexpr int kLevels = 4;

  // Source of the replicas a write pipeline still owes (BlockView::awaited): no stream used.
  static constexpr DatanodeIndex kPipeline = UINT32_MAX;

  struct PendingCopy {
    DatanodeIndex source = 0;
    uint64_t source_epoch = 0;
    std::vector<DatanodeIndex> targets;  // not yet reported
    int64_t deadline_ms = 0;
  };

  // What one pass knows of the cluster, read once at its start.
  struct Pass {
    int64_t now_ms = 0;
    std::vector<DatanodeSnapshot> nodes;  // by index
    std::vector<NodeState> states;        // by index
    int32_t in_service_nodes = 0;         // live and in service
    int32_t racks = 0;                    // distinct racks among those
    // Counters for the pass's log line.
    int64_t scheduled = 0;
    int64_t scheduled_blocks = 0;
    int64_t timed_out = 0;
    int64_t excess_deleted = 0;
    int64_t corrupt_deleted = 0;
  };

  void Loop();
  void OnReplicaAdded();
  void ExpirePendingLocked(Pass& pass, std::vector<int64_t>* recheck);
  void EvaluateLocked(const BlockView& view, Pass& pass);
  void ScheduleLocked(Pass& pass);
  // Schedules copies of one queued block; true when it leaves the queue.
  bool ScheduleBlockLocked(int64_t block_id, int level, Pass& pass);
  void CheckDecommissionLocked(Pass& pass);
  // Drops a block from the queues and its pending copies.
  void ForgetLocked(int64_t block_id);
  void SetLevelLocked(int64_t block_id, int level);  // -1: not needed
  void DropCopyLocked(const PendingCopy& copy);
  // Counts a committed block's pipeline nodes that have yet to report as pending copies.
  void AdoptAwaitedLocked(const BlockView& view, const Pass& pass);
  int32_t PendingTargetsLocked(int64_t block_id) const;
  bool MisplacedLocked(const BlockView& view, const Pass& pass) const;
  std::vector<DatanodeIndex> ChooseExcess(const BlockView& view, int32_t count,
                                          const Pass& pass) const;
  std::optional<DatanodeIndex> ChooseSourceLocked(const BlockView& view, int level,
                                                  const Pass& pass) const;
  // `other_rack_first`: the good replicas share one rack, the first target goes to another
  // (`other_rack_only`: or none at all).
  std::vector<DatanodeIndex> ChooseTargetsLocked(const BlockView& view, int32_t count,
                                                 bool other_rack_first, bool other_rack_only,
                                                 const Pass& pass);

  const BlockManagerOptions options_;
  BlockMap* const block_map_;
  DatanodeManager* const datanodes_;
  PlacementPolicy* const placement_;
  SafeMode* const safe_mode_;
  const Clock* const clock_;

  mutable std::mutex mutex_;  // guards the loop's stop flag and stats_
  std::condition_variable wake_;
  bool stopping_ = false;
  bool wake_requested_ = false;
  std::atomic<int64_t> pending_blocks_{0};  // pending_.size() at the end of the last pass
  std::thread thread_;
  ReplicationStats stats_;

  // The monitor's state: one pass at a time.
  std::mutex pass_mutex_;
  std::array<std::set<int64_t>, kLevels> needed_;  // by priority, in block id order
  std::array<int64_t, kLevels> cursor_{};          // round robin: the last block looked at
  std::unordered_map<int64_t, int> level_of_;
  std::unordered_map<int64_t, std::vector<PendingCopy>> pending_;
  std::vector<int32_t> streams_;  // copies pending per source node
  // Sources and targets of copies that timed out, avoided for the block's next attempt.
  std::unordered_map<int64_t, std::vector<DatanodeIndex>> avoid_;
  std::vector<AdminState> last_admin_;  // per node, to spot admin state changes
};

}  // namespace talus::blocks
