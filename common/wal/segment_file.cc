#include "common/wal/segment_file.h"

#include <glog/logging.h>

#include <algorithm>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "common/wal/record_codec.h"

namespace talus::wal {
namespace {

constexpr std::string_view kSegmentPrefix = "log-";
constexpr std::string_view kTemporarySuffix = ".tmp";
constexpr size_t kIndexDigits = 20;

Status ReadWholeFile(const std::string& path, std::string* contents) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "opening " + path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::FromErrno(err, "stat of " + path);
  }
  contents->resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < contents->size()) {
    ssize_t n = ::pread(fd, contents->data() + done, contents->size() - done,
                        static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno(err, "reading " + path);
    }
    if (n == 0) break;  // the file shrank under us; verify what we have
    done += static_cast<size_t>(n);
  }
  contents->resize(done);
  ::close(fd);
  return Status::OK();
}

Status WriteAllAt(int fd, std::string_view data, uint64_t offset, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "writing " + path);
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return Status::OK();
}

// The data sync (and every other durability failure) is an IoError whatever errno says, so
// callers see one kind of failure for "not durable".
Status SyncFailure(int err, const std::string& what) {
  return Status::IoError(Status::FromErrno(err, what).message());
}

}  // namespace

std::string SegmentFileName(uint64_t first_index) {
  char digits[kIndexDigits + 1];
  std::snprintf(digits, sizeof(digits), "%020llu", static_cast<unsigned long long>(first_index));
  return std::string(kSegmentPrefix) + digits;
}

bool ParseSegmentFileName(std::string_view name, uint64_t* first_index) {
  if (name.size() != kSegmentPrefix.size() + kIndexDigits) return false;
  if (name.substr(0, kSegmentPrefix.size()) != kSegmentPrefix) return false;
  uint64_t value = 0;
  for (char c : name.substr(kSegmentPrefix.size())) {
    if (c < '0' || c > '9') return false;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return false;
    value = value * 10 + digit;
  }
  *first_index = value;
  return true;
}

bool IsTemporarySegmentName(std::string_view name) {
  uint64_t ignored;
  return name.size() > kTemporarySuffix.size() &&
         name.substr(name.size() - kTemporarySuffix.size()) == kTemporarySuffix &&
         ParseSegmentFileName(name.substr(0, name.size() - kTemporarySuffix.size()), &ignored);
}

Result<SegmentScan> ScanSegment(const std::string& path, uint64_t expected_first_index,
                                const RecordVisitor& visit) {
  std::string contents;
  RETURN_NOT_OK(ReadWholeFile(path, &contents));
  auto first = DecodeSegmentHeader(contents);
  if (!first.ok()) return first.status().Prepend(path);
  if (*first != expected_first_index) {
    return Status::Corruption(path + ": header names first index " + std::to_string(*first));
  }
  SegmentScan scan;
  scan.first_index = *first;
  scan.last_index = *first - 1;
  scan.file_bytes = contents.size();
  size_t offset = kSegmentHeaderSize;
  while (offset < contents.size()) {
    DecodedRecord record;
    auto outcome = DecodeRecord(std::string_view(contents).substr(offset), &record);
    if (outcome != DecodeOutcome::kOk) {
      scan.damage = std::string(DecodeOutcomeName(outcome)) + " at offset " +
                    std::to_string(offset);
      break;
    }
    if (record.index != scan.last_index + 1) {
      return Status::Corruption(path + ": record at offset " + std::to_string(offset) +
                                " has index " + std::to_string(record.index) + ", expected " +
                                std::to_string(scan.last_index + 1));
    }
    if (visit) RETURN_NOT_OK(visit(record.term, record.index, record.payload));
    scan.last_index = record.index;
    offset += record.encoded_size;
  }
  scan.valid_bytes = offset;
  return scan;
}

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::Create(const std::string& dir,
                                                             uint64_t first_index) {
  std::string path = dir + "/" + SegmentFileName(first_index);
  std::string tmp_path = path + std::string(kTemporarySuffix);
  int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, "creating " + tmp_path);
  std::string header = EncodeSegmentHeader(first_index);
  Status s = WriteAllAt(fd, header, 0, tmp_path);
  if (s.ok() && ::fsync(fd) != 0) s = SyncFailure(errno, "fsync of " + tmp_path);
  if (s.ok() && ::rename(tmp_path.c_str(), path.c_str()) != 0) {
    s = Status::FromErrno(errno, "renaming " + tmp_path);
  }
  if (s.ok()) s = FsyncDirectory(dir);
  if (!s.ok()) {
    ::close(fd);
    ::unlink(tmp_path.c_str());
    return s;
  }
  return std::unique_ptr<SegmentWriter>(
      new SegmentWriter(fd, std::move(path), first_index, header.size()));
}

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::OpenForAppend(const std::string& dir,
                                                                   uint64_t first_index,
                                                                   uint64_t valid_bytes) {
  std::string path = dir + "/" + SegmentFileName(first_index);
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "opening " + path);
  std::unique_ptr<SegmentWriter> writer(new SegmentWriter(fd, path, first_index, valid_bytes));
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::FromErrno(errno, "stat of " + path);
  if (static_cast<uint64_t>(st.st_size) != valid_bytes) {
    RETURN_NOT_OK(writer->TruncateTo(valid_bytes));
    if (::fsync(fd) != 0) return SyncFailure(errno, "fsync of " + path);
  }
  return writer;
}

