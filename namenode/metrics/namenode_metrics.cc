#include "namenode/metrics/namenode_metrics.h"

#include <glog/logging.h>

#include <array>
#include <chrono>
#include <memory>
#include <mutex>

#include "namenode/blocks/block_manager.h"
#include "namenode/blocks/block_map.h"
#include "namenode/blocks/datanode_manager.h"
#include "namenode/blocks/safe_mode.h"
#include "namenode/leases/lease_manager.h"
#include "namenode/namesystem.h"

namespace talus {

namespace {

// BlockMap::Stats walks every block under the block map's lock: a burst of scrapes (several
// Prometheus servers, a page polling /metrics) reuses one walk for this long.
constexpr auto kBlockStatsMaxAge = std::chrono::seconds(1);

class BlockStatsCache {
 public:
  explicit BlockStatsCache(const blocks::BlockMap* map) : map_(map) {}

  blocks::BlockMapStats Get() {
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (!taken_ || now - taken_at_ >= kBlockStatsMaxAge) {
      stats_ = map_->Stats();
      taken_at_ = now;
      taken_ = true;
    }
    return stats_;
  }

 private:
  const blocks::BlockMap* const map_;
  std::mutex mu_;
  bool taken_ = false;                              // mu_
  std::chrono::steady_clock::time_point taken_at_;  // mu_
  blocks::BlockMapStats stats_;                     // mu_
};

double D(int64_t v) { return static_cast<double>(v); }

void CollectBlockMap(BlockStatsCache* cache, metrics::SampleWriter& w) {
  const blocks::BlockMapStats s = cache->Get();
  w.Gauge("talus_namenode_blocks", "Blocks in the block map (complete and under construction).", {},
          D(s.total_blocks));
  w.Gauge("talus_namenode_under_construction_blocks", "Blocks being written.", {},
          D(s.under_construction));
  w.Gauge("talus_namenode_under_replicated_blocks",
          "Complete blocks with fewer good replicas on live nodes in service than expected.", {},
          D(s.under_replicated));
  w.Gauge("talus_namenode_missing_blocks",
          "Complete blocks with no good replica left anywhere: nothing readable.", {},
          D(s.missing));
  w.Gauge("talus_namenode_corrupt_replica_blocks",
          "Blocks with at least one replica known corrupt.", {}, D(s.corrupt_replica_blocks));
  w.Gauge("talus_namenode_replicas", "Replicas recorded in the block map.", {},
          D(s.total_replicas));
  w.Gauge("talus_namenode_excess_replicas", "Replicas beyond their block's expected replication.",
          {}, D(s.excess_replicas));
}

void CollectReplication(const blocks::BlockManager* manager, metrics::SampleWriter& w) {
  const blocks::ReplicationStats s = manager->Stats();
  w.Gauge("talus_namenode_replication_queue_blocks",
          "Blocks in the replication monitor's needed-replication queues (as of its last pass).",
          {}, D(s.under_replicated));
  w.Gauge("talus_namenode_pending_replication_blocks",
          "Blocks with copies handed to datanodes and not yet reported.", {},
          D(s.pending_replication));
  w.Gauge("talus_namenode_pending_deletion_blocks",
          "Replica deletions queued for datanodes and not yet handed out.", {},
          D(s.pending_deletion));
  w.Counter("talus_namenode_replication_scheduled_total",
            "Block copies (one per target) handed to datanodes.", {}, D(s.scheduled_total));
  w.Counter("talus_namenode_replication_timed_out_total",
            "Block copies not reported in time and scheduled again.", {}, D(s.timed_out_total));
  w.Counter("talus_namenode_excess_replicas_deleted_total",
            "Excess replicas whose deletion was scheduled.", {}, D(s.excess_deleted_total));
  w.Counter("talus_namenode_corrupt_replicas_deleted_total",
            "Corrupt replicas deleted once a good copy existed.", {}, D(s.corrupt_deleted_total));
  w.Counter("talus_namenode_decommissioned_total", "Datanodes moved to Decommissioned.", {},
            D(s.decommissioned_total));
}

void CollectDatanodes(const blocks::DatanodeManager* datanodes, metrics::SampleWriter& w) {
  using blocks::AdminState;
  using blocks::DatanodeLiveness;
  constexpr std::array<DatanodeLiveness, 3> kLiveness = {
      DatanodeLiveness::kLive, DatanodeLiveness::kStale, DatanodeLiveness::kDead};
  constexpr std::array<AdminState, 3> kAdmin = {
      AdminState::kNormal, AdminState::kDecommissionInProgress, AdminState::kDecommissioned};
  // Every combination is written, zeros included, so a series never vanishes when its last
  // node changes state.
  int64_t count[3][3] = {};
  int64_t capacity = 0, used = 0, remaining = 0;
  for (const blocks::DatanodeSnapshot& node : datanodes->ListNodes()) {
    ++count[static_cast<int>(node.liveness)][static_cast<int>(node.admin_state)];
    if (node.liveness != DatanodeLiveness::kDead && node.in_service()) {
      capacity += node.capacity;
      used += node.used;
      remaining += node.remaining;
    }
  }
  // Admin states as label values: snake case, not HDFS's words with spaces.
  const char* kAdminLabel[] = {"in_service", "decommissioning", "decommissioned"};
  for (DatanodeLiveness l : kLiveness) {
    for (AdminState a : kAdmin) {
      w.Gauge("talus_namenode_datanodes", "Registered datanodes by liveness and admin state.",
              {{"liveness", blocks::LivenessName(l)},
               {"admin_state", kAdminLabel[static_cast<int>(a)]}},
              D(count[static_cast<int>(l)][static_cast<int>(a)]));
    }
  }
  w.Gauge("talus_namenode_capacity_bytes", "Capacity of live datanodes in service, bytes.", {},
          D(capacity));
  w.Gauge("talus_namenode_used_bytes", "Used space on live datanodes in service, bytes.", {},
          D(used));
  w.Gauge("talus_namenode_remaining_bytes", "Free space on live datanodes in service, bytes.", {},
          D(remaining));
}

}  // namespace

int RegisterNamenodeCollector(metrics::Registry* registry, const NamenodeMetricsSources& sources) {
  CHECK(registry != nullptr);
  std::shared_ptr<BlockStatsCache> block_stats;
  if (sources.block_map != nullptr)
    block_stats = std::make_shared<BlockStatsCache>(sources.block_map);
  return registry->AddCollector([sources, block_stats](metrics::SampleWriter& w) {
    if (block_stats != nullptr) CollectBlockMap(block_stats.get(), w);
    if (sources.block_manager != nullptr) CollectReplication(sources.block_manager, w);
    if (sources.datanodes != nullptr) CollectDatanodes(sources.datanodes, w);
    if (sources.safe_mode != nullptr) {
      w.Gauge("talus_namenode_safe_mode", "1 while the namenode is in safe mode, else 0.", {},
              sources.safe_mode->IsOn() ? 1 : 0);
    }
    if (sources.namesystem != nullptr) {
      // Two counters kept by the namespace store: cheap.
      Result<NamespaceCounts> counts = sources.namesystem->GetCounts();
      if (counts.ok()) {
        w.Gauge("talus_namenode_files", "Files in the namespace.", {}, D(counts->files));
        w.Gauge("talus_namenode_directories", "Directories in the namespace.", {},
                D(counts->directories));
      } else {
        LOG_EVERY_N(WARNING, 100) << "metrics: cannot read the namespace counts: "
                                  << counts.status();
      }
    }
    if (sources.leases != nullptr) {
      w.Gauge("talus_namenode_lease_holders", "Clients holding write leases.", {},
              static_cast<double>(sources.leases->holders()));
      w.Gauge("talus_namenode_leased_files", "Files open for writing under a lease.", {},
              static_cast<double>(sources.leases->files()));
    }
  });
}

}  // namespace talus
