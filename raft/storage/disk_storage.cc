#include "raft/storage/disk_storage.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <limits>
#include <mutex>
#include <utility>

#include <glog/logging.h>

#include "common/wal/record_codec.h"
#include "common/wal/segment_file.h"
#include "raft/storage/state_file.h"

namespace talus::raft {
namespace {

constexpr char kLockFile[] = "LOCK";
constexpr char kHardStateFile[] = "hard_state";
constexpr char kCommitFile[] = "commit";
constexpr char kSnapshotMetaFile[] = "snapshot_meta";
constexpr std::string_view kHardStateMagic = "TALUSRHS";   // term, vote, commit
constexpr std::string_view kCommitMagic = "TALUSRCM";      // commit
constexpr std::string_view kSnapshotMetaMagic = "TALUSRSM";  // index, term, reset_pending

// Where one entry's record is: in the segment with the largest first index <= its index.
struct EntryLocation {
  Term term = 0;
  uint64_t offset = 0;  // of the record in its segment file
  uint32_t payload_bytes = 0;
};

// True when bytes [from, to) of `path` are all zero: the room SegmentWriter fills ahead of
// its records, not a torn record.
Result<bool> IsZeroFilled(const std::string& path, uint64_t from, uint64_t to) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "opening " + path);
  std::string buffer(64 << 10, '\0');
  bool zeros = true;
  Status s;
  for (uint64_t offset = from; zeros && offset < to;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), to - offset));
    ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s = Status::FromErrno(errno, "reading " + path);
      break;
    }
    if (n == 0) break;
    zeros = std::all_of(buffer.begin(), buffer.begin() + n, [](char c) { return c == 0; });
    offset += static_cast<uint64_t>(n);
  }
  ::close(fd);
  RETURN_NOT_OK(s);
  return zeros;
}

std::string Describe(const SnapshotMeta& m) {
  return "(index " + std::to_string(m.index) + ", term " + std::to_string(m.term) + ")";
}

}  // namespace

class DiskStorage::Impl {
 public:
  explicit Impl(DiskStorageOptions options) : options_(std::move(options)) {}
  ~Impl() {
    // A clean close leaves no zero-filled room after the last record (best effort: a crash
    // leaves it too, and Open copes).
    if (writer_ != nullptr && failure_.ok()) {
      Status s = writer_->Seal();
      if (!s.ok()) LOG(WARNING) << "Closing raft storage in " << options_.dir << ": " << s;
    }
    writer_.reset();
    if (commit_fd_ >= 0) ::close(commit_fd_);
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }

  Status Open();

  HardState LoadHardState() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return hard_state_;
  }
  SnapshotMeta LoadSnapshotMeta() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return snapshot_;
  }
  std::vector<Entry> LoadEntries() const;

  Status Append(const std::vector<Entry>& entries);
  Status SetHardState(const HardState& hs);
  Status Compact(const SnapshotMeta& meta);
  Status ResetToSnapshot(const SnapshotMeta& meta);

  Index FirstIndex() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return snapshot_.index + 1;
  }
  Index LastIndex() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return LastIndexLocked();
  }
  Result<std::vector<Entry>> Entries(Index lo, Index hi, size_t max_bytes) const;

 private:
  Index LastIndexLocked() const { return snapshot_.index + locations_.size(); }
  // The term of `index`, which must be snapshot_.index or in the log.
  Term TermLocked(Index index) const {
    if (index == snapshot_.index) return snapshot_.term;
    return locations_[index - snapshot_.index - 1].term;
  }
  const EntryLocation& Location(Index index) const {
    return locations_[index - snapshot_.index - 1];
  }
  // Position in segment_firsts_ of the segment holding `index` (which must be in the log).
  size_t SegmentOf(Index index) const {
    auto it = std::upper_bound(segment_firsts_.begin(), segment_firsts_.end(), index);
    return static_cast<size_t>(it - segment_firsts_.begin()) - 1;
  }
  Result<std::vector<Entry>> EntriesLocked(Index lo, Index hi, size_t max_bytes) const;
  // Reads and verifies the records of [lo, hi), all in the segment starting at `first`.
  Status ReadRun(uint64_t first, Index lo, Index hi, std::vector<Entry>* out) const;

  Status OpenStateFiles();
  Status WriteSnapshotMeta(const SnapshotMeta& meta, bool reset_pending);
  Status WriteCommit(Index commit);
  // Cuts the log so that `index` becomes the next index written (index <= LastIndex).
  Status CutFrom(Index index);
  // Records an I/O failure in the middle of a change: the files may no longer match the
  // in-memory view, so every later change fails (the owner must reopen).
  Status Fail(Status s) {
    if (failure_.ok()) failure_ = s;
    LOG(ERROR) << "Raft storage in " << options_.dir << " failed: " << s;
    return s;
  }

  const DiskStorageOptions options_;
  mutable std::mutex mutex_;
  int lock_fd_ = -1;
  int commit_fd_ = -1;
  Status failure_;

  HardState hard_state_;
  SnapshotMeta snapshot_;
  // First index of every segment file, oldest first; the last one is writer_'s. The first
  // segment may start at or below snapshot_.index (it straddles the compaction point).
  std::deque<uint64_t> segment_firsts_;
  // locations_[i] is entry snapshot_.index + 1 + i.
  std::deque<EntryLocation> locations_;
  std::unique_ptr<wal::SegmentWriter> writer_;  // null when there is no segment
  std::string encode_buffer_;
};

