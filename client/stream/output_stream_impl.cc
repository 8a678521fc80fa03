#include "client/stream/output_stream_impl.h"

#include <glog/logging.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "client/stream/inode_path.h"
#include "common/transfer/checksum.h"

namespace talus::client {

namespace {

constexpr uint32_t kBytesPerChecksum = transfer::kDefaultBytesPerChecksum;
// addBlock tries, each leaving out one more datanode that refused the pipeline.
constexpr int kMaxBlockTries = 3;

// A whole number of chunks, within what the protocol allows.
size_t PacketBytes(int requested) {
  size_t bytes = requested > 0 ? static_cast<size_t>(requested) : transfer::kDefaultPacketDataBytes;
  bytes = std::min<size_t>(bytes, transfer::kMaxPacketDataBytes);
  bytes -= bytes % kBytesPerChecksum;
  return std::max<size_t>(bytes, kBytesPerChecksum);
}

}  // namespace

OutputStreamImpl::OutputStreamImpl(const StreamContext& ctx, std::string path, uint64_t file_id,
                                   int64_t block_size, int64_t length, int replication)
    : ctx_(ctx),
      path_(std::move(path)),
      rpc_path_(ctx.address_by_inode ? InodePath(file_id) : path_),
      file_id_(file_id),
      block_size_(block_size),
      replication_(replication),
      pool_(PacketBytes(ctx.options.write_packet_bytes), kBytesPerChecksum),
      file_pos_(length) {}

OutputStreamImpl::~OutputStreamImpl() {
  if (!closed_) {
    Status s = Close();
    if (!s.ok()) LOG(WARNING) << "closing " << path_ << " on destruction: " << s;
  }
}

DataStreamer::Options OutputStreamImpl::StreamerOptions() const {
  DataStreamer::Options o;
  o.timeout_ms = ctx_.options.datanode_timeout_ms;
  o.max_in_flight = std::max(ctx_.options.max_packets_in_flight, 1);
  o.max_recoveries = std::max(ctx_.options.pipeline_recovery_retries, 0);
  o.replace_policy = ctx_.options.replace_datanode_on_failure;
  return o;
}

DataStreamer::Recovery OutputStreamImpl::StreamerRecovery(bool appended) const {
  DataStreamer::Recovery r;
  r.namenode = ctx_.namenode;
  r.path = rpc_path_;
  r.file_id = file_id_;
  r.client_name = ctx_.client_name;
  r.replication = replication_;
  r.appended = appended;
  return r;
}

std::optional<LocatedBlock> OutputStreamImpl::CurrentBlock() const {
  if (!streamer_) return std::nullopt;
  return streamer_->block();
}

int OutputStreamImpl::pipeline_recoveries() const {
  return finished_recoveries_ + (streamer_ ? streamer_->recoveries() : 0);
}

Result<std::unique_ptr<OutputStream>> OutputStreamImpl::Create(const StreamContext& ctx,
                                                               const std::string& path,
                                                               const CreateOptions& options) {
  const int16_t replication =
      options.replication > 0 ? options.replication : ctx.options.default_replication;
  const int64_t block_size =
      options.block_size > 0 ? options.block_size : ctx.options.default_block_size;
  if (block_size <= 0 || block_size % kBytesPerChecksum != 0) {
    return Status::InvalidArgument("block size " + std::to_string(block_size) +
                                   " is not a positive multiple of " +
                                   std::to_string(kBytesPerChecksum) + " bytes");
  }
  const uint32_t mode = options.mode & ~ctx.options.umask & 07777;
  ASSIGN_OR_RETURN(OpenedFile file,
                   ctx.namenode->Create(path, mode, ctx.client_name, options.overwrite,
                                        options.create_parent, replication, block_size));
  return std::unique_ptr<OutputStream>(ForCreated(ctx, path, file, replication, block_size));
}

std::unique_ptr<OutputStreamImpl> OutputStreamImpl::ForCreated(const StreamContext& ctx,
                                                               const std::string& path,
                                                               const OpenedFile& file,
                                                               int16_t replication,
                                                               int64_t block_size) {
  auto stream = std::unique_ptr<OutputStreamImpl>(new OutputStreamImpl(
      ctx, path, file.file_id, file.block_size > 0 ? file.block_size : block_size, 0,
      file.replication > 0 ? file.replication : replication));
  stream->RegisterLease();
  return stream;
}

void OutputStreamImpl::RegisterLease() {
  if (ctx_.leases != nullptr && !lease_registered_) {
    ctx_.leases->StreamOpened();
    lease_registered_ = true;
  }
}

Result<std::unique_ptr<OutputStream>> OutputStreamImpl::Append(const StreamContext& ctx,
                                                               const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<OutputStreamImpl> stream, OpenAppend(ctx, path));
  return std::unique_ptr<OutputStream>(std::move(stream));
}

