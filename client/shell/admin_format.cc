#include "client/shell/admin_format.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace talus::shell {

std::string ByteDesc(int64_t bytes) {
  static constexpr const char* kUnits[] = {"KB", "MB", "GB", "TB", "PB", "EB"};
  char buf[64];
  if (bytes < 0) return "-" + ByteDesc(bytes == INT64_MIN ? INT64_MAX : -bytes);
  if (bytes < 1024) {
    std::snprintf(buf, sizeof(buf), "%" PRId64 " B", bytes);
    return buf;
  }
  int unit = 0;
  int64_t scale = 1024;
  while (unit + 1 < 6 && bytes / scale >= 1024) {
    scale *= 1024;
    ++unit;
  }
  if (bytes % scale == 0) {
    std::snprintf(buf, sizeof(buf), "%" PRId64 " %s", bytes / scale, kUnits[unit]);
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f %s",
                  static_cast<double>(bytes) / static_cast<double>(scale), kUnits[unit]);
  }
  return buf;
}

std::string BytesWithDesc(int64_t bytes) {
  return std::to_string(bytes) + " (" + ByteDesc(bytes) + ")";
}

std::string PercentOf(int64_t part, int64_t whole) {
  char buf[32];
  const double pct =
      whole <= 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  std::snprintf(buf, sizeof(buf), "%.2f%%", pct);
  return buf;
}

std::string JavaDate(std::time_t t) {
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  const size_t n = std::strftime(buf, sizeof(buf), "%a %b %d %H:%M:%S %Z %Y", &tm);
  return std::string(buf, n);
}

std::string DecommissionStatus(const std::string& admin_state) {
  if (admin_state == "Decommission In Progress") return "Decommission in progress";
  if (admin_state == "Decommissioned") return "Decommissioned";
  return "Normal";
}

std::string FormatClusterReport(const FsStats& stats) {
  // HDFS: the present capacity is what the file system may use, DFS used plus remaining.
  const int64_t present = stats.used + stats.remaining;
  std::string out;
  out += "Configured Capacity: " + BytesWithDesc(stats.capacity) + "\n";
  out += "Present Capacity: " + BytesWithDesc(present) + "\n";
  out += "DFS Remaining: " + BytesWithDesc(stats.remaining) + "\n";
  out += "DFS Used: " + BytesWithDesc(stats.used) + "\n";
  out += "DFS Used%: " + PercentOf(stats.used, present) + "\n";
  if (stats.in_safe_mode) out += "Safe mode is ON\n";
  out += "Replicated Blocks:\n";
  out += "\tUnder replicated blocks: " + std::to_string(stats.under_replicated_blocks) + "\n";
  out += "\tBlocks with corrupt replicas: " + std::to_string(stats.corrupt_blocks) + "\n";
  out += "\tMissing blocks: " + std::to_string(stats.missing_blocks) + "\n";
  out += "\tPending replication blocks: " + std::to_string(stats.pending_replication_blocks) + "\n";
  out += "\tPending deletion blocks: " + std::to_string(stats.pending_deletion_blocks) + "\n";
  out += "\tTotal blocks: " + std::to_string(stats.total_blocks) + "\n";
  out += "\n-------------------------------------------------\n";
  return out;
}

std::string FormatDatanodeReport(const DatanodeReport& node, std::time_t now) {
  const int64_t non_dfs = std::max<int64_t>(0, node.capacity - node.used - node.remaining);
  std::string out;
  out += "Name: " + node.address() + " (" + node.host + ")\n";
  out += "Hostname: " + node.host + "\n";
  if (!node.rack.empty()) out += "Rack: " + node.rack + "\n";
  out += "Decommission Status : " + DecommissionStatus(node.admin_state) + "\n";
  out += "Configured Capacity: " + BytesWithDesc(node.capacity) + "\n";
  out += "DFS Used: " + BytesWithDesc(node.used) + "\n";
  out += "Non DFS Used: " + BytesWithDesc(non_dfs) + "\n";
  out += "DFS Remaining: " + BytesWithDesc(node.remaining) + "\n";
  out += "DFS Used%: " + PercentOf(node.used, node.capacity) + "\n";
  out += "DFS Remaining%: " + PercentOf(node.remaining, node.capacity) + "\n";
  out += "Volumes: " + std::to_string(node.volumes) +
         " (failed: " + std::to_string(node.failed_volumes) + ")\n";
  out += "Xceivers: " + std::to_string(node.active_transfers) + "\n";
  out +=
      "Last contact: " + JavaDate(now - static_cast<std::time_t>(node.last_contact_ms_ago / 1000)) +
      "\n";
  out += "Num of Blocks: " + std::to_string(node.num_blocks) + "\n";
  out += "\n";
  return out;
}

}  // namespace talus::shell
