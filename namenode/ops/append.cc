#include "namenode/namespace/keys.h"
#include "namenode/ops/op_context.h"

namespace talus {

// Reopens a closed file for writing, as HDFS append: write permission on the file, one writer
// at a time. A partial last block is reopened under a new generation stamp, so replicas that
// miss the append (a node down meanwhile) are recognisably stale afterwards.
Result<OpOutcome> ApplyAppend(OpContext& ctx, const AppendOp& op) {
  if (op.client_name.empty()) return Status::InvalidArgument("append needs a client name");
  ASSIGN_OR_RETURN(ResolvedPath resolved, ResolvePath(ctx.txn, op.path, ctx.caller));
  if (!resolved.Exists()) return Status::NotFound("File does not exist: " + op.path);
  Inode file = resolved.Target();
  if (!file.IsFile()) return Status::IsADirectory(resolved.path + " is not a file");
  RETURN_NOT_OK(CheckAccess(ctx.caller, file, kAccessWrite, resolved.path));
  if (file.UnderConstruction()) {
    return Status::LeaseConflict("Failed to append to " + resolved.path +
                                 ": it is already being written by " + file.lease_holder);
  }
  int64_t previous_stamp = 0;
  if (!file.blocks.empty() && file.blocks.back().num_bytes < file.block_size) {
    ASSIGN_OR_RETURN(uint64_t stamp, ctx.txn.GetCounter(keys::kMetaNextGenerationStamp));
    if (stamp == 0) return Status::Corruption("generation stamp counter missing");
    ctx.txn.SetCounter(keys::kMetaNextGenerationStamp, stamp + 1);
    previous_stamp = file.blocks.back().generation_stamp;
    file.blocks.back().generation_stamp = static_cast<int64_t>(stamp);
  }
  file.lease_holder = op.client_name;
  ctx.txn.Put(keys::UnderConstructionKey(file.id), op.client_name);
  file.ctime = ctx.now;
  ctx.txn.PutInode(file);
  return OpOutcome{previous_stamp, true};
}

}  // namespace talus
