#pragma once
// The namespace mutations as core types: what a journal entry says to do. edit_codec converts
// them to and from the journal's Thrift encoding.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "namenode/namespace/inode.h"
#include "namenode/namespace/permission.h"

namespace talus {

struct MkdirsOp {
  std::string path;
  uint32_t mode = 0755;
  bool create_parent = true;
};

struct CreateOp {
  std::string path;
  uint32_t mode = 0644;
  std::string client_name;
  bool overwrite = false;
  bool create_parent = false;
  int16_t replication = 3;
  int64_t block_size = 128LL << 20;
};

struct DeleteOp {
  std::string path;
  bool recursive = false;
};

struct RenameOp {
  std::string src;
  std::string dst;
  bool overwrite = false;
  // Linux RENAME_EXCHANGE: both exist and swap places atomically; `overwrite` is ignored.
  bool exchange = false;
};

struct SetPermissionOp {
  std::string path;
  uint32_t mode = 0;
};

struct SetOwnerOp {
  std::string path;
  std::string owner;  // empty: unchanged
  std::string group;  // empty: unchanged
};

struct SetTimesOp {
  std::string path;
  NsTime mtime;  // sec == -1: unchanged
  NsTime atime;
};

struct SetReplicationOp {
  std::string path;
  int16_t replication = 3;
};

struct CompleteOp {
  std::string path;
  std::string client_name;
  std::optional<BlockInfo> last;
  uint64_t file_id = 0;  // 0: not checked
};

// Allocates the next block of a file under construction (id and generation stamp from the
// namespace's counters), after recording the length the writer reached in `previous`.
struct AddBlockOp {
  std::string path;
  uint64_t file_id = 0;  // 0: not checked
  std::string client_name;
  std::optional<BlockInfo> previous;
};

// Drops the last block of a file under construction (a pipeline that could not be set up).
struct AbandonBlockOp {
  std::string path;
  uint64_t file_id = 0;
  std::string client_name;
  int64_t block_id = 0;
};

// Reopens a closed file for writing by `client_name`. When the last block is partial it takes a
// new generation stamp (the replicas are reopened under it); the op's value is then the old
// stamp, else 0.
struct AppendOp {
  std::string path;
  std::string client_name;
};

// Lease recovery of a file whose writer stopped renewing: allocates the generation stamp the
// replicas of its last block are recovered under (the op's value) and hands the lease to
// `recovery_holder`, so the old writer can no longer add or complete.
struct RecoverBlockOp {
  std::string path;
  uint64_t file_id = 0;
  std::string client_name;
  std::string recovery_holder;
};

// Pipeline recovery, first step: a new generation stamp (the op's value) for the last block of
// a file under construction whose writer is rebuilding the pipeline after a datanode failed.
// Only the stamp counter moves: the block keeps its stamp until UpdatePipelineOp, so replicas
// the rebuilt pipeline has not reached yet are not mistaken for stale ones meanwhile.
struct UpdateBlockForPipelineOp {
  std::string path;
  uint64_t file_id = 0;
  std::string client_name;
  int64_t block_id = 0;
  int64_t generation_stamp = 0;  // the block's stamp as the writer knows it (its current one)
};

// Pipeline recovery, last step: the rebuilt pipeline holds the block under `new_block`'s stamp
// (allocated by UpdateBlockForPipelineOp) with new_block.num_bytes acknowledged. The file's last
// block takes both; replicas left at older stamps are stale from then on.
struct UpdatePipelineOp {
  std::string path;
  uint64_t file_id = 0;
  std::string client_name;
  BlockInfo old_block;
  BlockInfo new_block;
};

// A symbolic link at `path` holding `target`, which the namenode never resolves. The op's
// value is the new inode id.
struct CreateSymlinkOp {
  std::string path;
  std::string target;
  bool create_parent = false;
};

// Copy-on-write writes (random writes, truncation). OpenForOverwriteOp takes the lease on a
// closed file without reopening any block (value: the inode id); AllocateBlockOp allocates a
// block pending on the file (value: the block id); CommitBlocksOp swaps pending blocks into the
// block list, cuts it to new_length and, with `release`, closes the file (value: the inode id).
struct OpenForOverwriteOp {
  std::string path;
  std::string client_name;
};

struct AllocateBlockOp {
  std::string path;
  uint64_t file_id = 0;  // 0: not checked
  std::string client_name;
};

struct BlockReplacementOp {
  int32_t index = 0;         // in the file's block list
  int64_t old_block_id = 0;  // the block there now; 0 when index is the current end
  BlockInfo new_block;       // a pending block of the file, as written
};

struct CommitBlocksOp {
  std::string path;
  uint64_t file_id = 0;  // 0: not checked
  std::string client_name;
  std::vector<BlockReplacementOp> replacements;
  int64_t new_length = 0;
  bool release = false;
};

using EditOp = std::variant<MkdirsOp, CreateOp, DeleteOp, RenameOp, SetPermissionOp, SetOwnerOp,
                            SetTimesOp, SetReplicationOp, CompleteOp, AddBlockOp, AbandonBlockOp,
                            AppendOp, RecoverBlockOp, UpdateBlockForPipelineOp, UpdatePipelineOp,
                            CreateSymlinkOp, OpenForOverwriteOp, AllocateBlockOp, CommitBlocksOp>;

// One journal entry: a mutation, who asked, and when.
struct Edit {
  std::string client_id;  // 16 bytes; empty for edits no client asked for
  int64_t call_id = 0;
  Caller caller;
  NsTime time;
  EditOp op;
};

// The name of an op for logs and metrics, e.g. "mkdirs".
const char* OpName(const EditOp& op);

}  // namespace talus
