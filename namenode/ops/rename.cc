#include "common/path.h"
#include "namenode/ops/op_context.h"

namespace talus {

namespace {

// Linux RENAME_EXCHANGE: both entries exist and swap places in one edit, whatever their kinds,
// across directories too. Permissions are those of a rename on both sides (WRITE on both
// parents, sticky bit on both entries); a directory may not land inside itself.
Result<OpOutcome> ApplyRenameExchange(OpContext& ctx, const RenameOp& op) {
  if (op.src == "/" || op.dst == "/") {
    return Status::NotPermitted("Cannot exchange the root directory /");
  }
  ASSIGN_OR_RETURN(ResolvedPath src, ResolvePath(ctx.txn, op.src, ctx.caller));
  if (!src.Exists()) return Status::NotFound("Exchange source " + op.src + " is not found.");
  ASSIGN_OR_RETURN(ResolvedPath dst, ResolvePath(ctx.txn, op.dst, ctx.caller));
  if (!dst.Exists()) {
    return Status::NotFound("Exchange destination " + op.dst + " is not found.");
  }
  const Inode a = src.Target();
  const Inode b = dst.Target();
  if (a.id == b.id) return OpOutcome{1, false};
  if ((a.IsDirectory() && IsSameOrUnder(op.dst, op.src)) ||
      (b.IsDirectory() && IsSameOrUnder(op.src, op.dst))) {
    return Status::InvalidArgument("Cannot exchange " + op.src + " and " + op.dst +
                                   ": one lies inside the other");
  }
  const Inode a_parent = src.Parent();
  const Inode b_parent = dst.Parent();
  RETURN_NOT_OK(CheckAccess(ctx.caller, a_parent, kAccessWrite,
                            src.PrefixPath(src.components.size() - 1)));
  RETURN_NOT_OK(CheckAccess(ctx.caller, b_parent, kAccessWrite,
                            dst.PrefixPath(dst.components.size() - 1)));
  RETURN_NOT_OK(CheckStickyBit(ctx.caller, a_parent, a, src.path));
  RETURN_NOT_OK(CheckStickyBit(ctx.caller, b_parent, b, dst.path));

  Inode a_moved = a;
  a_moved.parent_id = b.parent_id;
  a_moved.name = b.name;
  a_moved.ctime = ctx.now;
  Inode b_moved = b;
  b_moved.parent_id = a.parent_id;
  b_moved.name = a.name;
  b_moved.ctime = ctx.now;
  ctx.txn.PutDirent(a_moved.parent_id, a_moved.name, a_moved.id);
  ctx.txn.PutDirent(b_moved.parent_id, b_moved.name, b_moved.id);
  ctx.txn.PutInode(a_moved);
  ctx.txn.PutInode(b_moved);
  op_util::TouchDirectory(ctx, a_parent);
  if (b_parent.id != a_parent.id) op_util::TouchDirectory(ctx, b_parent);
  return OpOutcome{1, true};
}

}  // namespace

// HDFS rename2 semantics: the destination is the new name (never "into" a directory); an
// existing destination is an error unless `overwrite`, and then it must be of the same kind
// and, for a directory, empty.
Result<OpOutcome> ApplyRename(OpContext& ctx, const RenameOp& op) {
  RETURN_NOT_OK(ValidatePath(op.src, kMaxNamespacePathBytes));
  RETURN_NOT_OK(ValidatePath(op.dst, kMaxNamespacePathBytes));
  if (op.exchange) return ApplyRenameExchange(ctx, op);
  if (op.src == "/") return Status::NotPermitted("Cannot rename the root directory /");
  if (op.dst == "/") return Status::AlreadyExists("Cannot rename onto the root directory /");
  ASSIGN_OR_RETURN(ResolvedPath src, ResolvePath(ctx.txn, op.src, ctx.caller));
  if (!src.Exists()) return Status::NotFound("Rename source " + op.src + " is not found.");
  if (op.src == op.dst) return OpOutcome{1, false};  // POSIX: renaming onto itself succeeds
  if (src.Target().IsDirectory() && IsSameOrUnder(op.dst, op.src)) {
    return Status::InvalidArgument("Rename destination " + op.dst +
                                   " is a directory or file under source " + op.src);
  }
  const Inode moving = src.Target();
  const Inode src_parent = src.Parent();
  RETURN_NOT_OK(CheckAccess(ctx.caller, src_parent, kAccessWrite,
                            src.PrefixPath(src.components.size() - 1)));
  RETURN_NOT_OK(CheckStickyBit(ctx.caller, src_parent, moving, src.path));

  ASSIGN_OR_RETURN(ResolvedPath dst, ResolvePath(ctx.txn, op.dst, ctx.caller));
  if (!dst.ParentExists()) {
    return Status::NotFound("Rename destination parent " + std::string(ParentPath(op.dst)) +
                            " not found.");
  }
  Inode dst_parent = dst.Parent();
  const std::string dst_parent_path = dst.PrefixPath(dst.components.size() - 1);
  if (!dst_parent.IsDirectory()) {
    return Status::NotADirectory("Rename destination parent " + dst_parent_path +
                                 " is not a directory");
  }
  RETURN_NOT_OK(CheckAccess(ctx.caller, dst_parent, kAccessWrite,
                            dst_parent_path));
  if (dst.Exists()) {
    const Inode& victim = dst.Target();
    if (victim.id == moving.id) return OpOutcome{1, false};
    if (!op.overwrite) {
      return Status::AlreadyExists("Rename destination " + op.dst + " already exists");
    }
    if (victim.IsDirectory() && !moving.IsDirectory()) {
      return Status::IsADirectory("Rename destination " + op.dst +
                                  " is a directory and the source is not");
    }
    if (!victim.IsDirectory() && moving.IsDirectory()) {
      return Status::NotADirectory("Rename destination " + op.dst +
                                   " is not a directory and the source is one");
    }
    if (victim.IsDirectory()) {
      ASSIGN_OR_RETURN(bool has_children, ctx.txn.HasChildren(victim.id));
      if (has_children) {
        return Status::NotEmpty("Rename destination directory " + op.dst + " is not empty");
      }
    }
    RETURN_NOT_OK(CheckStickyBit(ctx.caller, dst_parent, victim, dst.path));
    RETURN_NOT_OK(op_util::RemoveSubtree(ctx, victim, dst.path));
    ctx.txn.DeleteDirent(dst_parent.id, victim.name);
  }
  ctx.txn.DeleteDirent(src_parent.id, moving.name);
  Inode moved = moving;
  moved.parent_id = dst_parent.id;
  moved.name = dst.LastName();
  moved.ctime = ctx.now;
  ctx.txn.PutDirent(dst_parent.id, moved.name, moved.id);
  ctx.txn.PutInode(moved);
  op_util::TouchDirectory(ctx, src_parent);
  if (dst_parent.id != src_parent.id) {
    // Re-read: the txn may have changed it (a removed victim leaves it as it was, but stay exact).
    ASSIGN_OR_RETURN(std::optional<Inode> fresh, ctx.txn.GetInode(dst_parent.id));
    if (fresh) op_util::TouchDirectory(ctx, *fresh);
  }
  return OpOutcome{1, true};
}

}  // namespace talus
