#include "namenode/blocks/block_manager.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <unordered_set>

#include <glog/logging.h>

namespace talus::blocks {

Status BlockManagerOptions::Validate() const {
  if (monitor_interval_ms <= 0) return Status::InvalidArgument("monitor interval must be > 0");
  if (pending_replication_timeout_ms <= 0) {
    return Status::InvalidArgument("replication timeout must be > 0");
  }
  if (max_replication_streams < 1 ||
      max_replication_streams_hard_limit < max_replication_streams) {
    return Status::InvalidArgument(
        "max replication streams must be >= 1 and at most the hard limit");
  }
  return Status::OK();
}

BlockManager::BlockManager(BlockManagerOptions options, BlockMap* block_map,
                           DatanodeManager* datanodes, PlacementPolicy* placement,
                           SafeMode* safe_mode, const Clock* clock)
    : options_(options),
      block_map_(block_map),
      datanodes_(datanodes),
      placement_(placement),
      safe_mode_(safe_mode),
      clock_(clock) {}

BlockManager::~BlockManager() { Stop(); }

void BlockManager::Start() {
  // mutex_ is a leaf lock (nothing is called while holding it), so the listener may take it
  // under the map's lock; hence the listener is set before taking mutex_ here.
  block_map_->SetReplicaAddedListener([this] { OnReplicaAdded(); });
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void BlockManager::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    block_map_->SetReplicaAddedListener(nullptr);
  }
}

void BlockManager::OnReplicaAdded() {
  if (pending_blocks_.load(std::memory_order_relaxed) == 0) return;
  {
    std::lock_guard lock(mutex_);
    wake_requested_ = true;
  }
  wake_.notify_one();
}

void BlockManager::Loop() {
  const auto interval = std::chrono::milliseconds(options_.monitor_interval_ms);
  const auto min_gap = std::min(interval, std::chrono::milliseconds(50));
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    RunOnce();
    lock.lock();
    wake_requested_ = false;
    wake_.wait_until(lock, started + min_gap, [this] { return stopping_; });
    wake_.wait_until(lock, started + interval, [this] { return stopping_ || wake_requested_; });
  }
}

