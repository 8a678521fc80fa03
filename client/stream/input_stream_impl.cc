#include "client/stream/input_stream_impl.h"

#include <chrono>
#include <thread>

#include <glog/logging.h>

#include <algorithm>

#include "client/stream/datanode_client.h"

namespace talus::client {

namespace {

// Locations are fetched this many blocks of the default size at a time.
constexpr int64_t kWindowBlocks = 10;
// A forward seek within the open block shorter than this reads through instead of reconnecting.
constexpr int64_t kSeekReadThroughBytes = 128 * 1024;

std::string NodeKey(const DatanodeInfo& node) {
  return node.storage_id.empty() ? node.DataAddress() : node.storage_id;
}

}  // namespace

Result<std::unique_ptr<InputStream>> InputStreamImpl::Open(const StreamContext& ctx,
                                                           const std::string& path) {
  auto stream = std::unique_ptr<InputStreamImpl>(new InputStreamImpl(ctx, path));
  RETURN_NOT_OK(stream->LoadFromStart());
  return std::unique_ptr<InputStream>(std::move(stream));
}

void InputStreamImpl::CacheBlocks(const LocatedBlocks& located) {
  for (const LocatedBlock& lb : located.blocks) {
    auto it = blocks_.find(lb.offset);
    // An under-construction block keeps the readable length its replicas told us.
    if (it != blocks_.end() && lb.block.block_id == under_construction_block_ &&
        it->second.block.block_id == lb.block.block_id) {
      uint64_t readable = it->second.block.num_bytes;
      it->second = lb;
      it->second.block.num_bytes = readable;
    } else {
      blocks_[lb.offset] = lb;
    }
  }
}

Status InputStreamImpl::LoadFromStart() {
  const int64_t window = kWindowBlocks * std::max<int64_t>(ctx_.options.default_block_size, 1);
  ASSIGN_OR_RETURN(LocatedBlocks located, ctx_.namenode->GetBlockLocations(path_, 0, window));
  int64_t length = located.file_length;
  std::optional<LocatedBlock> last;
  if (located.last_block && !located.last_block_complete) {
    // The namenode does not know how much of a block being written is readable; its replicas
    // do. A block with no location yet holds nothing readable.
    last = *located.last_block;
    uint64_t readable = 0;
    Status last_error;
    bool known = last->locations.empty();
    bool none_has_it = true;  // every location answered NOT_FOUND
    for (const DatanodeInfo& node : last->locations) {
      Result<uint64_t> visible =
          GetReplicaVisibleLength(node, last->block, ctx_.options.datanode_timeout_ms);
      if (visible.ok()) {
        readable = *visible;
        known = true;
        break;
      }
      last_error = visible.status();
      if (!last_error.IsNotFound()) none_has_it = false;
    }
    // Just allocated, its pipeline not yet set up: nothing of it is readable yet.
    if (!known && none_has_it) known = true;
    if (!known) {
      return last_error.Prepend("cannot learn the readable length of " + last->block.Name() +
                                ", the last block of " + path_ + " being written");
    }
    last->block.num_bytes = readable;
    length = std::max<int64_t>(length, last->offset + static_cast<int64_t>(readable));
  }
  std::lock_guard<std::mutex> lock(mu_);
  blocks_.clear();
  under_construction_block_ = 0;
  CacheBlocks(located);
  if (last) {
    blocks_[last->offset] = *last;
    under_construction_block_ = last->block.block_id;
  }
  length_ = length;
  return Status::OK();
}

Status InputStreamImpl::FetchWindow(int64_t offset) {
  const int64_t window = kWindowBlocks * std::max<int64_t>(ctx_.options.default_block_size, 1);
  ASSIGN_OR_RETURN(LocatedBlocks located,
                   ctx_.namenode->GetBlockLocations(path_, offset, window));
  std::lock_guard<std::mutex> lock(mu_);
  CacheBlocks(located);
  return Status::OK();
}

Result<LocatedBlock> InputStreamImpl::BlockAt(int64_t pos) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = blocks_.upper_bound(pos);
      if (it != blocks_.begin()) {
        --it;
        const LocatedBlock& lb = it->second;
        if (pos < lb.offset + static_cast<int64_t>(lb.block.num_bytes)) return lb;
      }
    }
    if (attempt == 0) RETURN_NOT_OK(FetchWindow(pos));
  }
  return Status::IoError("the namenode lists no block of " + path_ + " at offset " +
                         std::to_string(pos));
}

