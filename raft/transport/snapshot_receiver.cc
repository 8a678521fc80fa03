#include "raft/transport/snapshot_receiver.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include <glog/logging.h>

#include "common/crc32c.h"

namespace talus::raft {

namespace {

constexpr char kStagingName[] = "incoming.partial";
constexpr char kCompletePrefix[] = "received-";

Status WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "write snapshot staging file");
    }
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "open " + dir);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::FromErrno(err, "fsync " + dir);
  return Status::OK();
}

// Orders snapshots offered by leaders: a later term wins, then a higher index.
bool Newer(Term term_a, const SnapshotMeta& a, Term term_b, const SnapshotMeta& b) {
  if (term_a != term_b) return term_a > term_b;
  return a.index > b.index;
}

}  // namespace

Result<std::unique_ptr<SnapshotReceiver>> SnapshotReceiver::Open(std::string dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create " + dir + ": " + ec.message());
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name == kStagingName || name.rfind(kCompletePrefix, 0) == 0) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
  return std::unique_ptr<SnapshotReceiver>(new SnapshotReceiver(std::move(dir)));
}

SnapshotReceiver::~SnapshotReceiver() {
  std::lock_guard<std::mutex> lock(mu_);
  DropCurrent();
}

void SnapshotReceiver::DropCurrent() {
  if (!current_) return;
  if (current_->fd >= 0) ::close(current_->fd);
  ::unlink((dir_ + "/" + kStagingName).c_str());
  current_.reset();
}

Result<uint64_t> SnapshotReceiver::Receive(const SnapshotChunkIn& chunk,
                                           std::optional<ReceivedSnapshot>* complete) {
  complete->reset();
  std::lock_guard<std::mutex> lock(mu_);
  if (chunk.meta.index == 0 || chunk.meta.term == 0 || chunk.term < chunk.meta.term) {
    return Status::InvalidArgument("snapshot chunk with an invalid snapshot index or term");
  }
  const bool same = current_ && current_->from == chunk.from && current_->term == chunk.term &&
                    current_->meta == chunk.meta;
  if (chunk.offset == 0) {
    if (current_ && !same && !Newer(chunk.term, chunk.meta, current_->term, current_->meta)) {
      return Status::InvalidArgument("a newer snapshot is being received (term " +
                                     std::to_string(current_->term) + ", index " +
                                     std::to_string(current_->meta.index) + ")");
    }
    if (current_) {
      LOG(INFO) << "raft: snapshot from " << current_->from << " at index "
                << current_->meta.index << " abandoned after " << current_->received
                << " bytes for a new one from " << chunk.from << " at index " << chunk.meta.index;
    }
    DropCurrent();
    const std::string path = dir_ + "/" + kStagingName;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Status::FromErrno(errno, "create " + path);
    current_ = Current{chunk.from, chunk.term, chunk.meta, 0, 0, fd};
  } else if (!same) {
    return Status::InvalidArgument("snapshot chunk at offset " + std::to_string(chunk.offset) +
                                   " of a snapshot not being received");
  } else if (chunk.offset != current_->received) {
    return Status::InvalidArgument("snapshot chunk at offset " + std::to_string(chunk.offset) +
                                   ", expected " + std::to_string(current_->received));
  }

  Status s = WriteAll(current_->fd, chunk.data);
  if (!s.ok()) {
    DropCurrent();
    return s;
  }
  current_->received += chunk.data.size();
  current_->crc = crc32c::Extend(current_->crc, chunk.data.data(), chunk.data.size());
  const uint64_t received = current_->received;
  if (!chunk.last) return received;

  if (current_->crc != chunk.crc) {
    LOG(WARNING) << "raft: snapshot from " << chunk.from << " at index " << chunk.meta.index
                 << " failed its CRC check (" << received << " bytes); dropped";
    DropCurrent();
    return Status::Corruption("snapshot CRC mismatch");
  }
  if (::fdatasync(current_->fd) != 0) {
    Status err = Status::FromErrno(errno, "fdatasync snapshot staging file");
    DropCurrent();
    return err;
  }
  ::close(current_->fd);
  current_->fd = -1;
  const std::string final_path = dir_ + "/" + kCompletePrefix +
                                 std::to_string(chunk.meta.index) + "-" +
                                 std::to_string(chunk.meta.term) + "-" + std::to_string(++serial_);
  if (::rename((dir_ + "/" + kStagingName).c_str(), final_path.c_str()) != 0) {
    Status err = Status::FromErrno(errno, "rename snapshot staging file");
    DropCurrent();
    return err;
  }
  s = SyncDir(dir_);
  if (!s.ok()) LOG(WARNING) << "raft: " << s;  // the install syncs what it keeps
  ReceivedSnapshot done{current_->from, current_->term, current_->meta, final_path};
  current_.reset();
  *complete = std::move(done);
  return received;
}

}  // namespace talus::raft