namespace {

// Blocks re-evaluated per pass at most (the rest wait for the next pass), and per map call.
constexpr size_t kMaxEvaluatedPerPass = 200'000;
constexpr size_t kEvaluateChunk = 2048;

bool Contains(const std::vector<DatanodeIndex>& nodes, DatanodeIndex node) {
  return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

}  // namespace

void BlockManager::RunOnce() {
  std::lock_guard pass_lock(pass_mutex_);
  block_map_->HandleDeadDatanodes();
  if (safe_mode_->IsOn()) {
    // Only safe mode needs these counts each pass (a full scan of the map).
    const BlockMapStats counts = block_map_->Stats();
    safe_mode_->Update(counts.safe_blocks, counts.complete_blocks,
                       static_cast<int32_t>(datanodes_->ListLiveNodes().size()));
  }
  if (safe_mode_->IsOn() || !active_.load()) {
    const int64_t pending_deletion = static_cast<int64_t>(datanodes_->TotalPendingDeletes());
    std::lock_guard lock(mutex_);
    stats_.pending_deletion = pending_deletion;
    return;
  }

  Pass pass;
  pass.now_ms = clock_->NowMs();
  pass.nodes = datanodes_->ListNodes();
  pass.states.resize(pass.nodes.size());
  std::set<std::string> racks;
  for (const DatanodeSnapshot& node : pass.nodes) {
    pass.states[node.index] = NodeState{node.liveness, node.admin_state, node.epoch};
    if (node.liveness != DatanodeLiveness::kDead && node.in_service()) {
      ++pass.in_service_nodes;
      racks.insert(node.registration.rack);
    }
  }
  pass.racks = static_cast<int32_t>(racks.size());
  if (streams_.size() < pass.nodes.size()) streams_.resize(pass.nodes.size());

  // A node whose admin state changed: its replicas count differently now.
  if (last_admin_.size() < pass.nodes.size()) {
    last_admin_.resize(pass.nodes.size(), AdminState::kNormal);
  }
  for (const DatanodeSnapshot& node : pass.nodes) {
    if (last_admin_[node.index] == node.admin_state) continue;
    last_admin_[node.index] = node.admin_state;
    block_map_->MarkNodeDirty(node.index);
  }

  std::vector<int64_t> recheck;
  ExpirePendingLocked(pass, &recheck);
  block_map_->MarkDirty(recheck);

  size_t evaluated = 0;
  while (evaluated < kMaxEvaluatedPerPass) {
    std::vector<int64_t> ids = block_map_->TakeDirty(kEvaluateChunk);
    if (ids.empty()) break;
    evaluated += ids.size();
    std::vector<BlockView> views = block_map_->Inspect(ids);
    std::unordered_set<int64_t> found;
    for (const BlockView& view : views) found.insert(view.block.id);
    for (int64_t id : ids) {
      if (!found.contains(id)) ForgetLocked(id);  // the block was deleted
    }
    for (const BlockView& view : views) EvaluateLocked(view, pass);
  }

  ScheduleLocked(pass);
  CheckDecommissionLocked(pass);

  int64_t queued = 0;
  for (const auto& level : needed_) queued += static_cast<int64_t>(level.size());
  if (pass.scheduled > 0 || pass.timed_out > 0 || pass.excess_deleted > 0 ||
      pass.corrupt_deleted > 0) {
    LOG(INFO) << "replication monitor: " << pass.scheduled << " copies of "
              << pass.scheduled_blocks << " blocks scheduled, " << pass.timed_out
              << " timed out, " << pass.excess_deleted << " excess and " << pass.corrupt_deleted
              << " corrupt replicas to delete; " << queued << " blocks need replication ("
              << needed_[kHighest].size() << " highest priority, " << needed_[kNoGoodReplica].size()
              << " without a good replica), " << pending_.size() << " with copies pending";
  }
  const int64_t pending_deletion = static_cast<int64_t>(datanodes_->TotalPendingDeletes());
  pending_blocks_.store(static_cast<int64_t>(pending_.size()), std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  stats_.under_replicated = queued;
  stats_.pending_replication = static_cast<int64_t>(pending_.size());
  stats_.pending_deletion = pending_deletion;
  stats_.scheduled_total += pass.scheduled;
  stats_.timed_out_total += pass.timed_out;
  stats_.excess_deleted_total += pass.excess_deleted;
  stats_.corrupt_deleted_total += pass.corrupt_deleted;
}

void BlockManager::DropCopyLocked(const PendingCopy& copy) {
  if (copy.source < streams_.size() && streams_[copy.source] > 0) --streams_[copy.source];
}

void BlockManager::ExpirePendingLocked(Pass& pass, std::vector<int64_t>* recheck) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    const int64_t block_id = it->first;
    std::vector<PendingCopy>& copies = it->second;
    bool changed = false;
    std::erase_if(copies, [&](PendingCopy& copy) {
      const bool source_gone =
          copy.source != kPipeline &&
          (copy.source >= pass.states.size() || !pass.states[copy.source].live() ||
           pass.states[copy.source].epoch != copy.source_epoch);
      // A dead target will never report; the others are still coming.
      std::erase_if(copy.targets, [&](DatanodeIndex t) {
        return t >= pass.states.size() || !pass.states[t].live();
      });
      const bool expired = pass.now_ms >= copy.deadline_ms;
      if (!source_gone && !expired && !copy.targets.empty()) return false;
      if (expired && !source_gone && !copy.targets.empty()) {
        pass.timed_out += static_cast<int64_t>(copy.targets.size());
        std::vector<DatanodeIndex>& avoid = avoid_[block_id];
        if (copy.source != kPipeline) avoid.push_back(copy.source);
        avoid.insert(avoid.end(), copy.targets.begin(), copy.targets.end());
        LOG(WARNING) << "copy of block " << block_id << " from datanode " << copy.source
                     << " to " << copy.targets.size() << " target(s) timed out; rescheduling";
      }
      DropCopyLocked(copy);
      changed = true;
      return true;
    });
    if (changed) recheck->push_back(block_id);
    it = copies.empty() ? pending_.erase(it) : std::next(it);
  }
}

