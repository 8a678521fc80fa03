#pragma once
// The cluster as an operator sees it: the summary and the datanode rows that `talus dfsadmin
// -report` prints (through ClientService::getStats and getDatanodeReport) and the web page
// shows (through /api/v1/cluster and /api/v1/datanodes). Both are computed here and only here,
// so the two can never disagree. Plain values, no Thrift: each front end converts them.
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "namenode/blocks/datanode_manager.h"

namespace talus {
class Namesystem;
namespace blocks {
class BlockManager;
class BlockMap;
class SafeMode;
}  // namespace blocks

namespace status {

// What the figures are read from. Any pointer may be null: its figures are then 0 (a namenode
// without block management reports an empty cluster).
struct StatusSources {
  const Namesystem* namesystem = nullptr;
  const blocks::DatanodeManager* datanodes = nullptr;
  const blocks::BlockMap* block_map = nullptr;
  const blocks::BlockManager* block_manager = nullptr;
  const blocks::SafeMode* safe_mode = nullptr;
};

// Datanodes by state. live + stale + dead is every registered node; decommissioning and
// decommissioned count the nodes in that admin state that are not dead.
struct DatanodeCounts {
  int64_t live = 0;
  int64_t stale = 0;
  int64_t dead = 0;
  int64_t decommissioning = 0;
  int64_t decommissioned = 0;
};

struct ClusterSummary {
  // Over live (and stale) datanodes in service, as their last heartbeats said.
  int64_t capacity_bytes = 0;
  int64_t used_bytes = 0;
  int64_t remaining_bytes = 0;
  int64_t files = 0;
  int64_t directories = 0;
  int64_t blocks = 0;                     // in the block map
  int64_t under_replicated_blocks = 0;    // missing ones included
  int64_t corrupt_blocks = 0;             // with at least one replica known corrupt
  int64_t missing_blocks = 0;             // complete, no good replica anywhere
  int64_t pending_deletion_blocks = 0;    // deletes queued to datanodes, not handed out yet
  int64_t pending_replication_blocks = 0; // copies handed out, not reported yet
  bool safe_mode_on = false;
  bool safe_mode_manual = false;
  std::string safe_mode_tip;
  DatanodeCounts datanodes;

  // DFS used as a percentage of the present capacity (used + remaining), as dfsadmin's
  // "DFS Used%"; 0 for an empty cluster.
  double UsedPercent() const;
};

// One datanode as the report shows it.
struct DatanodeRow {
  std::string storage_id;
  std::string host;
  int32_t data_port = 0;
  int32_t rpc_port = 0;
  int32_t http_port = 0;  // 0: the node has no web server
  std::string rack;
  blocks::DatanodeLiveness liveness = blocks::DatanodeLiveness::kLive;
  blocks::AdminState admin_state = blocks::AdminState::kNormal;
  int64_t last_contact_ms_ago = 0;
  int64_t capacity_bytes = 0;
  int64_t used_bytes = 0;
  int64_t remaining_bytes = 0;
  int64_t blocks = 0;  // replicas the block map records on the node
  int32_t volumes = 0;
  int32_t failed_volumes = 0;
  int32_t active_transfers = 0;

  // host:data_port, the datanode's name in dfsadmin and fsck.
  std::string Address() const;
  // DFS used as a percentage of the node's capacity (dfsadmin's per-node "DFS Used%").
  double UsedPercent() const;
};

// The summary; an error only when the namespace's counters cannot be read.
Result<ClusterSummary> ComputeClusterSummary(const StatusSources& sources);

// Every registered datanode (dead ones included), sorted by host then data port.
std::vector<DatanodeRow> ListDatanodeRows(const StatusSources& sources);

}  // namespace status
}  // namespace talus
