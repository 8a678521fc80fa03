#include "namenode/blocks/datanode_service.h"

#include <glog/logging.h>

#include <chrono>

#include "common/metrics/metrics.h"
#include "common/rpc/thrift_status.h"

namespace talus::blocks {
namespace {

using apache::thrift::TDelayedException;

void Fail(const DatanodeService::ExnCob& exn_cob, const Status& status) {
  exn_cob(TDelayedException::delayException(ToThriftError(status)));
}

DatanodeRegistration RegistrationFromThrift(const rpc::DatanodeId& id) {
  return DatanodeRegistration{id.storage_id, id.host, id.data_port, id.rpc_port,
                              id.__isset.rack ? id.rack : std::string(),
                              id.__isset.http_port ? id.http_port : 0};
}

Result<ReplicaState> StateFromThrift(rpc::ReplicaState::type state) {
  switch (state) {
    case rpc::ReplicaState::FINALIZED: return ReplicaState::kFinalized;
    case rpc::ReplicaState::RBW: return ReplicaState::kRbw;
    // Waiting for recovery: for the block map, still a replica being written.
    case rpc::ReplicaState::RWR: return ReplicaState::kRbw;
  }
  return Status::InvalidArgument("unknown replica state " + std::to_string(state));
}

Result<ReceivedDeletedStatus> StatusFromThrift(rpc::ReceivedDeletedStatus::type status) {
  switch (status) {
    case rpc::ReceivedDeletedStatus::RECEIVING: return ReceivedDeletedStatus::kReceiving;
    case rpc::ReceivedDeletedStatus::RECEIVED: return ReceivedDeletedStatus::kReceived;
    case rpc::ReceivedDeletedStatus::DELETED: return ReceivedDeletedStatus::kDeleted;
  }
  return Status::InvalidArgument("unknown received/deleted status " + std::to_string(status));
}

// What datanodes tell the namenode, counted as it is processed (the RPC counts per method are
// the server's, talus_rpc_requests_total{server="service"}).
struct ServiceMetrics {
  metrics::Counter* registrations;
  metrics::Counter* heartbeats;
  metrics::Counter* reregister_replies;
  metrics::Counter* block_reports;
  metrics::Counter* block_report_replicas;
  metrics::Histogram* block_report_seconds;
  metrics::Counter* incremental_reports;
  metrics::Counter* incremental_received;
  metrics::Counter* incremental_receiving;
  metrics::Counter* incremental_deleted;
  metrics::Counter* bad_replicas;
  metrics::Counter* command_delete;
  metrics::Counter* command_replicate;
  metrics::Counter* command_recover;
};

const ServiceMetrics& Metrics() {
  static const ServiceMetrics* m = [] {
    metrics::Registry& r = metrics::DefaultRegistry();
    const char* kIncremental = "talus_namenode_incremental_report_blocks_total";
    const char* kIncrementalHelp = "Blocks in incremental block reports, by status.";
    const char* kCommands = "talus_namenode_command_blocks_total";
    const char* kCommandsHelp = "Blocks handed to datanodes in heartbeat replies, by command.";
    return new ServiceMetrics{
        r.GetCounter("talus_namenode_datanode_registrations_total",
                     "Datanode registrations accepted (first and again)."),
        r.GetCounter("talus_namenode_heartbeats_total", "Datanode heartbeats processed."),
        r.GetCounter("talus_namenode_heartbeat_reregister_replies_total",
                     "Heartbeats answered with 'register again' (unknown or dead node)."),
        r.GetCounter("talus_namenode_block_reports_total",
                     "Full block reports (one per volume) processed."),
        r.GetCounter("talus_namenode_block_report_replicas_total",
                     "Replicas listed in the full block reports processed."),
        r.GetHistogram("talus_namenode_block_report_seconds",
                       "Time to process one full block report, seconds.",
                       metrics::LatencyBuckets()),
        r.GetCounter("talus_namenode_incremental_reports_total",
                     "Incremental block reports (blockReceivedAndDeleted) processed."),
        r.GetCounter(kIncremental, kIncrementalHelp, {{"status", "received"}}),
        r.GetCounter(kIncremental, kIncrementalHelp, {{"status", "receiving"}}),
        r.GetCounter(kIncremental, kIncrementalHelp, {{"status", "deleted"}}),
        r.GetCounter("talus_namenode_bad_replica_reports_total",
                     "Replicas datanodes reported corrupt (reportBadBlocks)."),
        r.GetCounter(kCommands, kCommandsHelp, {{"command", "delete"}}),
        r.GetCounter(kCommands, kCommandsHelp, {{"command", "replicate"}}),
        r.GetCounter(kCommands, kCommandsHelp, {{"command", "recover"}}),
    };
  }();
  return *m;
}

}  // namespace

Block DatanodeService::FromThrift(const rpc::ExtendedBlock& block) {
  return Block{block.block_id, block.generation_stamp, block.num_bytes};
}

rpc::ExtendedBlock DatanodeService::ToThrift(const Block& block) {
  rpc::ExtendedBlock out;
  out.block_id = block.id;
  out.generation_stamp = block.generation_stamp;
  out.num_bytes = block.num_bytes;
  return out;
}

rpc::DatanodeId DatanodeService::ToThrift(const DatanodeRegistration& registration) {
  rpc::DatanodeId out;
  out.storage_id = registration.storage_id;
  out.host = registration.host;
  out.data_port = registration.data_port;
  out.rpc_port = registration.rpc_port;
  out.__set_rack(registration.rack);
  if (registration.http_port != 0) out.__set_http_port(registration.http_port);
  return out;
}

DatanodeService::DatanodeService(DatanodeManager* datanodes, BlockMap* block_map,
                                 const Clock* clock, std::string cluster_id)
    : datanodes_(datanodes),
      block_map_(block_map),
      clock_(clock),
      cluster_id_(std::move(cluster_id)) {
  Metrics();  // registered now: /metrics shows zeros before the first datanode calls
}

void DatanodeService::MaybeCollectDead() {
  const int64_t now = clock_->NowMs();
  int64_t last = last_dead_scan_ms_.load(std::memory_order_relaxed);
  if (now - last < datanodes_->options().heartbeat_interval_ms) return;
  // One heartbeat thread wins the scan; the others go on.
  if (!last_dead_scan_ms_.compare_exchange_strong(last, now)) return;
  block_map_->HandleDeadDatanodes();
}

void DatanodeService::registerDatanode(Cob<rpc::DatanodeId> cob, ExnCob exn_cob,
                                       const rpc::DatanodeId& id, const std::string& cluster_id) {
  if (!cluster_id_.empty() && cluster_id != cluster_id_) {
    return Fail(exn_cob, Status::InvalidArgument("datanode " + id.storage_id +
                                                 " belongs to cluster \"" + cluster_id +
                                                 "\", this namenode serves \"" + cluster_id_ +
                                                 "\""));
  }
  Result<DatanodeManager::RegisterResult> result = datanodes_->Register(RegistrationFromThrift(id));
  if (!result.ok()) return Fail(exn_cob, result.status());
  Metrics().registrations->Increment();
  // Its queued commands were dropped: deletes queued there are decided anew.
  block_map_->OnDatanodeRegistered(result->index);
  // A node replaced at the same address (reformatted) loses its replicas now.
  if (result->replaced.has_value()) block_map_->HandleDeadDatanodes();
  cob(ToThrift(result->registration));
}

void DatanodeService::heartbeat(Cob<rpc::HeartbeatResponse> cob, ExnCob exn_cob,
                                const rpc::DatanodeId& id,
                                const std::vector<rpc::StorageReport>& reports,
                                int32_t active_transfers, int32_t failed_volumes) {
  HeartbeatStats stats;
  stats.volumes.reserve(reports.size());
  for (const rpc::StorageReport& r : reports) {
    stats.volumes.push_back(VolumeStats{r.volume_id, r.capacity, r.used, r.remaining, r.failed});
  }
  stats.active_transfers = active_transfers;
  stats.failed_volumes = failed_volumes;
  const bool from_leader = !is_leader_ || is_leader_();
  Result<HeartbeatReply> reply = datanodes_->Heartbeat(id.storage_id, stats, from_leader);
  if (!reply.ok()) return Fail(exn_cob, reply.status());
  const ServiceMetrics& m = Metrics();
  m.heartbeats->Increment();
  MaybeCollectDead();

  rpc::HeartbeatResponse response;
  response.from_leader = from_leader;
  if (!response.from_leader && leader_hint_) response.__set_leader_hint(leader_hint_());
  if (reply->reregister) {
    rpc::DatanodeCommand command;
    command.type = rpc::DatanodeCommandType::REREGISTER;
    response.commands.push_back(std::move(command));
    m.reregister_replies->Increment();
    return cob(response);
  }
  if (!reply->commands.delete_blocks.empty()) {
    rpc::DatanodeCommand command;
    command.type = rpc::DatanodeCommandType::DELETE_BLOCKS;
    std::vector<rpc::ExtendedBlock> blocks;
    for (const Block& b : reply->commands.delete_blocks) blocks.push_back(ToThrift(b));
    m.command_delete->Increment(static_cast<int64_t>(blocks.size()));
    command.__set_blocks(std::move(blocks));
    response.commands.push_back(std::move(command));
  }
  if (!reply->commands.replicate.empty()) {
    rpc::DatanodeCommand command;
    command.type = rpc::DatanodeCommandType::REPLICATE_BLOCKS;
    std::vector<rpc::BlockTransfer> transfers;
    for (const ReplicationWork& work : reply->commands.replicate) {
      rpc::BlockTransfer transfer;
      transfer.block = ToThrift(work.block);
      for (const DatanodeSnapshot& target : datanodes_->Describe(work.targets)) {
        transfer.targets.push_back(ToThrift(target.registration));
      }
      transfers.push_back(std::move(transfer));
    }
    m.command_replicate->Increment(static_cast<int64_t>(transfers.size()));
    command.__set_transfers(std::move(transfers));
    response.commands.push_back(std::move(command));
  }
  if (!reply->commands.recover.empty()) {
    rpc::DatanodeCommand command;
    command.type = rpc::DatanodeCommandType::RECOVER_BLOCKS;
    std::vector<rpc::RecoveringBlock> recoveries;
    for (const RecoveryWork& work : reply->commands.recover) {
      rpc::RecoveringBlock recovering;
      recovering.block = ToThrift(work.block);
      recovering.new_generation_stamp = work.new_generation_stamp;
      for (const DatanodeSnapshot& node : datanodes_->Describe(work.locations)) {
        recovering.locations.push_back(ToThrift(node.registration));
      }
      recoveries.push_back(std::move(recovering));
    }
    m.command_recover->Increment(static_cast<int64_t>(recoveries.size()));
    command.__set_recoveries(std::move(recoveries));
    response.commands.push_back(std::move(command));
  }
  cob(response);
}

void DatanodeService::blockReport(std::function<void()> cob, ExnCob exn_cob,
                                  const rpc::DatanodeId& id, const std::string& volume_id,
                                  const std::vector<rpc::ReportedReplica>& replicas) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<ReportedReplica> converted;
  converted.reserve(replicas.size());
  for (const rpc::ReportedReplica& r : replicas) {
    Result<ReplicaState> state = StateFromThrift(r.state);
    if (!state.ok()) return Fail(exn_cob, state.status());
    converted.push_back(ReportedReplica{FromThrift(r.block), *state});
  }
  Result<BlockReportSummary> summary =
      block_map_->ProcessFullReport(id.storage_id, volume_id, converted);
  if (!summary.ok()) return Fail(exn_cob, summary.status());
  const ServiceMetrics& m = Metrics();
  m.block_reports->Increment();
  m.block_report_replicas->Increment(static_cast<int64_t>(converted.size()));
  m.block_report_seconds->Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  cob();
}

