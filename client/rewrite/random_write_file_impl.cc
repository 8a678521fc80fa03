#include "client/rewrite/random_write_file_impl.h"

#include <glog/logging.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "client/stream/data_streamer.h"
#include "client/stream/input_stream_impl.h"
#include "client/stream/inode_path.h"
#include "common/transfer/checksum.h"

namespace talus::client {

namespace {

constexpr uint32_t kBytesPerChecksum = transfer::kDefaultBytesPerChecksum;
// allocateBlock tries per block, each leaving out one more datanode that failed its pipeline.
constexpr int kMaxBlockTries = 3;
// Stream bytes kept to recognise a rewrite of the file's last partial page.
constexpr size_t kTailBytes = 64 * 1024;

size_t PacketBytes(int requested) {
  size_t bytes = requested > 0 ? static_cast<size_t>(requested) : transfer::kDefaultPacketDataBytes;
  bytes = std::min<size_t>(bytes, transfer::kMaxPacketDataBytes);
  bytes -= bytes % kBytesPerChecksum;
  return std::max<size_t>(bytes, kBytesPerChecksum);
}

}  // namespace

std::unique_ptr<RandomWriteFileImpl> RandomWriteFileImpl::ForCreated(const StreamContext& ctx,
                                                                     const std::string& path,
                                                                     const OpenedFile& file,
                                                                     int16_t replication,
                                                                     int64_t block_size) {
  FileInfo info = file.info;
  info.inode_id = file.file_id;
  info.path = path;
  const int16_t rep = file.replication > 0 ? file.replication : replication;
  const int64_t bs = file.block_size > 0 ? file.block_size : block_size;
  auto f = std::unique_ptr<RandomWriteFileImpl>(new RandomWriteFileImpl(ctx, path, info, rep, bs));
  f->stream_ = OutputStreamImpl::ForCreated(ctx, path, file, rep, bs);
  f->mode_ = Mode::kStreaming;
  f->stats_.streams = 1;
  return f;
}

std::unique_ptr<RandomWriteFileImpl> RandomWriteFileImpl::ForExisting(const StreamContext& ctx,
                                                                      const std::string& path,
                                                                      const FileInfo& info) {
  auto f = std::unique_ptr<RandomWriteFileImpl>(
      new RandomWriteFileImpl(ctx, path, info, info.replication, info.block_size));
  f->dirty_.Reset(info.length);
  return f;
}

RandomWriteFileImpl::RandomWriteFileImpl(const StreamContext& ctx, const std::string& path,
                                         const FileInfo& info, int16_t replication,
                                         int64_t block_size)
    : ctx_(ctx),
      path_(path),
      rpc_path_(ctx.address_by_inode ? InodePath(info.inode_id) : path),
      info_(info),
      file_id_(info.inode_id),
      replication_(replication > 0 ? replication : ctx.options.default_replication),
      block_size_(block_size > 0 ? block_size : ctx.options.default_block_size),
      pool_(PacketBytes(ctx.options.write_packet_bytes), kBytesPerChecksum) {}

RandomWriteFileImpl::~RandomWriteFileImpl() {
  Status s = Close();
  if (!s.ok()) LOG(WARNING) << "closing " << path_ << " on destruction: " << s;
}

RandomWriteFileImpl::Stats RandomWriteFileImpl::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

int64_t RandomWriteFileImpl::LengthLocked() const {
  return mode_ == Mode::kStreaming ? stream_->Tell() : dirty_.length();
}

int64_t RandomWriteFileImpl::Length() const {
  std::lock_guard<std::mutex> lock(mu_);
  return LengthLocked();
}

bool RandomWriteFileImpl::Dirty() const {
  std::lock_guard<std::mutex> lock(mu_);
  return mode_ != Mode::kIdle;
}

void RandomWriteFileImpl::HoldLease() {
  if (!lease_held_ && ctx_.leases != nullptr) {
    ctx_.leases->StreamOpened();
    lease_held_ = true;
  }
}

void RandomWriteFileImpl::DropLease() {
  if (lease_held_) {
    ctx_.leases->StreamClosed();
    lease_held_ = false;
  }
}

// --- mode changes ---

Status RandomWriteFileImpl::StartStreaming() {
  ASSIGN_OR_RETURN(stream_, OutputStreamImpl::OpenAppend(ctx_, rpc_path_));
  mode_ = Mode::kStreaming;
  ++stats_.streams;
  stream_visible_ = stream_->Tell();
  tail_.clear();
  reader_.reset();  // the file is under construction now: a reader must learn it again
  return Status::OK();
}

Status RandomWriteFileImpl::EndStreaming() {
  Status s = stream_->Close();
  const int64_t length = stream_->Tell();
  stream_.reset();
  tail_.clear();
  reader_.reset();
  mode_ = Mode::kIdle;
  dirty_.Reset(length);
  if (!s.ok()) {
    // What the stream held is lost or left to the namenode's lease recovery: the file's
    // content is no longer known here.
    broken_ = s;
    return s;
  }
  return Status::OK();
}

Status RandomWriteFileImpl::StartRewriting() {
  if (mode_ == Mode::kStreaming) RETURN_NOT_OK(EndStreaming());
  ASSIGN_OR_RETURN(OpenedFile file, ctx_.namenode->OpenForOverwrite(rpc_path_, ctx_.client_name));
  ++stats_.overwrites;
  HoldLease();
  mode_ = Mode::kRewriting;
  if (file.block_size > 0) block_size_ = file.block_size;
  dirty_.Reset(file.length);
  reader_.reset();
  return Status::OK();
}

Status RandomWriteFileImpl::StreamZeros(int64_t n) {
  static const std::vector<char> zeros(64 * 1024, 0);
  while (n > 0) {
    const size_t k = static_cast<size_t>(std::min<int64_t>(n, zeros.size()));
    RETURN_NOT_OK(StreamWrite(zeros.data(), k));
    n -= static_cast<int64_t>(k);
  }
  return Status::OK();
}

Status RandomWriteFileImpl::StreamWrite(const char* data, size_t n) {
  Status s = stream_->Write(data, n);
  if (!s.ok()) return broken_ = s;
  if (n >= kTailBytes) {
    tail_.assign(data + n - kTailBytes, kTailBytes);
  } else {
    if (tail_.size() + n > kTailBytes) tail_.erase(0, tail_.size() + n - kTailBytes);
    tail_.append(data, n);
  }
  return Status::OK();
}

Result<size_t> RandomWriteFileImpl::RepeatedPrefix(int64_t offset, const char* data, size_t n) {
  const int64_t end = LengthLocked();
  if (offset >= end || offset + static_cast<int64_t>(n) <= end ||
      end - offset > static_cast<int64_t>(kTailBytes)) {
    return size_t{0};
  }
  const size_t overlap = static_cast<size_t>(end - offset);
  if (mode_ == Mode::kStreaming) {
    if (overlap > tail_.size()) return size_t{0};
    return std::memcmp(tail_.data() + (tail_.size() - overlap), data, overlap) == 0 ? overlap
                                                                                    : 0;
  }
  if (mode_ != Mode::kIdle) return size_t{0};
  std::string held(overlap, '\0');
  RETURN_NOT_OK(ReadCommitted(offset, overlap, held.data()));
  return std::memcmp(held.data(), data, overlap) == 0 ? overlap : 0;
}

// --- the public calls ---

Status RandomWriteFileImpl::Write(int64_t offset, const void* data, size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!broken_.ok()) return broken_;
  if (closed_) return Status::IoError("write to " + path_ + " after it was closed");
  if (offset < 0) return Status::InvalidArgument("write at negative offset to " + path_);
  if (n == 0) return Status::OK();
  if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max() - offset)) {
    return Status::InvalidArgument("write past the largest file offset to " + path_);
  }
  return WriteLocked(offset, static_cast<const char*>(data), n);
}

