#pragma once

// How `talus dfsadmin -report` prints the cluster and its datanodes, in HDFS's layout, so that
// an operator's eyes and scripts find the same lines ("Configured Capacity: N (x GB)", "Live
// datanodes (3):", "Decommission Status : Normal", ...).

#include <cstdint>
#include <ctime>
#include <string>

#include "talus/file_system.h"

namespace talus::shell {

// HDFS's byte description: "0 B", "1023 B", "1 KB", "1.50 MB", "98.31 GB".
std::string ByteDesc(int64_t bytes);
// "N (ByteDesc)".
std::string BytesWithDesc(int64_t bytes);
// part / whole as "12.34%" ("0.00%" when whole is 0).
std::string PercentOf(int64_t part, int64_t whole);
// "Wed Jul 08 12:10:24 UTC 2020" in the local time zone, as Java's Date prints.
std::string JavaDate(std::time_t t);
// HDFS's Decommission Status words for an admin state: "Normal", "Decommission in progress",
// "Decommissioned".
std::string DecommissionStatus(const std::string& admin_state);

// The cluster part of -report: capacities, safe mode, block counts, up to the separator line.
std::string FormatClusterReport(const FsStats& stats);
// One datanode's paragraph (ends with an empty line). `now` is the time of the report, from
// which the last contact is dated.
std::string FormatDatanodeReport(const DatanodeReport& node, std::time_t now);

}  // namespace talus::shell
