#include "namenode/namespace/keys.h"
#include "namenode/ops/op_context.h"

namespace talus {

namespace {

// The file under construction leased to the writer, whose last block is `block_id`: pipeline
// recovery only ever concerns the block being written (HDFS checkUCBlock).
Result<Inode> FileWithLastBlock(OpContext& ctx, const std::string& path, uint64_t file_id,
                                const std::string& client_name, int64_t block_id,
                                const char* what) {
  ASSIGN_OR_RETURN(Inode file, op_util::FileUnderConstruction(ctx, path, file_id, client_name));
  RETURN_NOT_OK(op_util::CheckStreaming(file, path));
  if (file.blocks.empty() || file.blocks.back().block_id != block_id) {
    return Status::InvalidArgument(std::string(what) + ": block " + std::to_string(block_id) +
                                   " is not the last block of " + path);
  }
  return file;
}

}  // namespace

Result<OpOutcome> ApplyUpdateBlockForPipeline(OpContext& ctx, const UpdateBlockForPipelineOp& op) {
  ASSIGN_OR_RETURN(Inode file, FileWithLastBlock(ctx, op.path, op.file_id, op.client_name,
                                                 op.block_id, "updateBlockForPipeline"));
  const BlockInfo& last = file.blocks.back();
  if (op.generation_stamp != last.generation_stamp) {
    return Status::InvalidArgument(
        "updateBlockForPipeline: block " + std::to_string(op.block_id) + " of " + op.path +
        " has generation stamp " + std::to_string(last.generation_stamp) + ", not " +
        std::to_string(op.generation_stamp));
  }
  ASSIGN_OR_RETURN(uint64_t stamp, ctx.txn.GetCounter(keys::kMetaNextGenerationStamp));
  if (stamp == 0) return Status::Corruption("generation stamp counter missing");
  ctx.txn.SetCounter(keys::kMetaNextGenerationStamp, stamp + 1);
  return OpOutcome{static_cast<int64_t>(stamp), true};
}

Result<OpOutcome> ApplyUpdatePipeline(OpContext& ctx, const UpdatePipelineOp& op) {
  ASSIGN_OR_RETURN(Inode file, FileWithLastBlock(ctx, op.path, op.file_id, op.client_name,
                                                 op.old_block.block_id, "updatePipeline"));
  BlockInfo& last = file.blocks.back();
  const std::string name = "updatePipeline of block " + std::to_string(last.block_id) + " of " +
                           op.path + ": ";
  if (op.new_block.block_id != op.old_block.block_id) {
    return Status::InvalidArgument(name + "the new block has another id " +
                                   std::to_string(op.new_block.block_id));
  }
  if (op.old_block.generation_stamp != last.generation_stamp) {
    return Status::InvalidArgument(name + "its generation stamp is " +
                                   std::to_string(last.generation_stamp) + ", not " +
                                   std::to_string(op.old_block.generation_stamp));
  }
  ASSIGN_OR_RETURN(uint64_t next_stamp, ctx.txn.GetCounter(keys::kMetaNextGenerationStamp));
  if (op.new_block.generation_stamp <= last.generation_stamp ||
      static_cast<uint64_t>(op.new_block.generation_stamp) >= next_stamp) {
    return Status::InvalidArgument(name + "new generation stamp " +
                                   std::to_string(op.new_block.generation_stamp) +
                                   " was not handed out by updateBlockForPipeline");
  }
  if (op.new_block.num_bytes < last.num_bytes || op.new_block.num_bytes > file.block_size) {
    return Status::InvalidArgument(name + "length " + std::to_string(op.new_block.num_bytes) +
                                   " is outside " + std::to_string(last.num_bytes) + ".." +
                                   std::to_string(file.block_size));
  }
  last.generation_stamp = op.new_block.generation_stamp;
  last.num_bytes = op.new_block.num_bytes;
  file.mtime = ctx.now;
  ctx.txn.PutInode(file);
  return OpOutcome{1, true};
}

}  // namespace talus
