// The operators' calls of ClientNamenode: safe mode, datanode reports, decommissioning, and the
// block health fsck reads. Changes are for the superuser only (as HDFS's dfsadmin); reads are for
// anyone allowed to see the paths concerned.
#include <glog/logging.h>

#include <algorithm>
#include <limits>
#include <unordered_map>

#include "common/path.h"
#include "namenode/rpc/client_service.h"

namespace talus {

namespace {

// HDFS's words for a dfsadmin change by an ordinary user.
Status RequireSuperuser(const Caller& caller) {
  if (caller.superuser) return Status::OK();
  return Status::PermissionDenied("Access denied for user " + caller.user +
                                  ". Superuser privilege is required");
}

rpc::ExtendedBlock ToWire(const blocks::Block& b) {
  rpc::ExtendedBlock out;
  out.block_id = b.id;
  out.generation_stamp = b.generation_stamp;
  out.num_bytes = b.num_bytes;
  return out;
}

std::string HostPort(const blocks::DatanodeRegistration& r) {
  return r.host + ":" + std::to_string(r.data_port);
}

bool WantedInReport(const status::DatanodeRow& node, rpc::DatanodeReportType::type type) {
  const bool dead = node.liveness == blocks::DatanodeLiveness::kDead;
  switch (type) {
    case rpc::DatanodeReportType::ALL:
      return true;
    case rpc::DatanodeReportType::LIVE:
      return !dead;
    case rpc::DatanodeReportType::DEAD:
      return dead;
    case rpc::DatanodeReportType::DECOMMISSIONING:
      return !dead && node.admin_state == blocks::AdminState::kDecommissionInProgress;
  }
  return false;
}

// The most blocks listCorruptFileBlocks answers with (HDFS: 500 per call).
constexpr int32_t kMaxCorruptFileBlocks = 500;

}  // namespace

Status ClientService::SetHostsExcludeFile(std::string path) {
  hosts_exclude_file_ = std::move(path);
  if (hosts_exclude_file_.empty()) return Status::OK();
  Result<std::vector<std::string>> entries = ReadHostsFile(hosts_exclude_file_);
  if (!entries.ok()) return entries.status().Prepend("--hosts_exclude_file");
  LOG(INFO) << "hosts exclude file " << hosts_exclude_file_ << ": " << entries->size()
            << " entries";
  decommission_hosts_.SetFileEntries(std::move(*entries), datanodes_);
  return Status::OK();
}

void ClientService::setSafeMode(Cob<rpc::SafeModeStatus> cob, ExnCob exn_cob,
                                const rpc::RequestHeader& h, rpc::SafeModeAction::type action) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  if (safe_mode_ == nullptr) {
    return Fail(exn_cob, Status::NotSupported("this namenode has no safe mode"));
  }
  switch (action) {
    case rpc::SafeModeAction::GET:
      break;
    case rpc::SafeModeAction::ENTER:
    case rpc::SafeModeAction::LEAVE: {
      Status allowed = RequireSuperuser(*caller);
      if (!allowed.ok()) return Fail(exn_cob, allowed);
      if (action == rpc::SafeModeAction::ENTER) {
        safe_mode_->Enter();
      } else {
        safe_mode_->Leave();
      }
      LOG(INFO) << "safe mode " << (action == rpc::SafeModeAction::ENTER ? "entered" : "left")
                << " by " << caller->user;
      break;
    }
    default:
      return Fail(exn_cob, Status::InvalidArgument("unknown safe mode action " +
                                                   std::to_string(static_cast<int>(action))));
  }
  rpc::SafeModeStatus out;
  out.on = safe_mode_->IsOn();
  out.manual = safe_mode_->IsManual();
  out.tip = safe_mode_->Tip();
  cob(out);
}

void ClientService::getDatanodeReport(Cob<std::vector<rpc::DatanodeInfo>> cob, ExnCob exn_cob,
                                      const rpc::RequestHeader& h,
                                      rpc::DatanodeReportType::type type) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  if (type < rpc::DatanodeReportType::ALL || type > rpc::DatanodeReportType::DECOMMISSIONING) {
    return Fail(exn_cob, Status::InvalidArgument("unknown datanode report type " +
                                                 std::to_string(static_cast<int>(type))));
  }
  Status valid = CheckBlockManagement();
  if (!valid.ok()) return Fail(exn_cob, valid);
  // The same rows the web page shows (namenode/status), in the same order.
  std::vector<rpc::DatanodeInfo> out;
  for (const status::DatanodeRow& node : status::ListDatanodeRows(StatusInputs())) {
    if (!WantedInReport(node, type)) continue;
    rpc::DatanodeInfo info;
    info.id.storage_id = node.storage_id;
    info.id.host = node.host;
    info.id.data_port = node.data_port;
    info.id.rpc_port = node.rpc_port;
    info.id.__set_rack(node.rack);
    if (node.http_port > 0) info.id.__set_http_port(node.http_port);
    info.liveness = blocks::LivenessName(node.liveness);
    info.admin_state = blocks::AdminStateName(node.admin_state);
    info.capacity = node.capacity_bytes;
    info.used = node.used_bytes;
    info.remaining = node.remaining_bytes;
    info.num_blocks = node.blocks;
    info.last_contact_ms_ago = node.last_contact_ms_ago;
    info.active_transfers = node.active_transfers;
    info.failed_volumes = node.failed_volumes;
    info.volumes = node.volumes;
    out.push_back(std::move(info));
  }
  cob(out);
}

