#include "namenode/ops/op_context.h"

#include <vector>

#include "common/path.h"
#include "namenode/namespace/keys.h"

namespace talus {

const char* OpName(const EditOp& op) {
  static const char* const kNames[] = {"mkdirs",   "create",         "delete",   "rename",
                                       "setPermission", "setOwner",   "setTimes",
                                       "setReplication", "complete",  "addBlock",
                                       "abandonBlock", "append", "recoverBlock",
                                       "updateBlockForPipeline", "updatePipeline",
                                       "createSymlink", "openForOverwrite", "allocateBlock",
                                       "commitBlocks"};
  return kNames[op.index()];
}

Result<OpOutcome> ApplyEditOp(OpContext& ctx, const EditOp& op) {
  return std::visit(
      [&ctx](const auto& o) -> Result<OpOutcome> {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, MkdirsOp>) return ApplyMkdirs(ctx, o);
        if constexpr (std::is_same_v<T, CreateOp>) return ApplyCreate(ctx, o);
        if constexpr (std::is_same_v<T, DeleteOp>) return ApplyDelete(ctx, o);
        if constexpr (std::is_same_v<T, RenameOp>) return ApplyRename(ctx, o);
        if constexpr (std::is_same_v<T, SetPermissionOp>) return ApplySetPermission(ctx, o);
        if constexpr (std::is_same_v<T, SetOwnerOp>) return ApplySetOwner(ctx, o);
        if constexpr (std::is_same_v<T, SetTimesOp>) return ApplySetTimes(ctx, o);
        if constexpr (std::is_same_v<T, SetReplicationOp>) return ApplySetReplication(ctx, o);
        if constexpr (std::is_same_v<T, CompleteOp>) return ApplyComplete(ctx, o);
        if constexpr (std::is_same_v<T, AddBlockOp>) return ApplyAddBlock(ctx, o);
        if constexpr (std::is_same_v<T, AbandonBlockOp>) return ApplyAbandonBlock(ctx, o);
        if constexpr (std::is_same_v<T, AppendOp>) return ApplyAppend(ctx, o);
        if constexpr (std::is_same_v<T, RecoverBlockOp>) return ApplyRecoverBlock(ctx, o);
        if constexpr (std::is_same_v<T, UpdateBlockForPipelineOp>) {
          return ApplyUpdateBlockForPipeline(ctx, o);
        }
        if constexpr (std::is_same_v<T, UpdatePipelineOp>) return ApplyUpdatePipeline(ctx, o);
        if constexpr (std::is_same_v<T, CreateSymlinkOp>) return ApplyCreateSymlink(ctx, o);
        if constexpr (std::is_same_v<T, OpenForOverwriteOp>) return ApplyOpenForOverwrite(ctx, o);
        if constexpr (std::is_same_v<T, AllocateBlockOp>) return ApplyAllocateBlock(ctx, o);
        if constexpr (std::is_same_v<T, CommitBlocksOp>) return ApplyCommitBlocks(ctx, o);
      },
      op);
}

namespace op_util {

Result<Inode> FileUnderConstruction(OpContext& ctx, const std::string& path, uint64_t file_id,
                                    const std::string& client_name) {
  ASSIGN_OR_RETURN(ResolvedPath resolved, ResolvePath(ctx.txn, path, ctx.caller));
  if (!resolved.Exists()) return Status::NotFound("File does not exist: " + path);
  const Inode& inode = resolved.Target();
  if (!inode.IsFile()) return Status::IsADirectory(path + " is not a file");
  if (file_id != 0 && file_id != inode.id) {
    return Status::NotFound("File " + path + " was replaced (inode " + std::to_string(file_id) +
                            " no longer exists)");
  }
  if (!inode.UnderConstruction()) {
    return Status::LeaseConflict("No lease on " + path + ": File is not open for writing");
  }
  if (inode.lease_holder != client_name) {
    return Status::LeaseConflict("Lease mismatch on " + path + ": owned by " +
                                 inode.lease_holder + " but used by " + client_name);
  }
  return inode;
}

Status CheckStreaming(const Inode& file, const std::string& path) {
  if (file.overwriting) {
    return Status::InvalidArgument(path + " is open for copy-on-write (openForOverwrite): "
                                   "its blocks change only through commitBlocks");
  }
  return Status::OK();
}

Status CheckCopyOnWrite(const Inode& file, const std::string& path) {
  if (!file.BlocksAllComplete()) {
    return Status::InvalidArgument(path + " is being written block by block (create/append): "
                                   "copy-on-write needs a file opened by openForOverwrite");
  }
  return Status::OK();
}

void ReleaseLease(OpContext& ctx, Inode* file) {
  file->lease_holder.clear();
  file->overwriting = false;
  ctx.txn.Delete(keys::UnderConstructionKey(file->id));
}

Inode NewChild(OpContext& ctx, uint64_t id, const Inode& parent, std::string_view name,
               InodeType type, uint32_t mode) {
  Inode inode;
  inode.id = id;
  inode.parent_id = parent.id;
  inode.name = std::string(name);
  inode.type = type;
  inode.mode = mode & 07777;
  inode.owner = ctx.caller.user;
  inode.group = parent.group;
  inode.mtime = inode.atime = inode.ctime = ctx.now;
  return inode;
}

void TouchDirectory(OpContext& ctx, Inode dir) {
  dir.mtime = ctx.now;
  dir.ctime = ctx.now;
  ctx.txn.PutInode(dir);
}

Status RemoveSubtree(OpContext& ctx, const Inode& top, const std::string& path) {
  int64_t files = 0;
  int64_t dirs = 0;
  // Depth-first with an explicit stack: trees can be deeper than the C++ stack allows.
  std::vector<std::pair<Inode, std::string>> stack;
  stack.emplace_back(top, path);
  while (!stack.empty()) {
    auto [inode, inode_path] = std::move(stack.back());
    stack.pop_back();
    if (inode.IsDirectory()) {
      ++dirs;
      RETURN_NOT_OK(CheckAccess(ctx.caller, inode,
                                kAccessRead | kAccessWrite | kAccessExecute, inode_path));
      std::vector<std::pair<std::string, uint64_t>> children;
      RETURN_NOT_OK(ctx.txn.ForEachChild(inode.id, "", [&](std::string_view name, uint64_t id) {
        children.emplace_back(std::string(name), id);
        return true;
      }));
      for (auto& [name, id] : children) {
        ASSIGN_OR_RETURN(std::optional<Inode> child, ctx.txn.GetInode(id));
        if (!child) return Status::Corruption("missing inode " + std::to_string(id));
        ctx.txn.DeleteDirent(inode.id, name);
        stack.emplace_back(std::move(*child), JoinPath(inode_path, name));
      }
    } else {
      ++files;
      if (ctx.removed_files_with_blocks != nullptr &&
          (!inode.blocks.empty() || !inode.pending_blocks.empty())) {
        ctx.removed_files_with_blocks->push_back(inode.id);
      }
      if (inode.UnderConstruction()) ctx.txn.Delete(keys::UnderConstructionKey(inode.id));
    }
    ctx.txn.DeleteInode(inode.id);
  }
  RETURN_NOT_OK(ctx.txn.AddToCounter(keys::kMetaNumFiles, -files));
  RETURN_NOT_OK(ctx.txn.AddToCounter(keys::kMetaNumDirectories, -dirs));
  return Status::OK();
}

}  // namespace op_util
}  // namespace talus
