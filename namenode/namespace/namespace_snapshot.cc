#include "namenode/namespace/namespace_snapshot.h"

#include <fcntl.h>
#include <glog/logging.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

#include "common/crc32c.h"
#include "namenode/namespace/keys.h"

namespace talus {

namespace {

constexpr std::string_view kMagic = "TALUSNSS";
constexpr std::string_view kEndMagic = "TALUSEND";
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 8 + 4 + 4 + 8 + 8 + 8;
constexpr size_t kTrailerSize = 4 + 8;
constexpr size_t kRecordHeaderSize = 8;
// No key of the layout in keys.h comes near this; a length above it is damage.
constexpr uint32_t kMaxKeyBytes = 1 << 16;
constexpr size_t kIoBufferBytes = 1 << 20;
// Staging writes the database in batches of about this size.
constexpr size_t kStageBatchBytes = 1 << 20;

constexpr std::string_view kStagedMarker = "STAGED";
constexpr std::string_view kInstalledMarker = "INSTALLED_SNAPSHOT";
constexpr std::string_view kMarkerTitle = "talus-namespace-snapshot 1";

void PutLe32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutLe64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetLe32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t GetLe64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// Bytewise, as LevelDB's default comparator orders keys.
int CompareBytes(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  const int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  if (c != 0) return c;
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

std::string NormalizeDir(const std::string& dir) {
  std::string out = dir;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string ParentDir(const std::string& path) {
  std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { (void)Close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  Status Close() {
    if (fd_ < 0) return Status::OK();
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? Status::OK() : Status::FromErrno(errno, "close");
  }

 private:
  int fd_;
};

Status WriteAll(int fd, const char* data, size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "writing " + path);
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return Status::OK();
}

// fsync()s a file or a directory (so the names created, renamed or removed in it stay so).
Status SyncPath(const std::string& path, bool directory) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0)));
  if (fd.get() < 0) return Status::FromErrno(errno, "opening " + path + " to sync it");
  if (::fsync(fd.get()) != 0) return Status::FromErrno(errno, "fsync " + path);
  return fd.Close();
}

// Replaces `path` with `content` so that a crash leaves either the old file or the whole new
// one, and the new one is durable on return.
Status WriteFileDurably(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) return Status::FromErrno(errno, "creating " + tmp);
    RETURN_NOT_OK(WriteAll(fd.get(), content.data(), content.size(), tmp));
    if (::fsync(fd.get()) != 0) return Status::FromErrno(errno, "fsync " + tmp);
    RETURN_NOT_OK(fd.Close());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::FromErrno(errno, "renaming " + tmp + " to " + path);
  }
  return SyncPath(ParentDir(path), /*directory=*/true);
}

Result<bool> Exists(const std::string& path) {
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (ec) return Status::IoError("cannot stat " + path + ": " + ec.message());
  return exists;
}

Status RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return Status::IoError("cannot remove " + path + ": " + ec.message());
  return Status::OK();
}

Status Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return Status::FromErrno(errno, "renaming " + from + " to " + to);
  }
  return SyncPath(ParentDir(to), /*directory=*/true);
}

std::string EncodeMarker(const NamespaceSnapshotMeta& meta) {
  return std::string(kMarkerTitle) + "\nindex " + std::to_string(meta.index) + "\nterm " +
         std::to_string(meta.term) + "\n";
}

// nullopt when the file does not exist; Corruption when it is not a marker.
Result<std::optional<NamespaceSnapshotMeta>> ReadMarker(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    // ENOTDIR: what should be a directory holding the marker is a file; no marker either.
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<NamespaceSnapshotMeta>();
    return Status::FromErrno(errno, "opening " + path);
  }
  char buf[256];
  size_t size = 0;
  while (size < sizeof(buf)) {
    const ssize_t r = ::read(fd.get(), buf + size, sizeof(buf) - size);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "reading " + path);
    }
    if (r == 0) break;
    size += static_cast<size_t>(r);
  }
  const std::string text(buf, size);
  const Status bad = Status::Corruption("not a namespace snapshot marker: " + path);
  if (size == sizeof(buf)) return bad;
  std::string_view rest = text;
  auto line = [&rest](std::string_view* out) {
    const size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) return false;
    *out = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    return true;
  };
  auto number = [](std::string_view s, std::string_view prefix, uint64_t* out) {
    if (s.substr(0, prefix.size()) != prefix) return false;
    s.remove_prefix(prefix.size());
    if (s.empty() || s.size() > 20) return false;
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      const uint64_t digit = static_cast<uint64_t>(c - '0');
      if (v > (UINT64_MAX - digit) / 10) return false;
      v = v * 10 + digit;
    }
    *out = v;
    return true;
  };
  std::string_view title, index_line, term_line;
  NamespaceSnapshotMeta meta;
  if (!line(&title) || title != kMarkerTitle || !line(&index_line) ||
      !number(index_line, "index ", &meta.index) || !line(&term_line) ||
      !number(term_line, "term ", &meta.term) || !rest.empty()) {
    return bad;
  }
  return std::optional<NamespaceSnapshotMeta>(meta);
}

