// lookup, forget, getattr, setattr, access, statfs, readlink.
#include <glog/logging.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "fuse/errno_map.h"
#include "fuse/talus_fuse.h"

namespace talus::fuse {

namespace {

Timestamp Now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return Timestamp{ts.tv_sec, static_cast<int32_t>(ts.tv_nsec)};
}

Timestamp FromTimespec(const timespec& ts) {
  return Timestamp{ts.tv_sec, static_cast<int32_t>(ts.tv_nsec)};
}

}  // namespace

void TalusFuse::Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  if (IsHiddenName(name)) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  auto fs = FsFor(req);
  if (!fs.ok()) return ReplyError(req, fs.status(), "lookup");
  Result<FileInfo> info = (*fs)->GetFileInfo(EntryPath(parent, name));
  if (!info.ok()) {
    if (info.status().IsNotFound() && options_.negative_timeout_s > 0) {
      fuse_entry_param e;
      std::memset(&e, 0, sizeof(e));
      e.entry_timeout = options_.negative_timeout_s;
      fuse_reply_entry(req, &e);
      return;
    }
    return ReplyError(req, info.status(), "lookup");
  }
  if (info->IsFile()) {
    std::shared_ptr<InodeState> state = inodes_.Find(info->inode_id);
    if (state) {
      std::lock_guard<std::mutex> lock(state->mu);
      if (state->bounce_next_lookup) {
        // The revalidation asked for by an open that found the size stale (InodeState).
        state->bounce_next_lookup = false;
        fuse_reply_err(req, ENOENT);
        return;
      }
    }
  }
  ReplyEntry(req, *info);
}

void TalusFuse::Forget(fuse_ino_t ino, uint64_t nlookup) { inodes_.Forget(ino, nlookup); }

void TalusFuse::GetAttr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* /*fi*/) {
  auto fs = FsFor(req);
  if (!fs.ok()) return ReplyError(req, fs.status(), "getattr");
  Result<FileInfo> info = (*fs)->GetFileInfo(InodePath(ino));
  if (!info.ok()) return ReplyInodeError(req, info.status(), "getattr");
  struct stat st;
  AttrsForKernel(*info, &st, /*new_inode=*/false);
  fuse_reply_attr(req, &st, options_.attr_timeout_s);
}

void TalusFuse::SetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
                        fuse_file_info* /*fi*/) {
  auto fs_or = FsFor(req);
  if (!fs_or.ok()) return ReplyError(req, fs_or.status(), "setattr");
  FileSystem& fs = **fs_or;
  const std::string path = InodePath(ino);
  if (to_set & FUSE_SET_ATTR_SIZE) {
    if (attr->st_size < 0) {
      fuse_reply_err(req, EINVAL);
      return;
    }
    // An open writer owns the file's lease and its unflushed data: truncate through it, so
    // an ftruncate between writes lands in order with them.
    std::shared_ptr<InodeState> state = inodes_.Find(ino);
    Status s;
    if (state) {
      std::lock_guard<std::mutex> lock(state->mu);
      if (state->writer) {
        s = state->sequencer.Drain(*state->writer);
        if (s.ok()) s = state->writer->Truncate(attr->st_size);
        if (s.ok()) state->wrote = true;
      } else {
        closer_.Wait(ino);  // its lease must be free
        s = fs.Truncate(path, attr->st_size);
        ++state->data_version;
      }
    } else {
      closer_.Wait(ino);
      s = fs.Truncate(path, attr->st_size);
    }
    if (!s.ok()) return ReplyInodeError(req, s, "truncate");
  }
  if (to_set & FUSE_SET_ATTR_MODE) {
    Status s = fs.SetPermission(path, attr->st_mode & 07777);
    if (!s.ok()) return ReplyInodeError(req, s, "chmod");
  }
  if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
    std::string owner = (to_set & FUSE_SET_ATTR_UID) ? identity_.UserName(attr->st_uid) : "";
    std::string group = (to_set & FUSE_SET_ATTR_GID) ? identity_.GroupName(attr->st_gid) : "";
    Status s = fs.SetOwner(path, owner, group);
    if (!s.ok()) return ReplyInodeError(req, s, "chown");
  }
  if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME_NOW |
                FUSE_SET_ATTR_ATIME_NOW)) {
    Timestamp unchanged{-1, 0};
    Timestamp mtime = unchanged;
    Timestamp atime = unchanged;
    if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
      mtime = Now();
    } else if (to_set & FUSE_SET_ATTR_MTIME) {
      mtime = FromTimespec(attr->st_mtim);
    }
    if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
      atime = Now();
    } else if (to_set & FUSE_SET_ATTR_ATIME) {
      atime = FromTimespec(attr->st_atim);
    }
    Status s = fs.SetTimes(path, mtime, atime);
    if (!s.ok()) return ReplyInodeError(req, s, "utimens");
  }
  Result<FileInfo> info = fs.GetFileInfo(path);
  if (!info.ok()) return ReplyInodeError(req, info.status(), "setattr");
  struct stat st;
  AttrsForKernel(*info, &st, /*new_inode=*/false);
  if (to_set & FUSE_SET_ATTR_SIZE) {
    // The kernel sets its size to the truncated one itself.
    if (std::shared_ptr<InodeState> state = inodes_.Find(ino)) {
      std::lock_guard<std::mutex> lock(state->mu);
      state->kernel_size_known = true;
      state->kernel_size = st.st_size;
    }
  }
  fuse_reply_attr(req, &st, options_.attr_timeout_s);
}

