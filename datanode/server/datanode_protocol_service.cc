#include "datanode/server/datanode_protocol_service.h"

#include "common/rpc/thrift_status.h"

namespace talus::datanode {
namespace {

using apache::thrift::TDelayedException;

void Fail(const DatanodeProtocolService::ExnCob& exn_cob, const Status& status) {
  exn_cob(TDelayedException::delayException(ToThriftError(status)));
}

Result<BlockRef> FromThrift(const rpc::ExtendedBlock& b) {
  if (b.block_id <= 0 || b.generation_stamp <= 0 || b.num_bytes < 0) {
    return Status::InvalidArgument("bad block (id " + std::to_string(b.block_id) + ", stamp " +
                                   std::to_string(b.generation_stamp) + ", length " +
                                   std::to_string(b.num_bytes) + ")");
  }
  return BlockRef{static_cast<uint64_t>(b.block_id), static_cast<uint64_t>(b.generation_stamp),
                  static_cast<uint64_t>(b.num_bytes)};
}

rpc::ReplicaState::type StateToThrift(ReplicaState state) {
  switch (state) {
    case ReplicaState::kFinalized: return rpc::ReplicaState::FINALIZED;
    case ReplicaState::kRbw: return rpc::ReplicaState::RBW;
    case ReplicaState::kRwr: return rpc::ReplicaState::RWR;
  }
  return rpc::ReplicaState::RWR;
}

}  // namespace

void DatanodeProtocolService::getReplicaVisibleLength(std::function<void(const int64_t&)> cob,
                                                      ExnCob exn_cob,
                                                      const rpc::ExtendedBlock& block) {
  Result<BlockRef> b = FromThrift(block);
  if (!b.ok()) return Fail(exn_cob, b.status());
  Result<uint64_t> length = visible_length_(b->id, b->genstamp);
  if (!length.ok()) return Fail(exn_cob, length.status());
  cob(static_cast<int64_t>(*length));
}

void DatanodeProtocolService::initReplicaRecovery(
    std::function<void(const rpc::ReplicaRecoveryInfo&)> cob, ExnCob exn_cob,
    const rpc::ExtendedBlock& block, int64_t recovery_id) {
  Result<BlockRef> b = FromThrift(block);
  if (!b.ok()) return Fail(exn_cob, b.status());
  if (recovery_id <= 0) return Fail(exn_cob, Status::InvalidArgument("bad recovery id"));
  Status queued = pool_->Submit([this, cob, exn_cob, b = *b, recovery_id] {
    Result<RecoveryReplica> r = recovery_->Init(b, static_cast<uint64_t>(recovery_id));
    if (!r.ok()) return Fail(exn_cob, r.status());
    rpc::ReplicaRecoveryInfo info;
    info.block_id = static_cast<int64_t>(r->block_id);
    info.generation_stamp = static_cast<int64_t>(r->genstamp);
    info.num_bytes = static_cast<int64_t>(r->num_bytes);
    info.state = StateToThrift(r->state);
    cob(info);
  });
  if (!queued.ok()) Fail(exn_cob, queued);
}

void DatanodeProtocolService::updateReplicaUnderRecovery(
    std::function<void(const rpc::ExtendedBlock&)> cob, ExnCob exn_cob,
    const rpc::ExtendedBlock& block, int64_t recovery_id, int64_t new_length) {
  Result<BlockRef> b = FromThrift(block);
  if (!b.ok()) return Fail(exn_cob, b.status());
  if (recovery_id <= 0 || new_length < 0) {
    return Fail(exn_cob, Status::InvalidArgument("bad recovery id or length"));
  }
  Status queued = pool_->Submit([this, cob, exn_cob, b = *b, recovery_id, new_length] {
    Result<RecoveryReplica> r = recovery_->Update(b, static_cast<uint64_t>(recovery_id),
                                                  static_cast<uint64_t>(new_length));
    if (!r.ok()) return Fail(exn_cob, r.status());
    rpc::ExtendedBlock out;
    out.block_id = static_cast<int64_t>(r->block_id);
    out.generation_stamp = static_cast<int64_t>(r->genstamp);
    out.num_bytes = static_cast<int64_t>(r->num_bytes);
    cob(out);
  });
  if (!queued.ok()) Fail(exn_cob, queued);
}

}  // namespace talus::datanode
