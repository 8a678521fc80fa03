// Client <-> namenode: the metadata protocol used by the C++ client, the shell and the FUSE mount.
namespace cpp talus.rpc

include "common.thrift"

struct FileStatus {
  1: required i64 inode_id,
  2: required string name,          // last path component; "" for "/"
  3: required common.FileType type,
  4: required i64 length,
  5: required i16 replication,      // 0 for directories
  6: required i64 block_size,       // 0 for directories
  7: required common.Timespec mtime,
  8: required common.Timespec atime,
  9: required common.Timespec ctime,
  10: required i32 mode,            // permission bits, including sticky/setuid/setgid
  11: required string owner,
  12: required string group,
  13: optional i64 children_count,  // directories only
  14: optional bool under_construction,
  15: optional string symlink_target,
  16: optional i64 parent_id,
}

struct DirectoryListing {
  1: required list<FileStatus> entries,
  2: required bool has_more,        // ask again with start_after = last entry's name
}

struct ContentSummary {
  1: required i64 length,
  2: required i64 file_count,
  3: required i64 directory_count,
  4: required i64 space_consumed,   // length x replication
  5: required i64 quota = -1,       // -1: none
  6: required i64 space_quota = -1,
}

struct LocatedBlock {
  1: required common.ExtendedBlock block,
  2: required i64 offset,                      // of the block's first byte in the file
  3: required list<common.DatanodeId> locations,
  4: optional bool corrupt,
  5: optional binary access_token,
}

struct LocatedBlocks {
  1: required i64 file_length,
  2: required list<LocatedBlock> blocks,
  3: required bool under_construction,
  4: optional LocatedBlock last_block,
  5: required bool last_block_complete,
}

// One member of the namenode group, as the answering namenode sees it (match/next index and
// state are known by the leader only).
struct JournalPeer {
  1: required i64 id,
  2: required string raft_address,
  3: required string client_address,  // empty until the peer was heard from
  4: required i64 match_index,
  5: required i64 next_index,
  6: required string state,           // probe, replicate, snapshot ("" on followers)
  7: required i64 last_contact_ms,    // -1: never
}

// The journal as one namenode sees it (`talus dfsadmin -journal`). A single namenode with a
// local journal answers kind "local", role "leader", term 1 and no peers.
struct JournalStatus {
  1: required string kind,            // "local" or "raft"
  2: required i64 id,
  3: required string role,            // leader, follower, candidate, pre-candidate
  4: required i64 term,
  5: required i64 leader_id,          // 0: unknown
  6: required string leader_address,  // the leader's client RPC address; "" unknown
  7: required i64 commit_index,
  8: required i64 applied_index,
  9: required i64 last_index,
  10: required i64 first_index,       // the first entry still in the log
  11: required i64 snapshot_index,
  12: required list<JournalPeer> peers,
}

struct FsStats {
  1: required i64 capacity,
  2: required i64 used,
  3: required i64 remaining,
  4: required i64 under_replicated_blocks,
  5: required i64 corrupt_blocks,
  6: required i64 missing_blocks,
  7: required i64 files,
  8: required i64 directories,
  9: optional i64 pending_deletion_blocks,
  10: optional i64 pending_replication_blocks,
  11: optional i64 total_blocks,
  12: optional bool in_safe_mode,
}

// --- operators' calls (dfsadmin, fsck); all but the reads are for the superuser only ---
enum SafeModeAction {
  GET = 1,
  ENTER = 2,
  LEAVE = 3,
}

struct SafeModeStatus {
  1: required bool on,
  // HDFS-style explanation: why it is on and what it waits for ("The reported blocks 10 needs
  // additional 2 blocks to reach the threshold 0.9990 of total blocks 12. ...").
  2: required string tip,
  3: required bool manual,          // entered by an operator: only an operator leaves it
}

enum DatanodeReportType {
  ALL = 1,
  LIVE = 2,
  DEAD = 3,
  DECOMMISSIONING = 4,
}

struct DatanodeInfo {
  1: required common.DatanodeId id,
  2: required string liveness,      // "live", "stale" or "dead"
  3: required string admin_state,   // "In Service", "Decommission In Progress", "Decommissioned"
  4: required i64 capacity,
  5: required i64 used,
  6: required i64 remaining,
  7: required i64 num_blocks,
  8: required i64 last_contact_ms_ago,
  9: required i32 active_transfers,
  10: required i32 failed_volumes,
  11: required i32 volumes,
}

// One block of a file as fsck sees it. Locations are host:data_port strings.
struct BlockHealth {
  1: required common.ExtendedBlock block,
  2: required i32 expected_replication,
  3: required bool complete,
  4: required list<string> live,            // live or stale nodes in service, finalized replica
  5: required list<string> decommissioning, // replicas on nodes being (or already) decommissioned
  6: required list<string> corrupt,         // replicas known corrupt
  7: required list<string> stale,           // subset of live: nodes that missed heartbeats
}

struct FileHealth {
  1: required i64 inode_id,
  2: required i64 length,
  3: required i16 replication,
  4: required bool under_construction,
  5: required list<BlockHealth> blocks,
}

