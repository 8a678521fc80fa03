#include "namenode/namespace/keys.h"
#include "namenode/ops/op_context.h"

namespace talus {

// A symbolic link: an entry holding a target string the namenode never follows (the FUSE
// kernel side does). Counted with the files; its length is the target's, as lstat reports.
Result<OpOutcome> ApplyCreateSymlink(OpContext& ctx, const CreateSymlinkOp& op) {
  if (op.target.empty() || op.target.size() > kMaxSymlinkTargetBytes) {
    return Status::InvalidArgument("symlink target must be 1 to " +
                                   std::to_string(kMaxSymlinkTargetBytes) + " bytes");
  }
  if (op.target.find('\0') != std::string::npos) {
    return Status::InvalidArgument("symlink target contains a NUL byte");
  }
  ASSIGN_OR_RETURN(ResolvedPath resolved, ResolvePath(ctx.txn, op.path, ctx.caller));
  if (resolved.IsRoot() || resolved.Exists()) {
    return Status::AlreadyExists(resolved.path + " already exists");
  }
  const size_t n = resolved.components.size();
  if (resolved.inodes.size() < n) {
    if (!op.create_parent) {
      return Status::NotFound("Parent directory doesn't exist: " + resolved.PrefixPath(n - 1));
    }
    MkdirsOp parents{resolved.PrefixPath(n - 1), 0777, true};
    ASSIGN_OR_RETURN(OpOutcome ignored, ApplyMkdirs(ctx, parents));
    (void)ignored;
    ASSIGN_OR_RETURN(resolved, ResolvePath(ctx.txn, resolved.path, ctx.caller));
  }
  Inode parent = resolved.Parent();
  if (!parent.IsDirectory()) {
    return Status::NotADirectory("Parent path is not a directory: " + resolved.PrefixPath(n - 1));
  }
  RETURN_NOT_OK(CheckAccess(ctx.caller, parent, kAccessWrite, resolved.PrefixPath(n - 1)));
  ASSIGN_OR_RETURN(uint64_t id, ctx.txn.AllocateInodeId());
  Inode link =
      op_util::NewChild(ctx, id, parent, resolved.LastName(), InodeType::kSymlink, 0777);
  link.symlink_target = op.target;
  link.length = static_cast<int64_t>(op.target.size());
  ctx.txn.PutDirent(parent.id, link.name, link.id);
  ctx.txn.PutInode(link);
  op_util::TouchDirectory(ctx, parent);
  RETURN_NOT_OK(ctx.txn.AddToCounter(keys::kMetaNumFiles, 1));
  return OpOutcome{static_cast<int64_t>(id), true};
}

}  // namespace talus
