#include "datanode/server/namenode_link.h"

#include <algorithm>

#include <glog/logging.h>

#include "common/metrics/metrics.h"
#include "common/transfer/protocol.h"
#include "datanode/server/thrift_client.h"
#include "talus_rpc/DatanodeNamenode.h"

namespace talus::datanode {
namespace {

using Client = SyncThriftClient<rpc::DatanodeNamenodeClient>;

constexpr auto kMinBackoff = std::chrono::milliseconds(50);
constexpr auto kMaxBackoff = std::chrono::milliseconds(3000);

rpc::ExtendedBlock ToThrift(const BlockRef& b) {
  rpc::ExtendedBlock out;
  out.block_id = static_cast<int64_t>(b.id);
  out.generation_stamp = static_cast<int64_t>(b.genstamp);
  out.num_bytes = static_cast<int64_t>(b.num_bytes);
  return out;
}

BlockRef FromThrift(const rpc::ExtendedBlock& b) {
  return BlockRef{static_cast<uint64_t>(b.block_id), static_cast<uint64_t>(b.generation_stamp),
                  static_cast<uint64_t>(b.num_bytes)};
}

bool ValidBlock(const rpc::ExtendedBlock& b) {
  return b.block_id > 0 && b.generation_stamp > 0 && b.num_bytes >= 0;
}

rpc::DatanodeId ToThrift(const DatanodeIdentity& id) {
  rpc::DatanodeId out;
  out.storage_id = id.storage_id;
  out.host = id.host;
  out.data_port = id.data_port;
  out.rpc_port = id.rpc_port;
  if (id.http_port != 0) out.__set_http_port(id.http_port);
  return out;
}

rpc::ReplicaState::type StateToThrift(ReplicaState state) {
  switch (state) {
    case ReplicaState::kFinalized: return rpc::ReplicaState::FINALIZED;
    case ReplicaState::kRbw: return rpc::ReplicaState::RBW;
    case ReplicaState::kRwr: return rpc::ReplicaState::RWR;
  }
  return rpc::ReplicaState::RWR;
}

rpc::ReceivedDeletedStatus::type EventToThrift(BlockEvent event) {
  switch (event) {
    case BlockEvent::kReceiving: return rpc::ReceivedDeletedStatus::RECEIVING;
    case BlockEvent::kReceived: return rpc::ReceivedDeletedStatus::RECEIVED;
    case BlockEvent::kDeleted: return rpc::ReceivedDeletedStatus::DELETED;
  }
  return rpc::ReceivedDeletedStatus::RECEIVED;
}

}  // namespace

struct NamenodeLink::Session {
  std::unique_ptr<Client> client;
  rpc::DatanodeId id;
};

NamenodeLink::NamenodeLink(NamenodeLinkOptions options, LinkOwner* owner)
    : options_(std::move(options)),
      owner_(owner),
      // Labelled by namenode: a few per datanode, fixed by its configuration.
      heartbeats_sent_(metrics::DefaultRegistry().GetCounter(
          "talus_datanode_heartbeats_sent_total",
          "Heartbeats sent to a namenode (answered or not).", {{"namenode", address()}})),
      heartbeat_failures_(metrics::DefaultRegistry().GetCounter(
          "talus_datanode_heartbeat_failures_total",
          "Heartbeats to a namenode that got no answer (connection lost, timeout, error).",
          {{"namenode", address()}})) {}

std::optional<std::chrono::steady_clock::time_point> NamenodeLink::last_heartbeat() const {
  const int64_t ns = last_heartbeat_ns_.load(std::memory_order_relaxed);
  if (ns == 0) return std::nullopt;
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
}

NamenodeLink::~NamenodeLink() { Stop(); }

void NamenodeLink::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void NamenodeLink::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  registered_ = false;
}

void NamenodeLink::Notify(const BlockRef& block, BlockEvent event) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back(PendingBlock{block, event});
  }
  cv_.notify_all();
}

void NamenodeLink::ReportBadReplica(const BlockRef& block) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    bad_.push_back(block);
  }
  cv_.notify_all();
}

bool NamenodeLink::WaitUntil(Clock::time_point until) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, until, [&] {
    return stopping_ || (registered_ && (!pending_.empty() || !bad_.empty()));
  });
  return !stopping_;
}

Status NamenodeLink::RegisterAndReport(Session* session) {
  session->client.reset();
  ASSIGN_OR_RETURN(session->client,
                   Client::Connect(options_.host, options_.port, options_.rpc_timeout_ms));
  rpc::DatanodeId id = ToThrift(owner_->Identity());
  rpc::DatanodeId recorded;
  RETURN_NOT_OK(session->client->Call("registerDatanode", [&](rpc::DatanodeNamenodeClient& c) {
    c.registerDatanode(recorded, id, options_.cluster_id);
  }));
  // The namenode may have filled in what it saw (host, rack); our identity stays ours.
  if (recorded.storage_id != id.storage_id) {
    return Status::Internal("namenode " + address() + " registered storage id " +
                            recorded.storage_id + " for " + id.storage_id);
  }
  session->id = recorded;
  RETURN_NOT_OK(SendFullReport(session));
  registered_ = true;
  LOG(INFO) << "Registered with namenode " << address() << " as " << id.storage_id;
  return Status::OK();
}