void DatanodeService::blockReceivedAndDeleted(std::function<void()> cob, ExnCob exn_cob,
                                              const rpc::DatanodeId& id,
                                              const std::vector<rpc::ReceivedDeletedBlock>& blocks) {
  std::vector<ReceivedDeletedBlock> converted;
  converted.reserve(blocks.size());
  for (const rpc::ReceivedDeletedBlock& b : blocks) {
    Result<ReceivedDeletedStatus> status = StatusFromThrift(b.status);
    if (!status.ok()) return Fail(exn_cob, status.status());
    converted.push_back(ReceivedDeletedBlock{FromThrift(b.block), *status});
  }
  Status s = block_map_->ProcessIncrementalReport(id.storage_id, converted);
  if (!s.ok()) return Fail(exn_cob, s);
  const ServiceMetrics& m = Metrics();
  m.incremental_reports->Increment();
  for (const ReceivedDeletedBlock& b : converted) {
    switch (b.status) {
      case ReceivedDeletedStatus::kReceived: m.incremental_received->Increment(); break;
      case ReceivedDeletedStatus::kReceiving: m.incremental_receiving->Increment(); break;
      case ReceivedDeletedStatus::kDeleted: m.incremental_deleted->Increment(); break;
    }
  }
  cob();
}

void DatanodeService::commitBlockSynchronization(std::function<void()> cob, ExnCob exn_cob,
                                                 const rpc::DatanodeId& id,
                                                 const rpc::ExtendedBlock& old_block,
                                                 const rpc::ExtendedBlock& new_block,
                                                 const std::vector<std::string>& storage_ids,
                                                 bool close_file, bool delete_block) {
  if (!commit_block_sync_ || commit_pool_ == nullptr) {
    return Fail(exn_cob, Status::Unavailable("lease recovery is not running on this namenode"));
  }
  if (!datanodes_->LookupLive(id.storage_id).ok()) {
    return Fail(exn_cob, Status::NotFound("datanode " + id.storage_id + " is not registered"));
  }
  if (storage_ids.size() > 64) {
    return Fail(exn_cob, Status::InvalidArgument("too many storage ids"));
  }
  Status queued = commit_pool_->Submit([this, cob, exn_cob, old = FromThrift(old_block),
                                        updated = FromThrift(new_block), storage_ids,
                                        close_file, delete_block] {
    Status s = commit_block_sync_(old, updated, storage_ids, close_file, delete_block);
    if (!s.ok()) return Fail(exn_cob, s);
    cob();
  });
  if (!queued.ok()) Fail(exn_cob, queued);
}

void DatanodeService::reportBadBlocks(std::function<void()> cob, ExnCob exn_cob,
                                      const rpc::DatanodeId& id,
                                      const std::vector<rpc::ExtendedBlock>& blocks) {
  for (const rpc::ExtendedBlock& b : blocks) {
    Metrics().bad_replicas->Increment();
    Status s = block_map_->ReportBadReplica(id.storage_id, FromThrift(b));
    // A block deleted meanwhile is not an error for the reporter.
    if (!s.ok() && !(s.IsNotFound() && datanodes_->Find(id.storage_id).has_value())) {
      return Fail(exn_cob, s);
    }
  }
  cob();
}

}  // namespace talus::blocks