Status DiskStorage::Impl::Open() {
  const std::string& dir = options_.dir;
  if (dir.empty()) return Status::InvalidArgument("raft storage directory is empty");
  if (options_.segment_size_limit_bytes == 0) {
    return Status::InvalidArgument("raft segment size limit must be positive");
  }
  RETURN_NOT_OK(wal::EnsureDirectory(dir));
  // Two processes writing one log would interleave records; the flock dies with the process.
  std::string lock_path = dir + "/" + kLockFile;
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) return Status::FromErrno(errno, "opening " + lock_path);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Status::Busy(dir + " is in use by another raft storage");
    return Status::FromErrno(errno, "locking " + lock_path);
  }
  RETURN_NOT_OK(OpenStateFiles());

  std::vector<uint64_t> firsts;
  RETURN_NOT_OK(wal::ListSegments(dir, &firsts));

  // Verify everything before changing anything (but finish an interrupted reset first: its
  // segments are the old log, which must not come back).
  struct Scanned {
    wal::SegmentScan scan;
    std::vector<EntryLocation> locations;  // of indexes scan.first_index..scan.last_index
  };
  std::vector<Scanned> scanned;
  for (uint64_t first : firsts) {
    Scanned s;
    uint64_t offset = wal::kSegmentHeaderSize;
    auto visit = [&](uint64_t term, uint64_t index, std::string_view payload) {
      s.locations.push_back({term, offset, static_cast<uint32_t>(payload.size())});
      offset += wal::kRecordHeaderSize + payload.size();
      return Status::OK();
    };
    ASSIGN_OR_RETURN(s.scan, wal::ScanSegment(wal::SegmentPath(dir, first), first, visit));
    scanned.push_back(std::move(s));
  }

  // Segments wholly inside the snapshot are obsolete (a compaction may have been interrupted
  // before it deleted them, in any order); damage in them does not matter.
  std::vector<uint64_t> obsolete;
  std::vector<Scanned> live;
  for (size_t i = 0; i < scanned.size(); ++i) {
    const wal::SegmentScan& scan = scanned[i].scan;
    const bool last = i + 1 == scanned.size();
    // Damage ends what a segment can be trusted to hold, so only an intact one can be judged
    // wholly inside the snapshot, as can the last (whose damage is a torn tail).
    if (scan.last_index <= snapshot_.index && (scan.damage.empty() || last)) {
      obsolete.push_back(scan.first_index);
      continue;
    }
    if (!scan.damage.empty() && !last) {
      return Status::Corruption(wal::SegmentPath(dir, scan.first_index) + ": " + scan.damage +
                                " in a segment that is not the last");
    }
    live.push_back(std::move(scanned[i]));
  }
  for (size_t i = 1; i < live.size(); ++i) {
    uint64_t expected = live[i - 1].scan.last_index + 1;
    if (live[i].scan.first_index != expected) {
      return Status::Corruption("index gap in the raft log: " +
                                wal::SegmentFileName(live[i - 1].scan.first_index) + " ends at " +
                                std::to_string(live[i - 1].scan.last_index) + " but " +
                                wal::SegmentFileName(live[i].scan.first_index) + " starts at " +
                                std::to_string(live[i].scan.first_index));
    }
  }
  if (!live.empty() && live.front().scan.first_index > snapshot_.index + 1) {
    return Status::Corruption("the raft log starts at index " +
                              std::to_string(live.front().scan.first_index) +
                              " but the snapshot ends at " + std::to_string(snapshot_.index) +
                              ": the entries between are lost");
  }
  // The log must continue the snapshot: same term at its index, terms never decreasing.
  Term previous_term = snapshot_.term;
  for (const Scanned& s : live) {
    for (size_t k = 0; k < s.locations.size(); ++k) {
      Index index = s.scan.first_index + k;
      Term term = s.locations[k].term;
      if (index == snapshot_.index && term != snapshot_.term) {
        return Status::Corruption("the raft log has term " + std::to_string(term) + " at index " +
                                  std::to_string(index) + " but the snapshot meta says " +
                                  Describe(snapshot_));
      }
      if (index <= snapshot_.index) continue;
      if (term < previous_term) {
        return Status::Corruption("the raft log's term goes down to " + std::to_string(term) +
                                  " at index " + std::to_string(index));
      }
      previous_term = term;
    }
  }

  // Now change: drop obsolete segments, cut the torn tail.
  RETURN_NOT_OK(wal::RemoveSegments(dir, obsolete));
  for (const Scanned& s : live) {
    segment_firsts_.push_back(s.scan.first_index);
    for (size_t k = 0; k < s.locations.size(); ++k) {
      if (s.scan.first_index + k > snapshot_.index) locations_.push_back(s.locations[k]);
    }
  }
  if (!live.empty()) {
    const wal::SegmentScan& last = live.back().scan;
    if (!last.damage.empty()) {
      std::string path = wal::SegmentPath(dir, last.first_index);
      ASSIGN_OR_RETURN(bool zeros, IsZeroFilled(path, last.valid_bytes, last.file_bytes));
      if (zeros) {
        VLOG(1) << "Cutting the zero-filled room off " << path << " after index "
                << last.last_index;
      } else {
        LOG(WARNING) << "Cutting a torn tail off " << path << " (" << last.damage << "): "
                     << (last.file_bytes - last.valid_bytes) << " bytes after index "
                     << last.last_index << " dropped";
      }
    }
    ASSIGN_OR_RETURN(writer_,
                     wal::SegmentWriter::OpenForAppend(dir, last.first_index, last.valid_bytes));
  }
  if (hard_state_.commit > LastIndexLocked()) {
    // Cannot happen with the write order (entries synced before the commit that covers
    // them); a commit beyond the log would make the core apply entries it does not have.
    LOG(WARNING) << "Raft commit index " << hard_state_.commit << " is beyond the log ("
                 << LastIndexLocked() << "); lowering it";
    hard_state_.commit = LastIndexLocked();
  }
  LOG(INFO) << "Raft storage " << dir << " opened: term " << hard_state_.term << ", vote "
            << hard_state_.vote << ", commit " << hard_state_.commit << ", snapshot "
            << Describe(snapshot_) << ", log " << snapshot_.index + 1 << ".."
            << LastIndexLocked() << " in " << segment_firsts_.size() << " segment(s)";
  return Status::OK();
}