int32_t BlockManager::PendingTargetsLocked(int64_t block_id) const {
  auto it = pending_.find(block_id);
  if (it == pending_.end()) return 0;
  int32_t count = 0;
  for (const PendingCopy& copy : it->second) count += static_cast<int32_t>(copy.targets.size());
  return count;
}

void BlockManager::ForgetLocked(int64_t block_id) {
  SetLevelLocked(block_id, -1);
  if (auto it = pending_.find(block_id); it != pending_.end()) {
    for (const PendingCopy& copy : it->second) DropCopyLocked(copy);
    pending_.erase(it);
  }
  avoid_.erase(block_id);
}

void BlockManager::SetLevelLocked(int64_t block_id, int level) {
  auto it = level_of_.find(block_id);
  if (it != level_of_.end()) {
    if (it->second == level) return;
    needed_[it->second].erase(block_id);
    level_of_.erase(it);
  }
  if (level < 0) return;
  needed_[level].insert(block_id);
  level_of_.emplace(block_id, level);
}

bool BlockManager::MisplacedLocked(const BlockView& view, const Pass& pass) const {
  if (pass.racks < 2) return false;
  std::string rack;
  int32_t live = 0;
  for (const ReplicaView& r : view.replicas) {
    if (ClassifyReplica(r, view.block.generation_stamp, pass.states) != ReplicaClass::kLive) {
      continue;
    }
    const std::string& node_rack = pass.nodes[r.node].registration.rack;
    if (live++ == 0) {
      rack = node_rack;
    } else if (node_rack != rack) {
      return false;
    }
  }
  return live >= 2;
}

void BlockManager::AdoptAwaitedLocked(const BlockView& view, const Pass& pass) {
  if (view.awaited.empty()) return;
  std::vector<DatanodeIndex> targets;
  for (DatanodeIndex node : view.awaited) {
    if (node < pass.states.size() && pass.states[node].live()) targets.push_back(node);
  }
  if (targets.empty()) return;
  pending_[view.block.id].push_back(PendingCopy{
      kPipeline, 0, std::move(targets), pass.now_ms + options_.pending_replication_timeout_ms});
}

void BlockManager::EvaluateLocked(const BlockView& view, Pass& pass) {
  const int64_t id = view.block.id;
  if (!view.complete) {
    // Being written (or appended to): its pipeline owns it until it is committed again.
    ForgetLocked(id);
    return;
  }
  AdoptAwaitedLocked(view, pass);
  // Pending copies a target has reported (finalized at the block's stamp) are done.
  if (auto it = pending_.find(id); it != pending_.end()) {
    auto reported = [&](DatanodeIndex target) {
      return std::any_of(view.replicas.begin(), view.replicas.end(), [&](const ReplicaView& r) {
        return r.node == target && r.state == ReplicaState::kFinalized &&
               r.generation_stamp == view.block.generation_stamp;
      });
    };
    // A source whose replica turned out corrupt (it reports it so instead of copying) or went
    // away will not copy: look for another now rather than at the timeout.
    auto source_lost = [&](const PendingCopy& copy) {
      if (copy.source == kPipeline) return false;
      return std::none_of(view.replicas.begin(), view.replicas.end(), [&](const ReplicaView& r) {
        if (r.node != copy.source) return false;
        const ReplicaClass c = ClassifyReplica(r, view.block.generation_stamp, pass.states);
        return c == ReplicaClass::kLive || c == ReplicaClass::kDecommissioning ||
               c == ReplicaClass::kExcess;
      });
    };
    std::erase_if(it->second, [&](PendingCopy& copy) {
      std::erase_if(copy.targets, reported);
      if (!copy.targets.empty() && !source_lost(copy)) return false;
      DropCopyLocked(copy);
      return true;
    });
    if (it->second.empty()) pending_.erase(it);
  }

  ReplicaCounts counts = CountReplicas(view, pass.states);
  const int32_t expected = view.expected_replication;
  // Corrupt replicas go once the block has its good copies again.
  if (counts.corrupt > 0 && counts.live >= expected) {
    std::vector<DatanodeIndex> corrupt;
    for (const ReplicaView& r : view.replicas) {
      if (ClassifyReplica(r, view.block.generation_stamp, pass.states) == ReplicaClass::kCorrupt) {
        corrupt.push_back(r.node);
      }
    }
    pass.corrupt_deleted += static_cast<int64_t>(
        block_map_->InvalidateReplicas(view.block, corrupt, expected, pass.states));
  }
  if (counts.live > expected) {
    const std::vector<DatanodeIndex> excess = ChooseExcess(view, counts.live - expected, pass);
    const size_t deleted = block_map_->InvalidateReplicas(view.block, excess, expected, pass.states);
    pass.excess_deleted += static_cast<int64_t>(deleted);
    counts.live -= static_cast<int32_t>(deleted);
  }

  const int32_t pending = PendingTargetsLocked(id);
  int level = -1;
  if (counts.readable() == 0) {
    level = kNoGoodReplica;
  } else if (counts.live + pending < expected) {
    level = counts.live <= 1 ? kHighest : kUnderReplicated;
  } else if (pending == 0 && counts.live <= expected && MisplacedLocked(view, pass)) {
    level = kMisplaced;
  }
  SetLevelLocked(id, level);
  if (level < 0 && pending == 0) avoid_.erase(id);
}

