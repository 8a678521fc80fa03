// create, open, read, write, flush, fsync, release.
#include <glog/logging.h>

#include <cerrno>
#include <memory>

#include "fuse/errno_map.h"
#include "fuse/talus_fuse.h"

namespace talus::fuse {

namespace {

bool SameTime(const Timestamp& a, const Timestamp& b) {
  return a.sec == b.sec && a.nsec == b.nsec;
}

}  // namespace

void TalusFuse::Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
                       fuse_file_info* fi) {
  if (IsHiddenName(name)) {
    fuse_reply_err(req, EPERM);
    return;
  }
  auto fs = FsFor(req);
  if (!fs.ok()) return ReplyError(req, fs.status(), "create");
  CreateOptions create;
  create.overwrite = false;
  create.create_parent = false;
  create.mode = mode & 07777;
  Result<std::unique_ptr<RandomWriteFile>> writer =
      (*fs)->CreateRandomWrite(EntryPath(parent, name), create);
  if (!writer.ok()) return ReplyError(req, writer.status(), "create");
  const FileInfo info = (*writer)->opened_info();
  std::shared_ptr<InodeState> state = inodes_.Open(info.inode_id);
  {
    std::lock_guard<std::mutex> lock(state->mu);
    state->writer = std::move(*writer);
    state->created_here = true;
  }
  auto handle = std::make_shared<FileHandle>();
  handle->inode = state;
  handle->fs = *fs;
  handle->flags = fi->flags;
  fi->fh = files_.Add(handle);
  fi->keep_cache = 1;
  inodes_.AddLookup(info.inode_id);
  fuse_entry_param e;
  FillEntry(info, &e, /*new_inode=*/true);
  if (fuse_reply_create(req, &e, fi) != 0) {
    inodes_.Forget(info.inode_id, 1);
    Release(nullptr, info.inode_id, fi);
    return;
  }
}

void TalusFuse::Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto fs = FsFor(req);
  if (!fs.ok()) return ReplyError(req, fs.status(), "open");
  // Fresh attributes at every open: close-to-open consistency with other mounts.
  Result<FileInfo> info = (*fs)->GetFileInfo(InodePath(ino));
  if (!info.ok()) return ReplyInodeError(req, info.status(), "open");
  if (info->IsDirectory()) {
    fuse_reply_err(req, EISDIR);
    return;
  }
  std::shared_ptr<InodeState> state = inodes_.Open(ino);
  bool keep_cache;
  {
    std::lock_guard<std::mutex> lock(state->mu);
    const bool size_stale = options_.writeback_cache && info->IsFile() && !state->writer &&
                            state->kernel_size_known && state->kernel_size != info->length &&
                            inodes_.OpenHandles(ino) == 1;
    if (size_stale && !state->stale_open_bounced) {
      // See InodeState::stale_open_bounced. Only once: an open that cannot revalidate a name
      // (through /proc/PID/fd) goes on with the stale size rather than failing.
      state->stale_open_bounced = true;
      state->bounce_next_lookup = true;
      inodes_.Release(ino);
      fuse_reply_err(req, ESTALE);
      return;
    }
    if (state->stale_open_bounced) {
      // The retried open: the kernel looked the name up afresh and took the new size.
      state->kernel_size_known = true;
      state->kernel_size = info->length;
    }
    state->stale_open_bounced = false;
    state->bounce_next_lookup = false;
    // With a writer here, the kernel's cache holds this mount's own writes: keep it.
    keep_cache = !state->cache_distrusted &&
                 (state->writer != nullptr ||
                  (state->content_known && state->content_size == info->length &&
                   SameTime(state->content_mtime, info->mtime)));
    state->cache_distrusted = false;
    if (!state->writer) {
      state->content_known = true;
      state->content_size = info->length;
      state->content_mtime = info->mtime;
    }
  }
  auto handle = std::make_shared<FileHandle>();
  handle->inode = state;
  handle->fs = *fs;
  handle->flags = fi->flags;
  fi->fh = files_.Add(handle);
  fi->keep_cache = keep_cache ? 1 : 0;
  if (fuse_reply_open(req, fi) != 0) {
    Release(nullptr, ino, fi);
    return;
  }
  // Someone else changed the file since the kernel cached it: besides dropping the cached
  // pages (keep_cache = 0), make the kernel ask for its attributes again.
  if (!keep_cache && session_ != nullptr) {
    fuse_lowlevel_notify_inval_inode(session_, ino, -1, 0);
  }
}

void TalusFuse::Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset,
                     fuse_file_info* fi) {
  std::shared_ptr<FileHandle> h = files_.Get(fi->fh);
  if (!h) return (void)fuse_reply_err(req, EBADF);
  std::shared_ptr<RandomWriteFile> writer;
  uint64_t version;
  {
    std::lock_guard<std::mutex> lock(h->inode->mu);
    writer = h->inode->writer;
    version = h->inode->data_version;
  }
  std::unique_ptr<char[]> buf(new char[size]);
  Result<size_t> n = size_t{0};
  if (writer) {
    // The writer sees its own unflushed writes and truncations (once held ones are in).
    Status s = h->inode->sequencer.Drain(*writer);
    if (s.ok()) n = writer->Read(offset, buf.get(), size);
    // A writer broken by a failed write still leaves the file's committed contents readable.
    if (!s.ok() || !n.ok()) writer.reset();
  }
  if (!writer) {
    std::shared_ptr<InputStream> stream;
    {
      std::lock_guard<std::mutex> lock(h->mu);
      if (!h->stream || h->stream_version != version) {
        Result<std::unique_ptr<InputStream>> opened = h->fs->Open(InodePath(ino));
        if (!opened.ok()) return ReplyError(req, opened.status(), "read");
        h->stream = std::move(*opened);
        h->stream_version = version;
      }
      stream = h->stream;
    }
    n = stream->Pread(offset, buf.get(), size);
  }
  if (!n.ok()) return ReplyError(req, n.status(), "read");
  fuse_reply_buf(req, buf.get(), *n);
}

