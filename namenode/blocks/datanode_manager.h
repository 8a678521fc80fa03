#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "namenode/blocks/block_types.h"
#include "namenode/blocks/clock.h"
#include "namenode/blocks/topology.h"

namespace talus::blocks {

// How a datanode is reachable; storage_id is its stable identity across restarts.
struct DatanodeRegistration {
  std::string storage_id;
  std::string host;
  int32_t data_port = 0;
  int32_t rpc_port = 0;
  std::string rack;  // as sent by the node; the topology, when given, overrides it
  int32_t http_port = 0;  // its web server (status page, downloads); 0: none
};

struct VolumeStats {
  std::string volume_id;
  int64_t capacity = 0;
  int64_t used = 0;
  int64_t remaining = 0;
  bool failed = false;
};

struct HeartbeatStats {
  std::vector<VolumeStats> volumes;
  int32_t active_transfers = 0;
  int32_t failed_volumes = 0;
};

enum class DatanodeLiveness : uint8_t {
  kLive,
  kStale,  // missed a few heartbeats: still holds its replicas, but is a last choice
  kDead,   // missed heartbeats for dead_after_ms, or declared dead: its replicas are forgotten
};

const char* LivenessName(DatanodeLiveness liveness);

// Decommissioning, as HDFS: a node in progress keeps serving reads and stays a source of
// replication, but gets no new replicas and its replicas do not count towards a block's target;
// the replication monitor moves it to kDecommissioned once every block it holds has enough
// replicas elsewhere.
enum class AdminState : uint8_t {
  kNormal,
  kDecommissionInProgress,
  kDecommissioned,
};

// HDFS's words: "In Service", "Decommission In Progress", "Decommissioned".
const char* AdminStateName(AdminState state);

// A consistent copy of one datanode's state, safe to use without any lock.
struct DatanodeSnapshot {
  DatanodeIndex index = 0;
  DatanodeRegistration registration;  // rack resolved (topology, else sent, else default)
  std::vector<VolumeStats> volumes;
  int64_t capacity = 0;   // sum over volumes that have not failed
  int64_t used = 0;
  int64_t remaining = 0;
  int32_t active_transfers = 0;
  int32_t failed_volumes = 0;
  int64_t last_contact_ms = 0;
  DatanodeLiveness liveness = DatanodeLiveness::kLive;
  AdminState admin_state = AdminState::kNormal;
  // When the node entered its admin state (clock ms); 0 for kNormal.
  int64_t admin_state_since_ms = 0;
  uint64_t epoch = 0;  // as NodeState::epoch

  // In service: may take new replicas, and its replicas count towards targets.
  bool in_service() const { return admin_state == AdminState::kNormal; }
};

// What block accounting needs of a node, in one small value per node (DatanodeManager::States):
// whether its replicas count and how.
struct NodeState {
  DatanodeLiveness liveness = DatanodeLiveness::kDead;
  AdminState admin_state = AdminState::kNormal;
  // Incremented each time the node (re-)registers: its queued commands were dropped then, so
  // work handed out under an older epoch will never be done.
  uint64_t epoch = 0;

  bool live() const { return liveness != DatanodeLiveness::kDead; }  // live or stale
  bool stale() const { return liveness == DatanodeLiveness::kStale; }
  bool in_service() const { return admin_state == AdminState::kNormal; }
};

struct DatanodeManagerOptions {
  // How often datanodes send heartbeats (flag --heartbeat_interval_ms).
  int64_t heartbeat_interval_ms = 3000;
  // A node that missed this many heartbeats in a row is stale.
  int32_t stale_after_missed_heartbeats = 10;
  // A node silent for this long is dead (flag --datanode_dead_after_ms). HDFS's default.
  int64_t dead_after_ms = 630'000;
  // Bounds on the work one heartbeat reply carries; the rest waits for the next heartbeat.
  size_t max_deletes_per_heartbeat = 1000;
  size_t max_replications_per_heartbeat = 16;

  Status Validate() const;
};

struct HeartbeatReply {
  // The namenode does not know the node (restart of the namenode, or declared dead): the node
  // must register again and send a full block report.
  bool reregister = false;
  DatanodeCommands commands;
};

// Registry of datanodes: registration, heartbeat statistics, liveness, and the per-node queues
// of commands delivered in heartbeat replies.
//
// Thread-safety: every public method may be called from any thread; one mutex guards all state
// and is never held while calling out of this class. Lock order: BlockMap's mutex may be held
// when calling in here, never the reverse.
class DatanodeManager {
 public:
  // `clock` and `topology` (may be null) must outlive the manager.
  DatanodeManager(DatanodeManagerOptions options, const Clock* clock,
                  const Topology* topology = nullptr);
  DatanodeManager(const DatanodeManager&) = delete;
  DatanodeManager& operator=(const DatanodeManager&) = delete;

  struct RegisterResult {
    DatanodeIndex index = 0;
    DatanodeRegistration registration;  // as recorded (rack resolved)
    // Another storage id that was registered at the same host:data_port: that node has been
    // replaced (reformatted) and is declared dead; CollectNewlyDead() will return it.
    std::optional<DatanodeIndex> replaced;
  };