Status DiskStorage::Impl::OpenStateFiles() {
  const std::string& dir = options_.dir;
  for (const char* name : {kHardStateFile, kSnapshotMetaFile}) {
    std::string tmp = dir + "/" + state_file::TemporaryName(name);
    if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) {
      return Status::FromErrno(errno, "removing " + tmp);
    }
  }

  std::string path = dir + "/" + kHardStateFile;
  auto hs_bytes = state_file::Read(path);
  if (hs_bytes.ok()) {
    auto fields = state_file::Decode(*hs_bytes, kHardStateMagic, 3);
    if (!fields.ok()) return fields.status().Prepend(path);
    hard_state_ = HardState{(*fields)[0], (*fields)[1], (*fields)[2]};
  } else if (hs_bytes.status().code() != ErrorCode::kNotFound) {
    return hs_bytes.status();
  }

  // The commit file is overwritten in place without a sync: a damaged one is a torn write
  // of a commit index that was never promised durable, and the hard state's is still good.
  path = dir + "/" + kCommitFile;
  commit_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (commit_fd_ < 0) return Status::FromErrno(errno, "opening " + path);
  ASSIGN_OR_RETURN(std::string commit_bytes, state_file::Read(path));
  if (!commit_bytes.empty()) {
    auto fields = state_file::Decode(commit_bytes, kCommitMagic, 1);
    if (fields.ok()) {
      hard_state_.commit = std::max(hard_state_.commit, (*fields)[0]);
    } else {
      LOG(WARNING) << "Ignoring " << path << " (" << fields.status().message()
                   << "); the commit index is learned again from the leader";
    }
  }

  path = dir + "/" + kSnapshotMetaFile;
  auto meta_bytes = state_file::Read(path);
  if (meta_bytes.ok()) {
    auto fields = state_file::Decode(*meta_bytes, kSnapshotMetaMagic, 3);
    if (!fields.ok()) return fields.status().Prepend(path);
    snapshot_ = SnapshotMeta{(*fields)[0], (*fields)[1]};
    if ((*fields)[2] != 0) {
      // ResetToSnapshot was interrupted between recording the snapshot and deleting the old
      // log: finish it.
      std::vector<uint64_t> firsts;
      RETURN_NOT_OK(wal::ListSegments(dir, &firsts));
      LOG(WARNING) << "Finishing an interrupted reset to snapshot " << Describe(snapshot_)
                   << ": deleting " << firsts.size() << " segment(s)";
      RETURN_NOT_OK(wal::RemoveSegments(dir, firsts));
      RETURN_NOT_OK(WriteSnapshotMeta(snapshot_, /*reset_pending=*/false));
    }
  } else if (meta_bytes.status().code() != ErrorCode::kNotFound) {
    return meta_bytes.status();
  }
  return Status::OK();
}