// Sequential reads through a buffer, failing with Corruption at the end of the file.
class FileReader {
 public:
  FileReader(int fd, std::string path, uint64_t size) : fd_(fd), path_(std::move(path)) {
    buffer_.resize(static_cast<size_t>(std::min<uint64_t>(kIoBufferBytes, size + 1)));
  }

  Status Read(char* dst, size_t n) {
    while (n > 0) {
      if (pos_ == end_) {
        const ssize_t r = ::read(fd_, buffer_.data(), buffer_.size());
        if (r < 0) {
          if (errno == EINTR) continue;
          return Status::FromErrno(errno, "reading " + path_);
        }
        if (r == 0) return Status::Corruption("namespace snapshot " + path_ + " is truncated");
        pos_ = 0;
        end_ = static_cast<size_t>(r);
      }
      const size_t take = std::min(n, end_ - pos_);
      std::memcpy(dst, buffer_.data() + pos_, take);
      pos_ += take;
      dst += take;
      n -= take;
    }
    return Status::OK();
  }

  Status ReadInto(std::string* out, size_t n) {
    out->resize(n);
    return Read(out->data(), n);
  }

 private:
  int fd_;
  std::string path_;
  std::string buffer_;
  size_t pos_ = 0;
  size_t end_ = 0;
};

using RecordVisitor = std::function<Status(std::string_view key, std::string_view value)>;

// Reads and checks the whole file, handing each record to `visit` as it goes (so a visitor
// sees records before the trailer's CRC is checked: verify first when that matters).
Result<NamespaceSnapshotInfo> ReadSnapshotFile(const std::string& path,
                                               const RecordVisitor& visit) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Status::FromErrno(errno, "opening namespace snapshot " + path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, "stat " + path);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  auto corrupt = [&path](const std::string& what) {
    return Status::Corruption("namespace snapshot " + path + ": " + what);
  };
  if (size < kHeaderSize + kTrailerSize) return corrupt("too short to be a snapshot");
  FileReader reader(fd.get(), path, size);

  char header[kHeaderSize];
  RETURN_NOT_OK(reader.Read(header, kHeaderSize));
  if (std::string_view(header, 8) != kMagic) return corrupt("bad magic");
  if (GetLe32(header + 8) != kVersion) {
    return corrupt("unknown version " + std::to_string(GetLe32(header + 8)));
  }
  if (GetLe32(header + 12) != 0) return corrupt("reserved header field is not 0");
  NamespaceSnapshotInfo info;
  info.meta.index = GetLe64(header + 16);
  info.meta.term = GetLe64(header + 24);
  const uint64_t expected_entries = GetLe64(header + 32);
  info.bytes = size;
  uint32_t crc = crc32c::Value(header, kHeaderSize);

  const uint64_t records_end = size - kTrailerSize;
  uint64_t pos = kHeaderSize;
  std::string key, value, previous_key;
  bool have_previous = false;
  bool saw_applied_index = false;
  while (pos < records_end) {
    if (records_end - pos < kRecordHeaderSize) return corrupt("torn record at " + std::to_string(pos));
    char lengths[kRecordHeaderSize];
    RETURN_NOT_OK(reader.Read(lengths, kRecordHeaderSize));
    const uint32_t key_len = GetLe32(lengths);
    const uint32_t value_len = GetLe32(lengths + 4);
    const uint64_t room = records_end - pos - kRecordHeaderSize;
    if (key_len > kMaxKeyBytes || uint64_t{key_len} + value_len > room) {
      return corrupt("bad record lengths at " + std::to_string(pos));
    }
    RETURN_NOT_OK(reader.ReadInto(&key, key_len));
    RETURN_NOT_OK(reader.ReadInto(&value, value_len));
    crc = crc32c::Extend(crc, lengths, kRecordHeaderSize);
    crc = crc32c::Extend(crc, key.data(), key.size());
    crc = crc32c::Extend(crc, value.data(), value.size());
    if (have_previous && CompareBytes(previous_key, key) >= 0) {
      return corrupt("keys out of order at " + std::to_string(pos));
    }
    if (key == keys::kMetaAppliedIndex) {
      if (value.size() != 8 || keys::DecodeBigEndian64(value) != info.meta.index) {
        return corrupt("applied index record does not match the header's " +
                       std::to_string(info.meta.index));
      }
      saw_applied_index = true;
    }
    if (visit) RETURN_NOT_OK(visit(key, value));
    pos += kRecordHeaderSize + key_len + value_len;
    ++info.entries;
    previous_key.swap(key);
    have_previous = true;
  }
  char trailer[kTrailerSize];
  RETURN_NOT_OK(reader.Read(trailer, kTrailerSize));
  if (std::string_view(trailer + 4, 8) != kEndMagic) return corrupt("bad trailer");
  if (GetLe32(trailer) != crc) return corrupt("checksum mismatch");
  if (info.entries != expected_entries) {
    return corrupt("holds " + std::to_string(info.entries) + " records, the header says " +
                   std::to_string(expected_entries));
  }
  if (!saw_applied_index) return corrupt("no applied index record");
  char extra;
  Status more = reader.Read(&extra, 1);
  if (more.ok()) return corrupt("bytes after the trailer");
  if (more.code() != ErrorCode::kCorruption) return more;
  return info;
}

