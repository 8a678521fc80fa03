// opendir, readdir, readdirplus, releasedir.
#include <glog/logging.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "fuse/errno_map.h"
#include "fuse/talus_fuse.h"

namespace talus::fuse {

void TalusFuse::OpenDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto fs = FsFor(req);
  if (!fs.ok()) return ReplyError(req, fs.status(), "opendir");
  auto handle = std::make_unique<DirHandle>();
  handle->id = ino;
  handle->fs = *fs;
  fi->fh = reinterpret_cast<uint64_t>(handle.get());
  if (fuse_reply_open(req, fi) == 0) handle.release();
}

// Offsets: 0 is ".", 1 is "..", 2 + i is entries[i]; an entry's offset field names the next one,
// so a reader resuming at any offset it was given continues where it stopped.
void TalusFuse::ReadDir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset,
                        fuse_file_info* fi, bool plus) {
  auto* dir = reinterpret_cast<DirHandle*>(fi->fh);
  std::lock_guard<std::mutex> lock(dir->mu);
  if (offset == 0 || !dir->loaded) {
    std::vector<FileInfo> entries;
    Status s = dir->fs->ListDirectoryPaged(InodePath(ino), [&](const FileInfo& info) {
      if (!IsHiddenName(info.name.c_str())) entries.push_back(info);
      return true;
    });
    if (!s.ok()) return ReplyInodeError(req, s, plus ? "readdirplus" : "readdir");
    dir->entries = std::move(entries);
    dir->loaded = true;
  }
  std::vector<char> buf(size);
  size_t used = 0;
  const size_t total = dir->entries.size() + 2;
  for (size_t index = static_cast<size_t>(offset < 0 ? 0 : offset); index < total; ++index) {
    const char* name;
    struct stat st;
    const FileInfo* info = nullptr;
    if (index < 2) {
      std::memset(&st, 0, sizeof(st));
      st.st_ino = index == 0 ? ino : FUSE_ROOT_ID;
      st.st_mode = S_IFDIR;
      name = index == 0 ? "." : "..";
    } else {
      info = &dir->entries[index - 2];
      name = info->name.c_str();
    }
    const off_t next = static_cast<off_t>(index + 1);
    size_t room = size - used;
    size_t n;
    if (!plus) {
      if (info != nullptr) FillStat(*info, &st);
      n = fuse_add_direntry(req, buf.data() + used, room, name, &st, next);
      if (n > room) break;
    } else if (info == nullptr) {
      // The kernel keeps no lookup reference for "." and "..": no node id, no attributes.
      fuse_entry_param e;
      std::memset(&e, 0, sizeof(e));
      e.attr = st;
      n = fuse_add_direntry_plus(req, buf.data() + used, room, name, &e, next);
      if (n > room) break;
    } else {
      // Each entry handed over with attributes is a lookup reference the kernel will forget.
      bool was_known = false;
      inodes_.AddLookup(info->inode_id, 1, &was_known);
      fuse_entry_param e;
      FillEntry(*info, &e, !was_known);
      n = fuse_add_direntry_plus(req, buf.data() + used, room, name, &e, next);
      if (n > room) {
        inodes_.Forget(info->inode_id, 1);
        break;
      }
    }
    used += n;
  }
  fuse_reply_buf(req, buf.data(), used);
}

void TalusFuse::ReleaseDir(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* fi) {
  delete reinterpret_cast<DirHandle*>(fi->fh);
  fuse_reply_err(req, 0);
}

}  // namespace talus::fuse