Status DiskStorage::Impl::WriteSnapshotMeta(const SnapshotMeta& meta, bool reset_pending) {
  return state_file::WriteDurably(
      options_.dir, kSnapshotMetaFile,
      state_file::Encode(kSnapshotMetaMagic, {meta.index, meta.term, reset_pending ? 1u : 0u}));
}

Status DiskStorage::Impl::WriteCommit(Index commit) {
  std::string bytes = state_file::Encode(kCommitMagic, {commit});
  ssize_t n = ::pwrite(commit_fd_, bytes.data(), bytes.size(), 0);
  if (n != static_cast<ssize_t>(bytes.size())) {
    return Status::FromErrno(n < 0 ? errno : EIO, "writing " + options_.dir + "/" + kCommitFile);
  }
  return Status::OK();
}

std::vector<Entry> DiskStorage::Impl::LoadEntries() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (locations_.empty()) return {};
  auto entries = EntriesLocked(snapshot_.index + 1, LastIndexLocked() + 1,
                               std::numeric_limits<size_t>::max());
  // The log verified at Open; failing to read it back now means the disk is failing, and a
  // Raft member must not run on a log it cannot read.
  CHECK(entries.ok()) << "reading the raft log in " << options_.dir << ": " << entries.status();
  return std::move(*entries);
}

Status DiskStorage::Impl::CutFrom(Index index) {
  const std::string& dir = options_.dir;
  const size_t k = SegmentOf(index);
  const uint64_t offset = Location(index).offset;
  // Newest first, so that a crash part-way leaves a log without a hole; synced before the cut
  // below, so that no later segment can outlive it.
  std::vector<uint64_t> later(segment_firsts_.rbegin(),
                              segment_firsts_.rbegin() + (segment_firsts_.size() - k - 1));
  if (!later.empty()) {
    writer_.reset();
    RETURN_NOT_OK(wal::RemoveSegments(dir, later));
    segment_firsts_.resize(k + 1);
  }
  locations_.resize(index - snapshot_.index - 1);
  if (writer_ != nullptr) {
    RETURN_NOT_OK(writer_->TruncateTo(offset));
    // Durable before new records go over the old ones: a crash must not leave new records
    // followed by old ones that happen to line up.
    RETURN_NOT_OK(writer_->Sync());
  } else {
    // Cuts and syncs.
    ASSIGN_OR_RETURN(writer_, wal::SegmentWriter::OpenForAppend(dir, segment_firsts_[k], offset));
  }
  return Status::OK();
}