Status RandomWriteFileImpl::WriteLocked(int64_t offset, const char* data, size_t n) {
  if (mode_ != Mode::kRewriting) {
    ASSIGN_OR_RETURN(size_t repeated, RepeatedPrefix(offset, data, n));
    offset += static_cast<int64_t>(repeated);
    data += repeated;
    n -= repeated;
  }
  if (mode_ == Mode::kIdle) {
    if (offset >= dirty_.length()) {
      RETURN_NOT_OK(StartStreaming());
    } else {
      RETURN_NOT_OK(StartRewriting());
    }
  }
  if (mode_ == Mode::kStreaming) {
    const int64_t end = stream_->Tell();
    if (offset >= end) {
      // A gap past the end is a hole: zeros, streamed as a copy-on-write flush would write them.
      if (offset > end) RETURN_NOT_OK(StreamZeros(offset - end));
      return StreamWrite(data, n);
    }
    RETURN_NOT_OK(StartRewriting());
  } else if (offset >= dirty_.length() && dirty_.dirty_bytes() == 0) {
    // Only a truncation is pending (O_TRUNC, then writing the file anew): commit it, and the
    // writes go on at the end through the streaming path instead of into memory.
    RETURN_NOT_OK(CommitRewrite(/*sync=*/false));
    return WriteLocked(offset, data, n);
  }
  dirty_.Write(offset, data, n);
  if (static_cast<int64_t>(dirty_.dirty_bytes()) > ctx_.options.max_dirty_bytes) {
    return FlushLocked(/*sync=*/false);
  }
  return Status::OK();
}

