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

}  // namespace

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

Status BlockMap::CommitBlock(const Block& block) {
  RETURN_NOT_OK(ValidateBlock(block));
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(BlockInfo* info, FindForNewStampUnlocked(block));
  info->complete = true;
  info->expected.clear();
  info->expected.shrink_to_fit();
  std::erase_if(info->replicas, [&](const Replica& r) {
    if (r.generation_stamp >= info->generation_stamp) return false;
    NodeUnlocked(r.node).blocks.erase(block.id);
    return true;
  });
  return Status::OK();
}

Status BlockMap::ReopenBlock(const Block& block) {
  RETURN_NOT_OK(ValidateBlock(block));
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(BlockInfo* info, FindForNewStampUnlocked(block));
  info->complete = false;
  return Status::OK();
}

Status BlockMap::SetReplication(int64_t inode_id, int32_t expected_replication) {
  RETURN_NOT_OK(ValidateReplication(expected_replication));
  std::lock_guard lock(mutex_);
  auto it = file_blocks_.find(inode_id);
  if (it == file_blocks_.end()) return Status::OK();  // a file without blocks
  for (int64_t id : it->second) blocks_.at(id).expected_replication = expected_replication;
  return Status::OK();
}

BlockMap::Verdict BlockMap::RecordReplicaUnlocked(DatanodeIndex node, uint16_t volume,
                                                  const Block& reported, ReplicaState state) {
  auto it = blocks_.find(reported.id);
  if (it == blocks_.end()) return Verdict::kDelete;
  BlockInfo& info = it->second;
  if (reported.generation_stamp < info.generation_stamp) {
    RemoveReplicaUnlocked(node, reported.id);
    return Verdict::kDelete;
  }
  if (info.complete) {
    if (reported.generation_stamp > info.generation_stamp) {
      LOG(WARNING) << "datanode " << node << " reports block " << reported.id << " with stamp "
                   << reported.generation_stamp << ", newer than the committed "
                   << info.generation_stamp << ": ignored";
      RemoveReplicaUnlocked(node, reported.id);
      return Verdict::kIgnored;
    }
    if (state == ReplicaState::kFinalized && reported.num_bytes != info.num_bytes) {
      LOG(WARNING) << "datanode " << node << " reports block " << reported.id << " with "
                   << reported.num_bytes << " bytes, committed length is " << info.num_bytes
                   << ": ignored";
      RemoveReplicaUnlocked(node, reported.id);
      return Verdict::kIgnored;
    }
  }
  for (Replica& r : info.replicas) {
    if (r.node != node) continue;
    if (r.volume == volume && r.state == state && r.generation_stamp == reported.generation_stamp) {
      return Verdict::kUnchanged;
    }
    r.volume = volume;
    r.state = state;
    r.generation_stamp = reported.generation_stamp;
    return Verdict::kRecorded;
  }
  info.replicas.push_back(Replica{node, volume, state, reported.generation_stamp});
  NodeUnlocked(node).blocks.insert(reported.id);
  return Verdict::kRecorded;
}

void BlockMap::RemoveReplicaUnlocked(DatanodeIndex node, int64_t block_id) {
  if (node < node_blocks_.size()) node_blocks_[node].blocks.erase(block_id);
  auto it = blocks_.find(block_id);
  if (it == blocks_.end()) return;
  std::erase_if(it->second.replicas, [node](const Replica& r) { return r.node == node; });
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
    datanodes_->QueueDeletes(node, deletes);
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
  datanodes_->QueueDeletes(node, deletes);
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
  const std::vector<bool> live = datanodes_->LiveMask();
  std::lock_guard lock(mutex_);
  auto it = blocks_.find(block.id);
  if (it == blocks_.end()) return Status::NotFound("no block " + std::to_string(block.id));
  const BlockInfo& info = it->second;
  int32_t other_good = 0;
  std::optional<Replica> bad;
  for (const Replica& r : info.replicas) {
    if (r.node == node) {
      bad = r;
    } else if (r.state == ReplicaState::kFinalized &&
               r.generation_stamp == info.generation_stamp && r.node < live.size() &&
               live[r.node]) {
      ++other_good;
    }
  }
  if (!bad.has_value()) return Status::OK();  // already gone
  LOG(WARNING) << "replica of block " << block.id << " on datanode " << storage_id
               << " reported bad; " << other_good << " other good replicas";
  const Block doomed{block.id, bad->generation_stamp, info.num_bytes};
  RemoveReplicaUnlocked(node, block.id);
  if (other_good > 0) datanodes_->QueueDeletes(node, std::span<const Block>(&doomed, 1));
  return Status::OK();
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
  return 1;
}

void BlockMap::QueueDeletes(const std::unordered_map<DatanodeIndex, std::vector<Block>>& deletes) {
  for (const auto& [node, blocks] : deletes) datanodes_->QueueDeletes(node, blocks);
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
        r.node < live.size() && live[r.node]) {
      ++count;
    }
  }
  return count;
}

