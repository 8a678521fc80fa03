#include "namenode/leases/block_recovery.h"

#include <algorithm>

#include <glog/logging.h>

#include "namenode/namespace/reserved_path.h"

namespace talus {

namespace {

Caller SystemCaller() { return Caller{"talus-namenode", {}, true}; }

Result<int64_t> MutateAsSystem(Namesystem* ns, EditOp op) {
  Edit edit;
  edit.caller = SystemCaller();
  edit.op = std::move(op);
  return ns->Mutate(std::move(edit));
}

}  // namespace

BlockRecovery::BlockRecovery(Namesystem* namesystem, blocks::BlockMap* block_map,
                             blocks::DatanodeManager* datanodes, Options options)
    : namesystem_(namesystem),
      block_map_(block_map),
      datanodes_(datanodes),
      options_(options) {}

size_t BlockRecovery::pending() const {
  std::lock_guard lock(mu_);
  return by_block_.size();
}

Status BlockRecovery::Start(const Inode& file, const std::string& path) {
  if (file.blocks.empty()) return Status::InvalidArgument(path + " has no block to recover");
  const BlockInfo last = file.blocks.back();
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    auto it = by_block_.find(last.block_id);
    if (it != by_block_.end() && now - it->second.started < options_.retry_after) {
      return Status::OK();
    }
  }
  // Where the block may live. None alive: wait for a holder to come back rather than close the
  // file without data the writer may have hflushed.
  std::vector<blocks::DatanodeIndex> locations = block_map_->RecoveryLocations(last.block_id);
  if (locations.empty()) {
    LOG_EVERY_N(WARNING, 20) << "lease recovery of " << path << ": no live datanode holds block "
                             << last.block_id << "; waiting for one";
    return Status::OK();
  }
  ASSIGN_OR_RETURN(int64_t stamp,
                   MutateAsSystem(namesystem_,
                                  RecoverBlockOp{ReservedInodePath(file.id), file.id,
                                                 file.lease_holder, kRecoveryLeaseHolder}));
  // The primary: a node that reported a replica if any (it surely has data), else the first
  // of the writer's pipeline.
  blocks::DatanodeIndex primary = locations.front();
  Result<blocks::LocatedBlock> located = block_map_->GetBlock(last.block_id);
  if (located.ok()) {
    for (const blocks::ReplicaLocation& r : located->replicas) {
      if (std::find(locations.begin(), locations.end(), r.node) != locations.end()) {
        primary = r.node;
        break;
      }
    }
  }
  blocks::RecoveryWork work;
  work.block = blocks::Block{last.block_id, last.generation_stamp, last.num_bytes};
  work.new_generation_stamp = stamp;
  work.locations = locations;
  datanodes_->QueueRecovery(primary, std::move(work));
  {
    std::lock_guard lock(mu_);
    by_block_[last.block_id] = Pending{file.id, stamp, now};
  }
  LOG(INFO) << "lease recovery of " << path << " (holder " << file.lease_holder << "): block "
            << last.block_id << " recovery stamp " << stamp << " led by datanode " << primary
            << " with " << locations.size() << " locations";
  return Status::OK();
}

int BlockRecovery::RetryStalled() {
  std::vector<std::pair<int64_t, uint64_t>> stalled;  // block id, inode id
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    for (const auto& [block_id, p] : by_block_) {
      if (now - p.started >= options_.retry_after) stalled.emplace_back(block_id, p.inode_id);
    }
  }
  int restarted = 0;
  for (const auto& [block_id, inode_id] : stalled) {
    Result<Inode> file = namesystem_->GetInode(inode_id);
    Result<std::string> path = namesystem_->PathOf(inode_id);
    if (!file.ok() || !path.ok() || file->lease_holder != kRecoveryLeaseHolder ||
        file->blocks.empty() || file->blocks.back().block_id != block_id) {
      std::lock_guard lock(mu_);
      by_block_.erase(block_id);  // closed, deleted or replaced meanwhile
      continue;
    }
    Status s = Start(*file, *path);
    if (s.ok()) {
      ++restarted;
    } else {
      LOG(WARNING) << "lease recovery of " << *path << " again: " << s;
    }
  }
  return restarted;
}

Status BlockRecovery::Commit(const blocks::Block& old_block, const blocks::Block& new_block,
                             const std::vector<std::string>& storage_ids, bool close_file,
                             bool delete_block) {
  if (old_block.id != new_block.id || new_block.num_bytes < 0) {
    return Status::InvalidArgument("commitBlockSynchronization: block ids differ or bad length");
  }
  Pending pending;
  {
    std::lock_guard lock(mu_);
    auto it = by_block_.find(old_block.id);
    if (it == by_block_.end() || it->second.recovery_stamp != new_block.generation_stamp) {
      return Status::InvalidArgument(
          "commitBlockSynchronization of block " + std::to_string(old_block.id) +
          " with stamp " + std::to_string(new_block.generation_stamp) +
          ": no such recovery under way (superseded or already done)");
    }
    pending = it->second;
  }
  ASSIGN_OR_RETURN(Inode file, namesystem_->GetInode(pending.inode_id));
  ASSIGN_OR_RETURN(std::string path, namesystem_->PathOf(pending.inode_id));
  if (file.blocks.empty() || file.blocks.back().block_id != old_block.id ||
      file.lease_holder != kRecoveryLeaseHolder) {
    std::lock_guard lock(mu_);
    by_block_.erase(old_block.id);
    return Status::InvalidArgument("commitBlockSynchronization: " + path +
                                   " no longer waits for block " +
                                   std::to_string(old_block.id));
  }
  if (new_block.num_bytes > file.block_size) {
    return Status::InvalidArgument("commitBlockSynchronization: length " +
                                   std::to_string(new_block.num_bytes) +
                                   " exceeds the block size");
  }
  if (delete_block) {
    RETURN_NOT_OK(MutateAsSystem(namesystem_,
                                 AbandonBlockOp{ReservedInodePath(file.id), file.id,
                                                kRecoveryLeaseHolder, old_block.id})
                      .status());
    file.blocks.pop_back();
  }
  if (close_file) {
    CompleteOp complete;
    complete.path = ReservedInodePath(file.id);  // by id: a rename meanwhile cannot misdirect it
    complete.client_name = kRecoveryLeaseHolder;
    complete.file_id = file.id;
    if (!delete_block) {
      complete.last = BlockInfo{new_block.id, new_block.generation_stamp, new_block.num_bytes};
    } else if (!file.blocks.empty()) {
      complete.last = file.blocks.back();
    }
    RETURN_NOT_OK(MutateAsSystem(namesystem_, std::move(complete)).status());
  }
  {
    std::lock_guard lock(mu_);
    by_block_.erase(old_block.id);
  }
  LOG(INFO) << "lease recovery of " << path << " done: block " << old_block.id
            << (delete_block ? " dropped (no replica had data)"
                             : " finalized at " + std::to_string(new_block.num_bytes) +
                                   " bytes on " + std::to_string(storage_ids.size()) +
                                   " datanodes")
            << (close_file ? ", file closed" : "");
  return Status::OK();
}

}  // namespace talus