Status RandomWriteFileImpl::Truncate(int64_t length) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!broken_.ok()) return broken_;
  if (closed_) return Status::IoError("truncate of " + path_ + " after it was closed");
  if (length < 0) return Status::InvalidArgument("truncate of " + path_ + " to a negative length");
  return TruncateLocked(length);
}

Status RandomWriteFileImpl::TruncateLocked(int64_t length) {
  const int64_t current = LengthLocked();
  if (mode_ != Mode::kRewriting) {
    if (length == current) return Status::OK();
    if (length > current) {
      // Growing is writing zeros at the end: the streaming path does it without a commit.
      if (mode_ == Mode::kIdle) RETURN_NOT_OK(StartStreaming());
      // The append may have found the file longer than we knew.
      const int64_t end = stream_->Tell();
      if (length >= end) return StreamZeros(length - end);
    }
    RETURN_NOT_OK(StartRewriting());
  }
  dirty_.Truncate(length);
  return Status::OK();
}

Result<size_t> RandomWriteFileImpl::Read(int64_t offset, void* buf, size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!broken_.ok()) return broken_;
  if (closed_) return Status::IoError("read of " + path_ + " after it was closed");
  if (offset < 0) return Status::InvalidArgument("read at negative offset of " + path_);
  const int64_t length = LengthLocked();
  if (offset >= length || n == 0) return size_t{0};
  n = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(n), length - offset));
  char* out = static_cast<char*>(buf);
  if (mode_ == Mode::kStreaming) {
    if (offset + static_cast<int64_t>(n) > stream_visible_) {
      // Our own bytes still in the pipeline: make them readable (hflush), then read them back.
      Status s = stream_->Hflush();
      if (!s.ok()) return broken_ = s;
      stream_visible_ = stream_->Tell();
      reader_.reset();
    }
    RETURN_NOT_OK(ReadCommitted(offset, n, out));
    return n;
  }
  RETURN_NOT_OK(dirty_.Fill(offset, n, out, [this](int64_t off, size_t k, char* dst) {
    return ReadCommitted(off, k, dst);
  }));
  return n;
}

Status RandomWriteFileImpl::ReadCommitted(int64_t offset, size_t n, char* out) {
  if (!reader_) {
    ASSIGN_OR_RETURN(reader_, InputStreamImpl::Open(ctx_, rpc_path_));
  }
  // A read continuing the previous one keeps one block reader open (sequential reads through
  // FUSE); any other is a positioned read of just its bytes.
  const bool sequential = offset == next_sequential_;
  next_sequential_ = offset + static_cast<int64_t>(n);
  if (sequential && reader_->Tell() != offset) RETURN_NOT_OK(reader_->Seek(offset));
  while (n > 0) {
    ASSIGN_OR_RETURN(size_t got, sequential ? reader_->Read(out, n)
                                            : reader_->Pread(offset, out, n));
    if (got == 0) {
      return Status::IoError("reading " + path_ + ": the file ends at " +
                             std::to_string(offset) + ", before the bytes it should hold");
    }
    offset += static_cast<int64_t>(got);
    out += got;
    n -= got;
  }
  return Status::OK();
}

Status RandomWriteFileImpl::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!broken_.ok()) return broken_;
  if (closed_) return Status::IoError("flush of " + path_ + " after it was closed");
  return FlushLocked(/*sync=*/false);
}

Status RandomWriteFileImpl::Sync() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!broken_.ok()) return broken_;
  if (closed_) return Status::IoError("sync of " + path_ + " after it was closed");
  return FlushLocked(/*sync=*/true);
}

Status RandomWriteFileImpl::FlushLocked(bool sync) {
  switch (mode_) {
    case Mode::kIdle:
      return Status::OK();
    case Mode::kStreaming:
      if (sync) {
        Status s = stream_->Hsync();
        if (!s.ok()) {
          broken_ = s;
          stream_->Close().ok();  // already broken: the first error is the one reported
          stream_.reset();
          mode_ = Mode::kIdle;
          return s;
        }
      }
      return EndStreaming();
    case Mode::kRewriting:
      return CommitRewrite(sync);
  }
  return Status::OK();
}

