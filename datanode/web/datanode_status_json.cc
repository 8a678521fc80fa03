#include "datanode/web/datanode_status_json.h"

#include <chrono>
#include <map>

#include "common/metrics/metrics.h"
#include "common/web/recent_log.h"
#include "datanode/server/datanode.h"

namespace talus::datanode {
namespace {

constexpr char kBlocksReadMetric[] = "talus_datanode_blocks_read_total";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

nlohmann::json NamenodesJson(const Datanode& dn) {
  nlohmann::json out = nlohmann::json::array();
  const auto now = std::chrono::steady_clock::now();
  for (const auto& link : dn.links()) {
    nlohmann::json nn = {{"address", link->address()}, {"registered", link->registered()}};
    // null until the namenode first answers a heartbeat.
    std::optional<std::chrono::steady_clock::time_point> last = link->last_heartbeat();
    if (last) {
      nn["last_heartbeat_ms_ago"] =
          std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(now - *last)
                                   .count());
    } else {
      nn["last_heartbeat_ms_ago"] = nullptr;
    }
    out.push_back(std::move(nn));
  }
  return out;
}

// Block reads the data port served to their end, as its metrics count them (the transfer
// server keeps no per-op count of its own); 0 before the first read registers the family.
int64_t BlockReadsServed() {
  int64_t total = 0;
  for (const auto& [labels, value] : metrics::DefaultRegistry().CounterValues(kBlocksReadMetric)) {
    total += value;
  }
  return total;
}

nlohmann::json RecentErrorsJson() {
  nlohmann::json out = nlohmann::json::array();
  const web::RecentLog* log = web::RecentLog::Get();
  if (log == nullptr) return out;
  for (const web::LogEntry& e : log->Entries()) {
    out.push_back({{"time_ms", e.time_ms},
                   {"severity", e.severity},
                   {"location", e.location},
                   {"message", e.message}});
  }
  return out;
}

}  // namespace

nlohmann::json DatanodeStatusJson(const Datanode& dn, int64_t start_time_ms) {
  DataSet* data = dn.data();
  // Replicas per volume, from one snapshot of the replica map.
  std::map<const Volume*, uint64_t> replicas_on;
  uint64_t replicas = 0;
  for (const ReplicaInfo& r : data->Replicas()) {
    ++replicas_on[r.volume];
    ++replicas;
  }
  nlohmann::json volumes = nlohmann::json::array();
  uint64_t capacity = 0;
  uint64_t used = 0;
  uint64_t remaining = 0;
  for (Volume* v : data->volumes()) {
    nlohmann::json volume = {{"volume_id", v->storage_id()}, {"path", v->root()}};
    uint64_t v_capacity = 0;
    uint64_t v_used = 0;
    uint64_t v_remaining = 0;
    if (!v->failed()) {
      Result<VolumeUsage> usage = v->Usage();
      if (usage.ok()) {
        v_capacity = usage->capacity_bytes;
        v_used = usage->used_bytes;
        v_remaining = usage->remaining_bytes;
      }
    }
    // Totals count volumes in service only, as the heartbeat does.
    if (!v->failed()) {
      capacity += v_capacity;
      used += v_used;
      remaining += v_remaining;
    }
    volume["capacity_bytes"] = v_capacity;
    volume["used_bytes"] = v_used;
    volume["remaining_bytes"] = v_remaining;
    volume["failed"] = v->failed();
    if (v->failed()) volume["failure_reason"] = v->failure_reason();
    auto it = replicas_on.find(v);
    volume["replicas"] = it == replicas_on.end() ? 0 : it->second;
    volumes.push_back(std::move(volume));
  }
  const TransferCounters transfer = dn.transfer_counters();
  const ReplicationCounters replication = dn.replication_counters();
  nlohmann::json out = {
      {"storage_id", dn.storage_id()},
      {"version", TALUS_VERSION},
      {"start_time_ms", start_time_ms},
      {"now_ms", NowMs()},
      {"rpc_address", dn.rpc_address()},
      {"data_address", dn.data_address()},
      {"http_address", dn.http_address()},
      {"namenodes", NamenodesJson(dn)},
      {"capacity_bytes", capacity},
      {"used_bytes", used},
      {"remaining_bytes", remaining},
      {"volumes", std::move(volumes)},
      {"replicas", replicas},
      {"active_transfers", dn.ActiveTransfers()},
      {"transfers",
       {{"reads", BlockReadsServed()},
        {"writes", dn.replicas_received()},
        {"replications", replication.succeeded},
        {"replications_failed", replication.failed},
        {"replications_in_progress", replication.in_progress},
        {"bytes_read", transfer.bytes_read},
        {"bytes_written", transfer.bytes_written},
        {"checksum_errors", transfer.checksum_errors}}},
      {"recent_errors", RecentErrorsJson()},
  };
  return out;
}

}  // namespace talus::datanode
