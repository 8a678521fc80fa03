#include "datanode/server/block_recovery.h"

#include <glog/logging.h>

#include "datanode/server/thrift_client.h"
#include "talus_rpc/DatanodeProtocol.h"

namespace talus::datanode {
namespace {

using PeerClient = SyncThriftClient<rpc::DatanodeProtocolClient>;

rpc::ExtendedBlock ToThrift(const BlockRef& b) {
  rpc::ExtendedBlock out;
  out.block_id = static_cast<int64_t>(b.id);
  out.generation_stamp = static_cast<int64_t>(b.genstamp);
  out.num_bytes = static_cast<int64_t>(b.num_bytes);
  return out;
}

Result<ReplicaState> StateFromThrift(rpc::ReplicaState::type state) {
  switch (state) {
    case rpc::ReplicaState::FINALIZED: return ReplicaState::kFinalized;
    case rpc::ReplicaState::RBW: return ReplicaState::kRbw;
    case rpc::ReplicaState::RWR: return ReplicaState::kRwr;
  }
  return Status::InvalidArgument("unknown replica state " + std::to_string(state));
}

std::string PeerName(const PeerId& peer) {
  return peer.storage_id + " (" + peer.host + ":" + std::to_string(peer.rpc_port) + ")";
}

}  // namespace

Result<RecoveryReplica> ThriftRecoveryPeers::Init(const PeerId& peer, const BlockRef& block,
                                                  uint64_t recovery_id) {
  if (peer.storage_id == self_storage_id_) return self_->Init(block, recovery_id);
  ASSIGN_OR_RETURN(auto client, PeerClient::Connect(peer.host, peer.rpc_port, timeout_ms_));
  rpc::ReplicaRecoveryInfo info;
  RETURN_NOT_OK(client->Call("initReplicaRecovery", [&](rpc::DatanodeProtocolClient& c) {
    c.initReplicaRecovery(info, ToThrift(block), static_cast<int64_t>(recovery_id));
  }));
  ASSIGN_OR_RETURN(ReplicaState state, StateFromThrift(info.state));
  if (info.block_id != static_cast<int64_t>(block.id) || info.generation_stamp <= 0 ||
      info.num_bytes < 0) {
    return Status::InvalidArgument("initReplicaRecovery: " + PeerName(peer) +
                                   " answered for another block or with bad numbers");
  }
  return RecoveryReplica{block.id, static_cast<uint64_t>(info.generation_stamp),
                         static_cast<uint64_t>(info.num_bytes), state};
}

Result<RecoveryReplica> ThriftRecoveryPeers::Update(const PeerId& peer, const BlockRef& block,
                                                    uint64_t recovery_id, uint64_t new_length) {
  if (peer.storage_id == self_storage_id_) return self_->Update(block, recovery_id, new_length);
  ASSIGN_OR_RETURN(auto client, PeerClient::Connect(peer.host, peer.rpc_port, timeout_ms_));
  rpc::ExtendedBlock result;
  RETURN_NOT_OK(client->Call("updateReplicaUnderRecovery", [&](rpc::DatanodeProtocolClient& c) {
    c.updateReplicaUnderRecovery(result, ToThrift(block), static_cast<int64_t>(recovery_id),
                                 static_cast<int64_t>(new_length));
  }));
  if (result.block_id != static_cast<int64_t>(block.id) ||
      result.generation_stamp != static_cast<int64_t>(recovery_id) ||
      result.num_bytes != static_cast<int64_t>(new_length)) {
    return Status::Internal("updateReplicaUnderRecovery: " + PeerName(peer) + " holds stamp " +
                            std::to_string(result.generation_stamp) + ", " +
                            std::to_string(result.num_bytes) + " bytes");
  }
  return RecoveryReplica{block.id, recovery_id, new_length, ReplicaState::kFinalized};
}

Status RecoverBlock(const RecoveryCommand& command, RecoveryPeers* peers, const CommitFn& commit) {
  const BlockRef& block = command.block;
  const std::string what = "recovery " + std::to_string(command.new_genstamp) + " of blk_" +
                           std::to_string(block.id);
  std::vector<RecoveryAnswer> answers;
  std::vector<PeerId> answered;
  size_t unreachable = 0;
  for (const PeerId& peer : command.locations) {
    Result<RecoveryReplica> r = peers->Init(peer, block, command.new_genstamp);
    if (r.ok()) {
      answers.push_back(RecoveryAnswer{peer.storage_id, *r});
      answered.push_back(peer);
    } else {
      LOG(WARNING) << what << ": " << PeerName(peer) << ": " << r.status();
      if (!r.status().IsNotFound()) ++unreachable;
    }
  }
  if (answers.empty() && unreachable > 0) {
    return Status::Unavailable(what + ": no location answered with its replica");
  }
  ASSIGN_OR_RETURN(RecoveryPlan plan, PlanRecovery(block.genstamp, answers));
  BlockRef result{block.id, command.new_genstamp, plan.length};
  std::vector<std::string> storage_ids;
  if (!plan.delete_block) {
    for (size_t i : plan.participants) {
      Result<RecoveryReplica> r =
          peers->Update(answered[i], block, command.new_genstamp, plan.length);
      if (r.ok()) {
        storage_ids.push_back(answered[i].storage_id);
      } else {
        LOG(WARNING) << what << ": updating " << PeerName(answered[i]) << ": " << r.status();
      }
    }
    if (storage_ids.empty()) return Status::IoError(what + ": no replica could be updated");
  }
  LOG(INFO) << what << ": " << (plan.delete_block ? "no replica; dropping the block"
                                                  : "agreed on " + std::to_string(plan.length) +
                                                        " bytes on " +
                                                        std::to_string(storage_ids.size()) +
                                                        " replica(s)");
  return commit(block, result, storage_ids, /*close_file=*/true, plan.delete_block);
}

}  // namespace talus::datanode
