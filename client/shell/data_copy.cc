#include "client/shell/data_copy.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <csignal>
#include <memory>

#include "client/shell/errors.h"
#include "client/shell/local_files.h"

namespace talus::shell {

namespace {

volatile std::sig_atomic_t g_interrupt_signal = 0;
struct sigaction g_old_int, g_old_term;

void OnInterrupt(int sig) { g_interrupt_signal = sig; }

Status InterruptedStatus() { return Status::IoError("Interrupted"); }

std::unique_ptr<char[]> NewBuffer() { return std::make_unique<char[]>(kCopyBufferBytes); }

bool IsRefusal(const Status& s) {
  return s.code() == ErrorCode::kNotPermitted || s.code() == ErrorCode::kPermissionDenied;
}

}  // namespace

InterruptGuard::InterruptGuard() {
  g_interrupt_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a read of a quiet stdin returns EINTR and sees the flag
  ::sigaction(SIGINT, &sa, &g_old_int);
  ::sigaction(SIGTERM, &sa, &g_old_term);
}

InterruptGuard::~InterruptGuard() {
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
  if (g_interrupt_signal != 0) {
    std::fflush(nullptr);
    ::raise(g_interrupt_signal);
  }
}

bool CopyInterrupted() { return g_interrupt_signal != 0; }

Status CopyFdToStream(int fd, const std::string& src, OutputStream* out, const std::string& dst,
                      ProgressBar* progress) {
  std::unique_ptr<char[]> buf = NewBuffer();
  while (true) {
    // Fill the buffer (pipes give little at a time) so that each Write is a large one.
    size_t filled = 0;
    bool eof = false;
    while (filled < kCopyBufferBytes) {
      if (CopyInterrupted()) return InterruptedStatus();
      Result<size_t> n = ReadSome(fd, buf.get() + filled, kCopyBufferBytes - filled);
      if (CopyInterrupted()) return InterruptedStatus();
      if (!n.ok()) return PathError(src, n.status());
      if (*n == 0) {
        eof = true;
        break;
      }
      filled += *n;
    }
    if (filled > 0) {
      Status s = out->Write(buf.get(), filled);
      if (!s.ok()) return PathError(dst, s);
      if (progress != nullptr) progress->Add(static_cast<int64_t>(filled));
    }
    if (eof) return Status::OK();
  }
}

Status CopyStreamToFd(InputStream* in, const std::string& src, int fd, const std::string& dst,
                      ProgressBar* progress, int64_t limit) {
  std::unique_ptr<char[]> buf = NewBuffer();
  int64_t left = limit;
  while (limit < 0 || left > 0) {
    if (CopyInterrupted()) return InterruptedStatus();
    size_t want = kCopyBufferBytes;
    if (limit >= 0 && static_cast<int64_t>(want) > left) want = static_cast<size_t>(left);
    Result<size_t> n = in->Read(buf.get(), want);
    if (!n.ok()) return PathError(src, n.status());
    if (*n == 0) break;
    Status s = WriteFully(fd, buf.get(), *n);
    if (!s.ok()) return PathError(dst, s);
    if (progress != nullptr) progress->Add(static_cast<int64_t>(*n));
    left -= static_cast<int64_t>(*n);
  }
  return Status::OK();
}

Status CopyStreamToStream(InputStream* in, const std::string& src, OutputStream* out,
                          const std::string& dst, ProgressBar* progress) {
  std::unique_ptr<char[]> buf = NewBuffer();
  while (true) {
    if (CopyInterrupted()) return InterruptedStatus();
    Result<size_t> n = in->Read(buf.get(), kCopyBufferBytes);
    if (!n.ok()) return PathError(src, n.status());
    if (*n == 0) return Status::OK();
    Status s = out->Write(buf.get(), *n);
    if (!s.ok()) return PathError(dst, s);
    if (progress != nullptr) progress->Add(static_cast<int64_t>(*n));
  }
}

Status CopyStreamToFile(InputStream* in, const std::string& src, FILE* out, int64_t limit) {
  std::unique_ptr<char[]> buf = NewBuffer();
  int64_t left = limit;
  while (limit < 0 || left > 0) {
    size_t want = kCopyBufferBytes;
    if (limit >= 0 && static_cast<int64_t>(want) > left) want = static_cast<size_t>(left);
    Result<size_t> n = in->Read(buf.get(), want);
    if (!n.ok()) return PathError(src, n.status());
    if (*n == 0) break;
    if (std::fwrite(buf.get(), 1, *n, out) != *n) {
      return Status::IoError("writing to the output: " + ErrnoStatus(errno).ToString());
    }
    left -= static_cast<int64_t>(*n);
  }
  std::fflush(out);
  return Status::OK();
}

bool ShowProgress(ShellContext* ctx) { return ::isatty(::fileno(ctx->out())) == 1; }

Status PreserveLocalToCluster(FileSystem* fs, const std::string& path, const std::string& display,
                              const struct stat& st, const Preserve& what) {
  if (what.times) {
    Status s = fs->SetTimes(path, ToTimestamp(st.st_mtim), ToTimestamp(st.st_atim));
    if (!s.ok()) return PathError(display, s);
  }
  if (what.mode) {
    Status s = fs->SetPermission(path, st.st_mode & 07777);
    if (!s.ok()) return PathError(display, s);
  }
  if (what.owner) {
    struct passwd* pw = ::getpwuid(st.st_uid);
    struct group* gr = ::getgrgid(st.st_gid);
    std::string owner = pw != nullptr ? pw->pw_name : std::to_string(st.st_uid);
    std::string group = gr != nullptr ? gr->gr_name : std::to_string(st.st_gid);
    Status s = fs->SetOwner(path, owner, group);
    if (!s.ok() && !IsRefusal(s)) return PathError(display, s);
  }
  return Status::OK();
}

Status PreserveClusterToLocal(const FileInfo& info, const std::string& path, const Preserve& what) {
  if (what.mode && ::chmod(path.c_str(), info.mode & 07777) != 0) {
    return PathError(path, ErrnoStatus(errno, "chmod"));
  }
  if (what.owner) {
    // Only root may give a local file away; anyone else keeps their own files, as with cp -p.
    struct passwd* pw = ::getpwnam(info.owner.c_str());
    struct group* gr = ::getgrnam(info.group.c_str());
    uid_t uid = pw != nullptr ? pw->pw_uid : static_cast<uid_t>(-1);
    gid_t gid = gr != nullptr ? gr->gr_gid : static_cast<gid_t>(-1);
    if (::chown(path.c_str(), uid, gid) != 0 && errno != EPERM) {
      return PathError(path, ErrnoStatus(errno, "chown"));
    }
  }
  if (what.times) {
    struct timespec times[2];
    times[0].tv_sec = info.atime.sec;
    times[0].tv_nsec = info.atime.nsec;
    times[1].tv_sec = info.mtime.sec;
    times[1].tv_nsec = info.mtime.nsec;
    if (::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) {
      return PathError(path, ErrnoStatus(errno, "utimensat"));
    }
  }
  return Status::OK();
}

Status PreserveClusterToCluster(const FileInfo& info, FileSystem* fs, const std::string& path,
                                const std::string& display, const Preserve& what) {
  if (what.times) {
    Status s = fs->SetTimes(path, info.mtime, info.atime);
    if (!s.ok()) return PathError(display, s);
  }
  if (what.mode) {
    Status s = fs->SetPermission(path, info.mode & 07777);
    if (!s.ok()) return PathError(display, s);
  }
  if (what.owner) {
    Status s = fs->SetOwner(path, info.owner, info.group);
    if (!s.ok() && !IsRefusal(s)) return PathError(display, s);
  }
  return Status::OK();
}

}  // namespace talus::shell