void TalusFuse::Write(fuse_req_t req, fuse_ino_t /*ino*/, const char* buf, size_t size,
                      off_t offset, fuse_file_info* fi) {
  std::shared_ptr<FileHandle> h = files_.Get(fi->fh);
  if (!h) return (void)fuse_reply_err(req, EBADF);
  std::shared_ptr<RandomWriteFile> writer;
  {
    std::lock_guard<std::mutex> lock(h->inode->mu);
    // Writes from the writeback cache carry no caller identity: the writer is opened as the
    // user who opened this handle.
    Result<std::shared_ptr<RandomWriteFile>> w = WriterFor(*h->inode, *h->fs);
    if (!w.ok()) return ReplyError(req, w.status(), "write");
    writer = *w;
  }
  Status s = h->inode->sequencer.Write(*writer, offset, buf, size);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(h->inode->mu);
    h->inode->wrote = true;
  } else {
    DistrustKernelCache(*h->inode);
    return ReplyError(req, s, "write");
  }
  fuse_reply_write(req, size);
}

void TalusFuse::Flush(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* fi) {
  std::shared_ptr<FileHandle> h = files_.Get(fi->fh);
  if (!h) return (void)fuse_reply_err(req, EBADF);
  std::shared_ptr<RandomWriteFile> writer;
  {
    std::lock_guard<std::mutex> lock(h->inode->mu);
    writer = h->inode->writer;
    // A file created here with nothing written is already durable and empty for every
    // reader: its complete (the lease's release) waits for the last release, which defers it.
    if (h->inode->created_here && !h->inode->wrote) writer.reset();
  }
  // Every close publishes what was written, so a later open anywhere sees it (close-to-open).
  if (writer) {
    Status s = h->inode->sequencer.Drain(*writer);
    if (s.ok() && writer->Dirty()) s = writer->Flush();
    if (!s.ok()) {
      DistrustKernelCache(*h->inode);
      return ReplyError(req, s, "flush");
    }
  }
  fuse_reply_err(req, 0);
}

void TalusFuse::Fsync(fuse_req_t req, fuse_ino_t /*ino*/, int /*datasync*/, fuse_file_info* fi) {
  std::shared_ptr<FileHandle> h = files_.Get(fi->fh);
  if (!h) return (void)fuse_reply_err(req, EBADF);
  std::shared_ptr<RandomWriteFile> writer;
  {
    std::lock_guard<std::mutex> lock(h->inode->mu);
    writer = h->inode->writer;
  }
  if (writer) {
    Status s = h->inode->sequencer.Drain(*writer);
    if (s.ok()) s = writer->Sync();
    if (!s.ok()) {
      DistrustKernelCache(*h->inode);
      return ReplyError(req, s, "fsync");
    }
  }
  fuse_reply_err(req, 0);
}

// `req` is null when undoing an open whose reply never reached the kernel.
void TalusFuse::Release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  std::shared_ptr<FileHandle> h = files_.Remove(fi->fh);
  if (!h) {
    LOG(WARNING) << "release of unknown file handle " << fi->fh << " (inode " << ino << ")";
    if (req != nullptr) fuse_reply_err(req, 0);
    return;
  }
  if (inodes_.Release(ino)) {
    InodeState& state = *h->inode;
    std::lock_guard<std::mutex> lock(state.mu);
    if (state.writer && state.created_here && !state.wrote && state.writer->Length() == 0) {
      // Created here, nothing written: completed in the background with others (see Flush).
      closer_.Add(state.id, h->fs, std::move(state.writer));
      state.writer.reset();
      state.created_here = false;
      ++state.data_version;
    }
    if (state.writer) {
      Status s = state.sequencer.Drain(*state.writer);
      const int64_t length = state.writer->Length();
      if (s.ok()) s = state.writer->Close();
      state.sequencer.Clear();
      if (!s.ok()) {
        state.content_known = false;
        state.kernel_size_known = true;
        state.kernel_size = -1;  // see DistrustKernelCache (state.mu is held here)
      } else if (state.wrote) {
        // The version this writer made is what the kernel caches: learn its mtime, so the next
        // open keeps the cache unless someone else changed the file since.
        state.kernel_size_known = true;
        state.kernel_size = length;
        Result<FileInfo> info = h->fs->GetFileInfo(InodePath(state.id));
        state.content_known = info.ok() && info->length == length;
        if (state.content_known) {
          state.content_size = info->length;
          state.content_mtime = info->mtime;
        }
      }
      state.wrote = false;
      state.created_here = false;
      if (!s.ok()) LOG(ERROR) << "closing inode " << ino << ": " << s;
      state.writer.reset();
      ++state.data_version;
    }
    if (state.unlinked) {
      // Delete the hidden name only if it still is this file.
      const std::string hidden = EntryPath(state.hidden_parent, state.hidden_name);
      Result<FileInfo> info = h->fs->GetFileInfo(hidden);
      if (info.ok() && info->inode_id == state.id) {
        Result<bool> deleted = h->fs->Delete(hidden, /*recursive=*/false);
        if (!deleted.ok()) LOG(WARNING) << "deleting unlinked inode " << ino << ": "
                                        << deleted.status();
      }
      state.unlinked = false;
    }
  }
  if (req != nullptr) fuse_reply_err(req, 0);
}

}  // namespace talus::fuse
