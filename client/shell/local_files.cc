#include "client/shell/local_files.h"

#include <dirent.h>
#include <glob.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "client/shell/data_copy.h"
#include "client/shell/glob.h"

namespace talus::shell {

Status ErrnoStatus(int err, const std::string& what) {
  ErrorCode code;
  switch (err) {
    case ENOENT:
      code = ErrorCode::kNotFound;
      break;
    case EEXIST:
      code = ErrorCode::kAlreadyExists;
      break;
    case EACCES:
      code = ErrorCode::kPermissionDenied;
      break;
    case EPERM:
      code = ErrorCode::kNotPermitted;
      break;
    case ENOTDIR:
      code = ErrorCode::kNotADirectory;
      break;
    case EISDIR:
      code = ErrorCode::kIsADirectory;
      break;
    case ENOTEMPTY:
      code = ErrorCode::kNotEmpty;
      break;
    case ENOSPC:
      code = ErrorCode::kNoSpace;
      break;
    case EROFS:
      code = ErrorCode::kReadOnly;
      break;
    case ENAMETOOLONG:
      code = ErrorCode::kNameTooLong;
      break;
    case EXDEV:
      code = ErrorCode::kCrossDevice;
      break;
    default:
      return Status(ErrorCode::kIoError, (what.empty() ? "" : what + ": ") + std::strerror(err));
  }
  // The code alone says it all for the common cases, as in HDFS's local file system messages.
  return Status(code, "");
}

Result<std::optional<struct stat>> StatLocal(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return std::optional<struct stat>(st);
  if (errno == ENOENT || errno == ENOTDIR) return std::optional<struct stat>();
  return ErrnoStatus(errno, "stat");
}

Result<std::vector<std::string>> ListLocalDirectory(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return ErrnoStatus(errno, "opendir");
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) return ErrnoStatus(err, "readdir");
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<std::string>> ExpandLocalGlob(const std::string& pattern) {
  if (!HasGlob(pattern)) return std::vector<std::string>{pattern};
  glob_t g;
  int rc = ::glob(pattern.c_str(), GLOB_BRACE, nullptr, &g);
  std::vector<std::string> out;
  if (rc == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
  if (rc != 0 && rc != GLOB_NOMATCH) return Status::IoError("cannot expand " + pattern);
  std::sort(out.begin(), out.end());
  return out;
}

std::string BaseName(const std::string& path) {
  size_t end = path.size();
  while (end > 1 && path[end - 1] == '/') --end;
  size_t slash = path.rfind('/', end - 1);
  if (slash == std::string::npos) return path.substr(0, end);
  if (end == 1) return "";
  return path.substr(slash + 1, end - slash - 1);
}

std::string JoinLocal(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string LocalParent(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return p.substr(0, slash);
}

Status WriteFully(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write");
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::OK();
}

Result<size_t> ReadSome(int fd, void* data, size_t n) {
  ssize_t r;
  do {
    r = ::read(fd, data, n);
  } while (r < 0 && errno == EINTR && !CopyInterrupted());
  if (r >= 0) return static_cast<size_t>(r);
  return ErrnoStatus(errno, "read");
}

Timestamp ToTimestamp(const struct timespec& ts) {
  return Timestamp{static_cast<int64_t>(ts.tv_sec), static_cast<int32_t>(ts.tv_nsec)};
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

Status Fd::Close() {
  if (fd_ < 0) return Status::OK();
  int rc = ::close(fd_);
  fd_ = -1;
  return rc == 0 ? Status::OK() : ErrnoStatus(errno, "close");
}

}  // namespace talus::shell