Status FromLevelDb(const leveldb::Status& s, const std::string& what) {
  if (s.ok()) return Status::OK();
  if (s.IsCorruption()) return Status::Corruption(what + ": " + s.ToString());
  return Status::IoError(what + ": " + s.ToString());
}

// Writes the staged database and syncs every file of it; the caller removes `dir` on failure.
Status BuildStagedDatabase(const std::string& snapshot_path, const std::string& dir,
                           uint64_t index) {
  static const leveldb::FilterPolicy* bloom = leveldb::NewBloomFilterPolicy(10);
  leveldb::Options opts;
  opts.create_if_missing = true;
  opts.error_if_exists = true;
  opts.paranoid_checks = true;
  opts.filter_policy = bloom;
  opts.write_buffer_size = 16 << 20;
  leveldb::DB* raw = nullptr;
  RETURN_NOT_OK(FromLevelDb(leveldb::DB::Open(opts, dir, &raw), "creating " + dir));
  std::unique_ptr<leveldb::DB> db(raw);
  leveldb::WriteBatch batch;
  leveldb::WriteOptions unsynced;
  auto put = [&](std::string_view key, std::string_view value) -> Status {
    batch.Put(leveldb::Slice(key.data(), key.size()), leveldb::Slice(value.data(), value.size()));
    if (batch.ApproximateSize() < kStageBatchBytes) return Status::OK();
    Status s = FromLevelDb(db->Write(unsynced, &batch), "writing " + dir);
    batch.Clear();
    return s;
  };
  // Read again rather than trusting the verification pass: the file could have changed since.
  RETURN_NOT_OK(ReadSnapshotFile(snapshot_path, put).status());
  leveldb::WriteOptions synced;
  synced.sync = true;
  RETURN_NOT_OK(FromLevelDb(db->Write(synced, &batch), "writing " + dir));
  std::string applied;
  RETURN_NOT_OK(FromLevelDb(
      db->Get(leveldb::ReadOptions(),
              leveldb::Slice(keys::kMetaAppliedIndex.data(), keys::kMetaAppliedIndex.size()),
              &applied),
      "reading back the applied index of " + dir));
  if (applied.size() != 8 || keys::DecodeBigEndian64(applied) != index) {
    return Status::Corruption("the staged namespace " + dir + " does not hold index " +
                              std::to_string(index));
  }
  db.reset();
  // LevelDB syncs its log and tables but not every directory entry it makes: sync them all.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec)) RETURN_NOT_OK(SyncPath(entry.path().string(), false));
  }
  if (ec) return Status::IoError("cannot list " + dir + ": " + ec.message());
  RETURN_NOT_OK(SyncPath(dir, /*directory=*/true));
  return SyncPath(ParentDir(dir), /*directory=*/true);
}

}  // namespace

std::string StagedNamespaceDir(const std::string& namespace_dir) {
  return NormalizeDir(namespace_dir) + ".staged";
}

