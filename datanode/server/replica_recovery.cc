#include "datanode/server/replica_recovery.h"

#include <algorithm>

#include <glog/logging.h>

#include "datanode/transfer/transfer_server.h"

namespace talus::datanode {
namespace {

std::string Name(uint64_t block_id) { return "blk_" + std::to_string(block_id); }

RecoveryReplica FromInfo(const ReplicaInfo& info) {
  return RecoveryReplica{info.block_id, info.genstamp, info.bytes_on_disk, info.state};
}

}  // namespace

ReplicaRecovery::ReplicaRecovery(DataSet* data, std::function<void(uint64_t)> stop_writer,
                                 ReplicaEvents* events)
    : data_(data), stop_writer_(std::move(stop_writer)), events_(events) {}

Result<RecoveryReplica> ReplicaRecovery::Init(const BlockRef& block, uint64_t recovery_id) {
  if (block.id == 0 || block.genstamp == 0 || recovery_id <= block.genstamp) {
    return Status::InvalidArgument(Name(block.id) + ": recovery id " +
                                   std::to_string(recovery_id) +
                                   " must be above the block's generation stamp " +
                                   std::to_string(block.genstamp));
  }
  ASSIGN_OR_RETURN(ReplicaInfo before, data_->GetReplica(block.id));
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = recovery_ids_.find(block.id);
    if (it != recovery_ids_.end() && it->second >= recovery_id) {
      return Status::InvalidArgument(Name(block.id) + " is already under recovery " +
                                     std::to_string(it->second) + ", not older than " +
                                     std::to_string(recovery_id));
    }
  }
  if (before.state != ReplicaState::kFinalized && stop_writer_) stop_writer_(block.id);
  // Read again: the writer may have finished (finalized) or the replica gone meanwhile.
  ASSIGN_OR_RETURN(ReplicaInfo info, data_->GetReplica(block.id));
  if (info.genstamp < block.genstamp) {
    return Status::InvalidArgument(Name(block.id) + ": replica generation stamp " +
                                   std::to_string(info.genstamp) + " is older than the block's " +
                                   std::to_string(block.genstamp));
  }
  if (info.genstamp >= recovery_id) {
    return Status::InvalidArgument(Name(block.id) + ": replica generation stamp " +
                                   std::to_string(info.genstamp) +
                                   " is not older than recovery id " +
                                   std::to_string(recovery_id));
  }
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t& current = recovery_ids_[block.id];
  if (current >= recovery_id) {
    return Status::InvalidArgument(Name(block.id) + " is already under recovery " +
                                   std::to_string(current));
  }
  current = recovery_id;
  LOG(INFO) << "Recovery " << recovery_id << " of " << Name(block.id) << ": replica "
            << ReplicaStateName(info.state) << " stamp " << info.genstamp << ", "
            << info.bytes_on_disk << " bytes";
  return FromInfo(info);
}

Result<RecoveryReplica> ReplicaRecovery::Update(const BlockRef& block, uint64_t recovery_id,
                                                uint64_t new_length) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(ReplicaInfo info, data_->GetReplica(block.id));
  const std::string what = Name(block.id);
  if (info.state == ReplicaState::kFinalized && info.genstamp == recovery_id) {
    // A retried update that already took effect.
    if (info.bytes_on_disk != new_length) {
      return Status::InvalidArgument(what + " was finalized by recovery " +
                                     std::to_string(recovery_id) + " at " +
                                     std::to_string(info.bytes_on_disk) + " bytes, not " +
                                     std::to_string(new_length));
    }
    return FromInfo(info);
  }
  auto it = recovery_ids_.find(block.id);
  if (it == recovery_ids_.end() || it->second != recovery_id) {
    return Status::InvalidArgument(what + " is not under recovery " +
                                   std::to_string(recovery_id) +
                                   (it == recovery_ids_.end()
                                        ? std::string()
                                        : " (newest: " + std::to_string(it->second) + ")"));
  }
  if (info.genstamp >= recovery_id) {
    return Status::InvalidArgument(what + ": replica generation stamp " +
                                   std::to_string(info.genstamp) + " is not older than " +
                                   std::to_string(recovery_id));
  }
  if (info.bytes_on_disk < new_length) {
    return Status::InvalidArgument(what + " holds " + std::to_string(info.bytes_on_disk) +
                                   " bytes, fewer than the agreed " + std::to_string(new_length));
  }
  if (info.state == ReplicaState::kFinalized) {
    if (info.bytes_on_disk != new_length) {
      return Status::InvalidArgument(what + " is FINALIZED at " +
                                     std::to_string(info.bytes_on_disk) +
                                     " bytes and cannot be cut to " + std::to_string(new_length));
    }
  } else if (info.bytes_on_disk > new_length) {
    RETURN_NOT_OK(data_->Truncate(block.id, info.genstamp, new_length));
  }
  RETURN_NOT_OK(data_->BumpGenstamp(block.id, info.genstamp, recovery_id));
  ASSIGN_OR_RETURN(ReplicaInfo done, data_->Finalize(block.id, recovery_id));
  recovery_ids_.erase(block.id);
  LOG(INFO) << "Recovery " << recovery_id << " of " << what << ": finalized at "
            << done.bytes_on_disk << " bytes";
  if (events_ != nullptr) events_->OnReceived(done);
  return FromInfo(done);
}

Result<RecoveryPlan> PlanRecovery(uint64_t block_genstamp,
                                  const std::vector<RecoveryAnswer>& answers) {
  RecoveryPlan plan;
  std::vector<size_t> finalized, rbw, rwr;
  for (size_t i = 0; i < answers.size(); ++i) {
    const RecoveryReplica& r = answers[i].replica;
    if (r.genstamp < block_genstamp) continue;
    switch (r.state) {
      case ReplicaState::kFinalized: finalized.push_back(i); break;
      case ReplicaState::kRbw: rbw.push_back(i); break;
      case ReplicaState::kRwr: rwr.push_back(i); break;
    }
  }
  if (!finalized.empty()) {
    plan.length = answers[finalized[0]].replica.num_bytes;
    for (size_t i : finalized) {
      if (answers[i].replica.num_bytes != plan.length) {
        return Status::Corruption("finalized replicas of blk_" +
                                  std::to_string(answers[i].replica.block_id) +
                                  " differ in length (" + std::to_string(plan.length) + " and " +
                                  std::to_string(answers[i].replica.num_bytes) + ")");
      }
      plan.participants.push_back(i);
    }
    for (size_t i : rbw) {
      if (answers[i].replica.num_bytes >= plan.length) plan.participants.push_back(i);
    }
    return plan;
  }
  const std::vector<size_t>& chosen = rbw.empty() ? rwr : rbw;
  if (chosen.empty()) {
    plan.delete_block = true;
    return plan;
  }
  plan.length = answers[chosen[0]].replica.num_bytes;
  for (size_t i : chosen) plan.length = std::min(plan.length, answers[i].replica.num_bytes);
  plan.participants = chosen;
  return plan;
}

}  // namespace talus::datanode
