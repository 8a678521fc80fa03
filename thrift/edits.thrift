// Journal records and the namespace's LevelDB records. These bytes live on disk for as long as
// the file system does: never renumber or reuse a field id, never change a field's type.
namespace cpp talus.rpc

include "common.thrift"

// Who asked, as resolved by the namenode that accepted the call. Deterministic replay needs the
// groups and the superuser decision recorded, not recomputed.
struct EditCaller {
  1: required string user,
  2: required list<string> groups,
  3: required bool superuser,
}

struct EditHeader {
  1: required binary client_id,
  2: required i64 call_id,
  3: required EditCaller caller,
  4: required common.Timespec time,   // the time stamp every timestamp the edit sets uses
}

struct MkdirsEdit {
  1: required string path,
  2: required i32 mode,
  3: required bool create_parent,
}

struct CreateEdit {
  1: required string path,
  2: required i32 mode,
  3: required string client_name,
  4: required bool overwrite,
  5: required bool create_parent,
  6: required i16 replication,
  7: required i64 block_size,
}

struct DeleteEdit {
  1: required string path,
  2: required bool recursive,
}

struct RenameEdit {
  1: required string src,
  2: required string dst,
  3: required bool overwrite,
  4: optional bool exchange,    // RENAME_EXCHANGE: both exist and swap places
}

struct SetPermissionEdit {
  1: required string path,
  2: required i32 mode,
}

struct SetOwnerEdit {
  1: required string path,
  2: required string owner,
  3: required string group,
}

struct SetTimesEdit {
  1: required string path,
  2: required common.Timespec mtime,
  3: required common.Timespec atime,
}

struct SetReplicationEdit {
  1: required string path,
  2: required i16 replication,
}

struct CompleteEdit {
  1: required string path,
  2: required string client_name,
  3: optional common.ExtendedBlock last,
  4: required i64 file_id,
}

struct AddBlockEdit {
  1: required string path,
  2: required i64 file_id,
  3: required string client_name,
  4: optional common.ExtendedBlock previous,   // the file's last block as the writer finished it
}

struct AbandonBlockEdit {
  1: required string path,
  2: required i64 file_id,
  3: required string client_name,
  4: required i64 block_id,
}

// Reopens a closed file for writing. A partial last block gets a new generation stamp.
struct AppendEdit {
  1: required string path,
  2: required string client_name,
}

// Starts lease recovery of a file whose writer is gone: a new generation stamp for its last
// block's recovery, and the lease passes to the namenode (recovery_holder).
struct RecoverBlockEdit {
  1: required string path,
  2: required i64 file_id,
  3: required string client_name,      // the lease holder whose lease expired
  4: required string recovery_holder,
}

// Pipeline recovery: a new generation stamp for the last block of a file being written (the
// block itself keeps its stamp until UpdatePipelineEdit).
struct UpdateBlockForPipelineEdit {
  1: required string path,
  2: required i64 file_id,
  3: required string client_name,
  4: required i64 block_id,
  5: required i64 generation_stamp,   // the block's current stamp, as the writer named it
}

// Pipeline recovery: the rebuilt pipeline's stamp and acknowledged length for the last block.
struct UpdatePipelineEdit {
  1: required string path,
  2: required i64 file_id,
  3: required string client_name,
  4: required common.ExtendedBlock old_block,
  5: required common.ExtendedBlock new_block,
}

// A symbolic link at `path` holding `target` (1..4096 bytes, never resolved by the namenode).
struct CreateSymlinkEdit {
  1: required string path,
  2: required string target,
  3: required bool create_parent,
}

// Takes the write lease on a closed file for copy-on-write without reopening any block.
struct OpenForOverwriteEdit {
  1: required string path,
  2: required string client_name,
}

// A new block (id and stamp from the counters) pending on a file held for copy-on-write.
struct AllocateBlockEdit {
  1: required string path,
  2: required i64 file_id,
  3: required string client_name,
}

struct BlockReplacementRecord {
  1: required i32 index,
  2: required i64 old_block_id,          // 0: past the end (the list grows)
  3: required common.ExtendedBlock new_block,
}

// Swaps pending blocks into a file held for copy-on-write and cuts its list to new_length;
// `release` closes the file and drops the pending blocks left.
struct CommitBlocksEdit {
  1: required string path,
  2: required i64 file_id,
  3: required string client_name,
  4: required list<BlockReplacementRecord> replacements,
  5: required i64 new_length,
  6: required bool release,
}

union EditOp {
  1: MkdirsEdit mkdirs,
  2: CreateEdit create,
  3: DeleteEdit delete_path,
  4: RenameEdit rename,
  5: SetPermissionEdit set_permission,
  6: SetOwnerEdit set_owner,
  7: SetTimesEdit set_times,
  8: SetReplicationEdit set_replication,
  9: CompleteEdit complete,
  10: AddBlockEdit add_block,
  11: AbandonBlockEdit abandon_block,
  12: AppendEdit append,
  13: RecoverBlockEdit recover_block,
  14: UpdateBlockForPipelineEdit update_block_for_pipeline,
  15: UpdatePipelineEdit update_pipeline,
  16: CreateSymlinkEdit create_symlink,
  17: OpenForOverwriteEdit open_for_overwrite,
  18: AllocateBlockEdit allocate_block,
  19: CommitBlocksEdit commit_blocks,
}

struct Edit {
  1: required i32 version,    // 1
  2: required EditHeader header,
  3: required EditOp op,
}

// ---- namespace records in LevelDB ----

struct BlockRecord {
  1: required i64 block_id,
  2: required i64 generation_stamp,
  3: required i64 num_bytes,
}

struct InodeRecord {
  1: required i64 id,
  2: required i64 parent_id,
  3: required string name,
  4: required common.FileType type,
  5: required i32 mode,
  6: required string owner,
  7: required string group,
  8: required common.Timespec mtime,
  9: required common.Timespec atime,
  10: required common.Timespec ctime,
  11: required i16 replication,
  12: required i64 block_size,
  13: required i64 length,
  14: required list<BlockRecord> blocks,
  15: optional string lease_holder,   // set while the file is under construction
  16: optional string symlink_target,
  // Blocks allocated for a copy-on-write writer and not committed yet (not file contents).
  17: optional list<BlockRecord> pending_blocks,
  // The lease is a copy-on-write one (openForOverwrite): every block is complete.
  18: optional bool overwriting,
}

// What a mutating call answered, kept so that a retry gets the same answer.
struct RetryRecord {
  1: required i32 code,
  2: required string message,
  3: required i64 value,          // op-specific: the inode created, or a boolean result
  4: required i64 journal_index,  // where it was applied, for expiry in journal order
  5: required i64 time_sec,
}