void ClientService::refreshNodes(std::function<void()> cob, ExnCob exn_cob,
                                 const rpc::RequestHeader& h) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  Status allowed = RequireSuperuser(*caller);
  if (!allowed.ok()) return Fail(exn_cob, allowed);
  Status valid = CheckBlockManagement();
  if (!valid.ok()) return Fail(exn_cob, valid);
  std::vector<std::string> entries;
  if (!hosts_exclude_file_.empty()) {
    // A small local file: read on the event loop. Nothing changes unless all of it parses.
    Result<std::vector<std::string>> read = ReadHostsFile(hosts_exclude_file_);
    if (!read.ok()) return Fail(exn_cob, read.status());
    entries = std::move(*read);
  }
  LOG(INFO) << "refreshNodes by " << caller->user << ": " << entries.size()
            << " exclude file entries";
  decommission_hosts_.SetFileEntries(std::move(entries), datanodes_);
  cob();
}

void ClientService::setDatanodeAdminState(std::function<void()> cob, ExnCob exn_cob,
                                          const rpc::RequestHeader& h, const std::string& host_port,
                                          bool decommission) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  Status allowed = RequireSuperuser(*caller);
  if (!allowed.ok()) return Fail(exn_cob, allowed);
  Status valid = CheckBlockManagement();
  if (!valid.ok()) return Fail(exn_cob, valid);
  if (host_port.find(':') == std::string::npos) {
    return Fail(exn_cob,
                Status::InvalidArgument("\"" + host_port + "\" is not HOST:PORT (the data port)"));
  }
  valid = ValidateHostEntry(host_port);
  if (!valid.ok()) return Fail(exn_cob, valid);
  const blocks::DatanodeSnapshot* found = nullptr;
  const std::vector<blocks::DatanodeSnapshot> nodes = datanodes_->ListNodes();
  for (const blocks::DatanodeSnapshot& node : nodes) {
    if (HostPort(node.registration) == host_port) found = &node;
  }
  if (found == nullptr) {
    return Fail(exn_cob, Status::NotFound("no datanode is registered at " + host_port +
                                          " (give the host and data port that "
                                          "dfsadmin -report shows)"));
  }
  if (!decommission) {
    const std::string entry =
        decommission_hosts_.FileEntryFor(found->registration.host, found->registration.data_port);
    if (!entry.empty()) {
      return Fail(exn_cob, Status::InvalidArgument(host_port + " is listed as \"" + entry +
                                                   "\" in the hosts " + "exclude file " +
                                                   hosts_exclude_file_ +
                                                   ": remove it there and run -refreshNodes"));
    }
  }
  LOG(INFO) << (decommission ? "decommission" : "recommission") << " of " << host_port << " by "
            << caller->user;
  decommission_hosts_.SetByCommand(host_port, decommission, datanodes_);
  cob();
}

void ClientService::getFileHealth(Cob<rpc::FileHealth> cob, ExnCob exn_cob,
                                  const rpc::RequestHeader& h, const std::string& path) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  Status valid = CheckBlockManagement();
  if (!valid.ok()) return Fail(exn_cob, valid);
  Result<Inode> file = ReadableFile(*caller, path);
  if (!file.ok()) return Fail(exn_cob, file.status());

  std::unordered_map<int64_t, blocks::BlockHealth> health;
  for (blocks::BlockHealth& b : block_map_->FileBlockHealth(static_cast<int64_t>(file->id))) {
    health.emplace(b.block.id, std::move(b));
  }
  // Names of the nodes concerned, looked up once each.
  std::unordered_map<blocks::DatanodeIndex, std::string> names;
  auto names_of = [&](const std::vector<blocks::DatanodeIndex>& indexes) {
    std::vector<std::string> out;
    out.reserve(indexes.size());
    for (blocks::DatanodeIndex index : indexes) {
      auto it = names.find(index);
      if (it == names.end()) {
        std::optional<blocks::DatanodeSnapshot> node = datanodes_->Describe(index);
        it = names
                 .emplace(index, node ? HostPort(node->registration)
                                      : "unknown-node-" + std::to_string(index))
                 .first;
      }
      out.push_back(it->second);
    }
    return out;
  };

  rpc::FileHealth out;
  out.inode_id = static_cast<int64_t>(file->id);
  out.length = file->length;
  out.replication = file->replication;
  out.under_construction = file->UnderConstruction();
  out.blocks.reserve(file->blocks.size());
  // In the file's order; the namespace's record of each block (its length), the map's replicas.
  for (size_t i = 0; i < file->blocks.size(); ++i) {
    const BlockInfo& b = file->blocks[i];
    rpc::BlockHealth block;
    block.block = ToWire(blocks::Block{b.block_id, b.generation_stamp, b.num_bytes});
    auto it = health.find(b.block_id);
    if (it == health.end()) {
      // Not in the block map (no replica reported since a restart): no locations at all.
      block.expected_replication = file->replication;
      block.complete = file->BlocksAllComplete() || i + 1 < file->blocks.size();
    } else {
      const blocks::BlockHealth& known = it->second;
      block.expected_replication = known.expected_replication;
      block.complete = known.complete;
      block.live = names_of(known.live);
      block.decommissioning = names_of(known.decommissioning);
      block.corrupt = names_of(known.corrupt);
      block.stale = names_of(known.stale);
    }
    out.blocks.push_back(std::move(block));
  }
  cob(out);
}