std::vector<DatanodeIndex> BlockManager::ChooseExcess(const BlockView& view, int32_t count,
                                                      const Pass& pass) const {
  // Candidates: good replicas in service (replicas on nodes leaving service go with the node).
  std::vector<DatanodeIndex> candidates;
  for (const ReplicaView& r : view.replicas) {
    if (ClassifyReplica(r, view.block.generation_stamp, pass.states) == ReplicaClass::kLive) {
      candidates.push_back(r.node);
    }
  }
  std::vector<DatanodeIndex> chosen;
  while (static_cast<int32_t>(chosen.size()) < count && !candidates.empty()) {
    // Keep racks: take from a rack holding more than one replica if there is one (HDFS).
    std::unordered_map<std::string, int> per_rack;
    for (DatanodeIndex n : candidates) ++per_rack[pass.nodes[n].registration.rack];
    std::vector<DatanodeIndex> pool;
    for (DatanodeIndex n : candidates) {
      if (per_rack[pass.nodes[n].registration.rack] > 1) pool.push_back(n);
    }
    if (pool.empty()) pool = candidates;
    // Stale nodes first (they may be failing), then the fullest (least remaining space).
    auto pick = std::min_element(pool.begin(), pool.end(), [&](DatanodeIndex a, DatanodeIndex b) {
      const bool stale_a = pass.states[a].stale(), stale_b = pass.states[b].stale();
      if (stale_a != stale_b) return stale_a;
      return pass.nodes[a].remaining < pass.nodes[b].remaining;
    });
    chosen.push_back(*pick);
    std::erase(candidates, *pick);
  }
  return chosen;
}

std::optional<DatanodeIndex> BlockManager::ChooseSourceLocked(const BlockView& view, int level,
                                                              const Pass& pass) const {
  const int32_t limit = level == kHighest ? options_.max_replication_streams_hard_limit
                                          : options_.max_replication_streams;
  const auto avoid_it = avoid_.find(view.block.id);
  std::optional<DatanodeIndex> best;
  int best_rank = 0;
  for (const ReplicaView& r : view.replicas) {
    const ReplicaClass c = ClassifyReplica(r, view.block.generation_stamp, pass.states);
    if (c != ReplicaClass::kLive && c != ReplicaClass::kDecommissioning) continue;
    const int32_t busy = r.node < streams_.size() ? streams_[r.node] : 0;
    if (busy >= limit) continue;
    // Lower is better: not avoided, then fresh, then in service, then least busy.
    const bool avoided = avoid_it != avoid_.end() && Contains(avoid_it->second, r.node);
    const int rank = (avoided ? 1 << 20 : 0) + (pass.states[r.node].stale() ? 1 << 19 : 0) +
                     (c == ReplicaClass::kDecommissioning ? 1 << 18 : 0) + busy;
    if (!best.has_value() || rank < best_rank) {
      best = r.node;
      best_rank = rank;
    }
  }
  return best;
}

