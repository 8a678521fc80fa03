#pragma once
// The JSON shapes of docs/web.md (cluster summary, DATANODE, ENTRY), built from the core's
// values. Field names are the contract with the page and its tests: change them only together
// with docs/web.md.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "namenode/journal/journal.h"
#include "namenode/namespace/inode.h"
#include "namenode/status/cluster_status.h"

namespace talus::web {

// "http://host:http_port", or "" when the node has no web server.
std::string DatanodeWebUrl(const std::string& host, int32_t http_port);

// "live", "stale", "dead".
const char* LivenessJson(blocks::DatanodeLiveness liveness);

// The figures of /api/v1/cluster (the caller adds cluster id, version, times and the namenode).
nlohmann::json ClusterSummaryJson(const status::ClusterSummary& summary);

// The "namenode" object of /api/v1/cluster: this namenode's client address and its view of
// the journal (role, term, leader, indexes and, in a group, each peer's progress).
nlohmann::json NamenodeJson(const std::string& rpc_address, const JournalInfo& journal);

// One DATANODE.
nlohmann::json DatanodeJson(const status::DatanodeRow& row);

// One ENTRY: `inode` at `path`. `children` is the entry count of a directory (ignored for
// others).
nlohmann::json EntryJson(const Inode& inode, const std::string& path, int64_t children);

// Milliseconds since the epoch of a namespace time.
int64_t TimeMs(const NsTime& t);

}  // namespace talus::web
