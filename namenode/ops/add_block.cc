#include "namenode/namespace/keys.h"
#include "namenode/ops/op_context.h"

namespace talus {

namespace {

// The writer reports how far it got in the last block; record it, and the generation stamp
// its pipeline ended with.
Status RecordPrevious(Inode* file, const std::optional<BlockInfo>& previous,
                      const std::string& path) {
  if (file->blocks.empty()) {
    if (previous && previous->block_id != 0) {
      return Status::InvalidArgument("addBlock of " + path + " names previous block " +
                                     std::to_string(previous->block_id) +
                                     " but the file has no block");
    }
    return Status::OK();
  }
  BlockInfo& last = file->blocks.back();
  if (!previous || previous->block_id != last.block_id) {
    return Status::InvalidArgument(
        "addBlock of " + path + ": the previous block must be the file's last block " +
        std::to_string(last.block_id));
  }
  if (previous->num_bytes < 0 || previous->num_bytes > file->block_size) {
    return Status::InvalidArgument("block " + std::to_string(last.block_id) + " length " +
                                   std::to_string(previous->num_bytes) +
                                   " is outside 0.." + std::to_string(file->block_size));
  }
  if (previous->generation_stamp < last.generation_stamp) {
    return Status::InvalidArgument("block " + std::to_string(last.block_id) +
                                   " reported with an older generation stamp");
  }
  last.num_bytes = previous->num_bytes;
  last.generation_stamp = previous->generation_stamp;
  return Status::OK();
}

}  // namespace

Result<OpOutcome> ApplyAddBlock(OpContext& ctx, const AddBlockOp& op) {
  ASSIGN_OR_RETURN(Inode file,
                   op_util::FileUnderConstruction(ctx, op.path, op.file_id, op.client_name));
  RETURN_NOT_OK(op_util::CheckStreaming(file, op.path));
  RETURN_NOT_OK(RecordPrevious(&file, op.previous, op.path));
  ASSIGN_OR_RETURN(uint64_t block_id, ctx.txn.GetCounter(keys::kMetaNextBlockId));
  ASSIGN_OR_RETURN(uint64_t generation_stamp,
                   ctx.txn.GetCounter(keys::kMetaNextGenerationStamp));
  if (block_id == 0 || generation_stamp == 0) {
    return Status::Corruption("block id or generation stamp counter missing");
  }
  ctx.txn.SetCounter(keys::kMetaNextBlockId, block_id + 1);
  ctx.txn.SetCounter(keys::kMetaNextGenerationStamp, generation_stamp + 1);
  file.blocks.push_back(BlockInfo{static_cast<int64_t>(block_id),
                                  static_cast<int64_t>(generation_stamp), 0});
  int64_t length = 0;
  for (size_t i = 0; i + 1 < file.blocks.size(); ++i) length += file.blocks[i].num_bytes;
  file.length = length;
  file.mtime = ctx.now;
  ctx.txn.PutInode(file);
  return OpOutcome{static_cast<int64_t>(block_id), true};
}

Result<OpOutcome> ApplyAbandonBlock(OpContext& ctx, const AbandonBlockOp& op) {
  ASSIGN_OR_RETURN(Inode file,
                   op_util::FileUnderConstruction(ctx, op.path, op.file_id, op.client_name));
  // A copy-on-write block whose pipeline could not be set up is dropped from the pending ones
  // (the block map forgets it: the op's value is non-zero).
  for (auto it = file.pending_blocks.begin(); it != file.pending_blocks.end(); ++it) {
    if (it->block_id == op.block_id) {
      file.pending_blocks.erase(it);
      ctx.txn.PutInode(file);
      return OpOutcome{1, true};
    }
  }
  if (file.overwriting) return OpOutcome{0, false};  // its committed blocks are not abandoned
  if (file.blocks.empty() || file.blocks.back().block_id != op.block_id) {
    // Already gone (a retry), or never the last block: nothing to undo.
    return OpOutcome{0, false};
  }
  file.blocks.pop_back();
  ctx.txn.PutInode(file);
  return OpOutcome{1, true};
}

}  // namespace talus