SegmentWriter::~SegmentWriter() { ::close(fd_); }

Status SegmentWriter::Append(std::string_view data) {
  RETURN_NOT_OK(WriteAllAt(fd_, data, size_, path_));
  size_ += data.size();
  if (size_ > allocated_) allocated_ = size_;
  if (allocated_ - size_ < kPreallocateBytes / 2) {
    // Zero-fill the next stretch now; the sync that follows pays the one size change for it.
    static const std::string* zeros = new std::string(kPreallocateBytes, '\0');
    const uint64_t target = (size_ / kPreallocateBytes + 2) * kPreallocateBytes;
    while (allocated_ < target) {
      uint64_t n = std::min<uint64_t>(target - allocated_, zeros->size());
      Status s = WriteAllAt(fd_, std::string_view(*zeros).substr(0, n), allocated_, path_);
      if (!s.ok()) {
        // Only an optimisation: on a full disk go on without room ahead, and let the record
        // writes themselves report ENOSPC.
        LOG_EVERY_N(WARNING, 100) << "cannot preallocate " << path_ << ": " << s;
        if (::ftruncate(fd_, static_cast<off_t>(size_)) == 0) allocated_ = size_;
        break;
      }
      allocated_ += n;
    }
  }
  return Status::OK();
}

Status SegmentWriter::Seal() {
  if (allocated_ != size_) RETURN_NOT_OK(TruncateTo(size_));
  return Sync();
}

Status SegmentWriter::Sync() {
  if (::fdatasync(fd_) != 0) return SyncFailure(errno, "fdatasync of " + path_);
  return Status::OK();
}

Status SegmentWriter::TruncateTo(uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    return Status::FromErrno(errno, "truncating " + path_);
  }
  size_ = size;
  allocated_ = size;
  return Status::OK();
}

Status FsyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "opening directory " + dir);
  Status s;
  if (::fsync(fd) != 0) s = SyncFailure(errno, "fsync of directory " + dir);
  ::close(fd);
  return s;
}

std::string SegmentPath(const std::string& dir, uint64_t first_index) {
  return dir + "/" + SegmentFileName(first_index);
}

// Creates `dir` if needed, syncing its parent so the new directory itself survives a crash.
Status EnsureDirectory(const std::string& dir) {
  std::error_code ec;
  bool created = std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError("creating directory " + dir + ": " + ec.message());
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::NotADirectory(dir + " is not a directory");
  }
  if (created) {
    std::string parent = std::filesystem::path(dir).lexically_normal().parent_path().string();
    RETURN_NOT_OK(FsyncDirectory(parent.empty() ? "." : parent));
  }
  return Status::OK();
}

// Lists segment files by first index, removing leftovers of an interrupted segment creation.
Status ListSegments(const std::string& dir, std::vector<uint64_t>* first_indexes) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Status::FromErrno(errno, "listing " + dir);
  bool removed_any = false;
  Status s;
  errno = 0;
  while (struct dirent* ent = ::readdir(d)) {
    std::string_view name = ent->d_name;
    uint64_t first;
    if (ParseSegmentFileName(name, &first)) {
      first_indexes->push_back(first);
    } else if (IsTemporarySegmentName(name)) {
      std::string path = dir + "/" + std::string(name);
      LOG(WARNING) << "Removing " << path << ", left by an interrupted segment creation";
      if (::unlink(path.c_str()) != 0) {
        s = Status::FromErrno(errno, "removing " + path);
        break;
      }
      removed_any = true;
    }
    errno = 0;
  }
  if (s.ok() && errno != 0) s = Status::FromErrno(errno, "listing " + dir);
  ::closedir(d);
  RETURN_NOT_OK(s);
  std::sort(first_indexes->begin(), first_indexes->end());
  if (removed_any) RETURN_NOT_OK(FsyncDirectory(dir));
  return Status::OK();
}

Status RemoveSegments(const std::string& dir, const std::vector<uint64_t>& first_indexes) {
  if (first_indexes.empty()) return Status::OK();
  for (uint64_t first : first_indexes) {
    std::string path = SegmentPath(dir, first);
    if (::unlink(path.c_str()) != 0) return Status::FromErrno(errno, "removing " + path);
  }
  return FsyncDirectory(dir);
}

}  // namespace talus::wal