std::vector<DatanodeIndex> BlockManager::ChooseTargetsLocked(const BlockView& view,
                                                             int32_t count, bool other_rack_first,
                                                             bool other_rack_only,
                                                             const Pass& pass) {
  PlacementRequest request;
  request.block_size = view.block.num_bytes;
  request.path = "block " + std::to_string(view.block.id);
  // Never a node holding any replica of the block (corrupt ones too) or a copy on its way.
  for (const ReplicaView& r : view.replicas) request.excluded.push_back(r.node);
  if (auto it = pending_.find(view.block.id); it != pending_.end()) {
    for (const PendingCopy& copy : it->second) {
      request.excluded.insert(request.excluded.end(), copy.targets.begin(), copy.targets.end());
    }
  }
  const size_t must_exclude = request.excluded.size();
  if (auto it = avoid_.find(view.block.id); it != avoid_.end()) {
    request.excluded.insert(request.excluded.end(), it->second.begin(), it->second.end());
  }

  auto choose = [&](std::span<const DatanodeSnapshot> nodes, int32_t n) {
    std::vector<DatanodeIndex> out;
    if (n <= 0) return out;
    request.replicas = n;
    Result<PlacementResult> placed = placement_->ChooseTargets(nodes, request);
    if (!placed.ok() && request.excluded.size() > must_exclude) {
      // Nothing but the nodes that failed before: try them again rather than nothing.
      std::vector<DatanodeIndex> avoided(request.excluded.begin() + must_exclude,
                                         request.excluded.end());
      request.excluded.resize(must_exclude);
      placed = placement_->ChooseTargets(nodes, request);
      request.excluded.insert(request.excluded.end(), avoided.begin(), avoided.end());
    }
    if (placed.ok()) out = std::move(placed->targets);
    return out;
  };

  std::vector<DatanodeIndex> targets;
  if (other_rack_first) {
    // All good replicas share one rack: the first new one goes to another.
    std::string rack;
    for (const ReplicaView& r : view.replicas) {
      if (ClassifyReplica(r, view.block.generation_stamp, pass.states) == ReplicaClass::kLive) {
        rack = pass.nodes[r.node].registration.rack;
      }
    }
    std::vector<DatanodeSnapshot> elsewhere;
    for (const DatanodeSnapshot& node : pass.nodes) {
      if (node.registration.rack != rack) elsewhere.push_back(node);
    }
    targets = choose(elsewhere, 1);
    // A misplaced block gains nothing from another copy on its own rack.
    if (targets.empty() && other_rack_only) return targets;
    request.excluded.insert(request.excluded.end(), targets.begin(), targets.end());
  }
  std::vector<DatanodeIndex> rest =
      choose(pass.nodes, count - static_cast<int32_t>(targets.size()));
  targets.insert(targets.end(), rest.begin(), rest.end());
  return targets;
}