std::string OldNamespaceDir(const std::string& namespace_dir) {
  return NormalizeDir(namespace_dir) + ".old";
}

Result<uint64_t> WriteNamespaceSnapshot(const NamespaceStore& store, const std::string& path,
                                        uint64_t term) {
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<NamespaceStore::ReadView> view = store.NewReadView();
  ASSIGN_OR_RETURN(std::optional<std::string> applied, view->Get(keys::kMetaAppliedIndex));
  if (!applied || applied->size() != 8) {
    return Status::Corruption("the namespace has no applied index record");
  }
  const uint64_t index = keys::DecodeBigEndian64(*applied);

  const std::string tmp = path + ".tmp";
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) return Status::FromErrno(errno, "creating " + tmp);
  auto write = [&]() -> Status {
    // The header is written last, once the record count is known; its CRC is combined with
    // the records' (crc32c::Combine) so the records are read only once.
    std::string buffer(kHeaderSize, '\0');
    uint32_t body_crc = 0;
    uint64_t body_bytes = 0;
    uint64_t entries = 0;
    std::unique_ptr<leveldb::Iterator> it = view->NewIterator();
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const leveldb::Slice key = it->key();
      const leveldb::Slice value = it->value();
      if (key.size() > kMaxKeyBytes || value.size() > UINT32_MAX) {
        return Status::Corruption("namespace key too large for a snapshot");
      }
      const size_t record_start = buffer.size();
      PutLe32(&buffer, static_cast<uint32_t>(key.size()));
      PutLe32(&buffer, static_cast<uint32_t>(value.size()));
      buffer.append(key.data(), key.size());
      buffer.append(value.data(), value.size());
      const size_t record_bytes = buffer.size() - record_start;
      body_crc = crc32c::Extend(body_crc, buffer.data() + record_start, record_bytes);
      body_bytes += record_bytes;
      ++entries;
      if (buffer.size() >= kIoBufferBytes) {
        RETURN_NOT_OK(WriteAll(fd.get(), buffer.data(), buffer.size(), tmp));
        buffer.clear();
      }
    }
    if (!it->status().ok()) return FromLevelDb(it->status(), "reading the namespace");
    std::string header(kMagic);
    PutLe32(&header, kVersion);
    PutLe32(&header, 0);
    PutLe64(&header, index);
    PutLe64(&header, term);
    PutLe64(&header, entries);
    const uint32_t crc =
        crc32c::Combine(crc32c::Value(header.data(), header.size()), body_crc, body_bytes);
    PutLe32(&buffer, crc);
    buffer.append(kEndMagic);
    RETURN_NOT_OK(WriteAll(fd.get(), buffer.data(), buffer.size(), tmp));
    if (::pwrite(fd.get(), header.data(), header.size(), 0) !=
        static_cast<ssize_t>(header.size())) {
      return Status::FromErrno(errno, "writing the header of " + tmp);
    }
    if (::fsync(fd.get()) != 0) return Status::FromErrno(errno, "fsync " + tmp);
    RETURN_NOT_OK(fd.Close());
    RETURN_NOT_OK(Rename(tmp, path));
    LOG(INFO) << "Wrote namespace snapshot " << path << " at index " << index << ": " << entries
              << " records, " << (kHeaderSize + body_bytes + kTrailerSize) << " bytes in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count()
              << " ms";
    return Status::OK();
  };
  Status written = write();
  if (!written.ok()) {
    (void)fd.Close();
    ::unlink(tmp.c_str());
    return written;
  }
  return index;
}

Result<NamespaceSnapshotInfo> VerifyNamespaceSnapshot(const std::string& path) {
  return ReadSnapshotFile(path, nullptr);
}