Status DiskStorage::Impl::Append(const std::vector<Entry>& entries) {
  if (entries.empty()) return Status::OK();
  std::lock_guard<std::mutex> lock(mutex_);
  RETURN_NOT_OK(failure_);
  const Index first = entries.front().index;
  if (first <= snapshot_.index) {
    return Status::InvalidArgument("raft append at index " + std::to_string(first) +
                                   ", inside the snapshot " + Describe(snapshot_));
  }
  if (first > LastIndexLocked() + 1) {
    return Status::InvalidArgument("raft append at index " + std::to_string(first) +
                                   " leaves a gap after the last index " +
                                   std::to_string(LastIndexLocked()));
  }
  Term previous_term = TermLocked(first - 1);
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (e.index != first + i) {
      return Status::InvalidArgument("raft append: entry " + std::to_string(i) + " has index " +
                                     std::to_string(e.index) + ", expected " +
                                     std::to_string(first + i));
    }
    if (e.term < previous_term) {
      return Status::InvalidArgument("raft append: term goes down to " + std::to_string(e.term) +
                                     " at index " + std::to_string(e.index));
    }
    if (e.data.size() > wal::kMaxPayloadBytes) {
      return Status::InvalidArgument("raft append: entry " + std::to_string(e.index) + " has " +
                                     std::to_string(e.data.size()) + " bytes, more than " +
                                     std::to_string(wal::kMaxPayloadBytes));
    }
    previous_term = e.term;
  }

  Status s;
  if (first <= LastIndexLocked()) {
    s = CutFrom(first);
    if (!s.ok()) return Fail(s);
  }
  if (writer_ != nullptr && writer_->size() >= options_.segment_size_limit_bytes &&
      writer_->size() > wal::kSegmentHeaderSize) {
    s = writer_->Seal();
    if (!s.ok()) return Fail(s);
    writer_.reset();
  }
  if (writer_ == nullptr) {
    // Either there is no segment (a new or reset log) or the last one is full and sealed.
    auto created = wal::SegmentWriter::Create(options_.dir, first);
    if (!created.ok()) return Fail(created.status());
    writer_ = std::move(*created);
    segment_firsts_.push_back(first);
  }

  encode_buffer_.clear();
  const uint64_t base = writer_->size();
  std::vector<EntryLocation> added;
  added.reserve(entries.size());
  for (const Entry& e : entries) {
    added.push_back({e.term, base + encode_buffer_.size(), static_cast<uint32_t>(e.data.size())});
    wal::AppendRecord(e.term, e.index, e.data, &encode_buffer_);
  }
  s = writer_->Append(encode_buffer_);
  if (s.ok()) s = writer_->Sync();
  if (!s.ok()) {
    // Not durable, so not in the log; try not to leave the records on disk either.
    Status cut = writer_->TruncateTo(base);
    if (!cut.ok()) LOG(ERROR) << "Could not cut off the failed raft append: " << cut;
    return Fail(s);
  }
  locations_.insert(locations_.end(), added.begin(), added.end());
  if (encode_buffer_.capacity() > (4u << 20)) std::string().swap(encode_buffer_);
  return Status::OK();
}

Status DiskStorage::Impl::SetHardState(const HardState& hs) {
  std::lock_guard<std::mutex> lock(mutex_);
  RETURN_NOT_OK(failure_);
  if (hs.term < hard_state_.term) {
    return Status::InvalidArgument("raft hard state: term " + std::to_string(hs.term) +
                                   " is below the stored " + std::to_string(hard_state_.term));
  }
  if (hs.term == hard_state_.term && hard_state_.vote != kNoNode && hs.vote != hard_state_.vote) {
    return Status::InvalidArgument("raft hard state: a second vote (" + std::to_string(hs.vote) +
                                   ", was " + std::to_string(hard_state_.vote) + ") in term " +
                                   std::to_string(hs.term));
  }
  if (hs.term != hard_state_.term || hs.vote != hard_state_.vote) {
    // Term and vote are promises to other members: durable before anything is sent.
    Status s = state_file::WriteDurably(
        options_.dir, kHardStateFile,
        state_file::Encode(kHardStateMagic, {hs.term, hs.vote, hs.commit}));
    if (!s.ok()) return Fail(s);
  } else if (hs.commit != hard_state_.commit) {
    // A commit index is a fact learned from the leader (or a quorum): losing the latest on a
    // crash only delays applying, so it is written without a sync. The file is read back as
    // max(hard_state's commit, this one).
    Status s = WriteCommit(hs.commit);
    if (!s.ok()) return Fail(s);
  }
  hard_state_ = hs;
  return Status::OK();
}

