#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "talus/status.h"

namespace talus {

enum class FileType { kFile = 1, kDirectory = 2, kSymlink = 3 };

struct Timestamp {
  int64_t sec = 0;   // seconds since the epoch
  int32_t nsec = 0;
};

// What the namenode knows of one file or directory.
struct FileInfo {
  uint64_t inode_id = 0;
  std::string path;        // absolute path as asked for (or parent path + name in listings)
  std::string name;        // last component; "" for "/"
  FileType type = FileType::kFile;
  int64_t length = 0;
  int16_t replication = 0;  // 0 for directories
  int64_t block_size = 0;   // 0 for directories
  Timestamp mtime;
  Timestamp atime;
  Timestamp ctime;
  uint32_t mode = 0;        // permission bits (07777)
  std::string owner;
  std::string group;
  int64_t children_count = 0;  // directories only
  bool under_construction = false;
  std::string symlink_target;

  bool IsDirectory() const { return type == FileType::kDirectory; }
  bool IsFile() const { return type == FileType::kFile; }
};

struct ContentSummary {
  int64_t length = 0;
  int64_t file_count = 0;
  int64_t directory_count = 0;
  int64_t space_consumed = 0;
  int64_t quota = -1;        // -1: none
  int64_t space_quota = -1;  // -1: none
};

struct FsStats {
  int64_t capacity = 0;
  int64_t used = 0;
  int64_t remaining = 0;
  int64_t under_replicated_blocks = 0;
  int64_t corrupt_blocks = 0;
  int64_t missing_blocks = 0;
  int64_t files = 0;
  int64_t directories = 0;
  int64_t total_blocks = 0;
  int64_t pending_replication_blocks = 0;
  int64_t pending_deletion_blocks = 0;
  bool in_safe_mode = false;
};

// --- operators' view (talus dfsadmin, talus fsck) ---

enum class SafeModeAction { kGet = 1, kEnter = 2, kLeave = 3 };

struct SafeModeState {
  bool on = false;
  bool manual = false;  // entered by an operator: only an operator leaves it
  // The namenode's explanation, e.g. "The reported blocks 10 needs additional 2 blocks ...".
  std::string tip;
};

enum class DatanodeReportType { kAll = 1, kLive = 2, kDead = 3, kDecommissioning = 4 };

// One datanode as the namenode sees it.
struct DatanodeReport {
  std::string storage_id;
  std::string host;
  int32_t data_port = 0;
  int32_t rpc_port = 0;
  std::string rack;
  std::string liveness;     // "live", "stale" or "dead"
  std::string admin_state;  // "In Service", "Decommission In Progress", "Decommissioned"
  int64_t capacity = 0;
  int64_t used = 0;
  int64_t remaining = 0;
  int64_t num_blocks = 0;
  int64_t last_contact_ms_ago = 0;
  int32_t active_transfers = 0;
  int32_t failed_volumes = 0;
  int32_t volumes = 0;