Status RandomWriteFileImpl::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return broken_;
  closed_ = true;
  Status s = broken_.ok() ? FlushLocked(/*sync=*/false) : broken_;
  if (mode_ == Mode::kRewriting) AbandonRewrite();
  if (mode_ == Mode::kStreaming) {
    stream_->Close().ok();  // only after an error: the stream reports that one
    stream_.reset();
    mode_ = Mode::kIdle;
  }
  reader_.reset();
  DropLease();
  if (!s.ok() && broken_.ok()) broken_ = s;
  return s;
}

void RandomWriteFileImpl::AbandonRewrite() {
  // The lease would expire by itself; releasing it lets other writers in at once.
  Result<OpenedFile> released = ctx_.namenode->CommitBlocks(
      rpc_path_, file_id_, ctx_.client_name, {}, dirty_.committed_length(), /*release=*/true);
  if (!released.ok()) {
    LOG(WARNING) << "releasing " << path_ << " after a failed flush: " << released.status();
  }
  mode_ = Mode::kIdle;
  dirty_.Reset(dirty_.committed_length());
  DropLease();
}

// --- copy-on-write ---

Status RandomWriteFileImpl::CommitRewrite(bool sync) {
  const int64_t committed = dirty_.committed_length();
  // Every committed block but the last is full, so lengths follow from the file's length.
  std::vector<int64_t> old_lengths;
  for (int64_t off = 0; off < committed; off += block_size_) {
    old_lengths.push_back(std::min(block_size_, committed - off));
  }
  const std::vector<DirtyExtents::BlockChange> changes =
      dirty_.ChangedBlocks(block_size_, old_lengths);

  // The ids of the committed blocks being replaced.
  std::vector<uint64_t> old_ids(old_lengths.size(), 0);
  bool need_ids = false;
  for (const auto& c : changes) need_ids |= c.index < static_cast<int32_t>(old_lengths.size());
  if (need_ids) {
    int64_t from = changes.front().offset;
    const int64_t to = std::min(committed, changes.back().offset + changes.back().length);
    while (from < to) {
      ASSIGN_OR_RETURN(LocatedBlocks located,
                       ctx_.namenode->GetBlockLocations(rpc_path_, from, to - from));
      int64_t next = from;
      std::vector<LocatedBlock> listed = std::move(located.blocks);
      if (located.last_block) listed.push_back(*located.last_block);
      for (const LocatedBlock& lb : listed) {
        const int64_t index = lb.offset / block_size_;
        if (lb.offset % block_size_ != 0 || index >= static_cast<int64_t>(old_ids.size()) ||
            static_cast<int64_t>(lb.block.num_bytes) != old_lengths[index]) {
          return Status::Internal("rewriting " + path_ + ": the namenode lists " +
                                  lb.block.Name() + " at offset " + std::to_string(lb.offset) +
                                  ", not a block of the expected layout");
        }
        old_ids[index] = lb.block.block_id;
        next = std::max(next, lb.offset + static_cast<int64_t>(lb.block.num_bytes));
      }
      if (next <= from) {
        return Status::Internal("rewriting " + path_ + ": the namenode lists no block at " +
                                std::to_string(from));
      }
      from = next;
    }
  }

  // Committed bytes are read sequentially through one stream for the whole flush.
  std::unique_ptr<InputStream> source;
  DirtyExtents::CommittedReader read_committed = [&](int64_t off, size_t n,
                                                     char* out) -> Status {
    if (!source) {
      ASSIGN_OR_RETURN(source, InputStreamImpl::Open(ctx_, rpc_path_));
    }
    if (source->Tell() != off) RETURN_NOT_OK(source->Seek(off));
    while (n > 0) {
      ASSIGN_OR_RETURN(size_t got, source->Read(out, n));
      if (got == 0) {
        return Status::IoError("rewriting " + path_ + ": the committed file ends at " +
                               std::to_string(off));
      }
      off += static_cast<int64_t>(got);
      out += got;
      n -= got;
    }
    return Status::OK();
  };

  std::vector<BlockReplacement> replacements;
  replacements.reserve(changes.size());
  for (const auto& change : changes) {
    ASSIGN_OR_RETURN(BlockRef written, WriteBlock(change, sync, read_committed));
    BlockReplacement r;
    r.index = change.index;
    r.old_block_id = change.index < static_cast<int32_t>(old_ids.size()) ? old_ids[change.index]
                                                                         : 0;
    r.new_block = written;
    replacements.push_back(r);
  }
  source.reset();
  ASSIGN_OR_RETURN(OpenedFile file,
                   ctx_.namenode->CommitBlocks(rpc_path_, file_id_, ctx_.client_name,
                                               replacements, dirty_.length(), /*release=*/true));
  ++stats_.commits;
  stats_.blocks_written += static_cast<int>(replacements.size());
  if (file.length != dirty_.length()) {
    LOG(WARNING) << "commit of " << path_ << " answered length " << file.length << ", expected "
                 << dirty_.length();
  }
  mode_ = Mode::kIdle;
  dirty_.Reset(dirty_.length());
  reader_.reset();
  excluded_.clear();  // a node that failed once may serve the next flush
  DropLease();
  return Status::OK();
}

