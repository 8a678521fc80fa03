#include "namenode/ops/op_context.h"

namespace talus {

// Closes a file under construction: checks the lease, records the final length and releases
// the lease. Blocks come with the data-path issue; until then only files without blocks can be
// written, so `last` must be absent.
Result<OpOutcome> ApplyComplete(OpContext& ctx, const CompleteOp& op) {
  ASSIGN_OR_RETURN(ResolvedPath resolved, ResolvePath(ctx.txn, op.path, ctx.caller));
  if (!resolved.Exists()) return Status::NotFound("File does not exist: " + op.path);
  Inode inode = resolved.Target();
  if (!inode.IsFile()) return Status::IsADirectory(op.path + " is not a file");
  if (op.file_id != 0 && op.file_id != inode.id) {
    return Status::NotFound("File " + op.path + " was replaced (inode " +
                            std::to_string(op.file_id) + " no longer exists)");
  }
  if (!inode.UnderConstruction()) {
    // A retried complete of a file we closed is answered from the retry cache; anything else
    // completing a closed file is a lease error, as in HDFS.
    return Status::LeaseConflict("No lease on " + op.path + ": File is not open for writing");
  }
  if (inode.lease_holder != op.client_name) {
    return Status::LeaseConflict("Lease mismatch on " + op.path + ": owned by " +
                                 inode.lease_holder + " but completed by " + op.client_name);
  }
  if (op.last.has_value()) {
    if (inode.blocks.empty() || inode.blocks.back().block_id != op.last->block_id) {
      return Status::InvalidArgument("complete names block " +
                                     std::to_string(op.last->block_id) +
                                     " which is not the last block of " + op.path);
    }
    inode.blocks.back().num_bytes = op.last->num_bytes;
    inode.blocks.back().generation_stamp = op.last->generation_stamp;
  } else if (!inode.blocks.empty()) {
    return Status::InvalidArgument("complete of " + op.path + " must name its last block");
  }
  int64_t length = 0;
  for (const BlockInfo& b : inode.blocks) length += b.num_bytes;
  inode.length = length;
  inode.lease_holder.clear();
  inode.mtime = ctx.now;
  inode.ctime = ctx.now;
  ctx.txn.PutInode(inode);
  return OpOutcome{1, true};
}

}  // namespace talus
