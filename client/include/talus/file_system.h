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
};

}  // namespace talus