Status NamenodeLink::SendFullReport(Session* session) {
  std::vector<VolumeBlockReport> reports = owner_->FullBlockReport();
  size_t total = 0;
  for (const VolumeBlockReport& report : reports) {
    std::vector<rpc::ReportedReplica> replicas;
    replicas.reserve(report.replicas.size());
    for (const ReportedBlock& r : report.replicas) {
      rpc::ReportedReplica out;
      out.block = ToThrift(r.block);
      out.state = StateToThrift(r.state);
      replicas.push_back(std::move(out));
    }
    total += replicas.size();
    RETURN_NOT_OK(session->client->Call("blockReport", [&](rpc::DatanodeNamenodeClient& c) {
      c.blockReport(session->id, report.volume_id, replicas);
    }));
  }
  VLOG(1) << "Full block report to " << address() << ": " << total << " replicas on "
          << reports.size() << " volume(s)";
  return Status::OK();
}

Status NamenodeLink::Heartbeat(Session* session) {
  std::vector<rpc::StorageReport> reports;
  int32_t failed = 0;
  for (const VolumeState& v : owner_->Volumes()) {
    rpc::StorageReport r;
    r.volume_id = v.volume_id;
    r.capacity = static_cast<int64_t>(v.capacity);
    r.used = static_cast<int64_t>(v.used);
    r.remaining = static_cast<int64_t>(v.remaining);
    r.failed = v.failed;
    failed += v.failed ? 1 : 0;
    reports.push_back(std::move(r));
  }
  // A volume that failed since the last heartbeat takes its replicas with it: tell the
  // namenode now with a full report (the failed volume's is empty), not hours later.
  if (failed > failed_volumes_seen_) report_now_ = true;
  failed_volumes_seen_ = failed;
  rpc::HeartbeatResponse response;
  heartbeats_sent_->Increment();
  Status sent = session->client->Call("heartbeat", [&](rpc::DatanodeNamenodeClient& c) {
    c.heartbeat(response, session->id, reports, owner_->ActiveTransfers(), failed);
  });
  if (!sent.ok()) {
    heartbeat_failures_->Increment();
    return sent;
  }
  last_heartbeat_ns_.store(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count(),
      std::memory_order_relaxed);
  for (const rpc::DatanodeCommand& command : response.commands) {
    if (command.type == rpc::DatanodeCommandType::REREGISTER) {
      // Whoever sends it does not know us (it restarted, or declared us dead): register with
      // it again, leader or not.
      reregister_ = true;
      return Status::NotFound("namenode " + address() + " asks this datanode to register again");
    }
  }
  if (!response.from_leader) {
    if (!response.commands.empty()) {
      VLOG(1) << "Ignoring " << response.commands.size() << " command(s) from non-leader "
              << address();
    }
    return Status::OK();
  }
  for (const rpc::DatanodeCommand& command : response.commands) {
    switch (command.type) {
      case rpc::DatanodeCommandType::DELETE_BLOCKS: {
        std::vector<BlockRef> blocks;
        for (const rpc::ExtendedBlock& b : command.blocks) {
          if (ValidBlock(b)) blocks.push_back(FromThrift(b));
        }
        if (!blocks.empty()) owner_->DeleteBlocks(std::move(blocks));
        break;
      }
      case rpc::DatanodeCommandType::RECOVER_BLOCKS: {
        std::vector<RecoveryCommand> work;
        for (const rpc::RecoveringBlock& rb : command.recoveries) {
          if (!ValidBlock(rb.block) || rb.new_generation_stamp <= rb.block.generation_stamp) {
            LOG(WARNING) << "Ignoring a recovery of block " << rb.block.block_id
                         << " with new generation stamp " << rb.new_generation_stamp;
            continue;
          }
          RecoveryCommand c;
          c.block = FromThrift(rb.block);
          c.new_genstamp = static_cast<uint64_t>(rb.new_generation_stamp);
          for (const rpc::DatanodeId& loc : rb.locations) {
            c.locations.push_back(PeerId{loc.storage_id, loc.host, loc.data_port, loc.rpc_port});
          }
          work.push_back(std::move(c));
        }
        if (!work.empty()) owner_->RecoverBlocks(std::move(work), this);
        break;
      }
      case rpc::DatanodeCommandType::REPLICATE_BLOCKS: {
        std::vector<TransferCommand> work;
        for (const rpc::BlockTransfer& t : command.transfers) {
          if (!ValidBlock(t.block) || t.targets.empty() ||
              t.targets.size() >= transfer::kMaxPipelineNodes) {
            LOG(WARNING) << "Ignoring a transfer of block " << t.block.block_id << " to "
                         << t.targets.size() << " target(s) from " << address();
            continue;
          }
          TransferCommand c;
          c.block = FromThrift(t.block);
          bool valid = true;
          for (const rpc::DatanodeId& target : t.targets) {
            if (target.host.empty() || target.host.size() > transfer::kMaxHostBytes ||
                target.data_port <= 0 || target.data_port > 65535) {
              valid = false;
              break;
            }
            c.targets.push_back(
                PeerId{target.storage_id, target.host, target.data_port, target.rpc_port});
          }
          if (!valid) {
            LOG(WARNING) << "Ignoring a transfer of block " << t.block.block_id
                         << " to a target without a usable data address, from " << address();
            continue;
          }
          work.push_back(std::move(c));
        }
        if (!work.empty()) owner_->ReplicateBlocks(std::move(work));
        break;
      }
      default:
        LOG(WARNING) << "Unknown command type " << command.type << " from " << address();
    }
  }
  return Status::OK();
}

