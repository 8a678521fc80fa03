// mkdir, symlink, unlink, rmdir, rename.
#include <glog/logging.h>
#include <cstdio>  // RENAME_NOREPLACE, RENAME_EXCHANGE

#include <cerrno>

#include "fuse/errno_map.h"
#include "fuse/talus_fuse.h"

namespace talus::fuse {

void TalusFuse::MkDir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  if (IsHiddenName(name)) {
    fuse_reply_err(req, EPERM);
    return;
  }
  auto fs = FsFor(req);
  if (!fs.ok()) return ReplyError(req, fs.status(), "mkdir");
  const std::string path = EntryPath(parent, name);
  // The kernel has just found no such entry (it only sends MKDIR for a negative dentry), so
  // Mkdirs' "an existing directory is success" does not hide an EEXIST here.
  Status s = (*fs)->Mkdirs(path, mode & 07777, /*create_parent=*/false);
  if (!s.ok()) return ReplyError(req, s, "mkdir");
  Result<FileInfo> info = (*fs)->GetFileInfo(path);
  if (!info.ok()) return ReplyError(req, info.status(), "mkdir");
  ReplyEntry(req, *info);
}

void TalusFuse::Symlink(fuse_req_t req, const char* target, fuse_ino_t parent,
                        const char* name) {
  if (IsHiddenName(name)) {
    fuse_reply_err(req, EPERM);
    return;
  }
  auto fs = FsFor(req);
  if (!fs.ok()) return ReplyError(req, fs.status(), "symlink");
  const std::string path = EntryPath(parent, name);
  Status s = (*fs)->CreateSymlink(target, path, /*create_parent=*/false);
  if (!s.ok()) return ReplyError(req, s, "symlink");
  Result<FileInfo> info = (*fs)->GetFileInfo(path);
  if (!info.ok()) return ReplyError(req, info.status(), "symlink");
  ReplyEntry(req, *info);
}

void TalusFuse::Unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  if (IsHiddenName(name)) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  auto fs_or = FsFor(req);
  if (!fs_or.ok()) return ReplyError(req, fs_or.status(), "unlink");
  FileSystem& fs = **fs_or;
  const std::string path = EntryPath(parent, name);
  Result<FileInfo> info = fs.GetFileInfo(path);
  if (!info.ok()) return ReplyError(req, info.status(), "unlink");
  if (info->IsDirectory()) {
    fuse_reply_err(req, EISDIR);
    return;
  }
  // A close still pending here would fail once the file is gone: do it first.
  closer_.Wait(info->inode_id);
  // A file open here must stay readable through its handles until the last one closes.
  std::shared_ptr<InodeState> state = inodes_.Find(info->inode_id);
  if (state && inodes_.OpenHandles(info->inode_id) > 0) {
    Status s = HideOpenFile(fs, parent, name, state);
    if (!s.ok()) return ReplyError(req, s, "unlink");
    fuse_reply_err(req, 0);
    return;
  }
  Result<bool> deleted = fs.Delete(path, /*recursive=*/false);
  if (!deleted.ok()) return ReplyError(req, deleted.status(), "unlink");
  fuse_reply_err(req, *deleted ? 0 : ENOENT);
}

void TalusFuse::RmDir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  if (IsHiddenName(name)) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  auto fs_or = FsFor(req);
  if (!fs_or.ok()) return ReplyError(req, fs_or.status(), "rmdir");
  FileSystem& fs = **fs_or;
  const std::string path = EntryPath(parent, name);
  Result<FileInfo> info = fs.GetFileInfo(path);
  if (!info.ok()) return ReplyError(req, info.status(), "rmdir");
  if (!info->IsDirectory()) {
    fuse_reply_err(req, ENOTDIR);
    return;
  }
  Result<bool> deleted = fs.Delete(path, /*recursive=*/false);
  if (!deleted.ok()) return ReplyError(req, deleted.status(), "rmdir");
  fuse_reply_err(req, *deleted ? 0 : ENOENT);
}

void TalusFuse::Rename(fuse_req_t req, fuse_ino_t parent, const char* name,
                       fuse_ino_t new_parent, const char* new_name, unsigned int flags) {
  if (flags & ~static_cast<unsigned int>(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
    fuse_reply_err(req, EINVAL);
    return;
  }
  if (IsHiddenName(name)) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  if (IsHiddenName(new_name)) {
    fuse_reply_err(req, EPERM);
    return;
  }
  auto fs_or = FsFor(req);
  if (!fs_or.ok()) return ReplyError(req, fs_or.status(), "rename");
  FileSystem& fs = **fs_or;
  const std::string src = EntryPath(parent, name);
  const std::string dst = EntryPath(new_parent, new_name);
  Status s;
  if (flags & RENAME_EXCHANGE) {
    s = fs.RenameExchange(src, dst);
  } else if (flags & RENAME_NOREPLACE) {
    s = fs.Rename(src, dst, /*overwrite=*/false);
  } else {
    // A file replaced while open here keeps its contents for those handles.
    Result<FileInfo> target = fs.GetFileInfo(dst);
    if (target.ok() && target->IsFile() && inodes_.OpenHandles(target->inode_id) > 0) {
      Result<FileInfo> source = fs.GetFileInfo(src);
      if (!source.ok()) return ReplyError(req, source.status(), "rename");
      if (source->inode_id == target->inode_id) {
        fuse_reply_err(req, 0);
        return;
      }
      if (source->IsDirectory()) {
        fuse_reply_err(req, ENOTDIR);
        return;
      }
      std::shared_ptr<InodeState> state = inodes_.Find(target->inode_id);
      if (state) {
        s = HideOpenFile(fs, new_parent, new_name, state);
        if (!s.ok()) return ReplyError(req, s, "rename");
        s = fs.Rename(src, dst, /*overwrite=*/false);
        if (!s.ok()) {
          // Put the replaced file back under its name: the rename did not happen.
          std::string hidden;
          {
            std::lock_guard<std::mutex> lock(state->mu);
            hidden = state->hidden_name;
            state->unlinked = false;
          }
          Status back = fs.Rename(EntryPath(new_parent, hidden), dst, /*overwrite=*/false);
          if (!back.ok()) LOG(WARNING) << "restoring " << new_name << " after a failed rename: "
                                       << back;
          return ReplyError(req, s, "rename");
        }
        fuse_reply_err(req, 0);
        return;
      }
    }
    s = fs.Rename(src, dst, /*overwrite=*/true);
  }
  if (!s.ok()) return ReplyError(req, s, "rename");
  fuse_reply_err(req, 0);
}

}  // namespace talus::fuse
