#include "namenode/namespace/keys.h"
#include "namenode/ops/op_context.h"

namespace talus {

// The first step of lease recovery (the datanodes do the rest and report back through
// commitBlockSynchronization, which completes the file). Taking the lease away from the silent
// writer stops it from adding blocks or completing the file behind the recovery's back.
Result<OpOutcome> ApplyRecoverBlock(OpContext& ctx, const RecoverBlockOp& op) {
  if (op.recovery_holder.empty()) return Status::InvalidArgument("recovery needs a holder");
  ASSIGN_OR_RETURN(Inode file,
                   op_util::FileUnderConstruction(ctx, op.path, op.file_id, op.client_name));
  RETURN_NOT_OK(op_util::CheckStreaming(file, op.path));
  if (file.blocks.empty()) {
    return Status::InvalidArgument(op.path + " has no block to recover");
  }
  ASSIGN_OR_RETURN(uint64_t stamp, ctx.txn.GetCounter(keys::kMetaNextGenerationStamp));
  if (stamp == 0) return Status::Corruption("generation stamp counter missing");
  ctx.txn.SetCounter(keys::kMetaNextGenerationStamp, stamp + 1);
  file.lease_holder = op.recovery_holder;
  ctx.txn.Put(keys::UnderConstructionKey(file.id), op.recovery_holder);
  ctx.txn.PutInode(file);
  return OpOutcome{static_cast<int64_t>(stamp), true};
}

}  // namespace talus