Status StageNamespaceSnapshot(const std::string& snapshot_path, const std::string& namespace_dir,
                              uint64_t index, uint64_t term) {
  const std::string staged = StagedNamespaceDir(namespace_dir);
  ASSIGN_OR_RETURN(NamespaceSnapshotInfo info, VerifyNamespaceSnapshot(snapshot_path));
  if (info.meta.index != index) {
    return Status::InvalidArgument("namespace snapshot " + snapshot_path + " holds index " +
                                   std::to_string(info.meta.index) + ", not " +
                                   std::to_string(index));
  }
  if (info.meta.term != 0 && info.meta.term != term) {
    return Status::InvalidArgument("namespace snapshot " + snapshot_path + " ends at term " +
                                   std::to_string(info.meta.term) + ", not " +
                                   std::to_string(term));
  }
  RETURN_NOT_OK(RemoveAll(staged));
  std::error_code ec;
  std::filesystem::create_directories(ParentDir(staged), ec);
  if (ec) return Status::IoError("cannot create the parent of " + staged + ": " + ec.message());
  Status built = BuildStagedDatabase(snapshot_path, staged, index);
  if (built.ok()) {
    // Last: the marker is what makes the staged database count.
    built = WriteFileDurably(staged + "/" + std::string(kStagedMarker),
                             EncodeMarker(NamespaceSnapshotMeta{index, term}));
  }
  if (!built.ok()) {
    Status removed = RemoveAll(staged);
    if (!removed.ok()) LOG(WARNING) << removed;
    return built;
  }
  LOG(INFO) << "Staged namespace snapshot at index " << index << " term " << term << " ("
            << info.entries << " records) in " << staged << "; it replaces "
            << NormalizeDir(namespace_dir) << " at the next start";
  return Status::OK();
}

Result<std::optional<NamespaceSnapshotMeta>> CompleteStagedNamespace(
    const std::string& namespace_dir) {
  const std::string live = NormalizeDir(namespace_dir);
  const std::string staged = StagedNamespaceDir(live);
  const std::string old = OldNamespaceDir(live);
  const std::string parent = ParentDir(live);

  ASSIGN_OR_RETURN(bool staged_exists, Exists(staged));
  if (staged_exists) {
    Result<std::optional<NamespaceSnapshotMeta>> marker =
        ReadMarker(staged + "/" + std::string(kStagedMarker));
    if (!marker.ok() && marker.status().code() != ErrorCode::kCorruption) return marker.status();
    if (marker.ok() && marker->has_value()) {
      const NamespaceSnapshotMeta meta = **marker;
      // Inside the staged directory first, so the swap carries it along atomically.
      RETURN_NOT_OK(WriteFileDurably(staged + "/" + std::string(kInstalledMarker),
                                     EncodeMarker(meta)));
      ASSIGN_OR_RETURN(bool live_exists, Exists(live));
      if (live_exists) {
        // An .old beside a live namespace is the leftover of an earlier install.
        RETURN_NOT_OK(RemoveAll(old));
        RETURN_NOT_OK(Rename(live, old));
      }
      RETURN_NOT_OK(Rename(staged, live));
      LOG(INFO) << "Installed the staged namespace snapshot (index " << meta.index << ", term "
                << meta.term << ") as " << live;
    } else {
      LOG(WARNING) << "Removing " << staged << ": "
                   << (marker.ok() ? std::string("staging never completed")
                                   : marker.status().ToString());
      RETURN_NOT_OK(RemoveAll(staged));
      RETURN_NOT_OK(SyncPath(parent, /*directory=*/true));
    }
  }

  ASSIGN_OR_RETURN(bool live_exists, Exists(live));
  ASSIGN_OR_RETURN(bool old_exists, Exists(old));
  if (old_exists) {
    if (!live_exists) {
      // Only a damaged staged directory (removed above) can leave this: keep the old state.
      LOG(WARNING) << "Restoring " << old << " as " << live;
      RETURN_NOT_OK(Rename(old, live));
    } else {
      RETURN_NOT_OK(RemoveAll(old));
      RETURN_NOT_OK(SyncPath(parent, /*directory=*/true));
    }
  }
  if (!live_exists && !old_exists) return std::optional<NamespaceSnapshotMeta>();

  // The staged marker came along with the swap; the installed one replaces it.
  const std::string stale_marker = live + "/" + std::string(kStagedMarker);
  ASSIGN_OR_RETURN(bool stale, Exists(stale_marker));
  if (stale) {
    if (::unlink(stale_marker.c_str()) != 0 && errno != ENOENT) {
      return Status::FromErrno(errno, "removing " + stale_marker);
    }
    RETURN_NOT_OK(SyncPath(live, /*directory=*/true));
  }
  return ReadMarker(live + "/" + std::string(kInstalledMarker));
}

Status ForgetInstalledSnapshot(const std::string& namespace_dir) {
  const std::string live = NormalizeDir(namespace_dir);
  const std::string marker = live + "/" + std::string(kInstalledMarker);
  if (::unlink(marker.c_str()) != 0) {
    if (errno == ENOENT) return Status::OK();
    return Status::FromErrno(errno, "removing " + marker);
  }
  return SyncPath(live, /*directory=*/true);
}

}  // namespace talus
