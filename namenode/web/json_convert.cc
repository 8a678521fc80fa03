#include "namenode/web/json_convert.h"

#include "namenode/namespace/permission.h"

namespace talus::web {

using nlohmann::json;

std::string DatanodeWebUrl(const std::string& host, int32_t http_port) {
  if (http_port <= 0) return "";
  return "http://" + host + ":" + std::to_string(http_port);
}

const char* LivenessJson(blocks::DatanodeLiveness liveness) {
  return blocks::LivenessName(liveness);
}

json ClusterSummaryJson(const status::ClusterSummary& s) {
  json out;
  out["safe_mode"] = {{"on", s.safe_mode_on}, {"manual", s.safe_mode_manual},
                      {"tip", s.safe_mode_tip}};
  out["capacity_bytes"] = s.capacity_bytes;
  out["used_bytes"] = s.used_bytes;
  out["remaining_bytes"] = s.remaining_bytes;
  out["used_percent"] = s.UsedPercent();
  out["files"] = s.files;
  out["directories"] = s.directories;
  out["blocks"] = s.blocks;
  out["under_replicated_blocks"] = s.under_replicated_blocks;
  out["corrupt_blocks"] = s.corrupt_blocks;
  out["missing_blocks"] = s.missing_blocks;
  out["pending_deletion_blocks"] = s.pending_deletion_blocks;
  out["pending_replication_blocks"] = s.pending_replication_blocks;
  out["datanodes"] = {{"live", s.datanodes.live},
                      {"stale", s.datanodes.stale},
                      {"dead", s.datanodes.dead},
                      {"decommissioning", s.datanodes.decommissioning},
                      {"decommissioned", s.datanodes.decommissioned}};
  return out;
}

json NamenodeJson(const std::string& rpc_address, const JournalInfo& j) {
  const bool leader = j.role == "leader";
  // A single namenode's local journal does not know its own client address.
  const std::string leader_address =
      j.leader_address.empty() && leader ? rpc_address : j.leader_address;
  json peers = json::array();
  for (const JournalPeerInfo& p : j.peers) {
    const bool self = p.id == j.id;
    json peer{{"id", p.id},
              {"address", !p.client_address.empty() ? p.client_address
                          : self                    ? rpc_address
                                                    : p.raft_address},
              {"raft_address", p.raft_address},
              {"client_address", self && p.client_address.empty() ? rpc_address
                                                                  : p.client_address},
              {"self", self},
              {"role", j.leader_id == 0 ? "unknown"
                       : p.id == j.leader_id ? "leader"
                                             : "follower"}};
    // Progress is the leader's knowledge; a follower shows nulls.
    if (leader) {
      const uint64_t match = self ? j.last_index : p.match_index;
      peer["match_index"] = match;
      peer["lag"] = j.last_index > match ? j.last_index - match : 0;
      peer["state"] = self ? "leader" : p.state;
    } else {
      peer["match_index"] = nullptr;
      peer["lag"] = nullptr;
      peer["state"] = p.state;
    }
    peer["last_contact_ms_ago"] =
        self || p.last_contact_ms < 0 ? json(nullptr) : json(p.last_contact_ms);
    peers.push_back(std::move(peer));
  }
  return json{{"rpc_address", rpc_address},
              {"journal", j.kind},
              {"id", j.id},
              {"role", j.role},
              {"term", j.term},
              {"leader_id", j.leader_id},
              {"leader_address", leader_address},
              {"commit_index", j.commit_index},
              {"applied_index", j.applied_index},
              {"last_index", j.last_index},
              {"first_index", j.first_index},
              {"snapshot_index", j.snapshot_index},
              {"peers", std::move(peers)}};
}

json DatanodeJson(const status::DatanodeRow& row) {
  return json{{"storage_id", row.storage_id},
              {"host", row.host},
              {"data_port", row.data_port},
              {"rpc_port", row.rpc_port},
              {"http_port", row.http_port},
              {"address", row.Address()},
              {"web_url", DatanodeWebUrl(row.host, row.http_port)},
              {"rack", row.rack},
              {"liveness", LivenessJson(row.liveness)},
              {"admin_state", blocks::AdminStateName(row.admin_state)},
              {"last_contact_ms_ago", row.last_contact_ms_ago},
              {"capacity_bytes", row.capacity_bytes},
              {"used_bytes", row.used_bytes},
              {"remaining_bytes", row.remaining_bytes},
              {"used_percent", row.UsedPercent()},
              {"blocks", row.blocks},
              {"volumes", row.volumes},
              {"failed_volumes", row.failed_volumes},
              {"active_transfers", row.active_transfers}};
}

int64_t TimeMs(const NsTime& t) { return t.sec * 1000 + t.nsec / 1'000'000; }

json EntryJson(const Inode& inode, const std::string& path, int64_t children) {
  const char* type = inode.IsDirectory() ? "directory" : inode.IsSymlink() ? "symlink" : "file";
  json out{{"name", inode.name},
           {"path", path},
           {"type", type},
           {"owner", inode.owner},
           {"group", inode.group},
           {"mode", inode.mode},
           // Without the type letter: "rw-r--r--" (setuid/setgid/sticky shown as s/S/t/T).
           {"permission", ModeString(inode.type, inode.mode).substr(1)},
           {"length_bytes", inode.IsFile() ? inode.length : 0},
           {"replication", inode.IsFile() ? inode.replication : 0},
           {"block_size_bytes", inode.IsFile() ? inode.block_size : 0},
           {"modification_time_ms", TimeMs(inode.mtime)},
           {"access_time_ms", TimeMs(inode.atime)},
           {"children", inode.IsDirectory() ? children : 0},
           {"under_construction", inode.UnderConstruction()}};
  if (inode.IsSymlink()) out["symlink_target"] = inode.symlink_target;
  return out;
}

}  // namespace talus::web