Result<std::unique_ptr<OutputStreamImpl>> OutputStreamImpl::OpenAppend(const StreamContext& ctx,
                                                                       const std::string& path) {
  ASSIGN_OR_RETURN(AppendedFile appended, ctx.namenode->Append(path, ctx.client_name));
  if (appended.file.block_size <= 0 || appended.file.block_size % kBytesPerChecksum != 0) {
    return Status::Internal("append of " + path + ": namenode sent block size " +
                            std::to_string(appended.file.block_size));
  }
  auto stream = std::unique_ptr<OutputStreamImpl>(
      new OutputStreamImpl(ctx, path, appended.file.file_id, appended.file.block_size,
                           appended.file.length, appended.file.replication));
  stream->RegisterLease();
  Status s;
  if (appended.last_block) {
    s = stream->OpenAppendPipeline(*appended.last_block, appended.previous_genstamp);
  } else if (appended.file.length > 0) {
    // The last block is full: the next block follows it, so addBlock must name it.
    Result<LocatedBlocks> located =
        ctx.namenode->GetBlockLocations(stream->rpc_path_, appended.file.length - 1, 1);
    if (!located.ok()) {
      s = located.status();
    } else if (located->last_block) {
      // The file is under construction again, so its last block is listed apart.
      stream->previous_ = located->last_block->block;
    } else if (!located->blocks.empty()) {
      stream->previous_ = located->blocks.back().block;
    } else {
      s = Status::Internal("append of " + path + ": namenode lists no block at the end");
    }
  }
  if (!s.ok()) {
    // The file stays open under our lease; the namenode's lease recovery closes it.
    stream->error_ = s;
    stream->closed_ = true;
    if (stream->lease_registered_) ctx.leases->StreamClosed();
    stream->lease_registered_ = false;
    return s.Prepend("append to " + path);
  }
  return stream;
}

Status OutputStreamImpl::OpenAppendPipeline(const LocatedBlock& block,
                                            uint64_t previous_genstamp) {
  if (block.block.num_bytes >= static_cast<uint64_t>(block_size_)) {
    return Status::Internal("namenode reopened full block " + block.block.Name());
  }
  transfer::WriteBlockOp op;
  op.block_id = block.block.block_id;
  op.genstamp = previous_genstamp;
  op.latest_genstamp = block.block.genstamp;
  op.stage = transfer::WriteStage::kAppend;
  op.bytes_per_checksum = kBytesPerChecksum;
  op.min_bytes_rcvd = block.block.num_bytes;
  op.max_bytes_rcvd = block.block.num_bytes;
  op.client_name = ctx_.client_name;
  ASSIGN_OR_RETURN(streamer_, DataStreamer::Open(block, op, &pool_, StreamerOptions(),
                                                 StreamerRecovery(/*appended=*/true)));
  block_offset_ = block.block.num_bytes;
  return Status::OK();
}

Status OutputStreamImpl::Broken(Status s) {
  if (error_.ok() && !s.ok()) error_ = s;
  return s;
}

Status OutputStreamImpl::Write(const void* data, size_t n) {
  if (!error_.ok()) return error_;
  if (closed_) return Status::IoError("write to " + path_ + " after it was closed");
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    if (!packet_) packet_ = pool_.Get(block_offset_);
    // A packet ends on a chunk boundary (so one that began mid-chunk after an hflush is short)
    // and never crosses the block's end.
    const uint64_t start = packet_->offset_in_block;
    const size_t capacity =
        std::min<uint64_t>(pool_.data_bytes() - start % kBytesPerChecksum,
                           static_cast<uint64_t>(block_size_) - start);
    const size_t k = std::min(n, capacity - packet_->data_len);
    std::memcpy(packet_->data.data() + packet_->data_len, p, k);
    packet_->data_len += static_cast<uint32_t>(k);
    block_offset_ += k;
    file_pos_ += static_cast<int64_t>(k);
    p += k;
    n -= k;
    if (packet_->data_len == capacity) {
      const bool block_full = block_offset_ == static_cast<uint64_t>(block_size_);
      RETURN_NOT_OK(SealPacket(/*sync=*/false, /*last=*/block_full));
      if (block_full) RETURN_NOT_OK(EndBlock());
    }
  }
  return Status::OK();
}