Status DiskStorage::Impl::Compact(const SnapshotMeta& meta) {
  std::lock_guard<std::mutex> lock(mutex_);
  RETURN_NOT_OK(failure_);
  if (meta.index < snapshot_.index) {
    return Status::InvalidArgument("raft compact to " + Describe(meta) +
                                   ", below the snapshot " + Describe(snapshot_));
  }
  if (meta.index > LastIndexLocked()) {
    return Status::InvalidArgument("raft compact to " + Describe(meta) + ", beyond the log (" +
                                   std::to_string(LastIndexLocked()) + ")");
  }
  if (TermLocked(meta.index) != meta.term) {
    return Status::InvalidArgument("raft compact to " + Describe(meta) + ": the entry has term " +
                                   std::to_string(TermLocked(meta.index)));
  }
  if (meta.index == snapshot_.index) return Status::OK();

  // Durable first: once the start moved, the segments below are garbage whether or not the
  // deletions that follow survive a crash.
  Status s = WriteSnapshotMeta(meta, /*reset_pending=*/false);
  if (!s.ok()) return Fail(s);
  locations_.erase(locations_.begin(), locations_.begin() + (meta.index - snapshot_.index));
  snapshot_ = meta;

  // Whole segments at or below meta.index go; one that straddles it stays.
  std::vector<uint64_t> obsolete;
  while (!segment_firsts_.empty()) {
    const bool last = segment_firsts_.size() == 1;
    const Index segment_last = last ? LastIndexLocked() : segment_firsts_[1] - 1;
    if (segment_last > meta.index) break;
    obsolete.push_back(segment_firsts_.front());
    segment_firsts_.pop_front();
    if (last) writer_.reset();
  }
  s = wal::RemoveSegments(options_.dir, obsolete);
  if (!s.ok()) return Fail(s);
  return Status::OK();
}

Status DiskStorage::Impl::ResetToSnapshot(const SnapshotMeta& meta) {
  std::lock_guard<std::mutex> lock(mutex_);
  RETURN_NOT_OK(failure_);
  if (meta.index < snapshot_.index || (meta.index == snapshot_.index && meta.term != snapshot_.term)) {
    return Status::InvalidArgument("raft reset to snapshot " + Describe(meta) +
                                   ", not after the current snapshot " + Describe(snapshot_));
  }
  if (meta.term < snapshot_.term) {
    return Status::InvalidArgument("raft reset to snapshot " + Describe(meta) +
                                   ": its term is below the current snapshot's " +
                                   Describe(snapshot_));
  }
  // The pending mark makes the reset atomic: should a crash come before the old segments are
  // all gone, Open deletes the rest rather than let an old log follow the new snapshot.
  Status s = WriteSnapshotMeta(meta, /*reset_pending=*/true);
  if (!s.ok()) return Fail(s);
  snapshot_ = meta;
  writer_.reset();
  std::vector<uint64_t> all(segment_firsts_.begin(), segment_firsts_.end());
  segment_firsts_.clear();
  locations_.clear();
  s = wal::RemoveSegments(options_.dir, all);
  if (s.ok()) s = WriteSnapshotMeta(meta, /*reset_pending=*/false);
  if (!s.ok()) return Fail(s);
  return Status::OK();
}

Result<std::vector<Entry>> DiskStorage::Impl::Entries(Index lo, Index hi,
                                                      size_t max_bytes) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return EntriesLocked(lo, hi, max_bytes);
}