void InputStreamImpl::ReplicaFailed(const LocatedBlock& block, const DatanodeInfo& node,
                                    const Status& error, std::set<std::string>* failed) {
  failed->insert(NodeKey(node));
  LOG(WARNING) << "reading " << path_ << ": replica of " << block.block.Name() << " on "
               << node.DataAddress() << " failed, trying another: " << error;
  if (error.code() == ErrorCode::kCorruption) {
    LocatedBlock bad = block;
    bad.locations = {node};
    Status reported = ctx_.namenode->ReportBadBlocks({bad});
    if (!reported.ok()) LOG(WARNING) << "reporting the bad replica failed: " << reported;
  }
}

namespace {
// A block listed without any location is asked for again this often, for at most this long.
constexpr int kNoLocationRetryMs = 300;
constexpr int kNoLocationRetryTotalMs = 10000;
}  // namespace

Status InputStreamImpl::AllReplicasFailed(const LocatedBlock& block,
                                          const Status& last_error) const {
  const std::string what = "could not read " + block.block.Name() + " (offset " +
                           std::to_string(block.offset) + " of " + path_ + ") from any of its " +
                           std::to_string(block.locations.size()) + " location(s)";
  if (last_error.ok()) return Status::IoError(what);
  return Status(last_error.code() == ErrorCode::kCorruption ? ErrorCode::kCorruption
                                                             : ErrorCode::kIoError,
                what + "; last error: " + last_error.message());
}

Result<std::unique_ptr<BlockReader>> InputStreamImpl::OpenReader(LocatedBlock* block,
                                                                 uint64_t offset, uint64_t end,
                                                                 std::set<std::string>* failed,
                                                                 Status* last_error) {
  const auto no_location_deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kNoLocationRetryTotalMs);
  for (int round = 0; round < 2; ++round) {
    for (const DatanodeInfo& node : block->locations) {
      if (failed->count(NodeKey(node)) > 0) continue;
      Result<std::unique_ptr<BlockReader>> reader =
          BlockReader::Open(node, block->block, offset, end, ctx_.client_name,
                            ctx_.options.datanode_timeout_ms, ctx_.connections);
      if (reader.ok()) return reader;
      *last_error = reader.status();
      ReplicaFailed(*block, node, *last_error, failed);
    }
    if (block->locations.empty()) {
      // No replica known at all: the namenode restarted and the datanodes have not reported
      // yet, or every holder is being re-registered. Ask again for a while (as HDFS's "could
      // not obtain block ... will retry"), bounded so a read of a truly lost block fails.
      if (std::chrono::steady_clock::now() >= no_location_deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(kNoLocationRetryMs));
      if (!FetchWindow(block->offset).ok()) continue;
      Result<LocatedBlock> fresh = BlockAt(block->offset);
      if (fresh.ok()) *block = std::move(*fresh);
      failed->clear();
      round = -1;  // a block that gained locations gets the usual two rounds
      continue;
    }
    if (round > 0) break;
    // Every known replica failed. The block may have moved on since its locations were cached
    // (an append gave it a new generation stamp, replicas were added): ask again, once.
    if (!FetchWindow(block->offset).ok()) break;
    Result<LocatedBlock> fresh = BlockAt(block->offset);
    if (!fresh.ok() || (fresh->block.genstamp == block->block.genstamp &&
                        fresh->locations == block->locations)) {
      break;
    }
    *block = std::move(*fresh);
    failed->clear();
  }
  return AllReplicasFailed(*block, *last_error);
}

