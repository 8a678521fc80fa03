#include "namenode/namespace/keys.h"
#include "namenode/ops/op_context.h"

namespace talus {

Result<OpOutcome> ApplyMkdirs(OpContext& ctx, const MkdirsOp& op) {
  ASSIGN_OR_RETURN(ResolvedPath resolved, ResolvePath(ctx.txn, op.path, ctx.caller));
  if (resolved.Exists()) {
    if (resolved.Target().IsDirectory()) return OpOutcome{1, false};
    return Status::AlreadyExists("Path exists and is not a directory: " + resolved.path);
  }
  const size_t existing = resolved.inodes.size();  // components [existing-1, n) are missing
  if (!op.create_parent && existing < resolved.components.size()) {
    return Status::NotFound("Parent directory doesn't exist: " +
                            resolved.PrefixPath(resolved.components.size() - 1));
  }
  Inode parent = resolved.LastExisting();
  if (!parent.IsDirectory()) {
    return Status::NotADirectory("Parent path is not a directory: " +
                                 resolved.PrefixPath(existing - 1));
  }
  RETURN_NOT_OK(CheckAccess(ctx.caller, parent, kAccessWrite,
                            resolved.PrefixPath(existing - 1)));
  op_util::TouchDirectory(ctx, parent);
  for (size_t i = existing - 1; i < resolved.components.size(); ++i) {
    ASSIGN_OR_RETURN(uint64_t id, ctx.txn.AllocateInodeId());
    const bool last = i + 1 == resolved.components.size();
    // Implicit parents must stay writable and searchable by their creator, as in HDFS.
    const uint32_t mode = last ? op.mode : (op.mode | 0300);
    Inode dir = op_util::NewChild(ctx, id, parent, resolved.components[i], InodeType::kDirectory,
                                  mode);
    ctx.txn.PutDirent(parent.id, dir.name, dir.id);
    ctx.txn.PutInode(dir);
    parent = std::move(dir);
  }
  RETURN_NOT_OK(ctx.txn.AddToCounter(
      keys::kMetaNumDirectories,
      static_cast<int64_t>(resolved.components.size() - (existing - 1))));
  return OpOutcome{1, true};
}

}  // namespace talus