  // "host:data_port", how dfsadmin -decommission names the node.
  std::string address() const { return host + ":" + std::to_string(data_port); }
  bool dead() const { return liveness == "dead"; }
};

// One block of a file and where its replicas are ("host:data_port" each).
struct BlockHealthInfo {
  uint64_t block_id = 0;
  int64_t generation_stamp = 0;
  int64_t length = 0;
  int32_t expected_replication = 0;
  bool complete = false;
  std::vector<std::string> live;             // good replicas on nodes in service
  std::vector<std::string> decommissioning;  // good replicas on nodes out of (or leaving) service
  std::vector<std::string> corrupt;          // replicas known corrupt
  std::vector<std::string> stale;            // the subset of `live` on nodes missing heartbeats
};

struct FileHealthInfo {
  uint64_t inode_id = 0;
  int64_t length = 0;
  int16_t replication = 0;
  bool under_construction = false;
  std::vector<BlockHealthInfo> blocks;
};

// A block with no good replica left, and the file it belongs to.
struct CorruptFileBlock {
  std::string path;
  uint64_t block_id = 0;
  int64_t generation_stamp = 0;
  int64_t length = 0;
};

// Where one block of a file lives.
struct BlockLocation {
  int64_t offset = 0;   // of the block's first byte in the file
  int64_t length = 0;
  uint64_t block_id = 0;
  std::vector<std::string> hosts;  // "host:data_port", nearest first
  bool corrupt = false;
};

// A checksum of a file's bytes that does not depend on how the file is cut into blocks (like
// HDFS's COMPOSITE_CRC): the CRC32C of the whole contents, built from per-block CRCs.
struct FileChecksum {
  std::string algorithm = "COMPOSITE-CRC32C";
  uint32_t crc = 0;
  int64_t length = 0;
};

struct CreateOptions {
  bool overwrite = false;
  bool create_parent = true;
  int16_t replication = 0;  // 0: ClientOptions::default_replication
  int64_t block_size = 0;   // 0: ClientOptions::default_block_size
  uint32_t mode = 0666;     // masked with the umask
};

// A file being written. One writer per file, held by a lease the client renews in the
// background until Close. Not thread-safe: one thread writes a stream at a time.
class OutputStream {
 public:
  virtual ~OutputStream() = default;  // closes if still open (errors only logged)
  virtual Status Write(const void* data, size_t n) = 0;
  // Returns when every replica holds all bytes written so far in memory: new readers see them.
  virtual Status Hflush() = 0;
  // As Hflush, and every replica has fsync'd them to disk.
  virtual Status Hsync() = 0;
  // Flushes, finalizes every replica durably and closes the file. After an error the stream
  // is broken: later calls return that error.
  virtual Status Close() = 0;
  // Bytes in the file so far (including what this stream wrote).
  virtual int64_t Tell() const = 0;
};

// A file being read. Verifies every byte's checksum; on an error or a mismatch it moves to
// another replica and reports the bad one. Not thread-safe, except Pread, which may be called
// from several threads at once.
class InputStream {
 public:
  virtual ~InputStream() = default;
  // Reads up to n bytes at the current position; 0 at end of file.
  virtual Result<size_t> Read(void* buf, size_t n) = 0;
  // Reads up to n bytes at `offset` without moving the position; short only at end of file.
  virtual Result<size_t> Pread(int64_t offset, void* buf, size_t n) = 0;
  virtual Status Seek(int64_t offset) = 0;  // beyond the end is InvalidArgument
  virtual int64_t Tell() const = 0;
  // The length when opened (for a file being written: what its writer had hflushed).
  virtual int64_t Length() const = 0;
  // Asks again how long the file is (a file being written grows); returns the new length.
  virtual Result<int64_t> RefreshLength() = 0;
  virtual Status Close() = 0;
};

// A file open for writing at any offset, with truncation to any length (what the FUSE mount
// and batch jobs that update files in place need; HDFS has no such thing).
//
// Writes at the file's end (a new file written from 0, an append) stream through the block
// pipeline exactly as OutputStream does. A write elsewhere, or a truncation, is copy-on-write at
// block granularity: the new content of each touched block is written as a NEW block through a
// pipeline and swapped into the file's block list by one journaled edit (commitBlocks) at
// Flush/Sync/Close. Readers therefore see whole old or whole new blocks, never a torn mix, and
// a crash loses only writes not yet flushed. Unflushed writes are held in memory (bounded:
// past ClientOptions::max_dirty_bytes a Flush happens by itself).
//
// The write lease is held from the first write (or truncation) until the next Flush, Sync or
// Close, so between flushes the file is closed and other clients may open it for writing.
// Thread-safe: FUSE calls Write, Read and Flush of one file from several threads.
class RandomWriteFile {
 public:
  virtual ~RandomWriteFile() = default;  // closes if still open (errors only logged)
  virtual uint64_t file_id() const = 0;
  // The file as the namenode answered when it was created or opened (attributes for FUSE).
  virtual const FileInfo& opened_info() const = 0;
  virtual Status Write(int64_t offset, const void* data, size_t n) = 0;
  // Reads what the file holds now, including this writer's unflushed writes; short only at the
  // end of the file. A hole left by truncating up or writing past the end reads as zeros.
  virtual Result<size_t> Read(int64_t offset, void* buf, size_t n) = 0;
  virtual Status Truncate(int64_t length) = 0;
  // The length including unflushed writes and truncations.
  virtual int64_t Length() const = 0;
  // True when writes or truncations are waiting for Flush.
  virtual bool Dirty() const = 0;
  // Everything written so far becomes the file's content for every new reader (complete or
  // commitBlocks), replicas in datanode memory; the lease is released.
  virtual Status Flush() = 0;
  // As Flush, with every replica fsync'd to disk first.
  virtual Status Sync() = 0;
  // Flush; later calls fail.
  virtual Status Close() = 0;
};

// When a write pipeline that lost datanodes asks the namenode for replacements (HDFS
// dfs.client.block.write.replace-datanode-on-failure.policy).
enum class ReplaceDatanodePolicy {
  kNever,
  // HDFS DEFAULT: with replication >= 3, when at most half the replicas survive, or when fewer
  // than the replication survive of a block that was hflushed or appended to.
  kDefault,
  kAlways,  // whenever fewer than the replication survive
};

struct ClientOptions {
  // The user the client acts as; empty means the OS user running the process.
  std::string user;
  // Applied to the modes of new files and directories, as HDFS's fs.permissions.umask-mode.
  uint32_t umask = 022;
  // Per-call socket timeout. A call never waits longer than this on one namenode.
  int rpc_timeout_ms = 20000;
  int connect_timeout_ms = 5000;
  // Total time a call keeps retrying (other namenodes, reconnects) before failing.
  int retry_deadline_ms = 30000;
  // Replication and block size of new files when the caller does not choose.
  int16_t default_replication = 3;
  int64_t default_block_size = 128LL * 1024 * 1024;
  // Data transfer with datanodes: a read or write waiting longer than this on one datanode
  // fails over (reads) or fails (writes).
  int datanode_timeout_ms = 60000;
  // Bytes of data per packet, and how many unacknowledged packets a writer keeps in flight
  // (together the bound on a stream's buffers: 8 MiB). Larger packets than HDFS's 64 KiB cost
  // fewer system calls per byte on every node of the pipeline.
  int write_packet_bytes = 256 * 1024;
  int max_packets_in_flight = 32;
  // Pipeline recovery: a datanode that fails or hangs (no ack within datanode_timeout_ms, plus
  // a few seconds per node of the pipeline) is dropped and the block goes on with the others;
  // after this many rebuilds of one block's pipeline the write fails (HDFS
  // dfs.client.block.write.retries).
  int pipeline_recovery_retries = 5;
  ReplaceDatanodePolicy replace_datanode_on_failure = ReplaceDatanodePolicy::kDefault;
  // A RandomWriteFile flushes by itself once it holds this many unflushed bytes.
  int64_t max_dirty_bytes = 64LL * 1024 * 1024;
  // How often the background thread renews this client's leases while files are open.
  int lease_renew_interval_ms = 10000;
};

// A connection to one Talus file system. Thread-safe: calls from many threads share a pool of
// namenode connections. Relative paths resolve against the working directory, by default
// /user/<user> as in HDFS.
class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // `uri` is talus://host:port[,host:port...] (one address per namenode of the group).
  static Result<std::unique_ptr<FileSystem>> Connect(const std::string& uri,
                                                     const ClientOptions& options = {});

