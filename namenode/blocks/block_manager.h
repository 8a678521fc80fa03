#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

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
  int64_t under_replicated = 0;      // in the needed-replication queues
  int64_t pending_replication = 0;   // copies handed out, not yet reported
  int64_t pending_deletion = 0;      // deletes queued to datanodes
  int64_t scheduled_total = 0;       // copies handed out since start
  int64_t timed_out_total = 0;       // copies that timed out and were rescheduled
  int64_t excess_deleted_total = 0;  // excess replicas whose deletion was scheduled
  int64_t corrupt_deleted_total = 0; // corrupt replicas deleted once a good copy was made
};

// The namenode's block-health loop (HDFS's RedundancyMonitor, HeartbeatManager's dead-node check
// and DatanodeAdminManager in one thread): keeps every block at its expected replication.
// Thread-safe; the delegates must outlive it.
class BlockManager {
 public:
  BlockManager(BlockManagerOptions options, BlockMap* block_map, DatanodeManager* datanodes,
               PlacementPolicy* placement, SafeMode* safe_mode, const Clock* clock);
  ~BlockManager();
  BlockManager(const BlockManager&) = delete;
  BlockManager& operator=(const BlockManager&) = delete;

  // Starts / stops the monitor thread.
  void Start();
  void Stop();
  // One pass of the monitor, on the calling thread (unit tests drive it with a FakeClock).
  void RunOnce();

  ReplicationStats Stats() const;

 private:
  void Loop();

  const BlockManagerOptions options_;
  BlockMap* const block_map_;
  DatanodeManager* const datanodes_;
  PlacementPolicy* const placement_;
  SafeMode* const safe_mode_;
  const Clock* const clock_;

  mutable std::mutex mutex_;  // guards the loop's stop flag and stats_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
  ReplicationStats stats_;
};

}  // namespace talus::blocks