void TalusFuse::Access(fuse_req_t req, fuse_ino_t ino, int /*mask*/) {
  // Mounted with default_permissions, the kernel checks access itself from the attributes and
  // does not send ACCESS; answer for existence if it ever does.
  auto fs = FsFor(req);
  if (!fs.ok()) return ReplyError(req, fs.status(), "access");
  Result<FileInfo> info = (*fs)->GetFileInfo(InodePath(ino));
  if (!info.ok()) return ReplyInodeError(req, info.status(), "access");
  fuse_reply_err(req, 0);
}

void TalusFuse::StatFs(fuse_req_t req, fuse_ino_t /*ino*/) {
  auto fs = FsFor(req);
  if (!fs.ok()) return ReplyError(req, fs.status(), "statfs");
  Result<FsStats> stats = (*fs)->GetStats();
  if (!stats.ok()) return ReplyError(req, stats.status(), "statfs");
  constexpr uint64_t kBlock = 1 << 20;
  struct statvfs sv;
  std::memset(&sv, 0, sizeof(sv));
  sv.f_bsize = kBlock;
  sv.f_frsize = kBlock;
  sv.f_blocks = static_cast<fsblkcnt_t>(std::max<int64_t>(stats->capacity, 0) / kBlock);
  sv.f_bfree = static_cast<fsblkcnt_t>(std::max<int64_t>(stats->remaining, 0) / kBlock);
  sv.f_bavail = sv.f_bfree;
  // The namespace has no fixed inode count: report plenty free beside what is used.
  constexpr fsfilcnt_t kFreeInodes = 1ULL << 32;
  fsfilcnt_t used = static_cast<fsfilcnt_t>(std::max<int64_t>(stats->files + stats->directories, 0));
  sv.f_files = used + kFreeInodes;
  sv.f_ffree = kFreeInodes;
  sv.f_favail = kFreeInodes;
  sv.f_namemax = 255;
  fuse_reply_statfs(req, &sv);
}

void TalusFuse::ReadLink(fuse_req_t req, fuse_ino_t ino) {
  auto fs = FsFor(req);
  if (!fs.ok()) return ReplyError(req, fs.status(), "readlink");
  Result<FileInfo> info = (*fs)->GetFileInfo(InodePath(ino));
  if (!info.ok()) return ReplyInodeError(req, info.status(), "readlink");
  if (info->type != FileType::kSymlink) {
    fuse_reply_err(req, EINVAL);
    return;
  }
  fuse_reply_readlink(req, info->symlink_target.c_str());
}

}  // namespace talus::fuse
