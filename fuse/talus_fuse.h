#pragma once

#include <fuse_lowlevel.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <sys/stat.h>

#include "fuse/deferred_closer.h"
#include "fuse/handles.h"
#include "fuse/identity.h"
#include "fuse/inode_table.h"
#include "fuse/mount_options.h"
#include "fuse/user_clients.h"

namespace talus::fuse {

// Names the mount gives files unlinked while open; hidden from lookups and listings.
inline constexpr char kUnlinkedPrefix[] = ".talus-unlinked-";

// The file system behind the mount: one method per FUSE low-level operation (fuse_ops.cc routes
// the kernel's requests here). Every namenode call names inodes as "/.reserved/.inodes/<id>" or
// "/.reserved/.inodes/<parent>/<name>", never a full path. Each method replies exactly once.
// Thread-safe: the session loop calls it from several threads.
class TalusFuse {
 public:
  explicit TalusFuse(MountOptions options);

  void set_session(fuse_session* session) { session_ = session; }
  const MountOptions& options() const { return options_; }

  void Init(fuse_conn_info* conn);
  // Flushes every writer still open (the session is ending).
  void Destroy();

  // ops_entry.cc
  void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
  void Forget(fuse_ino_t ino, uint64_t nlookup);
  void GetAttr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void SetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
               fuse_file_info* fi);
  void Access(fuse_req_t req, fuse_ino_t ino, int mask);
  void StatFs(fuse_req_t req, fuse_ino_t ino);
  void ReadLink(fuse_req_t req, fuse_ino_t ino);
  // ops_namespace.cc
  void MkDir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode);
  void Symlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name);
  void Unlink(fuse_req_t req, fuse_ino_t parent, const char* name);
  void RmDir(fuse_req_t req, fuse_ino_t parent, const char* name);
  void Rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t new_parent,
              const char* new_name, unsigned int flags);
  // ops_dir.cc
  void OpenDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void ReadDir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info* fi,
               bool plus);
  void ReleaseDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  // ops_file.cc
  void Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
              fuse_file_info* fi);
  void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info* fi);
  void Write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t offset,
             fuse_file_info* fi);
  void Flush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void Fsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi);
  void Release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);

  static std::string InodePath(uint64_t id);
  static std::string EntryPath(uint64_t parent, const std::string& name);
  static bool IsHiddenName(const char* name);

 private:
  // The client acting for the user who sent `req`.
  Result<std::shared_ptr<FileSystem>> FsFor(fuse_req_t req);
  void FillStat(const FileInfo& info, struct stat* st);
  // Attributes of `info` as the kernel should see them (a local writer's length wins).
  // `new_inode`: the reply creates the kernel's inode, so (even with the writeback cache) the
  // kernel takes this size; remembered for the open-time staleness check.
  void AttrsForKernel(const FileInfo& info, struct stat* st, bool new_inode);
  void FillEntry(const FileInfo& info, fuse_entry_param* e, bool new_inode);
  // Replies with an entry and counts the kernel's new lookup reference.
  void ReplyEntry(fuse_req_t req, const FileInfo& info);
  void ReplyError(fuse_req_t req, const Status& status, const char* op);
  // For calls naming the inode itself: an inode gone from the namespace (deleted through
  // another mount while this kernel still had a name for it) is ESTALE, which makes the VFS
  // look the name up again and retry once, as it does for NFS.
  void ReplyInodeError(fuse_req_t req, const Status& status, const char* op);
  // After a write, flush or fsync failed, the kernel's cached pages (and, with the writeback
  // cache, its size) hold data the cluster never took: the next open drops them.
  void DistrustKernelCache(InodeState& state);
  // The inode's writer, opened through `fs` if there is none yet (after the inode's pending
  // deferred close, if any).
  Result<std::shared_ptr<RandomWriteFile>> WriterFor(InodeState& state, FileSystem& fs);
  // Hides an open file that is being unlinked or replaced: renames it to a hidden name in its
  // directory so open handles keep reading it.
  Status HideOpenFile(FileSystem& fs, uint64_t parent, const std::string& name,
                      const std::shared_ptr<InodeState>& state);
  void RaiseReadahead();

  const MountOptions options_;
  fuse_session* session_ = nullptr;
  Identity identity_;
  UserClients clients_;
  InodeTable inodes_;
  FileHandleRegistry files_;
  // Completes empty created files in the background, many at once (group-committed).
  DeferredCloser closer_{/*threads=*/16, /*batch=*/16, std::chrono::milliseconds(20)};
  std::once_flag readahead_once_;
};

}  // namespace talus::fuse
