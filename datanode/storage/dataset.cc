#include "datanode/storage/dataset.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <shared_mutex>

#include <glog/logging.h>

#include "common/crc32c.h"
#include "datanode/storage/block_meta.h"

namespace talus::datanode {

std::string BlockFileName(uint64_t block_id) { return "blk_" + std::to_string(block_id); }

std::string MetaFileName(uint64_t block_id, uint64_t genstamp) {
  return "blk_" + std::to_string(block_id) + "_" + std::to_string(genstamp) + ".meta";
}

namespace {

// How much newly written data is handed to writeback at a time.
constexpr uint64_t kWritebackChunkBytes = uint64_t{8} << 20;


std::string Describe(uint64_t block_id) { return "block " + std::to_string(block_id); }

Status ValidateIds(uint64_t block_id, uint64_t genstamp) {
  if (block_id == 0) return Status::InvalidArgument("block id must be positive");
  if (genstamp == 0) {
    return Status::InvalidArgument(Describe(block_id) + ": generation stamp must be positive");
  }
  // Ids travel as signed 64-bit integers in Thrift.
  if (block_id > uint64_t{INT64_MAX} || genstamp > uint64_t{INT64_MAX}) {
    return Status::InvalidArgument(Describe(block_id) + ": id or generation stamp out of range");
  }
  return Status::OK();
}

}  // namespace

DataSet::~DataSet() = default;

std::vector<Volume*> DataSet::volumes() const {
  std::vector<Volume*> out;
  for (const auto& v : volumes_) out.push_back(v.get());
  return out;
}

VolumeUsage DataSet::TotalUsage() const {
  VolumeUsage total;
  for (const auto& v : volumes_) {
    if (v->failed()) continue;
    auto u = v->Usage();
    if (!u.ok()) {
      (void)v->CheckIo(u.status());
      continue;
    }
    total.capacity_bytes += u->capacity_bytes;
    total.used_bytes += u->used_bytes;
    total.remaining_bytes += u->remaining_bytes;
  }
  return total;
}

std::vector<std::string> DataSet::FailedVolumes() const {
  std::vector<std::string> out;
  for (const auto& v : volumes_) {
    if (v->failed()) out.push_back(v->root() + ": " + v->failure_reason());
  }
  return out;
}

Result<std::shared_ptr<Replica>> DataSet::Lookup(uint64_t block_id) const {
  auto r = map_.Get(block_id);
  if (r == nullptr) return Status::NotFound(Describe(block_id) + ": no such replica");
  return r;
}

Status DataSet::CheckGenstamp(const Replica& r, uint64_t genstamp, bool allow_newer) const {
  if (r.deleted) return Status::NotFound(Describe(r.block_id) + ": replica was deleted");
  if (r.info.volume->failed()) {
    return Status::IoError(Describe(r.block_id) + ": volume " + r.info.volume->root() +
                           " has failed");
  }
  uint64_t have = r.info.genstamp;
  if (have == genstamp || (allow_newer && have > genstamp)) return Status::OK();
  return Status::InvalidArgument(Describe(r.block_id) + ": generation stamp " +
                                 std::to_string(genstamp) + " does not match the replica's " +
                                 std::to_string(have) +
                                 (have < genstamp ? " (stale replica)" : ""));
}

Result<ReplicaInfo> DataSet::GetReplica(uint64_t block_id) const {
  ASSIGN_OR_RETURN(auto r, Lookup(block_id));
  std::shared_lock<std::shared_mutex> l(r->mu);
  if (r->deleted) return Status::NotFound(Describe(block_id) + ": replica was deleted");
  return r->info;
}

Status DataSet::OpenRbwFiles(Replica* r) {
  if (r->data_fd.valid() && r->meta_fd.valid()) return Status::OK();
  Volume* v = r->info.volume;
  ASSIGN_OR_RETURN(r->data_fd, OpenFile(r->info.data_path, O_RDWR));
  auto meta = OpenFile(r->info.meta_path, O_RDWR);
  if (!meta.ok()) {
    r->data_fd.Reset();
    return v->CheckIo(meta.status());
  }
  r->meta_fd = std::move(meta).value();
  return Status::OK();
}

Result<ReplicaInfo> DataSet::CreateRbw(uint64_t block_id, uint64_t genstamp,
                                       uint64_t expected_bytes) {
  RETURN_NOT_OK(ValidateIds(block_id, genstamp));
  if (expected_bytes > options_.max_block_bytes) {
    return Status::InvalidArgument(Describe(block_id) + ": expected size " +
                                   std::to_string(expected_bytes) + " exceeds the limit " +
                                   std::to_string(options_.max_block_bytes));
  }
  if (map_.Get(block_id) != nullptr) {
    return Status::AlreadyExists(Describe(block_id) + ": replica already exists");
  }
  const uint64_t block_bytes = std::max(expected_bytes, options_.expected_block_bytes);
  const uint64_t reserve = block_bytes + MetaFileLength(block_bytes);
  Result<Volume*> chosen = chooser_.Choose(volumes(), reserve, reserve);
  if (!chosen.ok()) {
    return Status(chosen.status().code(),
                  Describe(block_id) + ": no room for a new replica on this datanode: " +
                      chosen.status().message());
  }
  Volume* v = *chosen;
  auto r = std::make_shared<Replica>(block_id);
  std::unique_lock<std::shared_mutex> l(r->mu);
  r->reserved = reserve;
  r->info.genstamp = genstamp;
  r->info.state = ReplicaState::kRbw;
  r->info.volume = v;
  r->info.data_path = v->rbw_dir() + "/" + BlockFileName(block_id);
  r->info.meta_path = v->rbw_dir() + "/" + MetaFileName(block_id, genstamp);
  // Claim the id before touching the disk so two creators cannot both write the files.
  if (!map_.Insert(r)) {
    ReleaseReserved(r.get());
    return Status::AlreadyExists(Describe(block_id) + ": replica already exists");
  }
  auto fail = [&](Status s) {
    ReleaseReserved(r.get());
    r->deleted = true;
    r->data_fd.Reset();
    r->meta_fd.Reset();
    ::unlink(r->info.data_path.c_str());
    ::unlink(r->info.meta_path.c_str());
    map_.Remove(block_id, r.get());
    return v->CheckIo(std::move(s));
  };
  // O_EXCL: a leftover file of the same name is a bug or an unscanned volume, never reused.
  auto data = OpenFile(r->info.data_path, O_RDWR | O_CREAT | O_EXCL);
  if (!data.ok()) {
    ReleaseReserved(r.get());
    map_.Remove(block_id, r.get());
    r->deleted = true;
    return v->CheckIo(data.status());
  }
  r->data_fd = std::move(data).value();
  auto meta = OpenFile(r->info.meta_path, O_RDWR | O_CREAT | O_TRUNC);
  if (!meta.ok()) return fail(meta.status());
  r->meta_fd = std::move(meta).value();
  std::string header = EncodeMetaHeader();
  Status s = PwriteAll(r->meta_fd.get(), header.data(), header.size(), 0, r->info.meta_path);
  if (!s.ok()) return fail(s);
  v->AddUsedBytes(static_cast<int64_t>(header.size()));
  return r->info;
}

Status DataSet::Append(uint64_t block_id, uint64_t genstamp, uint64_t offset,
                       std::string_view data, std::string_view checksums) {
  RETURN_NOT_OK(ValidateIds(block_id, genstamp));
  if (data.size() > options_.max_io_bytes) {
    return Status::InvalidArgument(Describe(block_id) + ": append of " +
                                   std::to_string(data.size()) + " bytes exceeds the limit " +
                                   std::to_string(options_.max_io_bytes));
  }
  if (offset > options_.max_block_bytes || data.size() > options_.max_block_bytes - offset) {
    return Status::InvalidArgument(Describe(block_id) + ": write past the maximum block size " +
                                   std::to_string(options_.max_block_bytes));
  }
  ASSIGN_OR_RETURN(auto r, Lookup(block_id));
  std::unique_lock<std::shared_mutex> l(r->mu);
  RETURN_NOT_OK(CheckGenstamp(*r, genstamp, /*allow_newer=*/false));
  if (r->info.state != ReplicaState::kRbw) {
    return Status::InvalidArgument(Describe(block_id) + ": cannot write a " +
                                   ReplicaStateName(r->info.state) + " replica");
  }
  return AppendLocked(r.get(), offset, data, checksums);
}

Status DataSet::AppendLocked(Replica* r, uint64_t offset, std::string_view data,
                             std::string_view checksums) {
  const std::string what = Describe(r->block_id);
  RETURN_NOT_OK(VerifyChecksums(data, checksums, offset, what + " (received packet)"));
  const uint64_t length = r->info.bytes_on_disk;
  const uint64_t last_chunk_start = length - length % kBytesPerChecksum;
  if (offset + data.size() <= length) return Status::OK();  // a resend of what is on disk
  if (offset > length || offset < last_chunk_start) {
    return Status::InvalidArgument(what + ": write at offset " + std::to_string(offset) +
                                   " but the replica holds " + std::to_string(length) +
                                   " bytes (writes must start in its last partial chunk or at "
                                   "its end)");
  }
  if (data.empty()) return Status::OK();
  Volume* v = r->info.volume;
  RETURN_NOT_OK(OpenRbwFiles(r));

  std::string sums(checksums);
  if (offset % kBytesPerChecksum != 0) {
    // The first chunk continues a partial chunk on disk: its stored checksum must cover the
    // old bytes before `offset` and the new ones, so recompute it from both.
    std::string old(length - last_chunk_start, '\0');
    RETURN_NOT_OK(v->CheckIo(
        PreadAll(r->data_fd.get(), old.data(), old.size(), last_chunk_start, r->info.data_path)));
    char stored[kChecksumBytes];
    RETURN_NOT_OK(v->CheckIo(PreadAll(r->meta_fd.get(), stored, sizeof(stored),
                                      ChecksumOffsetInMeta(last_chunk_start),
                                      r->info.meta_path)));
    if (crc32c::Value(old.data(), old.size()) != GetChecksum(stored)) {
      return Status::Corruption(what + ": checksum mismatch in chunk at offset " +
                                std::to_string(last_chunk_start) + " (last partial chunk on disk)");
    }
    size_t keep = static_cast<size_t>(offset - last_chunk_start);
    size_t first_len = static_cast<size_t>(kBytesPerChecksum - offset % kBytesPerChecksum);
    if (first_len > data.size()) first_len = data.size();
    uint32_t crc = crc32c::Extend(crc32c::Value(old.data(), keep), data.data(), first_len);
    PutChecksum(sums.data(), crc);
  }
  Status written =
      PwriteAll(r->data_fd.get(), data.data(), data.size(), offset, r->info.data_path);
  if (written.ok()) {
    written = PwriteAll(r->meta_fd.get(), sums.data(), sums.size(), ChecksumOffsetInMeta(offset),
                        r->info.meta_path);
  }
  if (!written.ok()) {
    // A full disk (or a failing one) took part of the write: put the replica back as it was,
    // so what stays on disk still matches its checksums.
    RollBackAppend(r, length);
    return v->CheckIo(written);
  }
  uint64_t new_length = offset + data.size();
  v->AddUsedBytes(static_cast<int64_t>(new_length - length) +
                  static_cast<int64_t>(MetaFileLength(new_length) - MetaFileLength(length)));
  r->info.bytes_on_disk = new_length;
  ReleaseReserved(r, (new_length - length) +
                         (MetaFileLength(new_length) - MetaFileLength(length)));
  // Start writeback of every few MiB as it arrives (without waiting for it), as HDFS's
  // sync.behind.writes: the disk works while the block streams in, instead of the whole block
  // being flushed by the fsync at finalize while the pipeline waits for the last ack.
  if (new_length >= r->writeback_started + kWritebackChunkBytes) {
    ::sync_file_range(r->data_fd.get(), static_cast<off64_t>(r->writeback_started),
                      static_cast<off64_t>(new_length - r->writeback_started),
                      SYNC_FILE_RANGE_WRITE);
    r->writeback_started = new_length;
  }
  return Status::OK();
}

void DataSet::ReleaseReserved(Replica* r, uint64_t bytes) {
  const uint64_t n = std::min(bytes, r->reserved);
  if (n == 0) return;
  r->reserved -= n;
  r->info.volume->Release(n);
}

void DataSet::RollBackAppend(Replica* r, uint64_t length) {
  const std::string what = Describe(r->block_id);
  bool ok = ::ftruncate(r->data_fd.get(), static_cast<off_t>(length)) == 0 &&
            ::ftruncate(r->meta_fd.get(), static_cast<off_t>(MetaFileLength(length))) == 0;
  const uint64_t tail = length % kBytesPerChecksum;
  if (ok && tail != 0) {
    // The stored checksum of the partial last chunk may have been overwritten by the new one:
    // recompute it from the bytes kept (overwriting 4 bytes in place needs no new space).
    const uint64_t start = length - tail;
    std::string chunk(tail, '\0');
    char sum[kChecksumBytes];
    ok = PreadAll(r->data_fd.get(), chunk.data(), chunk.size(), start, r->info.data_path).ok();
    if (ok) {
      PutChecksum(sum, crc32c::Value(chunk.data(), chunk.size()));
      ok = PwriteAll(r->meta_fd.get(), sum, sizeof(sum), ChecksumOffsetInMeta(start),
                     r->info.meta_path).ok();
    }
  }
  if (!ok) {
    LOG(ERROR) << what << ": cannot undo a failed write (" << std::strerror(errno)
               << "); the replica waits for recovery, which verifies it";
  }
}

Status DataSet::Sync(uint64_t block_id, uint64_t genstamp) {
  RETURN_NOT_OK(ValidateIds(block_id, genstamp));
  ASSIGN_OR_RETURN(auto r, Lookup(block_id));
  // Exclusive: an RWR replica's files may need opening, which changes the record.
  std::unique_lock<std::shared_mutex> l(r->mu);
  RETURN_NOT_OK(CheckGenstamp(*r, genstamp, false));
  if (r->info.state == ReplicaState::kFinalized) return Status::OK();  // already durable
  RETURN_NOT_OK(OpenRbwFiles(r.get()));
  Volume* v = r->info.volume;
  RETURN_NOT_OK(v->CheckIo(Fdatasync(r->data_fd.get(), r->info.data_path)));
  return v->CheckIo(Fdatasync(r->meta_fd.get(), r->info.meta_path));
}

Result<ReplicaInfo> DataSet::Finalize(uint64_t block_id, uint64_t genstamp) {
  RETURN_NOT_OK(ValidateIds(block_id, genstamp));
  ASSIGN_OR_RETURN(auto r, Lookup(block_id));
  std::unique_lock<std::shared_mutex> l(r->mu);
  RETURN_NOT_OK(CheckGenstamp(*r, genstamp, false));
  if (r->info.state == ReplicaState::kFinalized) return r->info;
  Volume* v = r->info.volume;
  RETURN_NOT_OK(OpenRbwFiles(r.get()));
  ASSIGN_OR_RETURN(uint64_t data_size, FileSize(r->data_fd.get(), r->info.data_path));
  if (data_size != r->info.bytes_on_disk) {
    return Status::Corruption(Describe(block_id) + ": data file holds " +
                              std::to_string(data_size) + " bytes, " +
                              std::to_string(r->info.bytes_on_disk) + " expected");
  }
  RETURN_NOT_OK(v->CheckIo(Fdatasync(r->data_fd.get(), r->info.data_path)));
  RETURN_NOT_OK(v->CheckIo(Fdatasync(r->meta_fd.get(), r->info.meta_path)));
  std::string dir = v->FinalizedDirFor(block_id);
  RETURN_NOT_OK(v->CheckIo(MakeDirs(dir)));
  std::string data_path = dir + "/" + BlockFileName(block_id);
  std::string meta_path = dir + "/" + MetaFileName(block_id, genstamp);
  // Meta first: a crash between the renames leaves the data in rbw/, which the start-up scan
  // turns back into a replica waiting for recovery.
  RETURN_NOT_OK(v->CheckIo(RenameFile(r->info.meta_path, meta_path)));
  r->info.meta_path = meta_path;
  RETURN_NOT_OK(v->CheckIo(RenameFile(r->info.data_path, data_path)));
  r->info.data_path = data_path;
  RETURN_NOT_OK(v->CheckIo(FsyncDir(dir)));
  RETURN_NOT_OK(v->CheckIo(FsyncDir(v->rbw_dir())));
  r->data_fd.Reset();
  r->meta_fd.Reset();
  r->info.state = ReplicaState::kFinalized;
  ReleaseReserved(r.get());
  return r->info;
}

namespace {

struct Range {
  uint64_t aligned = 0;
  uint64_t end = 0;
};

Status CheckRange(const ReplicaInfo& info, uint64_t offset, uint64_t length, uint64_t max_io,
                  Range* range) {
  const uint64_t len = info.bytes_on_disk;
  if (offset > len || length > len - offset) {
    return Status::InvalidArgument(Describe(info.block_id) + ": range [" +
                                   std::to_string(offset) + ", +" + std::to_string(length) +
                                   ") is outside the replica's " + std::to_string(len) +
                                   " bytes");
  }
  if (length > max_io) {
    return Status::InvalidArgument(Describe(info.block_id) + ": read of " +
                                   std::to_string(length) + " bytes exceeds the limit " +
                                   std::to_string(max_io));
  }
  range->aligned = offset - offset % kBytesPerChecksum;
  uint64_t end = offset + length;
  uint64_t rounded = (end + kBytesPerChecksum - 1) / kBytesPerChecksum * kBytesPerChecksum;
  range->end = length == 0 ? range->aligned : (rounded < len ? rounded : len);
  return Status::OK();
}

}  // namespace

Result<ReadResult> DataSet::Read(uint64_t block_id, uint64_t genstamp, uint64_t offset,
                                 uint64_t length) {
  RETURN_NOT_OK(ValidateIds(block_id, genstamp));
  ASSIGN_OR_RETURN(auto r, Lookup(block_id));
  // Shared with other readers; excludes appends, so the last partial chunk and its checksum
  // are seen together.
  std::shared_lock<std::shared_mutex> l(r->mu);
  RETURN_NOT_OK(CheckGenstamp(*r, genstamp, /*allow_newer=*/true));
  Range range;
  RETURN_NOT_OK(CheckRange(r->info, offset, length, options_.max_io_bytes, &range));
  ReadResult out;
  out.aligned_offset = range.aligned;
  out.skip = offset - range.aligned;
  out.replica_length = r->info.bytes_on_disk;
  if (range.end == range.aligned) return out;
  Volume* v = r->info.volume;
  ScopedFd data_owned, meta_owned;
  int data_fd = r->data_fd.get(), meta_fd = r->meta_fd.get();
  if (data_fd < 0 || meta_fd < 0) {
    ASSIGN_OR_RETURN(data_owned, OpenFile(r->info.data_path, O_RDONLY));
    ASSIGN_OR_RETURN(meta_owned, OpenFile(r->info.meta_path, O_RDONLY));
    data_fd = data_owned.get();
    meta_fd = meta_owned.get();
  }
  out.data.resize(range.end - range.aligned);
  out.checksums.resize(kChecksumBytes * ChunkCountAt(range.aligned, out.data.size()));
  RETURN_NOT_OK(v->CheckIo(
      PreadAll(data_fd, out.data.data(), out.data.size(), range.aligned, r->info.data_path)));
  RETURN_NOT_OK(v->CheckIo(PreadAll(meta_fd, out.checksums.data(), out.checksums.size(),
                                    ChecksumOffsetInMeta(range.aligned), r->info.meta_path)));
  RETURN_NOT_OK(VerifyChecksums(out.data, out.checksums, range.aligned,
                                Describe(block_id) + " on " + v->root()));
  return out;
}

Result<SendHandle> DataSet::OpenForSend(uint64_t block_id, uint64_t genstamp, uint64_t offset,
                                        uint64_t length) {
  RETURN_NOT_OK(ValidateIds(block_id, genstamp));
  ASSIGN_OR_RETURN(auto r, Lookup(block_id));
  std::shared_lock<std::shared_mutex> l(r->mu);
  RETURN_NOT_OK(CheckGenstamp(*r, genstamp, /*allow_newer=*/true));
  Range range;
  RETURN_NOT_OK(CheckRange(r->info, offset, length, options_.max_block_bytes, &range));
  SendHandle h;
  // Opened by path even for RBW replicas: the sender owns its descriptors, and they stay valid
  // if the replica is renamed (finalized) or deleted meanwhile.
  ASSIGN_OR_RETURN(h.data_fd, OpenFile(r->info.data_path, O_RDONLY));
  ASSIGN_OR_RETURN(h.meta_fd, OpenFile(r->info.meta_path, O_RDONLY));
  h.aligned_offset = range.aligned;
  h.end_offset = range.end;
  h.meta_offset = ChecksumOffsetInMeta(range.aligned);
  h.replica_length = r->info.bytes_on_disk;
  h.genstamp = r->info.genstamp;
  return h;
}

Status DataSet::Truncate(uint64_t block_id, uint64_t genstamp, uint64_t new_length) {
  RETURN_NOT_OK(ValidateIds(block_id, genstamp));
  ASSIGN_OR_RETURN(auto r, Lookup(block_id));
  std::unique_lock<std::shared_mutex> l(r->mu);
  RETURN_NOT_OK(CheckGenstamp(*r, genstamp, false));
  const std::string what = Describe(block_id);
  if (r->info.state == ReplicaState::kFinalized) {
    return Status::InvalidArgument(what + ": cannot truncate a FINALIZED replica");
  }
  uint64_t length = r->info.bytes_on_disk;
  if (new_length > length) {
    return Status::InvalidArgument(what + ": cannot truncate " + std::to_string(length) +
                                   " bytes to a larger " + std::to_string(new_length));
  }
  Volume* v = r->info.volume;
  RETURN_NOT_OK(OpenRbwFiles(r.get()));
  uint64_t tail = new_length % kBytesPerChecksum;
  char sum[kChecksumBytes];
  if (tail != 0) {
    // The new last chunk is partial: its checksum must cover only the bytes kept. Verify the
    // whole old chunk first so a corrupt chunk is not blessed with a fresh checksum.
    uint64_t start = new_length - tail;
    uint64_t old_end = start + kBytesPerChecksum < length ? start + kBytesPerChecksum : length;
    std::string chunk(old_end - start, '\0');
    RETURN_NOT_OK(v->CheckIo(
        PreadAll(r->data_fd.get(), chunk.data(), chunk.size(), start, r->info.data_path)));
    char stored[kChecksumBytes];
    RETURN_NOT_OK(v->CheckIo(PreadAll(r->meta_fd.get(), stored, sizeof(stored),
                                      ChecksumOffsetInMeta(start), r->info.meta_path)));
    RETURN_NOT_OK(VerifyChecksums(chunk, std::string_view(stored, sizeof(stored)), start, what));
    PutChecksum(sum, crc32c::Value(chunk.data(), tail));
  }
  if (::ftruncate(r->data_fd.get(), static_cast<off_t>(new_length)) != 0) {
    return v->CheckIo(Status::FromErrno(errno, "truncate " + r->info.data_path));
  }
  if (::ftruncate(r->meta_fd.get(), static_cast<off_t>(MetaFileLength(new_length))) != 0) {
    return v->CheckIo(Status::FromErrno(errno, "truncate " + r->info.meta_path));
  }
  if (tail != 0) {
    RETURN_NOT_OK(v->CheckIo(PwriteAll(r->meta_fd.get(), sum, sizeof(sum),
                                       ChecksumOffsetInMeta(new_length), r->info.meta_path)));
  }
  RETURN_NOT_OK(v->CheckIo(Fdatasync(r->data_fd.get(), r->info.data_path)));
  RETURN_NOT_OK(v->CheckIo(Fdatasync(r->meta_fd.get(), r->info.meta_path)));
  v->AddUsedBytes(-static_cast<int64_t>(length - new_length) -
                  static_cast<int64_t>(MetaFileLength(length) - MetaFileLength(new_length)));
  r->info.bytes_on_disk = new_length;
  return Status::OK();
}

Status DataSet::BumpGenstamp(uint64_t block_id, uint64_t old_genstamp, uint64_t new_genstamp) {
  RETURN_NOT_OK(ValidateIds(block_id, old_genstamp));
  RETURN_NOT_OK(ValidateIds(block_id, new_genstamp));
  if (new_genstamp <= old_genstamp) {
    return Status::InvalidArgument(Describe(block_id) + ": new generation stamp " +
                                   std::to_string(new_genstamp) + " is not above " +
                                   std::to_string(old_genstamp));
  }
  ASSIGN_OR_RETURN(auto r, Lookup(block_id));
  std::unique_lock<std::shared_mutex> l(r->mu);
  RETURN_NOT_OK(CheckGenstamp(*r, old_genstamp, false));
  Volume* v = r->info.volume;
  std::string dir = DirName(r->info.meta_path);
  std::string meta_path = dir + "/" + MetaFileName(block_id, new_genstamp);
  RETURN_NOT_OK(v->CheckIo(RenameFile(r->info.meta_path, meta_path)));
  r->info.meta_path = meta_path;
  r->info.genstamp = new_genstamp;
  return v->CheckIo(FsyncDir(dir));
}

Status DataSet::Delete(uint64_t block_id, uint64_t genstamp) {
  RETURN_NOT_OK(ValidateIds(block_id, genstamp));
  ASSIGN_OR_RETURN(auto r, Lookup(block_id));
  std::unique_lock<std::shared_mutex> l(r->mu);
  if (r->deleted) return Status::NotFound(Describe(block_id) + ": replica was deleted");
  if (r->info.genstamp != genstamp) {
    return Status::InvalidArgument(Describe(block_id) + ": generation stamp " +
                                   std::to_string(genstamp) + " does not match the replica's " +
                                   std::to_string(r->info.genstamp));
  }
  r->data_fd.Reset();
  r->meta_fd.Reset();
  Volume* v = r->info.volume;
  // Forget the replica even if a file is already gone or the volume failed: the namenode asked
  // for it to be gone, and a half-deleted replica must not be served.
  r->deleted = true;
  map_.Remove(block_id, r.get());
  ReleaseReserved(r.get());
  uint64_t length = r->info.bytes_on_disk;
  v->AddUsedBytes(-static_cast<int64_t>(length + MetaFileLength(length)));
  Status data = RemoveFile(r->info.data_path);
  Status meta = RemoveFile(r->info.meta_path);
  for (const Status* s : {&data, &meta}) {
    if (!s->ok() && !s->IsNotFound()) return v->CheckIo(*s);
    if (s->IsNotFound()) LOG(WARNING) << "Deleting " << Describe(block_id) << ": " << *s;
  }
  return Status::OK();
}

Result<ReplicaInfo> DataSet::AppendToFinalized(uint64_t block_id, uint64_t old_genstamp,
                                               uint64_t new_genstamp) {
  RETURN_NOT_OK(ValidateIds(block_id, old_genstamp));
  RETURN_NOT_OK(ValidateIds(block_id, new_genstamp));
  if (new_genstamp <= old_genstamp) {
    return Status::InvalidArgument(Describe(block_id) + ": new generation stamp " +
                                   std::to_string(new_genstamp) + " is not above " +
                                   std::to_string(old_genstamp));
  }
  ASSIGN_OR_RETURN(auto r, Lookup(block_id));
  std::unique_lock<std::shared_mutex> l(r->mu);
  RETURN_NOT_OK(CheckGenstamp(*r, old_genstamp, false));
  if (r->info.state != ReplicaState::kFinalized) {
    return Status::InvalidArgument(Describe(block_id) + ": append needs a FINALIZED replica, not " +
                                   ReplicaStateName(r->info.state));
  }
  Volume* v = r->info.volume;
  std::string old_dir = DirName(r->info.data_path);
  std::string data_path = v->rbw_dir() + "/" + BlockFileName(block_id);
  std::string meta_path = v->rbw_dir() + "/" + MetaFileName(block_id, new_genstamp);
  // Meta first, as in Finalize: a crash between leaves one file in each directory, which the
  // scan moves back into rbw/ as a replica waiting for recovery.
  RETURN_NOT_OK(v->CheckIo(RenameFile(r->info.meta_path, meta_path)));
  r->info.meta_path = meta_path;
  r->info.genstamp = new_genstamp;
  r->info.state = ReplicaState::kRbw;  // the files are no longer where a finalized one lives
  RETURN_NOT_OK(v->CheckIo(RenameFile(r->info.data_path, data_path)));
  r->info.data_path = data_path;
  RETURN_NOT_OK(v->CheckIo(FsyncDir(v->rbw_dir())));
  RETURN_NOT_OK(v->CheckIo(FsyncDir(old_dir)));
  RETURN_NOT_OK(OpenRbwFiles(r.get()));
  return r->info;
}

}  // namespace talus::datanode