struct CorruptFileBlock {
  1: required string path,
  2: required common.ExtendedBlock block,
}

// What append hands the writer: the file, and its last block when that block is partial. The
// block then carries a NEW generation stamp; the writer opens an append pipeline to its
// locations with the old stamp (previous_generation_stamp) and the new one, and goes on writing
// from block.num_bytes. Absent when the file is empty or its last block is full: the writer
// simply adds a block.
struct AppendResponse {
  1: required FileStatus status,
  2: optional LocatedBlock last_block,
  3: optional i64 previous_generation_stamp,
}

// Rename options, as HDFS rename2: with overwrite an existing destination file (or empty
// directory) is replaced atomically; without it an existing destination is an error.
struct RenameOptions {
  1: required bool overwrite,
  // Linux RENAME_EXCHANGE: both paths must exist; they swap places atomically (any kinds).
  // `overwrite` is ignored with it.
  2: optional bool exchange,
}

// Copy-on-write of one block of a file (random writes, truncation): the block at `index` of
// the file's block list, which must currently be `old_block_id` (0 when `index` is past the
// current end: the list grows), becomes `new_block` — a block allocated by allocateBlock and
// written through a pipeline.
struct BlockReplacement {
  1: required i32 index,
  2: required i64 old_block_id,
  3: required common.ExtendedBlock new_block,
}

