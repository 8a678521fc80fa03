#include "namenode/namespace/keys.h"
#include "namenode/ops/op_context.h"

namespace talus {

Result<OpOutcome> ApplyCreate(OpContext& ctx, const CreateOp& op) {
  if (op.replication < 1 || op.replication > kMaxReplication) {
    return Status::InvalidArgument("Requested replication " + std::to_string(op.replication) +
                                   " is out of range [1, " + std::to_string(kMaxReplication) +
                                   "]");
  }
  if (op.block_size < kMinBlockSize || op.block_size % kChecksumChunkSize != 0) {
    return Status::InvalidArgument("Specified block size " + std::to_string(op.block_size) +
                                   " is less than the minimum " + std::to_string(kMinBlockSize) +
                                   " or not a multiple of " + std::to_string(kChecksumChunkSize));
  }
  if (op.client_name.empty()) return Status::InvalidArgument("create needs a client name");
  ASSIGN_OR_RETURN(ResolvedPath resolved, ResolvePath(ctx.txn, op.path, ctx.caller));
  if (resolved.IsRoot()) return Status::IsADirectory("/ already exists as a directory");
  if (resolved.Exists()) {
    const Inode& existing = resolved.Target();
    if (existing.IsDirectory()) {
      return Status::IsADirectory(resolved.path + " already exists as a directory");
    }
    if (!op.overwrite) return Status::AlreadyExists(resolved.path + " already exists");
    if (existing.UnderConstruction() && existing.lease_holder != op.client_name) {
      return Status::LeaseConflict("Failed to create " + resolved.path + ": it is being written by " +
                                   existing.lease_holder);
    }
    const Inode& parent = resolved.Parent();
    RETURN_NOT_OK(CheckAccess(ctx.caller, parent, kAccessWrite,
                              resolved.PrefixPath(resolved.components.size() - 1)));
    RETURN_NOT_OK(CheckStickyBit(ctx.caller, parent, existing, resolved.path));
    RETURN_NOT_OK(op_util::RemoveSubtree(ctx, existing, resolved.path));
    ctx.txn.DeleteDirent(parent.id, existing.name);
    resolved.inodes.pop_back();
  }
  // Create missing parents when asked (HDFS create's createParent).
  const size_t n = resolved.components.size();
  if (resolved.inodes.size() < n) {
    if (!op.create_parent) {
      return Status::NotFound("Parent directory doesn't exist: " + resolved.PrefixPath(n - 1));
    }
    MkdirsOp parents{resolved.PrefixPath(n - 1), 0777, true};
    ASSIGN_OR_RETURN(OpOutcome ignored, ApplyMkdirs(ctx, parents));
    (void)ignored;
    ASSIGN_OR_RETURN(resolved, ResolvePath(ctx.txn, op.path, ctx.caller));
  }
  Inode parent = resolved.Parent();
  if (!parent.IsDirectory()) {
    return Status::NotADirectory("Parent path is not a directory: " + resolved.PrefixPath(n - 1));
  }
  RETURN_NOT_OK(CheckAccess(ctx.caller, parent, kAccessWrite,
                            resolved.PrefixPath(n - 1)));
  ASSIGN_OR_RETURN(uint64_t id, ctx.txn.AllocateInodeId());
  Inode file = op_util::NewChild(ctx, id, parent, resolved.LastName(), InodeType::kFile, op.mode);
  file.replication = op.replication;
  file.block_size = op.block_size;
  file.lease_holder = op.client_name;
  ctx.txn.PutDirent(parent.id, file.name, file.id);
  ctx.txn.PutInode(file);
  ctx.txn.Put(keys::UnderConstructionKey(file.id), op.client_name);
  op_util::TouchDirectory(ctx, parent);
  RETURN_NOT_OK(ctx.txn.AddToCounter(keys::kMetaNumFiles, 1));
  return OpOutcome{static_cast<int64_t>(id), true};
}

}  // namespace talus
