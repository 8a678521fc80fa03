#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace talus::cluster {

// One daemon of a local cluster, as recorded in DIR/cluster.state.
struct DaemonRecord {
  std::string role;         // "namenode" or "datanode"
  int index = 0;            // 0-based within its role
  pid_t pid = 0;            // 0: not started, or stopped by `talus cluster down`
  uint64_t start_time = 0;  // /proc start time of `pid`: tells our process from a recycled pid
  std::map<std::string, int> ports;  // port name ("rpc", later "data") -> port; 0 = not yet known
  std::string data_dir;              // absolute

  // "namenode-0": names its data directory, log files and address file.
  std::string Name() const { return role + "-" + std::to_string(index); }
};

// Everything `talus cluster` remembers about a cluster directory. The ports are kept across
// restarts so that DIR/cluster.env stays valid.
struct ClusterState {
  std::string cluster_id;  // random, made when the directory is first used
  std::vector<DaemonRecord> daemons;

  int CountRole(std::string_view role) const;
};

// The file format: a line "talus-cluster-state 1", a line "cluster_id ID", then one line per
// daemon, e.g.
//   daemon role=namenode index=0 pid=4242 start_time=889911 ports=rpc:40001 dir=/tmp/t/namenode-0
// `dir=` comes last and runs to the end of the line, so a directory may contain spaces. Lines
// starting with '#' are comments.
std::string FormatClusterState(const ClusterState& state);
Result<ClusterState> ParseClusterState(std::string_view text);

// Read and (atomically) write the state file. Load gives NotFound when the file is absent.
Result<ClusterState> LoadClusterState(const std::string& path);
Status SaveClusterState(const std::string& path, const ClusterState& state);

}  // namespace talus::cluster
