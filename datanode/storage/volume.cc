#include "datanode/storage/volume.h"

#include <sys/random.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include <glog/logging.h>

#include "datanode/storage/file_util.h"

namespace talus::datanode {

std::string NewStorageId() {
  unsigned char b[16];
  size_t got = 0;
  while (got < sizeof(b)) {
    ssize_t r = ::getrandom(b + got, sizeof(b) - got, 0);
    if (r < 0) {
      PCHECK(errno == EINTR) << "getrandom";
      continue;
    }
    got += static_cast<size_t>(r);
  }
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  char out[64];
  std::snprintf(out, sizeof(out),
                "DS-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                b[14], b[15]);
  return out;
}

namespace {

// Parses "storage_id=...\nlayout_version=N\n".
Status ParseVersionFile(const std::string& text, const std::string& path, std::string* id) {
  int layout = -1;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) return Status::Corruption(path + ": bad line '" + line + "'");
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "storage_id") {
      *id = value;
    } else if (key == "layout_version") {
      layout = std::atoi(value.c_str());
    }
  }
  if (id->size() < 4 || id->compare(0, 3, "DS-") != 0) {
    return Status::Corruption(path + ": missing or malformed storage_id");
  }
  if (layout != kLayoutVersion) {
    return Status::Corruption(path + ": layout_version " + std::to_string(layout) +
                              " is not the supported " + std::to_string(kLayoutVersion));
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<Volume>> Volume::Open(const std::string& root, uint64_t reserved_bytes) {
  if (root.empty() || root[0] != '/') {
    return Status::InvalidArgument("volume directory must be an absolute path: '" + root + "'");
  }
  std::string clean = root;
  while (clean.size() > 1 && clean.back() == '/') clean.pop_back();
  RETURN_NOT_OK(MakeDirs(clean + "/current/rbw"));
  RETURN_NOT_OK(MakeDirs(clean + "/current/finalized"));
  std::string version_path = clean + "/current/VERSION";
  std::string storage_id;
  ::unlink((version_path + ".tmp").c_str());  // left by a crash inside WriteFileAtomically
  auto text = ReadSmallFile(version_path, 4096);
  if (text.ok()) {
    RETURN_NOT_OK(ParseVersionFile(*text, version_path, &storage_id));
  } else if (text.status().IsNotFound()) {
    storage_id = NewStorageId();
    RETURN_NOT_OK(WriteFileAtomically(
        version_path,
        "storage_id=" + storage_id + "\nlayout_version=" + std::to_string(kLayoutVersion) + "\n"));
    LOG(INFO) << "Volume " << clean << ": new storage id " << storage_id;
  } else {
    return text.status();
  }
  return std::unique_ptr<Volume>(new Volume(clean, reserved_bytes, storage_id));
}

std::string Volume::FinalizedDirFor(uint64_t block_id) const {
  return finalized_dir() + "/subdir" + std::to_string((block_id >> 16) & 31) + "/subdir" +
         std::to_string((block_id >> 8) & 31);
}

Result<VolumeUsage> Volume::Usage() const {
  struct statvfs st;
  if (::statvfs(root_.c_str(), &st) != 0) return Status::FromErrno(errno, "statvfs " + root_);
  uint64_t total = static_cast<uint64_t>(st.f_blocks) * st.f_frsize;
  uint64_t avail = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  VolumeUsage u;
  u.capacity_bytes = total > reserved_bytes_ ? total - reserved_bytes_ : 0;
  const uint64_t held = reserved_bytes_ + reserved_for_replicas();
  u.remaining_bytes = avail > held ? avail - held : 0;
  if (u.remaining_bytes > u.capacity_bytes) u.remaining_bytes = u.capacity_bytes;
  u.used_bytes = used_bytes();
  return u;
}

std::string Volume::failure_reason() const {
  std::lock_guard<std::mutex> l(mu_);
  return failure_reason_;
}

void Volume::MarkFailed(const std::string& reason) {
  std::lock_guard<std::mutex> l(mu_);
  if (failed_.exchange(true)) return;
  failure_reason_ = reason;
  LOG(ERROR) << "Volume " << root_ << " (" << storage_id_ << ") marked failed: " << reason;
}

Status Volume::CheckIo(Status s) {
  if (s.code() == ErrorCode::kIoError || s.code() == ErrorCode::kReadOnly) {
    MarkFailed(s.ToString());
  }
  return s;
}

}  // namespace talus::datanode
