#include "namenode/blocks/placement_policy.h"

#include <algorithm>
#include <cmath>

#include <glog/logging.h>

namespace talus::blocks {
namespace {

constexpr int32_t kMaxReplicas = 512;

double Weight(const DatanodeSnapshot& node) {
  // +1 so nodes that have not reported space yet (or are full but allowed by a 0-byte request)
  // still get a chance.
  return (static_cast<double>(node.remaining) + 1.0) / (1.0 + node.active_transfers);
}

}  // namespace

PlacementPolicy::PlacementPolicy(PlacementOptions options)
    : options_(options), rng_(options.seed) {}

template <typename Predicate>
int PlacementPolicy::ChooseOneLocked(const std::vector<const DatanodeSnapshot*>& eligible,
                                     const std::vector<bool>& taken, Predicate wanted) {
  std::vector<int> pool;
  for (int i = 0; i < static_cast<int>(eligible.size()); ++i) {
    if (!taken[i] && wanted(*eligible[i])) pool.push_back(i);
  }
  if (pool.empty()) return -1;
  // Shuffle first so that equal nodes are not always ranked in registration order.
  std::shuffle(pool.begin(), pool.end(), rng_);
  std::stable_sort(pool.begin(), pool.end(), [&](int a, int b) {
    return Weight(*eligible[a]) > Weight(*eligible[b]);
  });
  size_t keep = static_cast<size_t>(std::ceil(pool.size() * options_.best_fraction));
  keep = std::min(pool.size(), std::max(keep, options_.min_pool));
  pool.resize(keep);
  std::vector<double> weights;
  weights.reserve(pool.size());
  for (int i : pool) weights.push_back(Weight(*eligible[i]));
  std::discrete_distribution<size_t> draw(weights.begin(), weights.end());
  return pool[draw(rng_)];
}

Result<PlacementResult> PlacementPolicy::ChooseTargets(std::span<const DatanodeSnapshot> nodes,
                                                       const PlacementRequest& request) {
  if (request.replicas < 1 || request.replicas > kMaxReplicas) {
    return Status::InvalidArgument("replication " + std::to_string(request.replicas) +
                                   " is outside 1.." + std::to_string(kMaxReplicas));
  }
  if (request.block_size < 0) return Status::InvalidArgument("block size must be >= 0");

  auto excluded = [&](DatanodeIndex i) {
    return std::find(request.excluded.begin(), request.excluded.end(), i) !=
           request.excluded.end();
  };
  int running = 0;
  int excluded_count = 0;
  bool lacked_space_only = false;
  std::vector<const DatanodeSnapshot*> usable;  // alive, in service, not excluded
  for (const DatanodeSnapshot& node : nodes) {
    if (node.liveness == DatanodeLiveness::kDead) continue;
    ++running;
    if (excluded(node.index)) {
      ++excluded_count;
      continue;
    }
    if (node.in_service()) usable.push_back(&node);
  }
  double average_load = 0;
  for (const DatanodeSnapshot* node : usable) average_load += node->active_transfers;
  if (!usable.empty()) average_load /= static_cast<double>(usable.size());

  // Live nodes first, then stale ones; `stale_from` marks the boundary. Busy nodes are kept
  // aside: a last resort, never a reason to place fewer replicas.
  std::vector<const DatanodeSnapshot*> eligible;
  std::vector<const DatanodeSnapshot*> busy;
  for (int pass = 0; pass < 2; ++pass) {
    for (const DatanodeSnapshot* node : usable) {
      const bool stale = node->liveness == DatanodeLiveness::kStale;
      if (stale != (pass == 1)) continue;
      if (node->remaining < request.block_size) {
        lacked_space_only = true;
        continue;
      }
      if (node->active_transfers >= options_.min_load_to_refuse &&
          node->active_transfers > options_.max_load_factor * average_load) {
        busy.push_back(node);
        continue;
      }
      eligible.push_back(node);
    }
  }
  const size_t stale_from = static_cast<size_t>(
      std::count_if(eligible.begin(), eligible.end(), [](const DatanodeSnapshot* n) {
        return n->liveness == DatanodeLiveness::kLive;
      }));

  PlacementResult result;
  result.requested = request.replicas;
  std::vector<bool> taken(eligible.size());
  std::vector<int> chosen;  // positions in `eligible`
  {
    std::lock_guard lock(mutex_);
    // Within one rule: live nodes, then stale ones.
    auto choose = [&](auto rule) {
      int pick = ChooseOneLocked(eligible, taken, [&](const DatanodeSnapshot& n) {
        return n.liveness == DatanodeLiveness::kLive && rule(n);
      });
      if (pick < 0 && stale_from < eligible.size()) pick = ChooseOneLocked(eligible, taken, rule);
      return pick;
    };
    auto any = [](const DatanodeSnapshot&) { return true; };
    auto rack_of = [&](int pos) -> const std::string& {
      return eligible[pos]->registration.rack;
    };
    for (int round = 0; round < 2; ++round) {
      if (round == 1) {
        if (busy.empty() || static_cast<int32_t>(chosen.size()) >= request.replicas) break;
        eligible.insert(eligible.end(), busy.begin(), busy.end());
        taken.resize(eligible.size());
      }
      while (static_cast<int32_t>(chosen.size()) < request.replicas) {
        int pick = -1;
        const size_t slot = chosen.size();
        if (slot == 0 && !request.writer_host.empty()) {
          // Weighted like any other choice: several datanodes may share the writer's host (a
          // one-machine cluster), and the first of them must not take every first replica.
          pick = ChooseOneLocked(eligible, taken, [&](const DatanodeSnapshot& n) {
            return n.liveness == DatanodeLiveness::kLive &&
                   n.registration.host == request.writer_host;
          });
        }
        if (pick < 0 && slot == 1) {
          const std::string first = rack_of(chosen[0]);
          pick = choose([&](const DatanodeSnapshot& n) { return n.registration.rack != first; });
        }
        if (pick < 0 && slot == 2) {
          const std::string first = rack_of(chosen[0]);
          const std::string second = rack_of(chosen[1]);
          if (first == second) {
            pick = choose([&](const DatanodeSnapshot& n) { return n.registration.rack != first; });
          } else {
            pick = choose([&](const DatanodeSnapshot& n) { return n.registration.rack == second; });
          }
        }
        if (pick < 0) pick = choose(any);
        if (pick < 0) break;
        taken[pick] = true;
        chosen.push_back(pick);
      }
    }
  }
  for (int pos : chosen) result.targets.push_back(eligible[pos]->index);

  if (result.targets.empty()) {
    std::string message = "File " + (request.path.empty() ? std::string("(unnamed)") : request.path) +
                          " could only be written to 0 of the 1 minReplication nodes. There are " +
                          std::to_string(running) + " datanode(s) running and " +
                          std::to_string(excluded_count) +
                          " node(s) are excluded in this operation.";
    if (lacked_space_only && !usable.empty()) return Status(ErrorCode::kNoSpace, message);
    return Status::Unavailable(message);
  }
  if (result.partial()) {
    LOG(WARNING) << "placement for " << request.path << ": only " << result.targets.size()
                 << " of " << request.replicas << " replicas could be placed";
  }
  return result;
}

std::vector<DatanodeSnapshot> PlacementPolicy::SortForReader(
    std::vector<DatanodeSnapshot> locations, std::string_view reader_host,
    std::string_view reader_rack) {
  std::erase_if(locations, [](const DatanodeSnapshot& n) {
    return n.liveness == DatanodeLiveness::kDead;
  });
  std::string rack(reader_rack);
  if (rack.empty()) {
    for (const DatanodeSnapshot& n : locations) {
      if (n.registration.host == reader_host) rack = n.registration.rack;
    }
  }
  auto distance = [&](const DatanodeSnapshot& n) {
    int d = 2;
    if (n.registration.host == reader_host) {
      d = 0;
    } else if (!rack.empty() && n.registration.rack == rack) {
      d = 1;
    }
    if (n.liveness == DatanodeLiveness::kStale) d += 3;
    // Nodes leaving service still serve reads, as a last choice: they are busy copying their
    // replicas away (HDFS sorts decommissioning and decommissioned nodes last).
    if (!n.in_service()) d += 6;
    return d;
  };
  std::stable_sort(locations.begin(), locations.end(),
                   [&](const DatanodeSnapshot& a, const DatanodeSnapshot& b) {
                     const int da = distance(a), db = distance(b);
                     if (da != db) return da < db;
                     return a.active_transfers < b.active_transfers;
                   });
  return locations;
}

std::vector<DatanodeSnapshot> PlacementPolicy::LocationsForReader(
    const DatanodeManager& datanodes, const LocatedBlock& block, std::string_view reader_host) {
  std::vector<DatanodeIndex> nodes;
  nodes.reserve(block.replicas.size());
  for (const ReplicaLocation& r : block.replicas) nodes.push_back(r.node);
  return SortForReader(datanodes.Describe(nodes), reader_host, datanodes.RackOfHost(reader_host));
}

}  // namespace talus::blocks
