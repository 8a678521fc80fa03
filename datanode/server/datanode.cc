#include "datanode/server/datanode.h"

#include <algorithm>
#include <charconv>
#include <map>

#include <glog/logging.h>

#include "datanode/server/block_recovery.h"
#include "datanode/server/datanode_id.h"
#include "datanode/server/datanode_protocol_service.h"
#include "datanode/transfer/block_copier.h"
#include "talus_rpc/DatanodeProtocol.h"

namespace talus::datanode {
namespace {

BlockRef RefOf(const ReplicaInfo& r) { return BlockRef{r.block_id, r.genstamp, r.bytes_on_disk}; }

}  // namespace

Result<std::vector<HostPort>> ParseHostPortList(const std::string& list) {
  std::vector<HostPort> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string item = list.substr(start, comma == std::string::npos ? std::string::npos
                                                                      : comma - start);
    size_t colon = item.rfind(':');
    int port = 0;
    if (colon == std::string::npos || colon == 0) {
      return Status::InvalidArgument("'" + item + "' is not host:port");
    }
    const char* first = item.data() + colon + 1;
    const char* last = item.data() + item.size();
    auto [end, ec] = std::from_chars(first, last, port);
    if (ec != std::errc() || end != last || first == last || port < 1 || port > 65535) {
      return Status::InvalidArgument("'" + item + "' has no port within 1..65535");
    }
    out.push_back(HostPort{item.substr(0, colon), port});
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<std::unique_ptr<Datanode>> Datanode::Start(const DatanodeOptions& options) {
  if (options.data_dirs.empty()) return Status::InvalidArgument("no data directory given");
  if (options.namenodes.empty()) return Status::InvalidArgument("no namenode given");
  if (options.heartbeat_interval_ms <= 0 || options.block_report_interval_ms <= 0) {
    return Status::InvalidArgument("heartbeat and block report intervals must be positive");
  }
  if (options.max_replication_streams <= 0 || options.max_queued_replications < 0) {
    return Status::InvalidArgument("replication streams must be positive, the queue not negative");
  }
  if (options.block_scan_period.count() <= 0) {
    return Status::InvalidArgument("the block scan period must be positive");
  }
  std::unique_ptr<Datanode> dn(new Datanode(options));
  DataSetOptions data_options;
  data_options.volume_dirs = options.data_dirs;
  data_options.reserved_bytes_per_volume = options.reserved_bytes_per_volume;
  data_options.expected_block_bytes = options.expected_block_bytes;
  ScanReport scan;
  ASSIGN_OR_RETURN(dn->data_, DataSet::Open(data_options, &scan));
  LOG(INFO) << "Volumes scanned: " << scan.finalized << " finalized and " << scan.rwr
            << " RWR replica(s), " << scan.duplicates_dropped << " duplicate(s) dropped, "
            << scan.removed_files.size() << " stray file(s) removed";
  for (const std::string& f : scan.removed_files) LOG(INFO) << "Removed " << f;
  for (const std::string& p : scan.problems) LOG(WARNING) << p;
  for (const std::string& v : scan.failed_volumes) LOG(ERROR) << "Volume failed: " << v;

  std::vector<std::string> roots;
  for (Volume* v : dn->data_->volumes()) {
    if (!v->failed()) roots.push_back(v->root());
  }
  ASSIGN_OR_RETURN(dn->identity_.storage_id, LoadOrCreateDatanodeId(roots));
  dn->identity_.host = options.rpc_host;

  for (const HostPort& nn : options.namenodes) {
    NamenodeLinkOptions link;
    link.host = nn.host;
    link.port = nn.port;
    link.heartbeat_interval_ms = options.heartbeat_interval_ms;
    link.block_report_interval_ms = options.block_report_interval_ms;
    link.rpc_timeout_ms = options.rpc_timeout_ms;
    link.cluster_id = options.cluster_id;
    dn->links_.push_back(std::make_unique<NamenodeLink>(link, dn.get()));
  }
  dn->command_pool_ = std::make_unique<ThreadPool>("datanode commands", 2, 4096);
  dn->rpc_pool_ = std::make_unique<ThreadPool>("datanode recovery calls", 2, 256);
  dn->replication_pool_ = std::make_unique<ThreadPool>(
      "datanode replication", static_cast<size_t>(options.max_replication_streams),
      static_cast<size_t>(options.max_queued_replications));
  dn->replication_throttle_ =
      std::make_unique<Throttler>(options.replication_bandwidth_bytes_per_sec);
  if (options.block_scan_bytes_per_sec > 0) {
    BlockScannerOptions scan_options;
    scan_options.bytes_per_sec = options.block_scan_bytes_per_sec;
    scan_options.period = options.block_scan_period;
    // A short period (tests) also means new replicas are looked for as often.
    scan_options.max_idle = std::min<std::chrono::milliseconds>(scan_options.max_idle,
                                                                options.block_scan_period);
    Datanode* self = dn.get();
    BlockScanner::Callbacks callbacks;
    callbacks.on_corrupt = [self](const ReplicaInfo& r, const std::string&) {
      self->OnBadReplica(r.block_id, r.genstamp);
    };
    callbacks.on_missing = [self](const ReplicaInfo& r, const std::string&) {
      self->DropMissingReplica(r);
    };
    dn->scanner_ = std::make_unique<BlockScanner>(dn->data_.get(), scan_options,
                                                  std::move(callbacks));
  }

  TransferServerOptions transfer;
  transfer.host = options.rpc_host;
  transfer.port = static_cast<uint16_t>(options.data_port);
  transfer.socket_timeout_ms = options.transfer_socket_timeout_ms;
  transfer.max_connections = options.max_transfer_connections;
  transfer.max_packet_data_bytes = options.max_packet_data_bytes;
  transfer.node_name = dn->identity_.storage_id;
  ASSIGN_OR_RETURN(dn->transfer_, TransferServer::Start(transfer, dn->data_.get(), dn.get()));
  dn->identity_.data_port = dn->transfer_->port();

  TransferServer* transfer_server = dn->transfer_.get();
  dn->recovery_ = std::make_unique<ReplicaRecovery>(
      dn->data_.get(), [transfer_server](uint64_t id) { transfer_server->StopWriter(id); },
      dn.get());
  auto service = std::make_shared<DatanodeProtocolService>(
      [transfer_server](uint64_t id, uint64_t gs) {
        return transfer_server->VisibleLength(id, gs);
      },
      dn->recovery_.get(), dn->rpc_pool_.get());
  AsyncThriftServerOptions rpc;
  rpc.host = options.rpc_host;
  rpc.port = options.rpc_port;
  rpc.io_threads = 1;
  rpc.max_connections = 1024;
  rpc.max_frame_bytes = 1 << 20;
  rpc.metrics_name = "datanode";  // talus_rpc_*{server="datanode"} on /metrics
  ASSIGN_OR_RETURN(dn->rpc_server_, AsyncThriftServer::Start(
                                        std::make_shared<rpc::DatanodeProtocolAsyncProcessor>(
                                            service),
                                        rpc));
  dn->identity_.rpc_port = dn->rpc_server_->port();
  dn->identity_.http_port = options.http_port;
  LOG(INFO) << "Datanode " << dn->identity_.storage_id << ": RPC on " << dn->rpc_address()
            << ", data on " << dn->data_address() << ", " << roots.size() << " volume(s)";
  return dn;
}

Datanode::~Datanode() { Stop(); }

void Datanode::StartNamenodeLinks() {
  for (auto& link : links_) link->Start();
  // What the scanner finds goes to the namenodes, so it starts with the links.
  if (scanner_) scanner_->Start();
}

void Datanode::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  // Copies stop between packets, queued ones return at once.
  stop_copies_ = true;
  if (replication_throttle_) replication_throttle_->Cancel();
  if (scanner_) scanner_->Stop();
  for (auto& link : links_) link->Stop();
  if (rpc_server_) rpc_server_->Stop();
  if (transfer_) transfer_->Stop();
  // Queued work runs out (deletes finish; recoveries see stopped_ and give up).
  replication_pool_.reset();
  rpc_pool_.reset();
  command_pool_.reset();
}

std::string Datanode::rpc_address() const {
  return identity_.host + ":" + std::to_string(identity_.rpc_port);
}

std::string Datanode::data_address() const {
  return identity_.host + ":" + std::to_string(identity_.data_port);
}

std::string Datanode::http_address() const {
  if (identity_.http_port == 0) return "";
  return identity_.host + ":" + std::to_string(identity_.http_port);
}

TransferCounters Datanode::transfer_counters() const {
  return transfer_ ? transfer_->counters() : TransferCounters{};
}

void Datanode::NotifyAll(const BlockRef& block, BlockEvent event) {
  for (auto& link : links_) link->Notify(block, event);
}

void Datanode::OnReceiving(const ReplicaInfo& replica) {
  NotifyAll(RefOf(replica), BlockEvent::kReceiving);
}

void Datanode::OnReceived(const ReplicaInfo& replica) {
  replicas_received_.fetch_add(1);
  NotifyAll(RefOf(replica), BlockEvent::kReceived);
}

void Datanode::OnBadReplica(uint64_t block_id, uint64_t genstamp) {
  BlockRef block{block_id, genstamp, 0};
  Result<ReplicaInfo> info = data_->GetReplica(block_id);
  if (info.ok() && info->genstamp == genstamp) block.num_bytes = info->bytes_on_disk;
  LOG(WARNING) << "Bad replica blk_" << block_id << " stamp " << genstamp
               << ": reporting it to the namenodes";
  for (auto& link : links_) link->ReportBadReplica(block);
}

std::vector<VolumeState> Datanode::Volumes() const {
  std::vector<VolumeState> out;
  for (Volume* v : data_->volumes()) {
    VolumeState s;
    s.volume_id = v->storage_id();
    if (!v->failed()) {
      Result<VolumeUsage> usage = v->Usage();
      if (usage.ok()) {
        s.capacity = usage->capacity_bytes;
        s.used = usage->used_bytes;
        s.remaining = usage->remaining_bytes;
      } else {
        (void)v->CheckIo(usage.status());
      }
    }
    s.failed = v->failed();
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<VolumeBlockReport> Datanode::FullBlockReport() const {
  std::map<const Volume*, VolumeBlockReport> by_volume;
  std::vector<VolumeBlockReport> out;
  for (Volume* v : data_->volumes()) by_volume[v].volume_id = v->storage_id();
  for (const ReplicaInfo& r : data_->Replicas()) {
    auto it = by_volume.find(r.volume);
    if (it == by_volume.end() || r.volume->failed()) continue;
    it->second.replicas.push_back(ReportedBlock{RefOf(r), r.state});
  }
  for (Volume* v : data_->volumes()) out.push_back(std::move(by_volume[v]));
  return out;
}

int Datanode::ActiveTransfers() const {
  // Copies queued or running count as transfers, so the namenode hands this node no more
  // re-replication work than it gets through (HDFS xmitsInProgress).
  int copies;
  {
    std::lock_guard<std::mutex> lock(mu_);
    copies = replication_.in_progress;
  }
  return (transfer_ ? transfer_->active_transfers() : 0) + copies;
}

ReplicationCounters Datanode::replication_counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return replication_;
}

void Datanode::ReplicateBlocks(std::vector<TransferCommand> commands) {
  for (TransferCommand& command : commands) {
    const uint64_t id = command.block.id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      if (!replicating_.insert(id).second) {
        // The namenode asked again before the first copy ended (or is still queued).
        ++replication_.dropped;
        continue;
      }
      ++replication_.in_progress;
    }
    Status s = replication_pool_->Submit(
        [this, command = std::move(command)] { ReplicateNow(command); });
    if (!s.ok()) {
      LOG(WARNING) << "Copy of blk_" << id << " dropped (the namenode asks again): " << s;
      std::lock_guard<std::mutex> lock(mu_);
      replicating_.erase(id);
      --replication_.in_progress;
      ++replication_.dropped;
    }
  }
}

void Datanode::ReplicateNow(const TransferCommand& command) {
  const uint64_t id = command.block.id;
  CopyStats stats;
  Status s = Status::Unavailable("datanode stopping");
  if (!stop_copies_.load()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++replication_.started;
    }
    CopyRequest request;
    request.block_id = id;
    request.genstamp = command.block.genstamp;
    request.expected_length = command.block.num_bytes;
    request.client_name = "";  // datanode-initiated, as HDFS marks re-replication
    request.timeout_ms = options_.transfer_socket_timeout_ms;
    std::string names;
    for (const PeerId& t : command.targets) {
      request.targets.push_back(
          transfer::HostPort{t.host, static_cast<uint16_t>(t.data_port)});
      names += (names.empty() ? "" : ",") + t.host + ":" + std::to_string(t.data_port);
    }
    const auto began = std::chrono::steady_clock::now();
    s = CopyReplica(data_.get(), request, replication_throttle_.get(), &stop_copies_, this,
                    &stats);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - began)
                        .count();
    if (s.ok()) {
      LOG(INFO) << "Copied blk_" << id << " stamp " << command.block.genstamp << " ("
                << stats.bytes_sent << " bytes) to " << names << " in " << ms << " ms";
    } else {
      LOG(WARNING) << "Copy of blk_" << id << " stamp " << command.block.genstamp << " to "
                   << names << " failed after " << ms << " ms: " << s;
      // A file that vanished under a replica still in the map: have the scanner look at it
      // now (it drops the replica and tells the namenode) rather than on its next pass.
      if (s.IsNotFound() && scanner_ && data_->GetReplica(id).ok()) scanner_->MarkSuspect(id);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  replicating_.erase(id);
  --replication_.in_progress;
  if (s.ok()) {
    ++replication_.succeeded;
    replication_.bytes_sent += stats.bytes_sent;
  } else if (!stop_copies_.load()) {
    ++replication_.failed;
  }
}

void Datanode::DropMissingReplica(const ReplicaInfo& replica) {
  // As HDFS's directory scanner: the replica leaves the map and the namenode hears it was
  // deleted, so it counts one replica fewer and copies the block again from a good one.
  Status s = data_->Delete(replica.block_id, replica.genstamp);
  if (!s.ok() && !s.IsNotFound()) {
    LOG(WARNING) << "Dropping blk_" << replica.block_id << " (a file is missing): " << s;
    return;
  }
  NotifyAll(RefOf(replica), BlockEvent::kDeleted);
}

void Datanode::DeleteBlocks(std::vector<BlockRef> blocks) {
  Status s = command_pool_->Submit([this, blocks = std::move(blocks)] { DeleteNow(blocks); });
  if (!s.ok()) LOG(WARNING) << "Deletes dropped (the next block report brings them back): " << s;
}

void Datanode::DeleteNow(const std::vector<BlockRef>& blocks) {
  for (const BlockRef& b : blocks) {
    Result<ReplicaInfo> info = data_->GetReplica(b.id);
    if (!info.ok()) {
      // Gone already: say so, so the namenode stops counting it.
      if (info.status().IsNotFound()) NotifyAll(b, BlockEvent::kDeleted);
      continue;
    }
    if (info->genstamp != b.genstamp) {
      LOG(INFO) << "Not deleting blk_" << b.id << ": the namenode named stamp " << b.genstamp
                << ", the replica has " << info->genstamp;
      continue;
    }
    if (info->state != ReplicaState::kFinalized) transfer_->StopWriter(b.id);
    Status s = data_->Delete(b.id, b.genstamp);
    if (!s.ok() && !s.IsNotFound()) {
      LOG(WARNING) << "Deleting blk_" << b.id << ": " << s;
      continue;
    }
    VLOG(1) << "Deleted blk_" << b.id << " stamp " << b.genstamp;
    NotifyAll(RefOf(*info), BlockEvent::kDeleted);
  }
}

void Datanode::RecoverBlocks(std::vector<RecoveryCommand> commands, NamenodeLink* from) {
  for (RecoveryCommand& command : commands) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!recovering_.insert(command.block.id).second) continue;  // already under way
    }
    uint64_t id = command.block.id;
    Status s = command_pool_->Submit([this, command = std::move(command), from] {
      RecoverNow(command, from);
    });
    if (!s.ok()) {
      LOG(WARNING) << "Recovery of blk_" << id << " dropped (the namenode asks again): " << s;
      std::lock_guard<std::mutex> lock(mu_);
      recovering_.erase(id);
    }
  }
}

void Datanode::RecoverNow(const RecoveryCommand& command, NamenodeLink* from) {
  bool stopping;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping = stopped_;
  }
  if (!stopping) {
    ThriftRecoveryPeers peers(identity_.storage_id, recovery_.get(), options_.rpc_timeout_ms);
    Status s = RecoverBlock(command, &peers,
                            [from](const BlockRef& old_block, const BlockRef& new_block,
                                   const std::vector<std::string>& storage_ids, bool close_file,
                                   bool delete_block) {
                              return from->CommitBlockSynchronization(
                                  old_block, new_block, storage_ids, close_file, delete_block);
                            });
    if (!s.ok()) LOG(WARNING) << "Recovery of blk_" << command.block.id << ": " << s;
  }
  std::lock_guard<std::mutex> lock(mu_);
  recovering_.erase(command.block.id);
}

}  // namespace talus::datanode
