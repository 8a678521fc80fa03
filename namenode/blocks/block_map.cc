#include "namenode/blocks/block_map.h"

#include <algorithm>
#include <optional>

#include <glog/logging.h>

namespace talus::blocks {
namespace {

constexpr int32_t kMaxReplication = 512;

Status ValidateBlock(const Block& block) {
  if (block.generation_stamp <= 0 || block.num_bytes < 0) {
    return Status::InvalidArgument("block " + std::to_string(block.id) +
                                   ": generation stamp must be positive and length >= 0");
  }
  return Status::OK();
}

Status ValidateReplication(int32_t replication) {
  if (replication < 1 || replication > kMaxReplication) {
    return Status::InvalidArgument("replication " + std::to_string(replication) +
                                   " is outside 1.." + std::to_string(kMaxReplication));
  }
  return Status::OK();
}

bool IsLive(std::span<const NodeState> states, DatanodeIndex node) {
  return node < states.size() && states[node].live();
}

}  // namespace

ReplicaClass ClassifyReplica(const ReplicaView& replica, int64_t block_stamp,
                             std::span<const NodeState> states) {
  if (!IsLive(states, replica.node)) return ReplicaClass::kOther;
  if (replica.corrupt) return ReplicaClass::kCorrupt;
  if (replica.state != ReplicaState::kFinalized || replica.generation_stamp != block_stamp) {
    return ReplicaClass::kOther;
  }
  if (replica.excess) return ReplicaClass::kExcess;
  return states[replica.node].in_service() ? ReplicaClass::kLive : ReplicaClass::kDecommissioning;
}

namespace {

void Tally(ReplicaClass c, bool stale, ReplicaCounts* counts) {
  switch (c) {
    case ReplicaClass::kLive:
      ++counts->live;
      if (stale) ++counts->stale;
      break;
    case ReplicaClass::kDecommissioning: ++counts->decommissioning; break;
    case ReplicaClass::kCorrupt: ++counts->corrupt; break;
    case ReplicaClass::kExcess: ++counts->excess; break;
    case ReplicaClass::kOther: break;
  }
}

}  // namespace

ReplicaCounts CountReplicas(const BlockView& block, std::span<const NodeState> states) {
  ReplicaCounts counts;
  for (const ReplicaView& r : block.replicas) {
    Tally(ClassifyReplica(r, block.block.generation_stamp, states),
          IsLive(states, r.node) && states[r.node].stale(), &counts);
  }
  return counts;
}

ReplicaCounts BlockMap::CountUnlocked(const BlockInfo& info,
                                      std::span<const NodeState> states) const {
  ReplicaCounts counts;
  for (const Replica& r : info.replicas) {
    Tally(ClassifyReplica(r.View(), info.generation_stamp, states),
          IsLive(states, r.node) && states[r.node].stale(), &counts);
  }
  return counts;
}

BlockMap::BlockMap(DatanodeManager* datanodes) : datanodes_(datanodes) {
  CHECK(datanodes_ != nullptr);
}

BlockMap::NodeBlocks& BlockMap::NodeUnlocked(DatanodeIndex node) {
  if (node >= node_blocks_.size()) node_blocks_.resize(node + 1);
  return node_blocks_[node];
}

uint16_t BlockMap::VolumeSlotUnlocked(DatanodeIndex node, std::string_view volume_id) {
  std::vector<std::string>& volumes = NodeUnlocked(node).volumes;
  for (size_t i = 0; i < volumes.size(); ++i) {
    if (volumes[i] == volume_id) return static_cast<uint16_t>(i);
  }
  // A datanode has a handful of volumes; the cap only guards against a misbehaving one.
  if (volumes.size() >= UINT16_MAX) return 0;
  volumes.emplace_back(volume_id);
  return static_cast<uint16_t>(volumes.size() - 1);
}

Status BlockMap::AddBlock(int64_t inode_id, const Block& block, int32_t expected_replication) {
  RETURN_NOT_OK(ValidateBlock(block));
  RETURN_NOT_OK(ValidateReplication(expected_replication));
  if (inode_id <= 0) return Status::InvalidArgument("inode id must be positive");
  std::lock_guard lock(mutex_);
  auto [it, inserted] = blocks_.try_emplace(block.id);
  if (!inserted) {
    if (it->second.inode_id == inode_id && it->second.generation_stamp == block.generation_stamp) {
      return Status::OK();
    }
    return Status::AlreadyExists("block " + std::to_string(block.id) +
                                 " already belongs to inode " +
                                 std::to_string(it->second.inode_id));
  }
  BlockInfo& info = it->second;
  info.generation_stamp = block.generation_stamp;
  info.num_bytes = block.num_bytes;
  info.inode_id = inode_id;
  info.expected_replication = expected_replication;
  info.complete = false;
  file_blocks_[inode_id].push_back(block.id);
  ReplayPostponedUnlocked(block.id);
  return Status::OK();
}

Result<BlockMap::BlockInfo*> BlockMap::FindForNewStampUnlocked(const Block& block) {
  auto it = blocks_.find(block.id);
  if (it == blocks_.end()) return Status::NotFound("no block " + std::to_string(block.id));
  BlockInfo& info = it->second;
  if (block.generation_stamp < info.generation_stamp) {
    return Status::InvalidArgument(
        "block " + std::to_string(block.id) + ": generation stamp " +
        std::to_string(block.generation_stamp) + " is older than " +
        std::to_string(info.generation_stamp));
  }
  info.generation_stamp = block.generation_stamp;
  info.num_bytes = block.num_bytes;
  return &info;
}

void BlockMap::SetStandby(bool standby) {
  std::lock_guard lock(mutex_);
  if (standby_ == standby) return;
  standby_ = standby;
  if (!standby) {
    if (postponed_count_ > 0) {
      LOG(INFO) << "Leaving standby: dropping " << postponed_count_
                << " postponed replica reports of blocks this namenode does not have";
    }
    postponed_.clear();
    postponed_count_ = 0;
  }
}

bool BlockMap::standby() const {
  std::lock_guard lock(mutex_);
  return standby_;
}

size_t BlockMap::PostponedCount() const {
  std::lock_guard lock(mutex_);
  return postponed_count_;
}

void BlockMap::PostponeUnlocked(DatanodeIndex node, uint16_t volume, const Block& reported,
                                ReplicaState state) {
  // Bounded: a standby far behind forgets the oldest reports; the leader's view does not
  // depend on them, and the node's next full report brings them back.
  constexpr size_t kMaxPostponed = 1 << 20;
  if (postponed_count_ >= kMaxPostponed) {
    LOG_EVERY_N(WARNING, 10000) << "standby: too many postponed replica reports; dropping";
    return;
  }
  std::vector<PostponedReplica>& list = postponed_[reported.id];
  for (PostponedReplica& p : list) {
    if (p.node == node) {
      p = PostponedReplica{node, volume, reported, state};
      return;
    }
  }
  list.push_back(PostponedReplica{node, volume, reported, state});
  ++postponed_count_;
}

void BlockMap::ReplayPostponedUnlocked(int64_t block_id) {
  auto it = postponed_.find(block_id);
  if (it == postponed_.end()) return;
  std::vector<PostponedReplica> list = std::move(it->second);
  postponed_.erase(it);
  postponed_count_ -= list.size();
  for (const PostponedReplica& p : list) {
    // May postpone again (a stamp still newer than the one applied).
    RecordReplicaUnlocked(p.node, p.volume, p.block, p.state);
  }
}

void BlockMap::QueueNodeDeletesUnlocked(DatanodeIndex node, const std::vector<Block>& blocks) {
  if (standby_ || blocks.empty()) return;
  datanodes_->QueueDeletes(node, blocks);
}

Status BlockMap::CommitBlock(const Block& block) {
  RETURN_NOT_OK(ValidateBlock(block));
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(BlockInfo* info, FindForNewStampUnlocked(block));
  info->complete = true;
  info->awaited.clear();
  for (DatanodeIndex node : info->expected) {
    const bool reported =
        std::any_of(info->replicas.begin(), info->replicas.end(), [&](const Replica& r) {
          return r.node == node && r.state == ReplicaState::kFinalized &&
                 r.generation_stamp == info->generation_stamp;
        });
    if (!reported) info->awaited.push_back(node);
  }
  info->expected.clear();
  info->expected.shrink_to_fit();
  ReplayPostponedUnlocked(block.id);
  // Replicas still recorded at an older stamp were left behind by a pipeline recovery or a
  // lease recovery (a node dropped from the pipeline, a hung node): they are deleted at that
  // stamp, as HDFS invalidates them when the last block commits. A node that did move to the new
  // stamp and has not said so yet ignores the delete (datanodes delete only at a matching stamp).
  std::unordered_map<DatanodeIndex, std::vector<Block>> deletes;
  std::erase_if(info->replicas, [&](const Replica& r) {
    if (r.generation_stamp >= info->generation_stamp) return false;
    NodeUnlocked(r.node).blocks.erase(block.id);
    deletes[r.node].push_back(Block{block.id, r.generation_stamp, 0});
    return true;
  });
  dirty_.insert(block.id);
  QueueDeletes(deletes);
  return Status::OK();
}

Status BlockMap::ReopenBlock(const Block& block) {
  RETURN_NOT_OK(ValidateBlock(block));
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(BlockInfo* info, FindForNewStampUnlocked(block));
  info->complete = false;
  dirty_.insert(block.id);
  ReplayPostponedUnlocked(block.id);
  return Status::OK();
}

Status BlockMap::SetReplication(int64_t inode_id, int32_t expected_replication) {
  RETURN_NOT_OK(ValidateReplication(expected_replication));
  std::lock_guard lock(mutex_);
  auto it = file_blocks_.find(inode_id);
  if (it == file_blocks_.end()) return Status::OK();  // a file without blocks
  for (int64_t id : it->second) {
    BlockInfo& info = blocks_.at(id);
    if (info.expected_replication == expected_replication) continue;
    info.expected_replication = expected_replication;
    dirty_.insert(id);
  }
  return Status::OK();
}

BlockMap::Verdict BlockMap::RecordReplicaUnlocked(DatanodeIndex node, uint16_t volume,
                                                  const Block& reported, ReplicaState state) {
  auto it = blocks_.find(reported.id);
  if (it == blocks_.end()) {
    if (!standby_) return Verdict::kDelete;
    PostponeUnlocked(node, volume, reported, state);
    return Verdict::kIgnored;
  }
  BlockInfo& info = it->second;
  if (reported.generation_stamp < info.generation_stamp) {
    RemoveReplicaUnlocked(node, reported.id);
    return standby_ ? Verdict::kIgnored : Verdict::kDelete;
  }
  if (standby_ && reported.generation_stamp > info.generation_stamp) {
    // The leader has moved the block on (pipeline or lease recovery); this standby has not
    // applied that edit yet.
    RemoveReplicaUnlocked(node, reported.id);
    PostponeUnlocked(node, volume, reported, state);
    return Verdict::kIgnored;
  }
  bool corrupt = false;
  if (info.complete) {
    if (reported.generation_stamp > info.generation_stamp) {
      LOG(WARNING) << "datanode " << node << " reports block " << reported.id << " with stamp "
                   << reported.generation_stamp << ", newer than the committed "
                   << info.generation_stamp << ": ignored";
      RemoveReplicaUnlocked(node, reported.id);
      return Verdict::kIgnored;
    }
    // A finalized replica of a complete block at another length than the committed one is
    // damaged (HDFS: "length does not match"): kept as corrupt, re-replicated, then deleted.
    corrupt = state == ReplicaState::kFinalized && reported.num_bytes != info.num_bytes;
  }
  for (Replica& r : info.replicas) {
    if (r.node != node) continue;
    const bool same_stamp = r.generation_stamp == reported.generation_stamp;
    // Once known corrupt, a replica stays so while its node reports the same version of it.
    corrupt = corrupt || (same_stamp && r.corrupt);
    if (r.volume == volume && r.state == state && same_stamp && r.corrupt == corrupt) {
      return corrupt ? Verdict::kCorrupt : Verdict::kUnchanged;
    }
    if (corrupt && !r.corrupt) {
      LOG(WARNING) << "datanode " << node << " reports block " << reported.id << " with "
                   << reported.num_bytes << " bytes, committed length is " << info.num_bytes
                   << ": replica is corrupt";
    }
    r.volume = volume;
    r.state = state;
    r.corrupt = corrupt;
    r.excess = r.excess && same_stamp;
    r.generation_stamp = reported.generation_stamp;
    dirty_.insert(reported.id);
    if (!corrupt && info.complete && state == ReplicaState::kFinalized && replica_added_) {
      replica_added_();
    }
    return corrupt ? Verdict::kCorrupt : Verdict::kRecorded;
  }
  if (corrupt) {
    LOG(WARNING) << "datanode " << node << " reports block " << reported.id << " with "
                 << reported.num_bytes << " bytes, committed length is " << info.num_bytes
                 << ": replica is corrupt";
  }
  Replica added{node, volume, state, corrupt, false, reported.generation_stamp};
  info.replicas.push_back(added);
  NodeUnlocked(node).blocks.insert(reported.id);
  dirty_.insert(reported.id);
  if (!corrupt && info.complete && state == ReplicaState::kFinalized && replica_added_) {
    replica_added_();
  }
  return corrupt ? Verdict::kCorrupt : Verdict::kRecorded;
}

void BlockMap::RemoveReplicaUnlocked(DatanodeIndex node, int64_t block_id) {
  if (node < node_blocks_.size()) node_blocks_[node].blocks.erase(block_id);
  auto it = blocks_.find(block_id);
  if (it == blocks_.end()) return;
  if (std::erase_if(it->second.replicas, [node](const Replica& r) { return r.node == node; }) > 0) {
    dirty_.insert(block_id);
  }
}

Result<BlockReportSummary> BlockMap::ProcessFullReport(std::string_view storage_id,
                                                       std::string_view volume_id,
                                                       std::span<const ReportedReplica> replicas) {
  ASSIGN_OR_RETURN(DatanodeIndex node, datanodes_->LookupLive(storage_id));
  for (const ReportedReplica& r : replicas) RETURN_NOT_OK(ValidateBlock(r.block));

  BlockReportSummary summary;
  std::vector<Block> deletes;
  {
    std::lock_guard lock(mutex_);
    const uint16_t volume = VolumeSlotUnlocked(node, volume_id);
    std::unordered_set<int64_t> reported;
    reported.reserve(replicas.size());
    for (const ReportedReplica& r : replicas) {
      reported.insert(r.block.id);
      switch (RecordReplicaUnlocked(node, volume, r.block, r.state)) {
        case Verdict::kRecorded: ++summary.added; break;
        case Verdict::kUnchanged: ++summary.unchanged; break;
        case Verdict::kIgnored: ++summary.ignored; break;
        case Verdict::kCorrupt: ++summary.corrupt; break;
        case Verdict::kDelete: deletes.push_back(r.block); break;
      }
    }
    // Whatever the map holds for this node (on this volume) and the report lacks is gone.
    std::vector<int64_t> gone;
    for (int64_t id : NodeUnlocked(node).blocks) {
      if (reported.contains(id)) continue;
      if (!volume_id.empty()) {
        const BlockInfo& info = blocks_.at(id);
        auto r = std::find_if(info.replicas.begin(), info.replicas.end(),
                              [node](const Replica& x) { return x.node == node; });
        if (r == info.replicas.end() || r->volume != volume) continue;
      }
      gone.push_back(id);
    }
    for (int64_t id : gone) RemoveReplicaUnlocked(node, id);
    summary.removed = gone.size();
    summary.to_delete = deletes.size();
    QueueNodeDeletesUnlocked(node, deletes);
  }
  VLOG(1) << "block report from " << storage_id << " volume '" << volume_id << "': "
          << replicas.size() << " replicas, " << summary.added << " added, " << summary.removed
          << " removed, " << summary.to_delete << " to delete";
  return summary;
}

Status BlockMap::ProcessIncrementalReport(std::string_view storage_id,
                                          std::span<const ReceivedDeletedBlock> blocks) {
  ASSIGN_OR_RETURN(DatanodeIndex node, datanodes_->LookupLive(storage_id));
  for (const ReceivedDeletedBlock& b : blocks) RETURN_NOT_OK(ValidateBlock(b.block));
  std::vector<Block> deletes;
  std::lock_guard lock(mutex_);
  for (const ReceivedDeletedBlock& b : blocks) {
    if (b.status == ReceivedDeletedStatus::kDeleted) {
      RemoveReplicaUnlocked(node, b.block.id);
      if (auto p = postponed_.find(b.block.id); p != postponed_.end()) {
        postponed_count_ -= std::erase_if(p->second,
                                          [node](const PostponedReplica& r) { return r.node == node; });
        if (p->second.empty()) postponed_.erase(p);
      }
      continue;
    }
    // An incremental report does not name the volume; keep the slot a full report gave.
    uint16_t volume = 0;
    if (auto it = blocks_.find(b.block.id); it != blocks_.end()) {
      for (const Replica& r : it->second.replicas) {
        if (r.node == node) volume = r.volume;
      }
    }
    const ReplicaState state = b.status == ReceivedDeletedStatus::kReceived
                                   ? ReplicaState::kFinalized
                                   : ReplicaState::kRbw;
    if (RecordReplicaUnlocked(node, volume, b.block, state) == Verdict::kDelete) {
      deletes.push_back(b.block);
    }
  }
  QueueNodeDeletesUnlocked(node, deletes);
  return Status::OK();
}

Status BlockMap::ReportBadReplica(std::string_view storage_id, const Block& block) {
  Result<DatanodeIndex> found = datanodes_->LookupLive(storage_id);
  if (!found.ok()) {
    // The reporter may be a client naming a dead node; the node's replicas are gone already.
    std::optional<DatanodeIndex> known = datanodes_->Find(storage_id);
    if (!known.has_value()) return found.status();
    found = *known;
  }
  const DatanodeIndex node = *found;
  std::lock_guard lock(mutex_);
  auto it = blocks_.find(block.id);
  if (it == blocks_.end()) return Status::NotFound("no block " + std::to_string(block.id));
  for (Replica& r : it->second.replicas) {
    if (r.node != node) continue;
    if (!r.corrupt) {
      LOG(WARNING) << "replica of block " << block.id << " (stamp " << r.generation_stamp
                   << ") on datanode " << storage_id << " reported corrupt";
      r.corrupt = true;
      dirty_.insert(block.id);
    }
    return Status::OK();
  }
  return Status::OK();  // already gone
}

size_t BlockMap::RemoveDatanode(DatanodeIndex node) {
  std::lock_guard lock(mutex_);
  if (node >= node_blocks_.size()) return 0;
  std::unordered_set<int64_t> held;
  held.swap(node_blocks_[node].blocks);
  for (int64_t id : held) {
    auto it = blocks_.find(id);
    if (it == blocks_.end()) continue;
    std::erase_if(it->second.replicas, [node](const Replica& r) { return r.node == node; });
    dirty_.insert(id);
  }
  return held.size();
}

std::vector<DatanodeIndex> BlockMap::HandleDeadDatanodes() {
  std::vector<DatanodeIndex> dead = datanodes_->CollectNewlyDead();
  for (DatanodeIndex node : dead) {
    size_t removed = RemoveDatanode(node);
    LOG(INFO) << "forgot " << removed << " replicas of dead datanode " << node;
  }
  return dead;
}

size_t BlockMap::RemoveBlockUnlocked(
    int64_t block_id, std::unordered_map<DatanodeIndex, std::vector<Block>>* deletes) {
  auto it = blocks_.find(block_id);
  if (it == blocks_.end()) return 0;
  for (const Replica& r : it->second.replicas) {
    if (r.node < node_blocks_.size()) node_blocks_[r.node].blocks.erase(block_id);
    (*deletes)[r.node].push_back(Block{block_id, r.generation_stamp, it->second.num_bytes});
  }
  blocks_.erase(it);
  dirty_.insert(block_id);  // so the block manager forgets it
  return 1;
}

void BlockMap::QueueDeletes(const std::unordered_map<DatanodeIndex, std::vector<Block>>& deletes) {
  for (const auto& [node, blocks] : deletes) QueueNodeDeletesUnlocked(node, blocks);
}

size_t BlockMap::RemoveFile(int64_t inode_id) {
  std::unordered_map<DatanodeIndex, std::vector<Block>> deletes;
  size_t removed = 0;
  std::lock_guard lock(mutex_);
  auto it = file_blocks_.find(inode_id);
  if (it == file_blocks_.end()) return 0;
  for (int64_t id : it->second) removed += RemoveBlockUnlocked(id, &deletes);
  file_blocks_.erase(it);
  QueueDeletes(deletes);
  return removed;
}

size_t BlockMap::RemoveBlocks(std::span<const int64_t> block_ids) {
  std::unordered_map<DatanodeIndex, std::vector<Block>> deletes;
  size_t removed = 0;
  std::lock_guard lock(mutex_);
  for (int64_t id : block_ids) {
    auto it = blocks_.find(id);
    if (it == blocks_.end()) continue;
    auto file = file_blocks_.find(it->second.inode_id);
    if (file != file_blocks_.end()) {
      std::erase(file->second, id);
      if (file->second.empty()) file_blocks_.erase(file);
    }
    removed += RemoveBlockUnlocked(id, &deletes);
  }
  QueueDeletes(deletes);
  return removed;
}

Status BlockMap::SetExpectedLocations(int64_t block_id, std::vector<DatanodeIndex> nodes) {
  std::lock_guard lock(mutex_);
  auto it = blocks_.find(block_id);
  if (it == blocks_.end()) return Status::NotFound("no block " + std::to_string(block_id));
  if (it->second.complete) {
    return Status::InvalidArgument("block " + std::to_string(block_id) + " is complete");
  }
  it->second.expected = std::move(nodes);
  return Status::OK();
}

std::vector<DatanodeIndex> BlockMap::ExpectedLocations(int64_t block_id) const {
  std::lock_guard lock(mutex_);
  auto it = blocks_.find(block_id);
  if (it == blocks_.end()) return {};
  return it->second.expected;
}

std::vector<DatanodeIndex> BlockMap::RecoveryLocations(int64_t block_id) const {
  const std::vector<bool> live = datanodes_->LiveMask();
  std::lock_guard lock(mutex_);
  std::vector<DatanodeIndex> out;
  auto it = blocks_.find(block_id);
  if (it == blocks_.end()) return out;
  auto add = [&](DatanodeIndex node) {
    if (node >= live.size() || !live[node]) return;
    if (std::find(out.begin(), out.end(), node) == out.end()) out.push_back(node);
  };
  for (const Replica& r : it->second.replicas) add(r.node);
  for (DatanodeIndex node : it->second.expected) add(node);
  return out;
}

int32_t BlockMap::CountFinalizedReplicas(int64_t block_id, int64_t generation_stamp) const {
  const std::vector<bool> live = datanodes_->LiveMask();
  std::lock_guard lock(mutex_);
  auto it = blocks_.find(block_id);
  if (it == blocks_.end()) return 0;
  int32_t count = 0;
  for (const Replica& r : it->second.replicas) {
    if (r.state == ReplicaState::kFinalized && r.generation_stamp == generation_stamp &&
        !r.corrupt && r.node < live.size() && live[r.node]) {
      ++count;
    }
  }
  return count;
}

int32_t BlockMap::CountLiveReplicas(int64_t block_id) const {
  const std::vector<NodeState> states = datanodes_->States();
  std::lock_guard lock(mutex_);
  auto it = blocks_.find(block_id);
  if (it == blocks_.end()) return 0;
  return CountUnlocked(it->second, states).readable();
}

LocatedBlock BlockMap::LocateUnlocked(int64_t block_id, const BlockInfo& info,
                                      const std::vector<NodeState>* live_only) const {
  LocatedBlock located;
  located.block = Block{block_id, info.generation_stamp, info.num_bytes};
  located.inode_id = info.inode_id;
  located.expected_replication = info.expected_replication;
  located.complete = info.complete;
  auto dropped = [&](DatanodeIndex node) {
    return live_only != nullptr && !IsLive(*live_only, node);
  };
  for (const Replica& r : info.replicas) {
    if (r.generation_stamp != info.generation_stamp || r.corrupt || r.excess) continue;
    if (dropped(r.node)) continue;
    located.replicas.push_back(ReplicaLocation{r.node, r.state});
  }
  // A block being written is readable (up to what its pipeline acknowledged) on the nodes its
  // writer was given, before they report.
  for (DatanodeIndex node : info.expected) {
    if (dropped(node)) continue;
    bool known = std::any_of(located.replicas.begin(), located.replicas.end(),
                             [node](const ReplicaLocation& l) { return l.node == node; }) ||
                 std::any_of(info.replicas.begin(), info.replicas.end(), [node](const Replica& r) {
                   return r.node == node && (r.corrupt || r.excess);
                 });
    if (!known) located.replicas.push_back(ReplicaLocation{node, ReplicaState::kRbw});
  }
  if (!located.replicas.empty() || !info.complete) return located;
  // Nothing good left. Replicas whose deletion is queued may still be on disk; failing those,
  // the corrupt ones are offered marked corrupt, so a reader gets a checksum error rather than
  // no data or, worse, bad data taken for good.
  for (const Replica& r : info.replicas) {
    if (r.generation_stamp == info.generation_stamp && r.excess && !r.corrupt &&
        r.state == ReplicaState::kFinalized && !dropped(r.node)) {
      located.replicas.push_back(ReplicaLocation{r.node, r.state});
    }
  }
  if (!located.replicas.empty()) return located;
  for (const Replica& r : info.replicas) {
    if (r.corrupt && !dropped(r.node)) located.replicas.push_back(ReplicaLocation{r.node, r.state});
  }
  located.corrupt = !located.replicas.empty();
  return located;
}

Result<LocatedBlock> BlockMap::GetBlock(int64_t block_id) const {
  std::lock_guard lock(mutex_);
  auto it = blocks_.find(block_id);
  if (it == blocks_.end()) return Status::NotFound("no block " + std::to_string(block_id));
  return LocateUnlocked(block_id, it->second, nullptr);
}

std::vector<LocatedBlock> BlockMap::FileBlocks(int64_t inode_id) const {
  const std::vector<NodeState> live = datanodes_->States();
  std::lock_guard lock(mutex_);
  std::vector<LocatedBlock> out;
  auto it = file_blocks_.find(inode_id);
  if (it == file_blocks_.end()) return out;
  out.reserve(it->second.size());
  for (int64_t id : it->second) out.push_back(LocateUnlocked(id, blocks_.at(id), &live));
  return out;
}

BlockMapStats BlockMap::Stats() const {
  const std::vector<NodeState> states = datanodes_->States();
  std::lock_guard lock(mutex_);
  BlockMapStats stats;
  stats.total_blocks = static_cast<int64_t>(blocks_.size());
  for (const auto& [id, info] : blocks_) {
    stats.total_replicas += static_cast<int64_t>(info.replicas.size());
    const bool has_corrupt = std::any_of(info.replicas.begin(), info.replicas.end(),
                                         [](const Replica& r) { return r.corrupt; });
    if (has_corrupt) ++stats.corrupt_replica_blocks;
    if (!info.complete) {
      ++stats.under_construction;
      continue;
    }
    const ReplicaCounts counts = CountUnlocked(info, states);
    ++stats.complete_blocks;
    if (counts.live < info.expected_replication) ++stats.under_replicated;
    if (counts.readable() == 0) {
      ++stats.missing;
    } else {
      ++stats.safe_blocks;
    }
    stats.excess_replicas += counts.excess + std::max(0, counts.live - info.expected_replication);
  }
  return stats;
}

std::vector<BlockHealth> BlockMap::FileBlockHealth(int64_t inode_id) const {
  const std::vector<NodeState> states = datanodes_->States();
  std::lock_guard lock(mutex_);
  std::vector<BlockHealth> out;
  auto file = file_blocks_.find(inode_id);
  if (file == file_blocks_.end()) return out;
  for (int64_t id : file->second) {
    auto it = blocks_.find(id);
    if (it == blocks_.end()) continue;
    const BlockInfo& info = it->second;
    BlockHealth health;
    health.block = Block{id, info.generation_stamp, info.num_bytes};
    health.expected_replication = info.expected_replication;
    health.complete = info.complete;
    for (const Replica& r : info.replicas) {
      switch (ClassifyReplica(r.View(), info.generation_stamp, states)) {
        case ReplicaClass::kLive:
          health.live.push_back(r.node);
          if (states[r.node].stale()) health.stale.push_back(r.node);
          break;
        case ReplicaClass::kDecommissioning: health.decommissioning.push_back(r.node); break;
        case ReplicaClass::kCorrupt: health.corrupt.push_back(r.node); break;
        case ReplicaClass::kExcess:
        case ReplicaClass::kOther: break;
      }
    }
    out.push_back(std::move(health));
  }
  return out;
}

std::vector<LostBlock> BlockMap::LostBlocks(size_t limit) const {
  const std::vector<NodeState> states = datanodes_->States();
  std::lock_guard lock(mutex_);
  std::vector<LostBlock> out;
  for (const auto& [id, info] : blocks_) {
    if (!info.complete) continue;
    const ReplicaCounts counts = CountUnlocked(info, states);
    if (counts.readable() > 0) continue;
    out.push_back(LostBlock{info.inode_id, Block{id, info.generation_stamp, info.num_bytes},
                            counts.corrupt > 0});
  }
  std::sort(out.begin(), out.end(),
            [](const LostBlock& a, const LostBlock& b) { return a.block.id < b.block.id; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

int64_t BlockMap::NodeBlockCount(DatanodeIndex node) const {
  std::lock_guard lock(mutex_);
  if (node >= node_blocks_.size()) return 0;
  return static_cast<int64_t>(node_blocks_[node].blocks.size());
}

void BlockMap::SetReplicaAddedListener(std::function<void()> listener) {
  std::lock_guard lock(mutex_);
  replica_added_ = std::move(listener);
}

std::vector<int64_t> BlockMap::TakeDirty(size_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<int64_t> out;
  out.reserve(std::min(limit, dirty_.size()));
  for (auto it = dirty_.begin(); it != dirty_.end() && out.size() < limit;) {
    out.push_back(*it);
    it = dirty_.erase(it);
  }
  return out;
}

size_t BlockMap::DirtyCount() const {
  std::lock_guard lock(mutex_);
  return dirty_.size();
}

void BlockMap::MarkDirty(std::span<const int64_t> block_ids) {
  std::lock_guard lock(mutex_);
  dirty_.insert(block_ids.begin(), block_ids.end());
}

void BlockMap::MarkNodeDirty(DatanodeIndex node) {
  std::lock_guard lock(mutex_);
  if (node >= node_blocks_.size()) return;
  dirty_.insert(node_blocks_[node].blocks.begin(), node_blocks_[node].blocks.end());
}

std::vector<BlockView> BlockMap::Inspect(std::span<const int64_t> block_ids) {
  std::lock_guard lock(mutex_);
  std::vector<BlockView> out;
  out.reserve(block_ids.size());
  for (int64_t id : block_ids) {
    auto it = blocks_.find(id);
    if (it == blocks_.end()) continue;
    BlockInfo& info = it->second;
    BlockView view;
    view.block = Block{id, info.generation_stamp, info.num_bytes};
    view.inode_id = info.inode_id;
    view.expected_replication = info.expected_replication;
    view.complete = info.complete;
    view.replicas.reserve(info.replicas.size());
    for (const Replica& r : info.replicas) view.replicas.push_back(r.View());
    if (info.complete && !info.awaited.empty()) {
      view.awaited = std::move(info.awaited);
      info.awaited = {};
    }
    out.push_back(std::move(view));
  }
  return out;
}

size_t BlockMap::InvalidateReplicas(const Block& block, std::span<const DatanodeIndex> nodes,
                                    int32_t keep_live, std::span<const NodeState> states) {
  std::unordered_map<DatanodeIndex, std::vector<Block>> deletes;
  std::lock_guard lock(mutex_);
  auto it = blocks_.find(block.id);
  if (it == blocks_.end() || it->second.generation_stamp != block.generation_stamp) return 0;
  BlockInfo& info = it->second;
  int32_t live = CountUnlocked(info, states).live;
  for (DatanodeIndex node : nodes) {
    for (Replica& r : info.replicas) {
      if (r.node != node || r.excess) continue;
      const ReplicaClass c = ClassifyReplica(r.View(), info.generation_stamp, states);
      if (c == ReplicaClass::kLive) {
        if (live - 1 < keep_live) break;
        --live;
      }
      r.excess = true;
      deletes[node].push_back(Block{block.id, r.generation_stamp, info.num_bytes});
      break;
    }
  }
  if (!deletes.empty()) dirty_.insert(block.id);
  QueueDeletes(deletes);
  return deletes.size();
}

void BlockMap::OnDatanodeRegistered(DatanodeIndex node) {
  std::lock_guard lock(mutex_);
  if (node >= node_blocks_.size()) return;
  for (int64_t id : node_blocks_[node].blocks) {
    auto it = blocks_.find(id);
    if (it == blocks_.end()) continue;
    for (Replica& r : it->second.replicas) {
      if (r.node == node && r.excess) {
        r.excess = false;
        dirty_.insert(id);
      }
    }
  }
}

size_t BlockMap::CountDecommissionBlockers(DatanodeIndex node, int32_t in_service_nodes,
                                           std::span<const NodeState> states) const {
  std::lock_guard lock(mutex_);
  if (node >= node_blocks_.size()) return 0;
  size_t blockers = 0;
  for (int64_t id : node_blocks_[node].blocks) {
    auto it = blocks_.find(id);
    if (it == blocks_.end()) continue;
    const BlockInfo& info = it->second;
    if (!info.complete) {
      ++blockers;
      continue;
    }
    const int32_t needed = std::min(info.expected_replication, std::max(1, in_service_nodes));
    if (CountUnlocked(info, states).live < needed) ++blockers;
  }
  return blockers;
}

}  // namespace talus::blocks