// Every path argument may also name an inode directly, as HDFS does: "/.reserved/.inodes/<id>"
// is the file or directory with inode id <id> wherever it is now, and
// "/.reserved/.inodes/<id>/<name>" the entry <name> in directory <id>. The FUSE mount uses only
// such paths (it never rebuilds full paths), so an open handle follows its file across renames
// and a path of any depth works. They are resolved when the call is applied (journal order), so
// a concurrent rename cannot misdirect a call. "/.reserved" itself can never be created.
service ClientNamenode {
  common.Timespec ping(1: common.RequestHeader h) throws (1: common.TalusError e),

  // --- namespace reads ---
  FileStatus getFileInfo(1: common.RequestHeader h, 2: string path)
      throws (1: common.TalusError e),
  // Entries of `path` in name order, strictly after `start_after` ("" for the first page); at
  // most `limit` (capped by the server). Listing a file returns that file alone.
  DirectoryListing getListing(1: common.RequestHeader h, 2: string path, 3: binary start_after,
                              4: i32 limit) throws (1: common.TalusError e),
  ContentSummary getContentSummary(1: common.RequestHeader h, 2: string path)
      throws (1: common.TalusError e),
  FsStats getStats(1: common.RequestHeader h) throws (1: common.TalusError e),

  // --- namespace mutations (all journaled, all idempotent under retry) ---
  // Returns true; an existing directory is success, an existing file is ALREADY_EXISTS (or
  // NOT_A_DIRECTORY for a file among the parents).
  bool mkdirs(1: common.RequestHeader h, 2: string path, 3: i32 mode, 4: bool create_parent)
      throws (1: common.TalusError e),
  // Creates an empty file under construction, leased to `client_name`.
  FileStatus create(1: common.RequestHeader h, 2: string path, 3: i32 mode,
                    4: string client_name, 5: bool overwrite, 6: bool create_parent,
                    7: i16 replication, 8: i64 block_size) throws (1: common.TalusError e),
  // Reopens a closed file for writing, leased to `client_name` (one writer per file).
  AppendResponse append(1: common.RequestHeader h, 2: string path, 3: string client_name)
      throws (1: common.TalusError e),
  // Returns false when `path` does not exist (as HDFS does).
  bool deletePath(1: common.RequestHeader h, 2: string path, 3: bool recursive)
      throws (1: common.TalusError e),
  void rename(1: common.RequestHeader h, 2: string src, 3: string dst, 4: RenameOptions options)
      throws (1: common.TalusError e),
  void setPermission(1: common.RequestHeader h, 2: string path, 3: i32 mode)
      throws (1: common.TalusError e),
  // An empty owner or group leaves it unchanged.
  void setOwner(1: common.RequestHeader h, 2: string path, 3: string owner, 4: string group)
      throws (1: common.TalusError e),
  // A Timespec with sec = -1 leaves that time unchanged.
  void setTimes(1: common.RequestHeader h, 2: string path, 3: common.Timespec mtime,
                4: common.Timespec atime) throws (1: common.TalusError e),
  // Returns false for a directory (as HDFS does), true when recorded for a file.
  bool setReplication(1: common.RequestHeader h, 2: string path, 3: i16 replication)
      throws (1: common.TalusError e),

  // --- data path ---
  LocatedBlock addBlock(1: common.RequestHeader h, 2: string path, 3: string client_name,
                        4: common.ExtendedBlock previous, 5: list<string> excluded_nodes,
                        6: i64 file_id) throws (1: common.TalusError e),
  void abandonBlock(1: common.RequestHeader h, 2: common.ExtendedBlock block, 3: string path,
                    4: string client_name, 5: i64 file_id) throws (1: common.TalusError e),
  // Closes a file under construction. `last` is the final state of its last block (absent for
  // a file with no blocks). False means "not yet: replicas still reporting; call again".
  bool complete(1: common.RequestHeader h, 2: string path, 3: string client_name,
                4: common.ExtendedBlock last, 5: i64 file_id) throws (1: common.TalusError e),
  LocatedBlocks getBlockLocations(1: common.RequestHeader h, 2: string path, 3: i64 offset,
                                  4: i64 length) throws (1: common.TalusError e),
  void renewLease(1: common.RequestHeader h, 2: string client_name)
      throws (1: common.TalusError e),
  // A new generation stamp for a block whose pipeline is being rebuilt.
  LocatedBlock updateBlockForPipeline(1: common.RequestHeader h, 2: common.ExtendedBlock block,
                                      3: string client_name) throws (1: common.TalusError e),
  void updatePipeline(1: common.RequestHeader h, 2: string client_name,
                      3: common.ExtendedBlock old_block, 4: common.ExtendedBlock new_block,
                      5: list<common.DatanodeId> new_nodes) throws (1: common.TalusError e),
  void reportBadBlocks(1: common.RequestHeader h, 2: list<LocatedBlock> blocks)
      throws (1: common.TalusError e),
  // Pipeline recovery: nodes to add to the pipeline of `block` (under construction, leased to
  // client_name), chosen by the placement policy among nodes not in `existing` nor `excluded`
  // (storage ids). The answer's locations are the new nodes only.
  LocatedBlock getAdditionalDatanode(1: common.RequestHeader h, 2: string path, 3: i64 file_id,
                                     4: common.ExtendedBlock block,
                                     5: list<common.DatanodeId> existing,
                                     6: list<string> excluded, 7: i32 num_additional,
                                     8: string client_name) throws (1: common.TalusError e),
  // --- symbolic links ---
  // Creates a symlink at `link` pointing at `target` (any string of 1..4096 bytes, not
  // resolved). The namenode never follows symlinks: the FUSE kernel side does.
  FileStatus createSymlink(1: common.RequestHeader h, 2: string target, 3: string link,
                           4: bool create_parent) throws (1: common.TalusError e),

  // --- writes at any offset (copy-on-write blocks; see docs/fuse.md) ---
  // Takes the write lease on a closed file for `client_name` WITHOUT reopening its last block
  // (unlike append): the file stays readable as it is; the writer then replaces blocks with
  // commitBlocks. LEASE_CONFLICT when another client holds the lease (the same soft-limit
  // recovery as append applies).
  FileStatus openForOverwrite(1: common.RequestHeader h, 2: string path, 3: string client_name)
      throws (1: common.TalusError e),
  // A new block (id, stamp, pipeline) for a file held by openForOverwrite, not yet part of the
  // file: it becomes part of it only through commitBlocks. Journaled, so datanodes' reports of
  // it are accepted; dropped (replicas deleted) if never committed by the time the lease is
  // released or expires.
  LocatedBlock allocateBlock(1: common.RequestHeader h, 2: string path, 3: i64 file_id,
                             4: string client_name, 5: list<string> excluded_nodes)
      throws (1: common.TalusError e),
  // One journaled edit swaps blocks into the file: every replacement applied, then the list cut
  // to the blocks covering `new_length` (which must equal the sum of their lengths; every block
  // but the last must be a full block_size). Replaced and cut blocks are deleted from the
  // datanodes. `release` ends the lease (the file is closed, as complete) and drops uncommitted
  // allocated blocks. Readers see the whole old or the whole new list, never a mix.
  FileStatus commitBlocks(1: common.RequestHeader h, 2: string path, 3: i64 file_id,
                          4: string client_name, 5: list<BlockReplacement> replacements,
                          6: i64 new_length, 7: bool release) throws (1: common.TalusError e),

  // --- operators ---
  SafeModeStatus setSafeMode(1: common.RequestHeader h, 2: SafeModeAction action)
      throws (1: common.TalusError e),
  list<DatanodeInfo> getDatanodeReport(1: common.RequestHeader h, 2: DatanodeReportType type)
      throws (1: common.TalusError e),
  // Re-reads the hosts exclude file; listed nodes start decommissioning, nodes no longer listed
  // (and not named by setDatanodeAdminState) return to service.
  void refreshNodes(1: common.RequestHeader h) throws (1: common.TalusError e),
  // `host_port` is "host:data_port" of a registered datanode. decommission=false recommissions.
  void setDatanodeAdminState(1: common.RequestHeader h, 2: string host_port,
                             3: bool decommission) throws (1: common.TalusError e),
  // The blocks of one file with their replicas' health (fsck walks the tree with getListing).
  FileHealth getFileHealth(1: common.RequestHeader h, 2: string path)
      throws (1: common.TalusError e),
  // Blocks with no good replica left (all corrupt or missing) under `path`, at most `limit`.
  list<CorruptFileBlock> listCorruptFileBlocks(1: common.RequestHeader h, 2: string path,
                                               3: i32 limit) throws (1: common.TalusError e),
  // Answered by every namenode, leader or not: its own view of the journal.
  JournalStatus getJournalStatus(1: common.RequestHeader h) throws (1: common.TalusError e),
}