Status OutputStreamImpl::SealPacket(bool sync, bool last) {
  if (!streamer_) RETURN_NOT_OK(Broken(StartBlock()));
  if (!packet_) packet_ = pool_.Get(block_offset_);
  Packet& pk = *packet_;
  pk.checksum_len = static_cast<uint32_t>(
      transfer::ChecksumCount(pk.offset_in_block, pk.data_len, kBytesPerChecksum) *
      transfer::kChecksumBytes);
  transfer::ComputeChunkChecksums(pk.offset_in_block, pk.data.data(), pk.data_len,
                                  kBytesPerChecksum, pk.checksums.data());
  pk.sync = sync;
  pk.last = last;
  return Broken(streamer_->Enqueue(std::move(packet_)));
}

Status OutputStreamImpl::StartBlock() {
  Status last_error;
  for (int attempt = 0; attempt < kMaxBlockTries; ++attempt) {
    ASSIGN_OR_RETURN(LocatedBlock block,
                     ctx_.namenode->AddBlock(rpc_path_, ctx_.client_name, previous_, excluded_,
                                             file_id_));
    transfer::WriteBlockOp op;
    op.block_id = block.block.block_id;
    op.genstamp = block.block.genstamp;
    op.latest_genstamp = block.block.genstamp;
    op.stage = transfer::WriteStage::kCreate;
    op.bytes_per_checksum = kBytesPerChecksum;
    op.client_name = ctx_.client_name;
    Result<std::unique_ptr<DataStreamer>> streamer =
        DataStreamer::Open(block, op, &pool_, StreamerOptions(), StreamerRecovery(false));
    if (streamer.ok()) {
      streamer_ = std::move(*streamer);
      return Status::OK();
    }
    last_error = streamer.status();
    LOG(WARNING) << "abandoning " << block.block.Name() << " of " << path_ << ": "
                 << last_error;
    Status abandoned =
        ctx_.namenode->AbandonBlock(rpc_path_, ctx_.client_name, block.block, file_id_);
    if (!abandoned.ok()) return abandoned.Prepend("abandoning " + block.block.Name());
    // The streamer names the refusing node in the status detail (its storage id).
    if (last_error.detail().empty()) break;
    excluded_.push_back(last_error.detail());
  }
  return last_error.Prepend("writing " + path_);
}

Status OutputStreamImpl::EndBlock() {
  RETURN_NOT_OK(Broken(streamer_->WaitAcked()));
  // The block as the namenode knows it, with the stamp of the last pipeline that wrote it.
  BlockRef done = streamer_->block().block;
  done.num_bytes = block_offset_;
  previous_ = done;
  finished_recoveries_ += streamer_->recoveries();
  streamer_.reset();
  block_offset_ = 0;
  return Status::OK();
}

Status OutputStreamImpl::Flush(bool sync) {
  if (!error_.ok()) return error_;
  if (closed_) return Status::IoError("flush of " + path_ + " after it was closed");
  // With nothing new buffered, an hsync still needs an (empty) sync packet: earlier packets
  // may have gone without the flag.
  if ((packet_ && packet_->data_len > 0) || (sync && streamer_)) {
    RETURN_NOT_OK(SealPacket(sync, /*last=*/false));
  }
  if (streamer_) {
    streamer_->NoteHflush();
    RETURN_NOT_OK(Broken(streamer_->WaitAcked()));
  }
  return Status::OK();
}

Status OutputStreamImpl::CompleteFile() {
  // complete answers false until the replicas of the last block have reported; back off.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto backoff = std::chrono::milliseconds(10);
  while (true) {
    ASSIGN_OR_RETURN(bool done,
                     ctx_.namenode->Complete(rpc_path_, ctx_.client_name, previous_, file_id_));
    if (done) return Status::OK();
    if (std::chrono::steady_clock::now() + backoff > deadline) {
      return Status::TimedOut("could not close " + path_ + ": the namenode still waits for " +
                              (previous_ ? previous_->Name() : std::string("its last block")) +
                              " to be reported by its datanodes");
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(400));
  }
}

Status OutputStreamImpl::Close() {
  if (closed_) return error_;
  closed_ = true;
  Status s = error_;
  if (s.ok() && (streamer_ || (packet_ && packet_->data_len > 0))) {
    s = SealPacket(/*sync=*/false, /*last=*/true);
    if (s.ok()) s = EndBlock();
  }
  if (s.ok()) s = CompleteFile();
  // A broken pipeline is dropped as it is; the namenode's lease recovery settles the file.
  streamer_.reset();
  if (packet_) pool_.Put(std::move(packet_));
  if (lease_registered_) {
    ctx_.leases->StreamClosed();
    lease_registered_ = false;
  }
  if (!s.ok()) error_ = s;
  return s;
}

}  // namespace talus::client