void ClientService::listCorruptFileBlocks(Cob<std::vector<rpc::CorruptFileBlock>> cob,
                                          ExnCob exn_cob, const rpc::RequestHeader& h,
                                          const std::string& path, int32_t limit) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  Status valid = CheckBlockManagement();
  if (!valid.ok()) return Fail(exn_cob, valid);
  if (limit <= 0) return Fail(exn_cob, Status::InvalidArgument("limit must be positive"));
  // The path must exist and be reachable by the caller.
  Result<Inode> root = namesystem_->GetFileInfo(*caller, path);
  if (!root.ok()) return Fail(exn_cob, root.status());
  const size_t wanted = static_cast<size_t>(std::min(limit, kMaxCorruptFileBlocks));
  // A scan of the whole block map: off the event loop.
  Namesystem* ns = namesystem_;
  blocks::BlockMap* block_map = block_map_;
  Status queued = slow_calls_->Submit([ns, block_map, cob, exn_cob, path, wanted] {
    std::vector<rpc::CorruptFileBlock> out;
    std::unordered_map<int64_t, std::string> paths;
    for (const blocks::LostBlock& lost :
         block_map->LostBlocks(std::numeric_limits<size_t>::max())) {
      auto it = paths.find(lost.inode_id);
      if (it == paths.end()) {
        Result<std::string> file_path = ns->PathOf(static_cast<uint64_t>(lost.inode_id));
        // A file deleted meanwhile has no path; its blocks are going away too.
        it = paths.emplace(lost.inode_id, file_path.ok() ? *file_path : "").first;
      }
      if (it->second.empty() || !IsSameOrUnder(it->second, path)) continue;
      rpc::CorruptFileBlock entry;
      entry.path = it->second;
      entry.block = ToWire(lost.block);
      out.push_back(std::move(entry));
      if (out.size() >= wanted) break;
    }
    cob(out);
  });
  if (!queued.ok()) Fail(exn_cob, queued);
}

}  // namespace talus

namespace talus {

void ClientService::getJournalStatus(Cob<rpc::JournalStatus> cob, ExnCob exn_cob,
                                     const rpc::RequestHeader& h) {
  // Not gated by CallerOf's leader check: every member answers with its own view.
  if (Status valid = ValidateUserName(h.user); !valid.ok()) return Fail(exn_cob, valid);
  const JournalInfo info = namesystem_->JournalStatus();
  rpc::JournalStatus out;
  out.kind = info.kind;
  out.id = static_cast<int64_t>(info.id);
  out.role = info.role;
  out.term = static_cast<int64_t>(info.term);
  out.leader_id = static_cast<int64_t>(info.leader_id);
  out.leader_address = info.leader_address;
  out.commit_index = static_cast<int64_t>(info.commit_index);
  out.applied_index = static_cast<int64_t>(info.applied_index);
  out.last_index = static_cast<int64_t>(info.last_index);
  out.first_index = static_cast<int64_t>(info.first_index);
  out.snapshot_index = static_cast<int64_t>(info.snapshot_index);
  for (const JournalPeerInfo& p : info.peers) {
    rpc::JournalPeer peer;
    peer.id = static_cast<int64_t>(p.id);
    peer.raft_address = p.raft_address;
    peer.client_address = p.client_address;
    peer.match_index = static_cast<int64_t>(p.match_index);
    peer.next_index = static_cast<int64_t>(p.next_index);
    peer.state = p.state;
    peer.last_contact_ms = p.last_contact_ms;
    out.peers.push_back(std::move(peer));
  }
  cob(out);
}

}  // namespace talus
