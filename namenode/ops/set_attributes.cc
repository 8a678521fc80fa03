// The ops that change one inode's attributes: permission, owner, times, replication.
#include "namenode/ops/op_context.h"

namespace talus {

namespace {

Result<ResolvedPath> ResolveExisting(OpContext& ctx, const std::string& path) {
  ASSIGN_OR_RETURN(ResolvedPath resolved, ResolvePath(ctx.txn, path, ctx.caller));
  if (!resolved.Exists()) return Status::NotFound("File does not exist: " + path);
  return resolved;
}

Status ValidatePrincipal(const std::string& name, const char* what) {
  if (name.size() > 255) return Status::InvalidArgument(std::string(what) + " name is too long");
  for (char c : name) {
    if (c == '\0' || c == ':' || c == '/' || c == '\n' || c == ' ' || c == '\t') {
      return Status::InvalidArgument(std::string(what) + " name \"" + name +
                                     "\" contains a character that is not allowed");
    }
  }
  return Status::OK();
}

}  // namespace

Result<OpOutcome> ApplySetPermission(OpContext& ctx, const SetPermissionOp& op) {
  if (op.mode > 07777) return Status::InvalidArgument("mode out of range: " + std::to_string(op.mode));
  ASSIGN_OR_RETURN(ResolvedPath resolved, ResolveExisting(ctx, op.path));
  Inode inode = resolved.Target();
  RETURN_NOT_OK(CheckOwner(ctx.caller, inode, resolved.path));
  inode.mode = op.mode;
  inode.ctime = ctx.now;
  ctx.txn.PutInode(inode);
  return OpOutcome{1, true};
}

Result<OpOutcome> ApplySetOwner(OpContext& ctx, const SetOwnerOp& op) {
  if (op.owner.empty() && op.group.empty()) {
    return Status::InvalidArgument("setOwner needs an owner or a group");
  }
  RETURN_NOT_OK(ValidatePrincipal(op.owner, "owner"));
  RETURN_NOT_OK(ValidatePrincipal(op.group, "group"));
  ASSIGN_OR_RETURN(ResolvedPath resolved, ResolveExisting(ctx, op.path));
  Inode inode = resolved.Target();
  if (!ctx.caller.superuser) {
    // HDFS: only the superuser gives a file away; the owner may change the group to one of
    // the owner's own groups.
    if (ctx.caller.user != inode.owner) {
      return Status::PermissionDenied("Permission denied. user=" + ctx.caller.user +
                                      " is not the owner of inode=" + resolved.path);
    }
    if (!op.owner.empty() && op.owner != inode.owner) {
      return Status::PermissionDenied("User " + ctx.caller.user +
                                      " is not a super user (non-super user cannot change owner).");
    }
    if (!op.group.empty() && !ctx.caller.InGroup(op.group)) {
      return Status::PermissionDenied("User " + ctx.caller.user + " does not belong to " +
                                      op.group);
    }
  }
  if (!op.owner.empty()) inode.owner = op.owner;
  if (!op.group.empty()) inode.group = op.group;
  inode.ctime = ctx.now;
  ctx.txn.PutInode(inode);
  return OpOutcome{1, true};
}

Result<OpOutcome> ApplySetTimes(OpContext& ctx, const SetTimesOp& op) {
  for (const NsTime* t : {&op.mtime, &op.atime}) {
    if (t->sec != -1 && (t->nsec < 0 || t->nsec > 999999999)) {
      return Status::InvalidArgument("nanoseconds out of range: " + std::to_string(t->nsec));
    }
  }
  ASSIGN_OR_RETURN(ResolvedPath resolved, ResolveExisting(ctx, op.path));
  Inode inode = resolved.Target();
  // HDFS asks for write access; POSIX lets the owner set explicit times even without it.
  if (!CheckOwner(ctx.caller, inode, resolved.path).ok()) {
    RETURN_NOT_OK(CheckAccess(ctx.caller, inode, kAccessWrite, resolved.path));
  }
  if (op.mtime.sec != -1) inode.mtime = op.mtime;
  if (op.atime.sec != -1) inode.atime = op.atime;
  inode.ctime = ctx.now;
  ctx.txn.PutInode(inode);
  return OpOutcome{1, true};
}

Result<OpOutcome> ApplySetReplication(OpContext& ctx, const SetReplicationOp& op) {
  if (op.replication < 1 || op.replication > kMaxReplication) {
    return Status::InvalidArgument("Requested replication " + std::to_string(op.replication) +
                                   " is out of range [1, " + std::to_string(kMaxReplication) +
                                   "]");
  }
  ASSIGN_OR_RETURN(ResolvedPath resolved, ResolveExisting(ctx, op.path));
  Inode inode = resolved.Target();
  if (!inode.IsFile()) return OpOutcome{0, false};  // HDFS: false for directories
  RETURN_NOT_OK(CheckAccess(ctx.caller, inode, kAccessWrite, resolved.path));
  if (inode.replication == op.replication) return OpOutcome{1, false};
  inode.replication = op.replication;
  inode.ctime = ctx.now;
  ctx.txn.PutInode(inode);
  return OpOutcome{1, true};
}

}  // namespace talus
