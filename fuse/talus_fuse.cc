// What the operations share: paths, attribute conversion, replies, the per-inode writer.
#include "fuse/talus_fuse.h"

#include <glog/logging.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "fuse/errno_map.h"

namespace talus::fuse {

namespace {

constexpr char kInodesPrefix[] = "/.reserved/.inodes/";
// Clients kept at once, one per user making requests.
constexpr size_t kMaxUserClients = 64;

ClientOptions BaseClientOptions() {
  ClientOptions options;
  // Every call is bounded: a namenode or datanode that is down makes a request fail with EIO
  // after these, never hang the caller forever.
  options.rpc_timeout_ms = 20000;
  options.retry_deadline_ms = 30000;
  options.datanode_timeout_ms = 60000;
  return options;
}

}  // namespace

TalusFuse::TalusFuse(MountOptions options)
    : options_(std::move(options)),
      clients_(options_.uri, BaseClientOptions(), kMaxUserClients) {}

std::string TalusFuse::InodePath(uint64_t id) { return kInodesPrefix + std::to_string(id); }

std::string TalusFuse::EntryPath(uint64_t parent, const std::string& name) {
  return kInodesPrefix + std::to_string(parent) + "/" + name;
}

bool TalusFuse::IsHiddenName(const char* name) {
  return std::strncmp(name, kUnlinkedPrefix, sizeof(kUnlinkedPrefix) - 1) == 0;
}

void TalusFuse::Init(fuse_conn_info* conn) { ConfigureConnection(options_, conn); }

void TalusFuse::Destroy() {
  closer_.Drain();
  for (const auto& state : inodes_.WithWriters()) {
    std::lock_guard<std::mutex> lock(state->mu);
    if (!state->writer) continue;
    Status s = state->sequencer.Drain(*state->writer);
    if (s.ok()) s = state->writer->Close();
    state->sequencer.Clear();
    if (!s.ok()) LOG(ERROR) << "closing inode " << state->id << " at unmount: " << s;
    state->writer.reset();
  }
}

Result<std::shared_ptr<FileSystem>> TalusFuse::FsFor(fuse_req_t req) {
  std::call_once(readahead_once_, [this] { RaiseReadahead(); });
  const fuse_ctx* ctx = fuse_req_ctx(req);
  return clients_.Get(identity_.UserName(ctx->uid));
}

void TalusFuse::FillStat(const FileInfo& info, struct stat* st) {
  std::memset(st, 0, sizeof(*st));
  st->st_ino = info.inode_id;
  mode_t type = S_IFREG;
  if (info.type == FileType::kDirectory) type = S_IFDIR;
  if (info.type == FileType::kSymlink) type = S_IFLNK;
  st->st_mode = type | (info.mode & 07777);
  st->st_nlink = 1;
  st->st_uid = identity_.UidOf(info.owner);
  st->st_gid = identity_.GidOf(info.group);
  if (info.type == FileType::kDirectory) {
    st->st_size = 4096;
  } else if (info.type == FileType::kSymlink) {
    st->st_size = static_cast<off_t>(info.symlink_target.size());
  } else {
    st->st_size = info.length;
  }
  st->st_blksize = static_cast<blksize_t>(options_.max_write_bytes);
  st->st_blocks = (st->st_size + 511) / 512;
  st->st_mtim.tv_sec = info.mtime.sec;
  st->st_mtim.tv_nsec = info.mtime.nsec;
  st->st_atim.tv_sec = info.atime.sec;
  st->st_atim.tv_nsec = info.atime.nsec;
  const Timestamp& ctime = info.ctime.sec != 0 ? info.ctime : info.mtime;
  st->st_ctim.tv_sec = ctime.sec;
  st->st_ctim.tv_nsec = ctime.nsec;
}

void TalusFuse::AttrsForKernel(const FileInfo& info, struct stat* st, bool new_inode) {
  FillStat(info, st);
  if (info.type != FileType::kFile) return;
  std::shared_ptr<InodeState> state = inodes_.Find(info.inode_id);
  if (!state) return;
  std::lock_guard<std::mutex> lock(state->mu);
  if (state->writer) {
    st->st_size = std::max(state->writer->Length(), state->sequencer.HeldEnd());
  }
  st->st_blocks = (st->st_size + 511) / 512;
  if (new_inode || !options_.writeback_cache) {
    state->kernel_size_known = true;
    state->kernel_size = st->st_size;
  }
}

void TalusFuse::FillEntry(const FileInfo& info, fuse_entry_param* e, bool new_inode) {
  std::memset(e, 0, sizeof(*e));
  e->ino = info.inode_id;
  e->generation = 0;  // inode ids are never reused
  e->attr_timeout = options_.attr_timeout_s;
  e->entry_timeout = options_.entry_timeout_s;
  AttrsForKernel(info, &e->attr, new_inode);
}

void TalusFuse::ReplyEntry(fuse_req_t req, const FileInfo& info) {
  bool was_known = false;
  inodes_.AddLookup(info.inode_id, 1, &was_known);
  fuse_entry_param e;
  FillEntry(info, &e, !was_known);
  // A reply the kernel never got (the request was interrupted) adds no reference.
  if (fuse_reply_entry(req, &e) != 0) inodes_.Forget(info.inode_id, 1);
}

void TalusFuse::ReplyError(fuse_req_t req, const Status& status, const char* op) {
  int err = FuseErrno(status);
  if (err == EIO || err == ENOSPC) {
    LOG(WARNING) << op << ": " << status;
  } else {
    VLOG(1) << op << ": " << status;
  }
  fuse_reply_err(req, err);
}

void TalusFuse::ReplyInodeError(fuse_req_t req, const Status& status, const char* op) {
  if (status.IsNotFound()) {
    VLOG(1) << op << ": stale inode: " << status;
    fuse_reply_err(req, ESTALE);
    return;
  }
  ReplyError(req, status, op);
}

void TalusFuse::DistrustKernelCache(InodeState& state) {
  std::lock_guard<std::mutex> lock(state.mu);
  state.cache_distrusted = true;
  state.content_known = false;
  // No real size is negative: the next open sees a stale size and bounces to a fresh inode.
  state.kernel_size_known = true;
  state.kernel_size = -1;
}

Result<std::shared_ptr<RandomWriteFile>> TalusFuse::WriterFor(InodeState& state, FileSystem& fs) {
  // Caller holds state.mu.
  if (state.writer) return state.writer;
  closer_.Wait(state.id);
  ASSIGN_OR_RETURN(std::unique_ptr<RandomWriteFile> writer, fs.OpenRandomWrite(InodePath(state.id)));
  state.writer = std::move(writer);
  return state.writer;
}

Status TalusFuse::HideOpenFile(FileSystem& fs, uint64_t parent, const std::string& name,
                               const std::shared_ptr<InodeState>& state) {
  std::string hidden = kUnlinkedPrefix + std::to_string(state->id);
  RETURN_NOT_OK(fs.Rename(EntryPath(parent, name), EntryPath(parent, hidden), true));
  std::lock_guard<std::mutex> lock(state->mu);
  state->unlinked = true;
  state->hidden_parent = parent;
  state->hidden_name = hidden;
  return Status::OK();
}

// The kernel starts a FUSE mount with at most 128 KiB of readahead and lets the file system
// only lower it at FUSE_INIT. The client reads ahead in whole packets anyway, so a large kernel
// readahead keeps several requests in flight on sequential reads. Raised through the mount's
// backing device info once INIT is done (the first request after it calls this); needs root.
void TalusFuse::RaiseReadahead() {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mountpoint;
    fields >> id >> parent >> dev >> root >> mountpoint;
    if (mountpoint != options_.mountpoint) continue;
    std::string path = "/sys/class/bdi/" + dev + "/read_ahead_kb";
    std::ofstream out(path);
    out << options_.max_readahead_bytes / 1024 << "\n";
    out.close();
    if (!out) {
      VLOG(1) << "could not raise readahead through " << path;
    } else {
      VLOG(1) << "readahead of " << dev << " set to " << options_.max_readahead_bytes << " bytes";
    }
  }
}

}  // namespace talus::fuse
