#include "namenode/namespace/keys.h"
#include "namenode/ops/op_context.h"

namespace talus {

// Closes a file under construction: checks the lease, records the final length of the last
// block and of the file, and releases the lease. A retried complete of a file already closed
// is answered from the retry cache; any other complete of a closed file is a lease error.
// A file held for copy-on-write has no block being written: complete just ends the lease (a
// `last` given must match the last block as it is). Pending copy-on-write blocks are dropped.
Result<OpOutcome> ApplyComplete(OpContext& ctx, const CompleteOp& op) {
  ASSIGN_OR_RETURN(Inode inode,
                   op_util::FileUnderConstruction(ctx, op.path, op.file_id, op.client_name));
  if (inode.overwriting) {
    if (op.last.has_value() &&
        (inode.blocks.empty() || inode.blocks.back().block_id != op.last->block_id ||
         inode.blocks.back().generation_stamp != op.last->generation_stamp ||
         inode.blocks.back().num_bytes != op.last->num_bytes)) {
      return Status::InvalidArgument("complete of " + op.path + " (open for copy-on-write) "
                                     "names a last block it does not have");
    }
  } else if (op.last.has_value()) {
    if (inode.blocks.empty() || inode.blocks.back().block_id != op.last->block_id) {
      return Status::InvalidArgument("complete names block " +
                                     std::to_string(op.last->block_id) +
                                     " which is not the last block of " + op.path);
    }
    if (op.last->num_bytes < 0 || op.last->num_bytes > inode.block_size ||
        op.last->generation_stamp < inode.blocks.back().generation_stamp) {
      return Status::InvalidArgument("complete of " + op.path + ": last block " +
                                     std::to_string(op.last->block_id) +
                                     " has a bad length or an older generation stamp");
    }
    inode.blocks.back().num_bytes = op.last->num_bytes;
    inode.blocks.back().generation_stamp = op.last->generation_stamp;
  } else if (!inode.blocks.empty()) {
    return Status::InvalidArgument("complete of " + op.path + " must name its last block");
  }
  int64_t length = 0;
  for (const BlockInfo& b : inode.blocks) length += b.num_bytes;
  if (!inode.overwriting) {
    inode.length = length;
    inode.mtime = ctx.now;
    inode.ctime = ctx.now;
  }
  if (ctx.removed_blocks != nullptr) {
    for (const BlockInfo& b : inode.pending_blocks) ctx.removed_blocks->push_back(b.block_id);
  }
  inode.pending_blocks.clear();
  op_util::ReleaseLease(ctx, &inode);
  ctx.txn.PutInode(inode);
  return OpOutcome{static_cast<int64_t>(inode.id), true};  // non-zero: closed
}

}  // namespace talus
