#include "namenode/namespace/keys.h"
#include "namenode/ops/op_context.h"

namespace talus {

// A new block for a copy-on-write writer: id and stamp from the namespace's counters, kept
// with the file as a pending block (not part of its contents) until commitBlocks swaps it in or
// the lease ends. The op's value is the block id.
Result<OpOutcome> ApplyAllocateBlock(OpContext& ctx, const AllocateBlockOp& op) {
  ASSIGN_OR_RETURN(Inode file,
                   op_util::FileUnderConstruction(ctx, op.path, op.file_id, op.client_name));
  RETURN_NOT_OK(op_util::CheckCopyOnWrite(file, op.path));
  if (file.pending_blocks.size() >= kMaxPendingBlocks) {
    return Status::InvalidArgument("too many uncommitted blocks on " + op.path + " (" +
                                   std::to_string(kMaxPendingBlocks) +
                                   "): commit or release them first");
  }
  ASSIGN_OR_RETURN(uint64_t block_id, ctx.txn.GetCounter(keys::kMetaNextBlockId));
  ASSIGN_OR_RETURN(uint64_t generation_stamp,
                   ctx.txn.GetCounter(keys::kMetaNextGenerationStamp));
  if (block_id == 0 || generation_stamp == 0) {
    return Status::Corruption("block id or generation stamp counter missing");
  }
  ctx.txn.SetCounter(keys::kMetaNextBlockId, block_id + 1);
  ctx.txn.SetCounter(keys::kMetaNextGenerationStamp, generation_stamp + 1);
  file.pending_blocks.push_back(BlockInfo{static_cast<int64_t>(block_id),
                                          static_cast<int64_t>(generation_stamp), 0});
  file.overwriting = true;
  ctx.txn.PutInode(file);
  return OpOutcome{static_cast<int64_t>(block_id), true};
}

}  // namespace talus
