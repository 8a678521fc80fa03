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