bool BlockManager::ScheduleBlockLocked(int64_t block_id, int level, Pass& pass) {
  std::vector<BlockView> views = block_map_->Inspect(std::span<const int64_t>(&block_id, 1));
  if (views.empty() || !views[0].complete) {
    ForgetLocked(block_id);
    return true;
  }
  const BlockView& view = views[0];
  AdoptAwaitedLocked(view, pass);
  const ReplicaCounts counts = CountReplicas(view, pass.states);
  const int32_t pending = PendingTargetsLocked(block_id);
  if (counts.readable() == 0) {
    SetLevelLocked(block_id, kNoGoodReplica);
    return true;
  }
  int32_t needed = view.expected_replication - counts.live - pending;
  const bool misplaced = MisplacedLocked(view, pass);
  if (level == kMisplaced) {
    if (!misplaced || pending > 0) return true;  // fixed meanwhile
    needed = 1;  // one more on another rack; the excess check then trims the crowded rack
  }
  if (needed <= 0) return true;

  const std::optional<DatanodeIndex> source = ChooseSourceLocked(view, level, pass);
  if (!source.has_value()) return false;  // every holder is busy: next pass
  std::vector<DatanodeIndex> targets =
      ChooseTargetsLocked(view, needed, misplaced, level == kMisplaced, pass);
  if (targets.empty()) {
    // No node left to take a copy. If nodes holding corrupt replicas are what blocks the way
    // and a good copy exists, delete the corrupt ones so those nodes can take a good copy.
    if (counts.corrupt > 0 && counts.readable() > 0) {
      std::vector<DatanodeIndex> corrupt;
      for (const ReplicaView& r : view.replicas) {
        if (ClassifyReplica(r, view.block.generation_stamp, pass.states) ==
            ReplicaClass::kCorrupt) {
          corrupt.push_back(r.node);
        }
      }
      pass.corrupt_deleted += static_cast<int64_t>(block_map_->InvalidateReplicas(
          view.block, corrupt, view.expected_replication, pass.states));
    }
    return false;
  }
  datanodes_->QueueReplication(*source, ReplicationWork{view.block, targets});
  if (streams_.size() <= *source) streams_.resize(*source + 1);
  ++streams_[*source];
  VLOG(1) << "block " << block_id << ": copy from datanode " << *source << " to "
          << targets.size() << " target(s), priority " << level;
  pass.scheduled += static_cast<int64_t>(targets.size());
  ++pass.scheduled_blocks;
  const int32_t placed = static_cast<int32_t>(targets.size());
  pending_[block_id].push_back(PendingCopy{*source, pass.states[*source].epoch,
                                           std::move(targets),
                                           pass.now_ms + options_.pending_replication_timeout_ms});
  return placed >= needed;
}

void BlockManager::ScheduleLocked(Pass& pass) {
  int64_t live_nodes = 0;
  for (const NodeState& state : pass.states) live_nodes += state.live() ? 1 : 0;
  int64_t budget = std::max<int64_t>(1, 2 * live_nodes * options_.max_replication_streams);
  for (int level = kHighest; level <= kMisplaced && budget > 0; ++level) {
    std::set<int64_t>& queue = needed_[level];
    if (queue.empty()) continue;
    // Round robin: go on after the block looked at last, wrapping around once.
    std::vector<int64_t> batch;
    auto it = queue.upper_bound(cursor_[level]);
    for (size_t seen = 0; seen < queue.size() && static_cast<int64_t>(batch.size()) < budget;
         ++seen) {
      if (it == queue.end()) it = queue.begin();
      batch.push_back(*it++);
    }
    for (int64_t id : batch) {
      cursor_[level] = id;
      --budget;
      if (ScheduleBlockLocked(id, level, pass) && level_of_.contains(id) &&
          level_of_[id] == level) {
        SetLevelLocked(id, -1);
      }
    }
  }
}

void BlockManager::CheckDecommissionLocked(Pass& pass) {
  for (const DatanodeSnapshot& node : pass.nodes) {
    if (node.admin_state != AdminState::kDecommissionInProgress) continue;
    const size_t blockers =
        block_map_->CountDecommissionBlockers(node.index, pass.in_service_nodes, pass.states);
    if (blockers > 0) {
      VLOG(1) << "datanode " << node.registration.host << ":" << node.registration.data_port
              << " decommissioning: " << blockers << " blocks still need replicas elsewhere";
      continue;
    }
    if (datanodes_->MarkDecommissioned(node.index)) {
      last_admin_[node.index] = AdminState::kDecommissioned;
      std::lock_guard lock(mutex_);
      ++stats_.decommissioned_total;
    }
  }
}

ReplicationStats BlockManager::Stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace talus::blocks
