#include "namenode/ops/op_context.h"

namespace talus {

Result<OpOutcome> ApplyDelete(OpContext& ctx, const DeleteOp& op) {
  ASSIGN_OR_RETURN(ResolvedPath resolved, ResolvePath(ctx.txn, op.path, ctx.caller));
  if (resolved.IsRoot()) return Status::NotPermitted("Cannot delete the root directory /");
  if (!resolved.Exists()) return OpOutcome{0, false};
  const Inode& target = resolved.Target();
  const Inode& parent = resolved.Parent();
  const std::string parent_path = resolved.PrefixPath(resolved.components.size() - 1);
  RETURN_NOT_OK(CheckAccess(ctx.caller, parent, kAccessWrite, parent_path));
  RETURN_NOT_OK(CheckStickyBit(ctx.caller, parent, target, resolved.path));
  if (target.IsDirectory() && !op.recursive) {
    ASSIGN_OR_RETURN(bool has_children, ctx.txn.HasChildren(target.id));
    if (has_children) return Status::NotEmpty("`" + resolved.path + " is non empty': Directory is not empty");
  }
  RETURN_NOT_OK(op_util::RemoveSubtree(ctx, target, resolved.path));
  ctx.txn.DeleteDirent(parent.id, target.name);
  op_util::TouchDirectory(ctx, parent);
  return OpOutcome{1, true};
}

}  // namespace talus