int32_t BlockMap::CountLiveReplicas(int64_t block_id) const {
  const std::vector<bool> live = datanodes_->LiveMask();
  std::lock_guard lock(mutex_);
  auto it = blocks_.find(block_id);
  if (it == blocks_.end()) return 0;
  int32_t count = 0;
  for (const Replica& r : it->second.replicas) {
    if (r.state == ReplicaState::kFinalized && r.generation_stamp == it->second.generation_stamp &&
        r.node < live.size() && live[r.node]) {
      ++count;
    }
  }
  return count;
}

LocatedBlock BlockMap::LocateUnlocked(int64_t block_id, const BlockInfo& info,
                                      const std::vector<bool>* live_only) const {
  LocatedBlock located;
  located.block = Block{block_id, info.generation_stamp, info.num_bytes};
  located.inode_id = info.inode_id;
  located.expected_replication = info.expected_replication;
  located.complete = info.complete;
  for (const Replica& r : info.replicas) {
    if (r.generation_stamp != info.generation_stamp) continue;
    if (live_only != nullptr && (r.node >= live_only->size() || !(*live_only)[r.node])) continue;
    located.replicas.push_back(ReplicaLocation{r.node, r.state});
  }
  // A block being written is readable (up to what its pipeline acknowledged) on the nodes its
  // writer was given, before they report.
  for (DatanodeIndex node : info.expected) {
    if (live_only != nullptr && (node >= live_only->size() || !(*live_only)[node])) continue;
    bool known = std::any_of(located.replicas.begin(), located.replicas.end(),
                             [node](const ReplicaLocation& l) { return l.node == node; });
    if (!known) located.replicas.push_back(ReplicaLocation{node, ReplicaState::kRbw});
  }
  return located;
}

Result<LocatedBlock> BlockMap::GetBlock(int64_t block_id) const {
  std::lock_guard lock(mutex_);
  auto it = blocks_.find(block_id);
  if (it == blocks_.end()) return Status::NotFound("no block " + std::to_string(block_id));
  return LocateUnlocked(block_id, it->second, nullptr);
}

std::vector<LocatedBlock> BlockMap::FileBlocks(int64_t inode_id) const {
  const std::vector<bool> live = datanodes_->LiveMask();
  std::lock_guard lock(mutex_);
  std::vector<LocatedBlock> out;
  auto it = file_blocks_.find(inode_id);
  if (it == file_blocks_.end()) return out;
  out.reserve(it->second.size());
  for (int64_t id : it->second) out.push_back(LocateUnlocked(id, blocks_.at(id), &live));
  return out;
}

BlockMapStats BlockMap::Stats() const {
  const std::vector<bool> live = datanodes_->LiveMask();
  std::lock_guard lock(mutex_);
  BlockMapStats stats;
  stats.total_blocks = static_cast<int64_t>(blocks_.size());
  for (const auto& [id, info] : blocks_) {
    stats.total_replicas += static_cast<int64_t>(info.replicas.size());
    if (!info.complete) {
      ++stats.under_construction;
      continue;
    }
    int32_t live_count = 0;
    for (const Replica& r : info.replicas) {
      if (r.state == ReplicaState::kFinalized && r.generation_stamp == info.generation_stamp &&
          r.node < live.size() && live[r.node]) {
        ++live_count;
      }
    }
    ++stats.complete_blocks;
    if (live_count < info.expected_replication) ++stats.under_replicated;
    if (live_count == 0) ++stats.missing;
    if (live_count > 0) ++stats.safe_blocks;
  }
  return stats;
}

// First versions: corrupt replicas and admin states are folded in by the replication work.
std::vector<BlockHealth> BlockMap::FileBlockHealth(int64_t inode_id) const {
  const std::vector<bool> live = datanodes_->LiveMask();
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
      if (r.state == ReplicaState::kFinalized && r.generation_stamp == info.generation_stamp &&
          r.node < live.size() && live[r.node]) {
        health.live.push_back(r.node);
      }
    }
    out.push_back(std::move(health));
  }
  return out;
}

std::vector<LostBlock> BlockMap::LostBlocks(size_t limit) const {
  const std::vector<bool> live = datanodes_->LiveMask();
  std::lock_guard lock(mutex_);
  std::vector<LostBlock> out;
  for (const auto& [id, info] : blocks_) {
    if (!info.complete) continue;
    bool good = false;
    for (const Replica& r : info.replicas) {
      good = good || (r.state == ReplicaState::kFinalized &&
                      r.generation_stamp == info.generation_stamp && r.node < live.size() &&
                      live[r.node]);
    }
    if (!good) out.push_back(LostBlock{info.inode_id, Block{id, info.generation_stamp, info.num_bytes}, false});
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

}  // namespace talus::blocks