  // The URI to use when none is given: $TALUS_FS, else fs.defaultFS in the client config file
  // ($TALUS_CONF_DIR/client.conf, else /etc/talus/client.conf). Errors when none is set.
  static Result<std::string> DefaultUri();

  virtual const std::string& uri() const = 0;
  virtual const std::string& user() const = 0;
  virtual const std::string& working_directory() const = 0;
  // Resolves what a user typed to an absolute, validated path.
  virtual Result<std::string> MakeAbsolute(const std::string& path) const = 0;

  // --- reads ---
  virtual Result<FileInfo> GetFileInfo(const std::string& path) = 0;
  // All entries of a directory (fetched page by page), or the file itself for a file.
  virtual Result<std::vector<FileInfo>> ListDirectory(const std::string& path) = 0;
  // Streams entries page by page; stop early by returning false from `each`.
  virtual Status ListDirectoryPaged(const std::string& path,
                                    const std::function<bool(const FileInfo&)>& each) = 0;
  virtual Result<ContentSummary> GetContentSummary(const std::string& path) = 0;
  virtual Result<FsStats> GetStats() = 0;

  // --- mutations ---
  // `mode` is masked with the umask. An existing directory is success.
  virtual Status Mkdirs(const std::string& path, uint32_t mode = 0777,
                        bool create_parent = true) = 0;
  // Returns false when nothing existed at `path`.
  virtual Result<bool> Delete(const std::string& path, bool recursive) = 0;
  // Atomic rename with HDFS rename2 semantics (no "move into directory" guessing).
  virtual Status Rename(const std::string& src, const std::string& dst, bool overwrite) = 0;
  virtual Status SetPermission(const std::string& path, uint32_t mode) = 0;
  // An empty owner or group leaves it unchanged.
  virtual Status SetOwner(const std::string& path, const std::string& owner,
                          const std::string& group) = 0;
  // A Timestamp with sec = -1 leaves that time unchanged.
  virtual Status SetTimes(const std::string& path, Timestamp mtime, Timestamp atime) = 0;
  // Returns false for a directory.
  virtual Result<bool> SetReplication(const std::string& path, int16_t replication) = 0;
  // Creates a file of length zero and closes it (touchz). `mode` is masked with the umask.
  virtual Status CreateEmptyFile(const std::string& path, bool overwrite = false,
                                 uint32_t mode = 0666) = 0;