Status NamenodeLink::SendPending(Session* session) {
  std::vector<PendingBlock> pending;
  std::vector<BlockRef> bad;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending.swap(pending_);
    bad.swap(bad_);
  }
  Status s;
  if (!pending.empty()) {
    std::vector<rpc::ReceivedDeletedBlock> blocks;
    blocks.reserve(pending.size());
    for (const PendingBlock& p : pending) {
      rpc::ReceivedDeletedBlock b;
      b.block = ToThrift(p.block);
      b.status = EventToThrift(p.event);
      blocks.push_back(std::move(b));
    }
    s = session->client->Call("blockReceivedAndDeleted", [&](rpc::DatanodeNamenodeClient& c) {
      c.blockReceivedAndDeleted(session->id, blocks);
    });
    if (s.ok()) pending.clear();
  }
  if (s.ok() && !bad.empty()) {
    std::vector<rpc::ExtendedBlock> blocks;
    for (const BlockRef& b : bad) blocks.push_back(ToThrift(b));
    s = session->client->Call("reportBadBlocks", [&](rpc::DatanodeNamenodeClient& c) {
      c.reportBadBlocks(session->id, blocks);
    });
    if (s.ok()) bad.clear();
  }
  if (!s.ok()) {
    // Put back what was not sent, ahead of anything queued meanwhile, to keep the order.
    std::lock_guard<std::mutex> lock(mu_);
    pending.insert(pending.end(), pending_.begin(), pending_.end());
    pending_.swap(pending);
    bad.insert(bad.end(), bad_.begin(), bad_.end());
    bad_.swap(bad);
  }
  return s;
}

void NamenodeLink::Run() {
  const auto heartbeat_interval = std::chrono::milliseconds(options_.heartbeat_interval_ms);
  const auto report_interval = std::chrono::milliseconds(options_.block_report_interval_ms);
  Session session;
  auto backoff = kMinBackoff;
  int failures = 0;
  Clock::time_point next_heartbeat = Clock::now();
  Clock::time_point next_report = Clock::now() + report_interval;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    Status s;
    if (!registered_) {
      s = RegisterAndReport(&session);
      if (s.ok()) {
        next_heartbeat = Clock::now();
        next_report = Clock::now() + report_interval;
      }
    }
    if (s.ok()) s = SendPending(&session);
    if (s.ok() && Clock::now() >= next_heartbeat) {
      s = Heartbeat(&session);
      next_heartbeat = Clock::now() + heartbeat_interval;
    }
    if (s.ok() && (Clock::now() >= next_report || report_now_)) {
      report_now_ = false;
      s = SendFullReport(&session);
      next_report = Clock::now() + report_interval;
    }
    const bool reregister = reregister_;
    reregister_ = false;
    if (!s.ok() && reregister && failures == 0) {
      // Not a failure: register again at once (with backoff only if it keeps asking).
      LOG(INFO) << s;
      ++failures;
      registered_ = false;
      continue;
    }
    if (!s.ok()) {
      if (registered_ || failures % 20 == 0) {
        LOG(WARNING) << "Namenode " << address() << ": " << s << " (retrying in "
                     << backoff.count() << " ms)";
      }
      ++failures;
      registered_ = false;
      session.client.reset();
      if (!WaitUntil(Clock::now() + backoff)) break;
      backoff = std::min<std::chrono::milliseconds>(
          backoff * 2, std::min<std::chrono::milliseconds>(kMaxBackoff, heartbeat_interval));
      backoff = std::max<std::chrono::milliseconds>(backoff, kMinBackoff);
      continue;
    }
    failures = 0;
    backoff = kMinBackoff;
    if (!WaitUntil(std::min(next_heartbeat, next_report))) break;
  }
  session.client.reset();
}

Status NamenodeLink::CommitBlockSynchronization(const BlockRef& old_block,
                                                const BlockRef& new_block,
                                                const std::vector<std::string>& storage_ids,
                                                bool close_file, bool delete_block) {
  ASSIGN_OR_RETURN(std::unique_ptr<Client> client,
                   Client::Connect(options_.host, options_.port, options_.rpc_timeout_ms));
  rpc::DatanodeId id = ToThrift(owner_->Identity());
  return client->Call("commitBlockSynchronization", [&](rpc::DatanodeNamenodeClient& c) {
    c.commitBlockSynchronization(id, ToThrift(old_block), ToThrift(new_block), storage_ids,
                                 close_file, delete_block);
  });
}

}  // namespace talus::datanode