  // Registers a datanode, or re-registers one known by its storage id (after a restart, maybe at
  // a new address). The node becomes live, its pending commands are dropped (they refer to
  // replicas it may no longer have; its full block report will regenerate what is still due).
  Result<RegisterResult> Register(DatanodeRegistration registration);

  // Records a heartbeat and hands back pending commands (bounded by the options). An unknown or
  // declared-dead node gets `reregister` and nothing else. Invalid statistics: InvalidArgument.
  // `take_commands` false (a Raft follower, or a leader without its read lease) leaves the
  // node's queued commands for a later heartbeat.
  Result<HeartbeatReply> Heartbeat(std::string_view storage_id, const HeartbeatStats& stats,
                                   bool take_commands = true);
  // Drops every queued command (deletes, copies, recoveries) of every node: a namenode that
  // loses or gains Raft leadership must not send what it decided under another leader.
  void ClearPendingCommands();

  // The index of a registered, not declared-dead node; NotFound (re-register) otherwise. Block
  // reports use this to refuse reports from nodes the namenode does not consider alive.
  Result<DatanodeIndex> LookupLive(std::string_view storage_id) const;
  std::optional<DatanodeIndex> Find(std::string_view storage_id) const;

  // Declares dead every node silent for dead_after_ms and returns each such node once, so the
  // caller can drop its replicas (BlockMap::HandleDeadDatanodes does both).
  std::vector<DatanodeIndex> CollectNewlyDead();

  DatanodeLiveness Liveness(DatanodeIndex index) const;
  // live_mask[i] is true when node i is live or stale (its replicas count). Indexes past the end
  // are unknown nodes.
  std::vector<bool> LiveMask() const;
  // states[i] describes node i (unknown indexes past the end: treat as dead).
  std::vector<NodeState> States() const;

  std::optional<DatanodeSnapshot> Describe(DatanodeIndex index) const;
  std::vector<DatanodeSnapshot> Describe(std::span<const DatanodeIndex> indexes) const;
  std::vector<DatanodeSnapshot> ListNodes() const;      // every registered node
  std::vector<DatanodeSnapshot> ListLiveNodes() const;  // live and stale
  std::vector<DatanodeSnapshot> ListDeadNodes() const;

  // The rack of a host (a reader's, say): the topology's answer if there is a topology, else the
  // rack of a registered datanode on that host, else empty (unknown).
  std::string RackOfHost(std::string_view host) const;

  // The operators' decommission list (exclude file plus dfsadmin -decommission), as
  // "host" (every node on it) or "host:data_port" entries. Nodes matching an entry and in
  // service start decommissioning; nodes matching none return to service. Also applied to nodes
  // registering later. Returns how many nodes changed state.
  size_t SetDecommissionList(std::vector<std::string> entries);
  // The replication monitor's verdict: every block on the node has enough replicas elsewhere.
  // Only moves kDecommissionInProgress to kDecommissioned; false otherwise.
  bool MarkDecommissioned(DatanodeIndex index);

  // Queues work for a node's next heartbeats. Unknown indexes are ignored (and logged).
  void QueueDeletes(DatanodeIndex index, std::span<const Block> blocks);
  void QueueReplication(DatanodeIndex source, ReplicationWork work);
  void QueueRecovery(DatanodeIndex primary, RecoveryWork work);
  size_t PendingDeleteCount(DatanodeIndex index) const;
  // Deletes queued to every node and not yet handed out.
  size_t TotalPendingDeletes() const;

  const DatanodeManagerOptions& options() const { return options_; }

 private:
  struct Node {
    DatanodeRegistration registration;
    std::vector<VolumeStats> volumes;
    int32_t active_transfers = 0;
    int32_t failed_volumes = 0;
    int64_t last_contact_ms = 0;
    bool declared_dead = false;
    AdminState admin_state = AdminState::kNormal;
    int64_t admin_state_since_ms = 0;
    uint64_t epoch = 0;
    std::vector<Block> pending_deletes;
    std::vector<ReplicationWork> pending_replications;
    std::vector<RecoveryWork> pending_recoveries;
  };

  DatanodeLiveness LivenessUnlocked(const Node& node, int64_t now_ms) const;
  DatanodeSnapshot SnapshotUnlocked(DatanodeIndex index, int64_t now_ms) const;
  std::string ResolveRack(const DatanodeRegistration& registration) const;
  bool OnDecommissionListUnlocked(const DatanodeRegistration& registration) const;
  // Moves a node to the state the decommission list asks; true when it changed.
  bool ApplyDecommissionListUnlocked(Node& node, int64_t now_ms);

  const DatanodeManagerOptions options_;
  const Clock* const clock_;
  const Topology* const topology_;

  mutable std::mutex mutex_;
  std::vector<Node> nodes_;  // indexed by DatanodeIndex; never shrinks
  std::unordered_map<std::string, DatanodeIndex> by_storage_id_;
  std::vector<std::string> decommission_list_;
};

}  // namespace talus::blocks
