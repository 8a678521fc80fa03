#include "namenode/status/cluster_status.h"

#include <algorithm>
#include <tuple>

#include "namenode/blocks/block_manager.h"
#include "namenode/blocks/block_map.h"
#include "namenode/blocks/clock.h"
#include "namenode/blocks/safe_mode.h"
#include "namenode/namesystem.h"

namespace talus::status {

namespace {

double Percent(int64_t part, int64_t whole) {
  return whole <= 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

void CountNode(const blocks::DatanodeSnapshot& node, DatanodeCounts* counts) {
  switch (node.liveness) {
    case blocks::DatanodeLiveness::kLive:
      ++counts->live;
      break;
    case blocks::DatanodeLiveness::kStale:
      ++counts->stale;
      break;
    case blocks::DatanodeLiveness::kDead:
      ++counts->dead;
      return;
  }
  if (node.admin_state == blocks::AdminState::kDecommissionInProgress) ++counts->decommissioning;
  if (node.admin_state == blocks::AdminState::kDecommissioned) ++counts->decommissioned;
}

}  // namespace

double ClusterSummary::UsedPercent() const {
  return Percent(used_bytes, used_bytes + remaining_bytes);
}

std::string DatanodeRow::Address() const { return host + ":" + std::to_string(data_port); }

double DatanodeRow::UsedPercent() const { return Percent(used_bytes, capacity_bytes); }

Result<ClusterSummary> ComputeClusterSummary(const StatusSources& sources) {
  ClusterSummary out;
  if (sources.namesystem != nullptr) {
    ASSIGN_OR_RETURN(NamespaceCounts counts, sources.namesystem->GetCounts());
    out.files = counts.files;
    out.directories = counts.directories;
  }
  if (sources.datanodes != nullptr) {
    for (const blocks::DatanodeSnapshot& node : sources.datanodes->ListNodes()) {
      CountNode(node, &out.datanodes);
      // Capacity is what live nodes in service said in their last heartbeats.
      if (node.liveness == blocks::DatanodeLiveness::kDead || !node.in_service()) continue;
      out.capacity_bytes += node.capacity;
      out.used_bytes += node.used;
      out.remaining_bytes += node.remaining;
    }
  }
  if (sources.block_map != nullptr) {
    const blocks::BlockMapStats stats = sources.block_map->Stats();
    out.blocks = stats.total_blocks;
    out.under_replicated_blocks = stats.under_replicated;
    out.missing_blocks = stats.missing;
    out.corrupt_blocks = stats.corrupt_replica_blocks;
  }
  if (sources.block_manager != nullptr) {
    const blocks::ReplicationStats replication = sources.block_manager->Stats();
    out.pending_replication_blocks = replication.pending_replication;
    out.pending_deletion_blocks = replication.pending_deletion;
  }
  if (sources.safe_mode != nullptr) {
    out.safe_mode_on = sources.safe_mode->IsOn();
    out.safe_mode_manual = sources.safe_mode->IsManual();
    out.safe_mode_tip = sources.safe_mode->Tip();
  }
  return out;
}

std::vector<DatanodeRow> ListDatanodeRows(const StatusSources& sources) {
  std::vector<DatanodeRow> out;
  if (sources.datanodes == nullptr) return out;
  // The datanode manager's clock is the namenode's steady clock.
  const int64_t now_ms = blocks::SteadyClock().NowMs();
  for (const blocks::DatanodeSnapshot& node : sources.datanodes->ListNodes()) {
    DatanodeRow row;
    row.storage_id = node.registration.storage_id;
    row.host = node.registration.host;
    row.data_port = node.registration.data_port;
    row.rpc_port = node.registration.rpc_port;
    row.http_port = node.registration.http_port;
    row.rack = node.registration.rack;
    row.liveness = node.liveness;
    row.admin_state = node.admin_state;
    row.last_contact_ms_ago = std::max<int64_t>(0, now_ms - node.last_contact_ms);
    row.capacity_bytes = node.capacity;
    row.used_bytes = node.used;
    row.remaining_bytes = node.remaining;
    row.blocks = sources.block_map != nullptr ? sources.block_map->NodeBlockCount(node.index) : 0;
    row.volumes = static_cast<int32_t>(node.volumes.size());
    row.failed_volumes = node.failed_volumes;
    row.active_transfers = node.active_transfers;
    out.push_back(std::move(row));
  }
  std::sort(out.begin(), out.end(), [](const DatanodeRow& a, const DatanodeRow& b) {
    return std::tie(a.host, a.data_port) < std::tie(b.host, b.data_port);
  });
  return out;
}

}  // namespace talus::status
