#pragma once
// The namenode's scrape-time metrics: values that live in the block map, the replication
// monitor, the datanode registry, safe mode, the namespace and the lease manager are read when
// /metrics is scraped, never mirrored into counters.
#include "common/metrics/metrics.h"

namespace talus {
class Namesystem;
class LeaseManager;
namespace blocks {
class BlockMap;
class BlockManager;
class DatanodeManager;
class SafeMode;
}  // namespace blocks

// What the collector reads. Any pointer may be null (that group of metrics is then left out);
// every object given must outlive the collector (RemoveCollector before destroying them).
struct NamenodeMetricsSources {
  const blocks::BlockMap* block_map = nullptr;
  const blocks::BlockManager* block_manager = nullptr;
  const blocks::DatanodeManager* datanodes = nullptr;
  const blocks::SafeMode* safe_mode = nullptr;
  const Namesystem* namesystem = nullptr;
  const LeaseManager* leases = nullptr;
};

// Adds the namenode's collector to `registry`; returns its id for Registry::RemoveCollector.
// Gauges unless they end in _total:
//   block map: talus_namenode_blocks, _under_construction_blocks, _under_replicated_blocks,
//     _missing_blocks, _corrupt_replica_blocks, _replicas, _excess_replicas (one walk of the
//     map, reused by scrapes within a second);
//   replication monitor: talus_namenode_replication_queue_blocks, _pending_replication_blocks,
//     _pending_deletion_blocks, _replication_scheduled_total, _replication_timed_out_total,
//     _excess_replicas_deleted_total, _corrupt_replicas_deleted_total, _decommissioned_total;
//   datanodes: talus_namenode_datanodes{liveness="live|stale|dead",
//     admin_state="in_service|decommissioning|decommissioned"}, talus_namenode_capacity_bytes,
//     _used_bytes, _remaining_bytes (live nodes in service, as dfsadmin -report);
//   talus_namenode_safe_mode (1/0); talus_namenode_files, _directories;
//   talus_namenode_lease_holders, _leased_files.
int RegisterNamenodeCollector(metrics::Registry* registry, const NamenodeMetricsSources& sources);

}  // namespace talus
