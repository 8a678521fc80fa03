#include "fuse/fuse_ops.h"

#include "fuse/talus_fuse.h"

namespace talus::fuse {

namespace {

TalusFuse* Fs(fuse_req_t req) { return static_cast<TalusFuse*>(fuse_req_userdata(req)); }

void OnInit(void* userdata, fuse_conn_info* conn) { static_cast<TalusFuse*>(userdata)->Init(conn); }
void OnDestroy(void* userdata) { static_cast<TalusFuse*>(userdata)->Destroy(); }

void OnLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Fs(req)->Lookup(req, parent, name);
}
void OnForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  Fs(req)->Forget(ino, nlookup);
  fuse_reply_none(req);
}
void OnForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  for (size_t i = 0; i < count; ++i) Fs(req)->Forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}
void OnGetAttr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) { Fs(req)->GetAttr(req, ino, fi); }
void OnSetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
               fuse_file_info* fi) {
  Fs(req)->SetAttr(req, ino, attr, to_set, fi);
}
void OnReadLink(fuse_req_t req, fuse_ino_t ino) { Fs(req)->ReadLink(req, ino); }
void OnMkDir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  Fs(req)->MkDir(req, parent, name, mode);
}
void OnUnlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Fs(req)->Unlink(req, parent, name);
}
void OnRmDir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Fs(req)->RmDir(req, parent, name);
}
void OnSymlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name) {
  Fs(req)->Symlink(req, target, parent, name);
}
void OnRename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t new_parent,
              const char* new_name, unsigned int flags) {
  Fs(req)->Rename(req, parent, name, new_parent, new_name, flags);
}
void OnOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) { Fs(req)->Open(req, ino, fi); }
void OnRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  Fs(req)->Read(req, ino, size, off, fi);
}
void OnWrite(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
             fuse_file_info* fi) {
  Fs(req)->Write(req, ino, buf, size, off, fi);
}
void OnFlush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) { Fs(req)->Flush(req, ino, fi); }
void OnRelease(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Fs(req)->Release(req, ino, fi);
}
void OnFsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi) {
  Fs(req)->Fsync(req, ino, datasync, fi);
}
void OnOpenDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Fs(req)->OpenDir(req, ino, fi);
}
void OnReadDir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  Fs(req)->ReadDir(req, ino, size, off, fi, /*plus=*/false);
}
void OnReadDirPlus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  Fs(req)->ReadDir(req, ino, size, off, fi, /*plus=*/true);
}
void OnReleaseDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Fs(req)->ReleaseDir(req, ino, fi);
}
void OnFsyncDir(fuse_req_t req, fuse_ino_t /*ino*/, int /*datasync*/, fuse_file_info* /*fi*/) {
  // Namespace changes are journaled and synced before they are acknowledged.
  fuse_reply_err(req, 0);
}
void OnStatFs(fuse_req_t req, fuse_ino_t ino) { Fs(req)->StatFs(req, ino); }
void OnAccess(fuse_req_t req, fuse_ino_t ino, int mask) { Fs(req)->Access(req, ino, mask); }
void OnCreate(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
              fuse_file_info* fi) {
  Fs(req)->Create(req, parent, name, mode, fi);
}

fuse_lowlevel_ops MakeOps() {
  fuse_lowlevel_ops ops{};
  ops.init = OnInit;
  ops.destroy = OnDestroy;
  ops.lookup = OnLookup;
  ops.forget = OnForget;
  ops.forget_multi = OnForgetMulti;
  ops.getattr = OnGetAttr;
  ops.setattr = OnSetAttr;
  ops.readlink = OnReadLink;
  ops.mkdir = OnMkDir;
  ops.unlink = OnUnlink;
  ops.rmdir = OnRmDir;
  ops.symlink = OnSymlink;
  ops.rename = OnRename;
  ops.open = OnOpen;
  ops.read = OnRead;
  ops.write = OnWrite;
  ops.flush = OnFlush;
  ops.release = OnRelease;
  ops.fsync = OnFsync;
  ops.opendir = OnOpenDir;
  ops.readdir = OnReadDir;
  ops.readdirplus = OnReadDirPlus;
  ops.releasedir = OnReleaseDir;
  ops.fsyncdir = OnFsyncDir;
  ops.statfs = OnStatFs;
  ops.access = OnAccess;
  ops.create = OnCreate;
  return ops;
}

}  // namespace

const fuse_lowlevel_ops& TalusFuseOps() {
  static const fuse_lowlevel_ops ops = MakeOps();
  return ops;
}

}  // namespace talus::fuse