Result<size_t> InputStreamImpl::Read(void* buf, size_t n) {
  if (closed_) return Status::IoError("read of " + path_ + " after it was closed");
  auto* out = static_cast<uint8_t*>(buf);
  size_t total = 0;
  const int64_t length = Length();
  while (total < n && pos_ < length) {
    bool fresh = false;
    if (!reader_ || reader_->position() >= reader_->end()) {
      reader_.reset();
      ASSIGN_OR_RETURN(LocatedBlock block, BlockAt(pos_));
      if (block.block.block_id != reader_block_.block.block_id) {
        reader_failed_.clear();
        reader_error_ = Status::OK();
      }
      reader_block_ = block;
      const uint64_t offset = static_cast<uint64_t>(pos_ - block.offset);
      const uint64_t end =
          std::min<uint64_t>(block.block.num_bytes, static_cast<uint64_t>(length - block.offset));
      ASSIGN_OR_RETURN(reader_,
                       OpenReader(&reader_block_, offset, end, &reader_failed_, &reader_error_));
      fresh = true;
    }
    Result<size_t> got = reader_->Read(out + total, n - total);
    if (!got.ok()) {
      reader_error_ = got.status();
      ReplicaFailed(reader_block_, reader_->node(), got.status(), &reader_failed_);
      reader_.reset();  // the next turn opens the next location at pos_
      continue;
    }
    if (*got == 0) {
      if (fresh) {
        return Status::IoError("reading " + path_ + ": empty read at offset " +
                               std::to_string(pos_));
      }
      continue;
    }
    total += *got;
    pos_ += static_cast<int64_t>(*got);
    if (reader_->position() >= reader_->end()) {
      reader_->Finish();
      reader_.reset();
    }
  }
  return total;
}

Result<size_t> InputStreamImpl::Pread(int64_t offset, void* buf, size_t n) {
  if (closed_) return Status::IoError("read of " + path_ + " after it was closed");
  if (offset < 0) return Status::InvalidArgument("negative offset " + std::to_string(offset));
  const int64_t length = Length();
  if (offset >= length) return size_t{0};
  n = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(n), length - offset));
  auto* out = static_cast<uint8_t*>(buf);
  size_t done = 0;
  while (done < n) {
    const int64_t pos = offset + static_cast<int64_t>(done);
    ASSIGN_OR_RETURN(LocatedBlock block, BlockAt(pos));
    const uint64_t begin = static_cast<uint64_t>(pos - block.offset);
    const uint64_t end = std::min<uint64_t>(block.block.num_bytes, begin + (n - done));
    std::set<std::string> failed;
    Status last_error;
    uint64_t at = begin;
    while (at < end) {
      ASSIGN_OR_RETURN(std::unique_ptr<BlockReader> reader,
                       OpenReader(&block, at, end, &failed, &last_error));
      while (at < end) {
        Result<size_t> got = reader->Read(out + done + (at - begin), end - at);
        if (!got.ok()) {
          last_error = got.status();
          ReplicaFailed(block, reader->node(), got.status(), &failed);
          break;  // reopen on the next location at `at`
        }
        if (*got == 0) {
          return Status::IoError("reading " + path_ + ": " + block.block.Name() +
                                 " ended early at block offset " + std::to_string(at));
        }
        at += *got;
      }
      if (at >= end) reader->Finish();
    }
    done += static_cast<size_t>(end - begin);
  }
  return done;
}

Status InputStreamImpl::Seek(int64_t offset) {
  if (closed_) return Status::IoError("seek in " + path_ + " after it was closed");
  const int64_t length = Length();
  if (offset < 0 || offset > length) {
    return Status::InvalidArgument("seek to " + std::to_string(offset) + " outside " + path_ +
                                   " of length " + std::to_string(length));
  }
  if (reader_) {
    const int64_t reader_pos = reader_block_.offset + static_cast<int64_t>(reader_->position());
    const int64_t reader_end = reader_block_.offset + static_cast<int64_t>(reader_->end());
    const bool read_through = offset >= reader_pos && offset < reader_end &&
                              offset - reader_pos <= kSeekReadThroughBytes;
    if (!read_through || !reader_->Skip(static_cast<uint64_t>(offset - reader_pos)).ok()) {
      reader_.reset();
    }
  }
  pos_ = offset;
  return Status::OK();
}

int64_t InputStreamImpl::Length() const {
  std::lock_guard<std::mutex> lock(mu_);
  return length_;
}

Result<int64_t> InputStreamImpl::RefreshLength() {
  if (closed_) return Status::IoError("refresh of " + path_ + " after it was closed");
  RETURN_NOT_OK(LoadFromStart());
  return Length();
}

Status InputStreamImpl::Close() {
  closed_ = true;
  reader_.reset();
  return Status::OK();
}

}  // namespace talus::client
