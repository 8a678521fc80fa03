#include "namenode/namespace/keys.h"
#include "namenode/ops/op_context.h"

namespace talus {

// Takes the write lease on a closed file for copy-on-write (commitBlocks) without reopening
// any block: every block stays complete and readable as it is. Write permission on the file,
// one writer at a time, as append. The op's value is the file's inode id.
Result<OpOutcome> ApplyOpenForOverwrite(OpContext& ctx, const OpenForOverwriteOp& op) {
  if (op.client_name.empty()) return Status::InvalidArgument("openForOverwrite needs a client name");
  ASSIGN_OR_RETURN(ResolvedPath resolved, ResolvePath(ctx.txn, op.path, ctx.caller));
  if (!resolved.Exists()) return Status::NotFound("File does not exist: " + op.path);
  Inode file = resolved.Target();
  if (file.IsDirectory()) return Status::IsADirectory(resolved.path + " is a directory");
  if (!file.IsFile()) return Status::InvalidArgument(resolved.path + " is not a regular file");
  RETURN_NOT_OK(CheckAccess(ctx.caller, file, kAccessWrite, resolved.path));
  if (file.UnderConstruction()) {
    if (file.lease_holder == op.client_name && file.overwriting) {
      return OpOutcome{static_cast<int64_t>(file.id), false};  // already open so
    }
    // The holder's own file without blocks (just created) becomes copy-on-write as it is.
    if (file.lease_holder != op.client_name || !file.blocks.empty()) {
      return Status::LeaseConflict("Failed to open " + resolved.path +
                                   " for overwriting: it is already being written by " +
                                   file.lease_holder);
    }
  }
  file.lease_holder = op.client_name;
  file.overwriting = true;
  ctx.txn.Put(keys::UnderConstructionKey(file.id), op.client_name);
  ctx.txn.PutInode(file);
  return OpOutcome{static_cast<int64_t>(file.id), true};
}

}  // namespace talus