  // --- data ---
  virtual Result<std::unique_ptr<OutputStream>> Create(const std::string& path,
                                                       const CreateOptions& options = {}) = 0;
  // Reopens an existing file for writing at its end.
  virtual Result<std::unique_ptr<OutputStream>> Append(const std::string& path) = 0;
  virtual Result<std::unique_ptr<InputStream>> Open(const std::string& path) = 0;
  // Creates a new file (as Create: options.overwrite replaces an existing file) and opens it
  // for writes at any offset.
  virtual Result<std::unique_ptr<RandomWriteFile>> CreateRandomWrite(
      const std::string& path, const CreateOptions& options = {}) = 0;
  // Opens an existing file for writes at any offset (takes no lease until the first write).
  virtual Result<std::unique_ptr<RandomWriteFile>> OpenRandomWrite(const std::string& path) = 0;
  // Cuts or extends (with zeros) a closed file to `length`; one journaled commit.
  virtual Status Truncate(const std::string& path, int64_t length) = 0;
  // Creates a symbolic link at `link` whose target is `target` (stored as given, never
  // followed by the namenode).
  virtual Status CreateSymlink(const std::string& target, const std::string& link,
                               bool create_parent = false) = 0;
  // Linux RENAME_EXCHANGE: swaps two existing paths atomically.
  virtual Status RenameExchange(const std::string& a, const std::string& b) = 0;
  virtual Result<std::vector<BlockLocation>> GetFileBlockLocations(const std::string& path,
                                                                   int64_t offset,
                                                                   int64_t length) = 0;
  virtual Result<FileChecksum> GetFileChecksum(const std::string& path) = 0;

  // --- operators ---
  // Safe mode: kGet for anyone; kEnter and kLeave need the superuser. Answers the state after.
  virtual Result<SafeModeState> SetSafeMode(SafeModeAction action) = 0;
  // Registered datanodes of one kind, sorted by address.
  virtual Result<std::vector<DatanodeReport>> GetDatanodeReport(DatanodeReportType type) = 0;
  // Superuser: the namenode re-reads its hosts exclude file.
  virtual Status RefreshNodes() = 0;
  // Superuser: starts decommissioning the datanode at "host:data_port" (or, with false, returns
  // it to service). NotFound when no datanode is registered there.
  virtual Status SetDatanodeAdminState(const std::string& host_port, bool decommission) = 0;
  // The blocks of a file with the health of their replicas (for fsck).
  virtual Result<FileHealthInfo> GetFileHealth(const std::string& path) = 0;
  // Blocks under `path` with no good replica left, at most `limit` (the namenode caps it: 500).
  virtual Result<std::vector<CorruptFileBlock>> ListCorruptFileBlocks(const std::string& path,
                                                                      int32_t limit = 500) = 0;
};

}  // namespace talus
