#include "namenode/blocks/datanode_manager.h"

#include <algorithm>

#include <glog/logging.h>

namespace talus::blocks {
namespace {

constexpr size_t kMaxIdLength = 256;

Status ValidateRegistration(const DatanodeRegistration& r) {
  if (r.storage_id.empty() || r.storage_id.size() > kMaxIdLength) {
    return Status::InvalidArgument("datanode storage id must be 1.." +
                                   std::to_string(kMaxIdLength) + " bytes");
  }
  if (r.host.empty() || r.host.size() > kMaxIdLength) {
    return Status::InvalidArgument("datanode " + r.storage_id + ": host must be 1.." +
                                   std::to_string(kMaxIdLength) + " bytes");
  }
  if (r.data_port <= 0 || r.data_port > 65535 || r.rpc_port < 0 || r.rpc_port > 65535 ||
      r.http_port < 0 || r.http_port > 65535) {
    return Status::InvalidArgument("datanode " + r.storage_id + ": ports out of range (data " +
                                   std::to_string(r.data_port) + ", rpc " +
                                   std::to_string(r.rpc_port) + ", http " +
                                   std::to_string(r.http_port) + ")");
  }
  if (!r.rack.empty() && (r.rack.front() != '/' || r.rack.size() > kMaxIdLength)) {
    return Status::InvalidArgument("datanode " + r.storage_id + ": rack \"" + r.rack +
                                   "\" must start with '/'");
  }
  return Status::OK();
}

Status ValidateStats(std::string_view storage_id, const HeartbeatStats& stats) {
  if (stats.active_transfers < 0 || stats.failed_volumes < 0) {
    return Status::InvalidArgument("heartbeat from " + std::string(storage_id) +
                                   ": negative transfer or failed-volume count");
  }
  for (const VolumeStats& v : stats.volumes) {
    if (v.capacity < 0 || v.used < 0 || v.remaining < 0) {
      return Status::InvalidArgument("heartbeat from " + std::string(storage_id) + ": volume " +
                                     v.volume_id + " reports a negative size");
    }
  }
  return Status::OK();
}

}  // namespace

const char* LivenessName(DatanodeLiveness liveness) {
  switch (liveness) {
    case DatanodeLiveness::kLive: return "live";
    case DatanodeLiveness::kStale: return "stale";
    case DatanodeLiveness::kDead: return "dead";
  }
  return "unknown";
}

const char* AdminStateName(AdminState state) {
  switch (state) {
    case AdminState::kNormal: return "In Service";
    case AdminState::kDecommissionInProgress: return "Decommission In Progress";
    case AdminState::kDecommissioned: return "Decommissioned";
  }
  return "unknown";
}

Status DatanodeManagerOptions::Validate() const {
  if (heartbeat_interval_ms <= 0) {
    return Status::InvalidArgument("heartbeat interval must be positive");
  }
  if (stale_after_missed_heartbeats <= 0) {
    return Status::InvalidArgument("stale-after heartbeat count must be positive");
  }
  if (dead_after_ms <= heartbeat_interval_ms) {
    return Status::InvalidArgument("datanode dead-after time (" + std::to_string(dead_after_ms) +
                                   " ms) must exceed the heartbeat interval (" +
                                   std::to_string(heartbeat_interval_ms) + " ms)");
  }
  return Status::OK();
}

DatanodeManager::DatanodeManager(DatanodeManagerOptions options, const Clock* clock,
                                 const Topology* topology)
    : options_(options), clock_(clock), topology_(topology) {
  CHECK(clock_ != nullptr);
  CHECK(options_.Validate().ok()) << options_.Validate().ToString();
}

std::string DatanodeManager::ResolveRack(const DatanodeRegistration& registration) const {
  if (topology_ != nullptr && !topology_->empty()) return topology_->RackOf(registration.host);
  if (!registration.rack.empty()) return registration.rack;
  return std::string(Topology::kDefaultRack);
}

Result<DatanodeManager::RegisterResult> DatanodeManager::Register(
    DatanodeRegistration registration) {
  RETURN_NOT_OK(ValidateRegistration(registration));
  registration.rack = ResolveRack(registration);
  const int64_t now = clock_->NowMs();

  std::lock_guard lock(mutex_);
  RegisterResult result;
  // A different storage id at the same address means the node there was reformatted: the old
  // identity will never come back, so forget it now rather than after dead_after_ms.
  for (DatanodeIndex i = 0; i < nodes_.size(); ++i) {
    Node& other = nodes_[i];
    if (other.registration.storage_id != registration.storage_id &&
        other.registration.host == registration.host &&
        other.registration.data_port == registration.data_port && !other.declared_dead) {
      LOG(INFO) << "datanode " << registration.storage_id << " replaces "
                << other.registration.storage_id << " at " << registration.host << ":"
                << registration.data_port;
      other.last_contact_ms = now - options_.dead_after_ms - 1;  // collected as dead next scan
      result.replaced = i;
    }
  }

  auto it = by_storage_id_.find(registration.storage_id);
  DatanodeIndex index;
  if (it == by_storage_id_.end()) {
    index = static_cast<DatanodeIndex>(nodes_.size());
    nodes_.emplace_back();
    by_storage_id_.emplace(registration.storage_id, index);
    LOG(INFO) << "registered datanode " << registration.storage_id << " at " << registration.host
              << ":" << registration.data_port << " rack " << registration.rack;
  } else {
    index = it->second;
    const DatanodeRegistration& old = nodes_[index].registration;
    LOG(INFO) << "re-registered datanode " << registration.storage_id << " at "
              << registration.host << ":" << registration.data_port << " (was " << old.host << ":"
              << old.data_port << (nodes_[index].declared_dead ? ", dead" : "") << ")";
  }
  Node& node = nodes_[index];
  node.registration = std::move(registration);
  node.last_contact_ms = now;
  node.declared_dead = false;
  ++node.epoch;
  ApplyDecommissionListUnlocked(node, now);
  node.pending_deletes.clear();
  node.pending_replications.clear();
  node.pending_recoveries.clear();
  result.index = index;
  result.registration = node.registration;
  return result;
}

void DatanodeManager::ClearPendingCommands() {
  std::lock_guard lock(mutex_);
  for (Node& node : nodes_) {
    node.pending_deletes.clear();
    node.pending_replications.clear();
    node.pending_recoveries.clear();
  }
}

Result<HeartbeatReply> DatanodeManager::Heartbeat(std::string_view storage_id,
                                                  const HeartbeatStats& stats,
                                                  bool take_commands) {
  RETURN_NOT_OK(ValidateStats(storage_id, stats));
  const int64_t now = clock_->NowMs();
  std::lock_guard lock(mutex_);
  HeartbeatReply reply;
  auto it = by_storage_id_.find(std::string(storage_id));
  if (it == by_storage_id_.end() || nodes_[it->second].declared_dead) {
    reply.reregister = true;
    return reply;
  }
  Node& node = nodes_[it->second];
  node.volumes = stats.volumes;
  node.active_transfers = stats.active_transfers;
  node.failed_volumes = stats.failed_volumes;
  node.last_contact_ms = now;
  if (!take_commands) return reply;

  size_t deletes = std::min(node.pending_deletes.size(), options_.max_deletes_per_heartbeat);
  reply.commands.delete_blocks.assign(node.pending_deletes.begin(),
                                      node.pending_deletes.begin() + deletes);
  node.pending_deletes.erase(node.pending_deletes.begin(), node.pending_deletes.begin() + deletes);
  size_t copies =
      std::min(node.pending_replications.size(), options_.max_replications_per_heartbeat);
  for (size_t i = 0; i < copies; ++i) {
    reply.commands.replicate.push_back(std::move(node.pending_replications[i]));
  }
  node.pending_replications.erase(node.pending_replications.begin(),
                                  node.pending_replications.begin() + copies);
  reply.commands.recover.swap(node.pending_recoveries);
  return reply;
}

Result<DatanodeIndex> DatanodeManager::LookupLive(std::string_view storage_id) const {
  std::lock_guard lock(mutex_);
  auto it = by_storage_id_.find(std::string(storage_id));
  if (it == by_storage_id_.end() || nodes_[it->second].declared_dead) {
    return Status::NotFound("datanode " + std::string(storage_id) +
                            " is not registered: register again");
  }
  return it->second;
}

std::optional<DatanodeIndex> DatanodeManager::Find(std::string_view storage_id) const {
  std::lock_guard lock(mutex_);
  auto it = by_storage_id_.find(std::string(storage_id));
  if (it == by_storage_id_.end()) return std::nullopt;
  return it->second;
}

DatanodeLiveness DatanodeManager::LivenessUnlocked(const Node& node, int64_t now_ms) const {
  if (node.declared_dead) return DatanodeLiveness::kDead;
  const int64_t silent_ms = now_ms - node.last_contact_ms;
  if (silent_ms > options_.dead_after_ms) return DatanodeLiveness::kDead;
  if (silent_ms > options_.heartbeat_interval_ms * options_.stale_after_missed_heartbeats) {
    return DatanodeLiveness::kStale;
  }
  return DatanodeLiveness::kLive;
}

std::vector<DatanodeIndex> DatanodeManager::CollectNewlyDead() {
  const int64_t now = clock_->NowMs();
  std::lock_guard lock(mutex_);
  std::vector<DatanodeIndex> dead;
  for (DatanodeIndex i = 0; i < nodes_.size(); ++i) {
    Node& node = nodes_[i];
    if (node.declared_dead || LivenessUnlocked(node, now) != DatanodeLiveness::kDead) continue;
    LOG(WARNING) << "datanode " << node.registration.storage_id << " at "
                 << node.registration.host << ":" << node.registration.data_port
                 << " is dead: no heartbeat for " << (now - node.last_contact_ms) << " ms";
    node.declared_dead = true;
    node.pending_deletes.clear();
    node.pending_replications.clear();
    node.pending_recoveries.clear();
    dead.push_back(i);
  }
  return dead;
}

DatanodeLiveness DatanodeManager::Liveness(DatanodeIndex index) const {
  const int64_t now = clock_->NowMs();
  std::lock_guard lock(mutex_);
  if (index >= nodes_.size()) return DatanodeLiveness::kDead;
  return LivenessUnlocked(nodes_[index], now);
}

std::vector<bool> DatanodeManager::LiveMask() const {
  const int64_t now = clock_->NowMs();
  std::lock_guard lock(mutex_);
  std::vector<bool> mask(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    mask[i] = LivenessUnlocked(nodes_[i], now) != DatanodeLiveness::kDead;
  }
  return mask;
}

std::vector<NodeState> DatanodeManager::States() const {
  const int64_t now = clock_->NowMs();
  std::lock_guard lock(mutex_);
  std::vector<NodeState> states(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    states[i].liveness = LivenessUnlocked(nodes_[i], now);
    states[i].admin_state = nodes_[i].admin_state;
    states[i].epoch = nodes_[i].epoch;
  }
  return states;
}

DatanodeSnapshot DatanodeManager::SnapshotUnlocked(DatanodeIndex index, int64_t now_ms) const {
  const Node& node = nodes_[index];
  DatanodeSnapshot s;
  s.index = index;
  s.registration = node.registration;
  s.volumes = node.volumes;
  for (const VolumeStats& v : node.volumes) {
    if (v.failed) continue;
    s.capacity += v.capacity;
    s.used += v.used;
    s.remaining += v.remaining;
  }
  s.active_transfers = node.active_transfers;
  s.failed_volumes = node.failed_volumes;
  s.last_contact_ms = node.last_contact_ms;
  s.liveness = LivenessUnlocked(node, now_ms);
  s.admin_state = node.admin_state;
  s.admin_state_since_ms = node.admin_state_since_ms;
  s.epoch = node.epoch;
  return s;
}

std::optional<DatanodeSnapshot> DatanodeManager::Describe(DatanodeIndex index) const {
  const int64_t now = clock_->NowMs();
  std::lock_guard lock(mutex_);
  if (index >= nodes_.size()) return std::nullopt;
  return SnapshotUnlocked(index, now);
}

std::vector<DatanodeSnapshot> DatanodeManager::Describe(
    std::span<const DatanodeIndex> indexes) const {
  const int64_t now = clock_->NowMs();
  std::lock_guard lock(mutex_);
  std::vector<DatanodeSnapshot> out;
  out.reserve(indexes.size());
  for (DatanodeIndex i : indexes) {
    if (i < nodes_.size()) out.push_back(SnapshotUnlocked(i, now));
  }
  return out;
}

std::vector<DatanodeSnapshot> DatanodeManager::ListNodes() const {
  const int64_t now = clock_->NowMs();
  std::lock_guard lock(mutex_);
  std::vector<DatanodeSnapshot> out;
  out.reserve(nodes_.size());
  for (DatanodeIndex i = 0; i < nodes_.size(); ++i) out.push_back(SnapshotUnlocked(i, now));
  return out;
}

std::vector<DatanodeSnapshot> DatanodeManager::ListLiveNodes() const {
  std::vector<DatanodeSnapshot> all = ListNodes();
  std::erase_if(all, [](const DatanodeSnapshot& s) {
    return s.liveness == DatanodeLiveness::kDead;
  });
  return all;
}

std::vector<DatanodeSnapshot> DatanodeManager::ListDeadNodes() const {
  std::vector<DatanodeSnapshot> all = ListNodes();
  std::erase_if(all, [](const DatanodeSnapshot& s) {
    return s.liveness != DatanodeLiveness::kDead;
  });
  return all;
}

std::string DatanodeManager::RackOfHost(std::string_view host) const {
  if (topology_ != nullptr && !topology_->empty()) return topology_->RackOf(host);
  std::lock_guard lock(mutex_);
  for (const Node& node : nodes_) {
    if (node.registration.host == host) return node.registration.rack;
  }
  return {};
}

bool DatanodeManager::OnDecommissionListUnlocked(const DatanodeRegistration& reg) const {
  const std::string host_port = reg.host + ":" + std::to_string(reg.data_port);
  for (const std::string& entry : decommission_list_) {
    if (entry == reg.host || entry == host_port) return true;
  }
  return false;
}

bool DatanodeManager::ApplyDecommissionListUnlocked(Node& node, int64_t now_ms) {
  const bool listed = OnDecommissionListUnlocked(node.registration);
  if (listed && node.admin_state == AdminState::kNormal) {
    node.admin_state = AdminState::kDecommissionInProgress;
    node.admin_state_since_ms = now_ms;
    LOG(INFO) << "datanode " << node.registration.host << ":" << node.registration.data_port
              << " starts decommissioning";
    return true;
  }
  if (!listed && node.admin_state != AdminState::kNormal) {
    node.admin_state = AdminState::kNormal;
    node.admin_state_since_ms = 0;
    LOG(INFO) << "datanode " << node.registration.host << ":" << node.registration.data_port
              << " is back in service";
    return true;
  }
  return false;
}

size_t DatanodeManager::SetDecommissionList(std::vector<std::string> entries) {
  const int64_t now = clock_->NowMs();
  std::lock_guard lock(mutex_);
  decommission_list_ = std::move(entries);
  size_t changed = 0;
  for (Node& node : nodes_) {
    if (ApplyDecommissionListUnlocked(node, now)) ++changed;
  }
  return changed;
}

bool DatanodeManager::MarkDecommissioned(DatanodeIndex index) {
  const int64_t now = clock_->NowMs();
  std::lock_guard lock(mutex_);
  if (index >= nodes_.size()) return false;
  Node& node = nodes_[index];
  if (node.admin_state != AdminState::kDecommissionInProgress) return false;
  node.admin_state = AdminState::kDecommissioned;
  node.admin_state_since_ms = now;
  LOG(INFO) << "datanode " << node.registration.host << ":" << node.registration.data_port
            << " is decommissioned";
  return true;
}

void DatanodeManager::QueueDeletes(DatanodeIndex index, std::span<const Block> blocks) {
  if (blocks.empty()) return;
  std::lock_guard lock(mutex_);
  if (index >= nodes_.size() || nodes_[index].declared_dead) {
    VLOG(1) << "dropping " << blocks.size() << " deletes for unknown or dead datanode " << index;
    return;
  }
  auto& queue = nodes_[index].pending_deletes;
  queue.insert(queue.end(), blocks.begin(), blocks.end());
}

void DatanodeManager::QueueReplication(DatanodeIndex source, ReplicationWork work) {
  std::lock_guard lock(mutex_);
  if (source >= nodes_.size() || nodes_[source].declared_dead) {
    VLOG(1) << "dropping replication of block " << work.block.id << " from dead datanode "
            << source;
    return;
  }
  nodes_[source].pending_replications.push_back(std::move(work));
}

void DatanodeManager::QueueRecovery(DatanodeIndex primary, RecoveryWork work) {
  std::lock_guard lock(mutex_);
  if (primary >= nodes_.size() || nodes_[primary].declared_dead) {
    VLOG(1) << "dropping recovery of block " << work.block.id << " by dead datanode " << primary;
    return;
  }
  nodes_[primary].pending_recoveries.push_back(std::move(work));
}

size_t DatanodeManager::PendingDeleteCount(DatanodeIndex index) const {
  std::lock_guard lock(mutex_);
  return index < nodes_.size() ? nodes_[index].pending_deletes.size() : 0;
}

size_t DatanodeManager::TotalPendingDeletes() const {
  std::lock_guard lock(mutex_);
  size_t total = 0;
  for (const Node& node : nodes_) total += node.pending_deletes.size();
  return total;
}

}  // namespace talus::blocks