Result<BlockRef> RandomWriteFileImpl::WriteBlock(
    const DirtyExtents::BlockChange& change, bool sync,
    const DirtyExtents::CommittedReader& read_committed) {
  DataStreamer::Options options;
  options.timeout_ms = ctx_.options.datanode_timeout_ms;
  options.max_in_flight = std::max(ctx_.options.max_packets_in_flight, 1);
  options.max_recoveries = 0;
  options.replace_policy = ReplaceDatanodePolicy::kNever;
  Status last_error;
  for (int attempt = 0; attempt < kMaxBlockTries; ++attempt) {
    ASSIGN_OR_RETURN(LocatedBlock block, ctx_.namenode->AllocateBlock(rpc_path_, file_id_,
                                                                      ctx_.client_name,
                                                                      excluded_));
    transfer::WriteBlockOp op;
    op.block_id = block.block.block_id;
    op.genstamp = block.block.genstamp;
    op.latest_genstamp = block.block.genstamp;
    op.stage = transfer::WriteStage::kCreate;
    op.bytes_per_checksum = kBytesPerChecksum;
    op.client_name = ctx_.client_name;
    // No recovery: an allocated block is not the file's last block under construction, and a
    // failed copy is simply written again to another pipeline.
    Result<std::unique_ptr<DataStreamer>> opened =
        DataStreamer::Open(block, op, &pool_, options, DataStreamer::Recovery{});
    if (!opened.ok()) {
      last_error = opened.status();
      LOG(WARNING) << "pipeline for " << block.block.Name() << " of " << path_
                   << " failed: " << last_error;
      if (!last_error.detail().empty()) excluded_.push_back(last_error.detail());
      continue;
    }
    std::unique_ptr<DataStreamer> streamer = std::move(*opened);
    Status s;
    for (int64_t off = 0; off < change.length && s.ok();) {
      std::unique_ptr<Packet> packet = pool_.Get(static_cast<uint64_t>(off));
      const size_t k =
          static_cast<size_t>(std::min<int64_t>(pool_.data_bytes(), change.length - off));
      // A failed read of committed data is final: another pipeline would not help.
      Status filled = dirty_.Fill(change.offset + off, k,
                                  reinterpret_cast<char*>(packet->data.data()), read_committed);
      if (!filled.ok()) {
        pool_.Put(std::move(packet));
        return filled;
      }
      packet->data_len = static_cast<uint32_t>(k);
      packet->checksum_len = static_cast<uint32_t>(
          transfer::ChecksumCount(packet->offset_in_block, k, kBytesPerChecksum) *
          transfer::kChecksumBytes);
      transfer::ComputeChunkChecksums(packet->offset_in_block, packet->data.data(), k,
                                      kBytesPerChecksum, packet->checksums.data());
      off += static_cast<int64_t>(k);
      packet->last = off == change.length;
      packet->sync = sync && packet->last;
      s = streamer->Enqueue(std::move(packet));
    }
    if (s.ok()) s = streamer->WaitAcked();
    if (s.ok()) {
      BlockRef written = streamer->block().block;
      written.num_bytes = static_cast<uint64_t>(change.length);
      return written;
    }
    last_error = s;
    LOG(WARNING) << "writing " << block.block.Name() << " of " << path_ << " failed: " << s;
    if (!s.detail().empty()) excluded_.push_back(s.detail());
  }
  return last_error.Prepend("rewriting block " + std::to_string(change.index) + " of " + path_);
}

}  // namespace talus::client
