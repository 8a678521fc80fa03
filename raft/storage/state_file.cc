#include "raft/storage/state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/crc32c.h"
#include "common/little_endian.h"
#include "common/wal/segment_file.h"

namespace talus::raft::state_file {
namespace {

constexpr size_t kMagicSize = 8;
constexpr size_t kCrcOffset = 12;

using le::GetU32;
using le::GetU64;
using le::PutU32;
using le::PutU64;

uint32_t FileCrc(std::string_view bytes) {
  uint32_t crc = crc32c::Value(bytes.data(), kCrcOffset);
  return crc32c::Extend(crc, bytes.data() + kHeaderSize, bytes.size() - kHeaderSize);
}

}  // namespace

std::string Encode(std::string_view magic, const std::vector<uint64_t>& fields) {
  std::string out(kHeaderSize + 8 * fields.size(), '\0');
  std::memcpy(out.data(), magic.data(), std::min(magic.size(), kMagicSize));
  PutU32(out.data() + kMagicSize, kVersion);
  for (size_t i = 0; i < fields.size(); ++i) PutU64(out.data() + kHeaderSize + 8 * i, fields[i]);
  PutU32(out.data() + kCrcOffset, FileCrc(out));
  return out;
}

Result<std::vector<uint64_t>> Decode(std::string_view bytes, std::string_view magic, size_t n) {
  if (bytes.size() != kHeaderSize + 8 * n) {
    return Status::Corruption("has " + std::to_string(bytes.size()) + " bytes, expected " +
                              std::to_string(kHeaderSize + 8 * n));
  }
  if (bytes.substr(0, kMagicSize) != magic.substr(0, kMagicSize)) {
    return Status::Corruption("has a bad magic number");
  }
  if (GetU32(bytes.data() + kCrcOffset) != FileCrc(bytes)) {
    return Status::Corruption("checksum mismatch");
  }
  uint32_t version = GetU32(bytes.data() + kMagicSize);
  if (version != kVersion) return Status::Corruption("unsupported version " + std::to_string(version));
  std::vector<uint64_t> fields(n);
  for (size_t i = 0; i < n; ++i) fields[i] = GetU64(bytes.data() + kHeaderSize + 8 * i);
  return fields;
}

Result<std::string> Read(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound(path + " does not exist");
    return Status::FromErrno(errno, "opening " + path);
  }
  std::string contents;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno(err, "reading " + path);
    }
    if (n == 0) break;
    contents.append(buf, static_cast<size_t>(n));
    if (contents.size() > (1u << 20)) {
      ::close(fd);
      return Status::Corruption(path + " is far too large for a state file");
    }
  }
  ::close(fd);
  return contents;
}

std::string TemporaryName(const std::string& name) { return name + ".tmp"; }

Status WriteDurably(const std::string& dir, const std::string& name, std::string_view contents) {
  const std::string path = dir + "/" + name;
  const std::string tmp = dir + "/" + TemporaryName(name);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, "creating " + tmp);
  Status s;
  std::string_view rest = contents;
  while (s.ok() && !rest.empty()) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s = Status::FromErrno(errno, "writing " + tmp);
      break;
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  if (s.ok() && ::fsync(fd) != 0) {
    s = Status::IoError(Status::FromErrno(errno, "fsync of " + tmp).message());
  }
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = Status::FromErrno(errno, "renaming " + tmp);
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return wal::FsyncDirectory(dir);
}

}  // namespace talus::raft::state_file