Result<std::vector<Entry>> DiskStorage::Impl::EntriesLocked(Index lo, Index hi,
                                                            size_t max_bytes) const {
  if (lo <= snapshot_.index) {
    return Status::InvalidArgument("raft entries from " + std::to_string(lo) +
                                   ": compacted into the snapshot " + Describe(snapshot_));
  }
  if (hi > LastIndexLocked() + 1 || lo > hi) {
    return Status::InvalidArgument("raft entries [" + std::to_string(lo) + ", " +
                                   std::to_string(hi) + ") outside the log, which ends at " +
                                   std::to_string(LastIndexLocked()));
  }
  // Decide how many first (at least one), then read each segment's run with one pread.
  Index end = lo;
  size_t bytes = 0;
  while (end < hi) {
    size_t size = Location(end).payload_bytes;
    if (end > lo && bytes + size > max_bytes) break;
    bytes += size;
    ++end;
  }
  std::vector<Entry> out;
  out.reserve(end - lo);
  Index index = lo;
  while (index < end) {
    size_t k = SegmentOf(index);
    Index run_end = k + 1 < segment_firsts_.size() ? std::min<Index>(end, segment_firsts_[k + 1])
                                                   : end;
    RETURN_NOT_OK(ReadRun(segment_firsts_[k], index, run_end, &out));
    index = run_end;
  }
  return out;
}

Status DiskStorage::Impl::ReadRun(uint64_t first, Index lo, Index hi,
                                  std::vector<Entry>* out) const {
  const std::string path = wal::SegmentPath(options_.dir, first);
  const uint64_t begin = Location(lo).offset;
  const EntryLocation& last = Location(hi - 1);
  const uint64_t finish = last.offset + wal::kRecordHeaderSize + last.payload_bytes;
  std::string buffer(finish - begin, '\0');
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "opening " + path);
  size_t done = 0;
  Status s;
  while (done < buffer.size()) {
    ssize_t n = ::pread(fd, buffer.data() + done, buffer.size() - done,
                        static_cast<off_t>(begin + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s = Status::FromErrno(errno, "reading " + path);
      break;
    }
    if (n == 0) {
      s = Status::Corruption(path + " is shorter than the log written to it");
      break;
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  RETURN_NOT_OK(s);
  std::string_view rest(buffer);
  for (Index index = lo; index < hi; ++index) {
    wal::DecodedRecord record;
    wal::DecodeOutcome outcome = wal::DecodeRecord(rest, &record);
    if (outcome != wal::DecodeOutcome::kOk || record.index != index ||
        record.term != Location(index).term) {
      return Status::Corruption(path + ": the record of index " + std::to_string(index) +
                                " no longer verifies (" + wal::DecodeOutcomeName(outcome) + ")");
    }
    out->push_back(Entry{record.term, record.index, std::string(record.payload)});
    rest.remove_prefix(record.encoded_size);
  }
  return Status::OK();
}

// ---- DiskStorage ----------------------------------------------------------------------------

Result<std::unique_ptr<DiskStorage>> DiskStorage::Open(DiskStorageOptions options) {
  auto impl = std::make_unique<Impl>(options);
  Status s = impl->Open();
  if (!s.ok()) return s.Prepend("opening raft storage in " + options.dir);
  return std::unique_ptr<DiskStorage>(new DiskStorage(std::move(impl)));
}

DiskStorage::DiskStorage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DiskStorage::~DiskStorage() = default;

HardState DiskStorage::LoadHardState() const { return impl_->LoadHardState(); }
SnapshotMeta DiskStorage::LoadSnapshotMeta() const { return impl_->LoadSnapshotMeta(); }
std::vector<Entry> DiskStorage::LoadEntries() const { return impl_->LoadEntries(); }
Status DiskStorage::Append(const std::vector<Entry>& entries) { return impl_->Append(entries); }
Status DiskStorage::SetHardState(const HardState& hs) { return impl_->SetHardState(hs); }
Status DiskStorage::Compact(const SnapshotMeta& meta) { return impl_->Compact(meta); }
Status DiskStorage::ResetToSnapshot(const SnapshotMeta& meta) {
  return impl_->ResetToSnapshot(meta);
}
Index DiskStorage::FirstIndex() const { return impl_->FirstIndex(); }
Index DiskStorage::LastIndex() const { return impl_->LastIndex(); }
Result<std::vector<Entry>> DiskStorage::Entries(Index lo, Index hi, size_t max_bytes) const {
  return impl_->Entries(lo, hi, max_bytes);
}

}  // namespace talus::raft
