#pragma once

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "namenode/namespace/inode.h"
#include "namenode/namespace/namespace_txn.h"
#include "namenode/namespace/permission.h"
#include "namenode/namespace/resolver.h"
#include "namenode/ops/edit_ops.h"

namespace talus {

// Limits on what a create or setReplication may ask for, as HDFS's dfs.replication.max and
// dfs.namenode.fs-limits.min-block-size.
inline constexpr int16_t kMaxReplication = 512;
inline constexpr int64_t kMinBlockSize = 1 << 20;
inline constexpr int64_t kChecksumChunkSize = 512;
// A symlink's target, at most (PATH_MAX).
inline constexpr size_t kMaxSymlinkTargetBytes = 4096;
// Uncommitted copy-on-write blocks one file may hold (each is in the inode record).
inline constexpr size_t kMaxPendingBlocks = 4096;

// What an op runs against: the txn collecting its writes, the caller and the edit's time.
struct OpContext {
  NamespaceTxn& txn;
  const Caller& caller;
  NsTime now;
  // When set, ops that remove files list here the inode ids of removed files that had blocks,
  // so the block map can forget those blocks and delete their replicas.
  std::vector<uint64_t>* removed_files_with_blocks = nullptr;
  // When set, ops that drop blocks of a file that stays (copy-on-write commits, pending blocks
  // released) list their ids here, for the block map to forget them and delete their replicas.
  std::vector<int64_t>* removed_blocks = nullptr;
};

// What an op produced. `changed` false means the op succeeded without writing anything (mkdirs
// of an existing directory, delete of a missing path), so it need not be journaled.
struct OpOutcome {
  int64_t value = 0;
  bool changed = true;
};

// Each op validates against the current state, checks permissions and records its writes in
// ctx.txn. Deterministic: same state and op, same result. One file per op.
Result<OpOutcome> ApplyMkdirs(OpContext& ctx, const MkdirsOp& op);
Result<OpOutcome> ApplyCreate(OpContext& ctx, const CreateOp& op);
Result<OpOutcome> ApplyDelete(OpContext& ctx, const DeleteOp& op);
Result<OpOutcome> ApplyRename(OpContext& ctx, const RenameOp& op);
Result<OpOutcome> ApplySetPermission(OpContext& ctx, const SetPermissionOp& op);
Result<OpOutcome> ApplySetOwner(OpContext& ctx, const SetOwnerOp& op);
Result<OpOutcome> ApplySetTimes(OpContext& ctx, const SetTimesOp& op);
Result<OpOutcome> ApplySetReplication(OpContext& ctx, const SetReplicationOp& op);
Result<OpOutcome> ApplyComplete(OpContext& ctx, const CompleteOp& op);
Result<OpOutcome> ApplyAddBlock(OpContext& ctx, const AddBlockOp& op);
Result<OpOutcome> ApplyAbandonBlock(OpContext& ctx, const AbandonBlockOp& op);
Result<OpOutcome> ApplyAppend(OpContext& ctx, const AppendOp& op);
Result<OpOutcome> ApplyRecoverBlock(OpContext& ctx, const RecoverBlockOp& op);
Result<OpOutcome> ApplyUpdateBlockForPipeline(OpContext& ctx, const UpdateBlockForPipelineOp& op);
Result<OpOutcome> ApplyUpdatePipeline(OpContext& ctx, const UpdatePipelineOp& op);
Result<OpOutcome> ApplyCreateSymlink(OpContext& ctx, const CreateSymlinkOp& op);
Result<OpOutcome> ApplyOpenForOverwrite(OpContext& ctx, const OpenForOverwriteOp& op);
Result<OpOutcome> ApplyAllocateBlock(OpContext& ctx, const AllocateBlockOp& op);
Result<OpOutcome> ApplyCommitBlocks(OpContext& ctx, const CommitBlocksOp& op);

// Dispatches on the op's type.
Result<OpOutcome> ApplyEditOp(OpContext& ctx, const EditOp& op);

// Whether any path of `op` is under "/.reserved" (an inode path, or a name that is refused).
bool HasReservedPath(const EditOp& op);
// Rewrites every inode path of `op` ("/.reserved/.inodes/<id>[/...]") to the real path it
// stands for in `txn`, and refuses any other path under "/.reserved" (see reserved_path.h).
// The Namesystem runs it before each dry run and each apply, so ops only see real paths and
// the journal keeps the paths as sent.
Status CanonicalizeOpPaths(const NamespaceTxn& txn, EditOp* op);

// Shared pieces of the ops.
namespace op_util {
// Resolves a file under construction leased to `client_name` (and, when non-zero, with inode
// id `file_id`), as every data-path op must: NOT_FOUND, IS_A_DIRECTORY or LEASE_CONFLICT.
Result<Inode> FileUnderConstruction(OpContext& ctx, const std::string& path, uint64_t file_id,
                                    const std::string& client_name);
// A new inode under `parent`, owned by the caller, group inherited from the parent (HDFS/BSD).
Inode NewChild(OpContext& ctx, uint64_t id, const Inode& parent, std::string_view name,
               InodeType type, uint32_t mode);
// Refuses the streaming ops (addBlock, abandonBlock, pipeline updates, block recovery) on a
// file held for copy-on-write, and the copy-on-write ops on a file being streamed.
Status CheckStreaming(const Inode& file, const std::string& path);
Status CheckCopyOnWrite(const Inode& file, const std::string& path);
// Ends the lease on `file` (not written): clears the holder and the copy-on-write state.
void ReleaseLease(OpContext& ctx, Inode* file);
// Sets mtime (and ctime) of a directory whose entries changed.
void TouchDirectory(OpContext& ctx, Inode dir);
// Removes `inode` and, for a directory, everything below it; updates the counters. Requires
// ALL access on every directory below when the caller is not the superuser (HDFS semantics).
Status RemoveSubtree(OpContext& ctx, const Inode& inode, const std::string& path);
}  // namespace op_util

}  // namespace talus
