#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "namenode/blocks/block_map.h"
#include "namenode/blocks/block_types.h"
#include "namenode/blocks/datanode_manager.h"

namespace talus::blocks {

struct PlacementOptions {
  uint64_t seed = std::random_device{}();
  // A node whose active transfers exceed this multiple of the cluster average (over eligible
  // nodes) is too busy for a new replica, as in HDFS's considerLoad.
  double max_load_factor = 2.0;
  // ... and has at least this many: a handful of transfers is no load worth avoiding (with few
  // nodes, one write in flight would otherwise double a node's share).
  int32_t min_load_to_refuse = 8;
  // Each choice is a weighted draw among the best ceil(n * best_fraction) eligible nodes (at
  // least min_pool), weight = remaining bytes / (1 + active transfers).
  double best_fraction = 0.5;
  size_t min_pool = 3;
};

struct PlacementRequest {
  int32_t replicas = 3;
  int64_t block_size = 0;        // a target needs at least this much remaining space
  std::string writer_host;       // the client's host; if it is a datanode's, that node is first
  std::vector<DatanodeIndex> excluded;  // never chosen (e.g. nodes the client failed to reach)
  std::string path;              // only for the error message
};

struct PlacementResult {
  std::vector<DatanodeIndex> targets;  // pipeline order
  int32_t requested = 0;
  bool partial() const { return static_cast<int32_t>(targets.size()) < requested; }
};

// Chooses datanodes for new replicas and orders replicas for readers (HDFS's default policy).
//
// Writes: among live, not decommissioned, not excluded nodes with room for a block and not
// overloaded (stale nodes only when nothing else is left), all distinct:
//   1st  the writer's own node if it is a datanode, else a weighted draw;
//   2nd  a node on another rack than the 1st;
//   3rd  a node on the same rack as the 2nd (another rack than the 1st if the 2nd could not
//        leave the 1st's rack);
//   rest anywhere.
// A rack rule that cannot be met falls back to any eligible node. With one rack (no topology)
// the rules are moot.
//
// Thread-safe: the random generator is behind a mutex; everything else is stateless.
class PlacementPolicy {
 public:
  explicit PlacementPolicy(PlacementOptions options = {});

  // `nodes` is a snapshot (DatanodeManager::ListNodes()). Fewer eligible nodes than requested:
  // as many as there are, with partial() set. None: kUnavailable (kNoSpace if nodes were turned
  // away only for lack of space) with HDFS's message "File <path> could only be written to 0 of
  // the 1 minReplication nodes. There are N datanode(s) running and M node(s) are excluded in
  // this operation.". InvalidArgument for a bad request.
  Result<PlacementResult> ChooseTargets(std::span<const DatanodeSnapshot> nodes,
                                        const PlacementRequest& request);

  // Orders replica locations for a reader: same host, then same rack, then the rest, stale
  // nodes after live ones, nodes not in service (decommissioning) last; dead nodes are dropped. Ties keep their order but lighter-loaded
  // nodes first. `reader_rack` may be empty (unknown; then the reader's own datanode's rack is
  // used if it is one of the locations).
  static std::vector<DatanodeSnapshot> SortForReader(std::vector<DatanodeSnapshot> locations,
                                                     std::string_view reader_host,
                                                     std::string_view reader_rack);

  // getBlockLocations in one call: the block's replica nodes from `datanodes`, sorted for a
  // reader on `reader_host` (rack from DatanodeManager::RackOfHost), dead ones dropped.
  static std::vector<DatanodeSnapshot> LocationsForReader(const DatanodeManager& datanodes,
                                                          const LocatedBlock& block,
                                                          std::string_view reader_host);

 private:
  // One weighted draw among eligible nodes accepted by `wanted`; -1 if none.
  template <typename Predicate>
  int ChooseOneLocked(const std::vector<const DatanodeSnapshot*>& eligible,
                      const std::vector<bool>& taken, Predicate wanted);

  const PlacementOptions options_;
  std::mutex mutex_;
  std::mt19937_64 rng_;
};

}  // namespace talus::blocks
