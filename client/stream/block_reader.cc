#include "client/stream/block_reader.h"

#include <algorithm>
#include <cstring>

#include "client/stream/datanode_client.h"
#include "common/transfer/checksum.h"
#include "common/transfer/stream_io.h"

namespace talus::client {

namespace {
constexpr int kDrainTimeoutMs = 500;
}  // namespace

Result<std::unique_ptr<BlockReader>> BlockReader::Open(const DatanodeInfo& node,
                                                       const BlockRef& block, uint64_t offset,
                                                       uint64_t end,
                                                       const std::string& client_name,
                                                       int timeout_ms) {
  const std::string where =
      "reading " + block.Name() + " from datanode " + node.DataAddress();
  ASSIGN_OR_RETURN(transfer::UniqueFd fd, ConnectDataPort(node, timeout_ms));
  const transfer::Deadline deadline = transfer::DeadlineAfterMs(timeout_ms);
  transfer::ReadBlockOp op;
  op.block_id = block.block_id;
  op.genstamp = block.genstamp;
  op.offset = offset;
  op.length = end - offset;
  op.send_checksums = true;
  op.client_name = client_name;
  RETURN_NOT_OK_PREPEND(transfer::WriteOp(fd.get(), op, deadline), where);
  Result<transfer::OpResponse> response = transfer::ReadResponse(fd.get(), deadline);
  if (!response.ok()) return response.status().Prepend(where);
  if (response->status != transfer::TransferStatus::kSuccess) {
    return transfer::TransferStatusToStatus(response->status, response->message).Prepend(where);
  }
  const uint32_t bpc = response->bytes_per_checksum;
  if (response->checksum_type != transfer::ChecksumType::kCrc32c || bpc == 0 ||
      bpc > transfer::kMaxBytesPerChecksum || response->first_chunk_offset > offset ||
      offset - response->first_chunk_offset >= bpc) {
    return Status::IoError(where + ": unusable answer (checksum type " +
                           std::to_string(static_cast<int>(response->checksum_type)) +
                           ", bytes per checksum " + std::to_string(bpc) +
                           ", first chunk at " + std::to_string(response->first_chunk_offset) +
                           " for offset " + std::to_string(offset) + ")");
  }
  transfer::PacketValidator::Options v;
  v.start_offset = response->first_chunk_offset;
  v.first_seqno = 0;
  v.bytes_per_checksum = bpc;
  v.checksums = true;
  v.max_data_len = transfer::kMaxPacketDataBytes;
  return std::unique_ptr<BlockReader>(
      new BlockReader(node, block, std::move(fd), offset, end, timeout_ms, v));
}

BlockReader::BlockReader(const DatanodeInfo& node, const BlockRef& block, transfer::UniqueFd fd,
                         uint64_t offset, uint64_t end, int timeout_ms,
                         const transfer::PacketValidator::Options& validator_options)
    : node_(node),
      block_(block),
      fd_(std::move(fd)),
      pos_(offset),
      end_(end),
      timeout_ms_(timeout_ms),
      bytes_per_checksum_(validator_options.bytes_per_checksum),
      validator_(validator_options) {}

Status BlockReader::Describe(const Status& s) const {
  return Status(s.code(), "reading " + block_.Name() + " from datanode " + node_.DataAddress() +
                              ": " + s.message());
}

Status BlockReader::NextHeader(transfer::PacketHeader* header, transfer::Deadline deadline) {
  if (saw_last_) {
    return Describe(Status::IoError("the block ended at offset " +
                                    std::to_string(validator_.next_offset()) + " before " +
                                    std::to_string(end_)));
  }
  transfer::EncodedPacketHeader raw;
  Status s = transfer::ReadFully(fd_.get(), raw.data(), raw.size(), deadline);
  if (s.ok()) s = transfer::DecodePacketHeader(raw.data(), header);
  if (s.ok()) s = validator_.Accept(*header);
  if (s.ok() && checksums_.size() < header->checksum_len) checksums_.resize(header->checksum_len);
  if (s.ok()) s = transfer::ReadFully(fd_.get(), checksums_.data(), header->checksum_len, deadline);
  if (!s.ok()) return Describe(s);
  saw_last_ = header->last;
  return Status::OK();
}

Result<size_t> BlockReader::Read(uint8_t* buf, size_t n) {
  while (true) {
    if (pos_ >= end_) {
      DrainToLast();
      return size_t{0};
    }
    if (n == 0) return size_t{0};
    if (buffer_begin_ < buffer_end_) {
      const size_t k = std::min<uint64_t>({n, buffer_end_ - buffer_begin_, end_ - pos_});
      std::memcpy(buf, buffer_.data() + buffer_begin_, k);
      buffer_begin_ += k;
      pos_ += k;
      return k;
    }
    transfer::PacketHeader h;
    const transfer::Deadline deadline = transfer::DeadlineAfterMs(timeout_ms_);
    RETURN_NOT_OK(NextHeader(&h, deadline));
    if (h.heartbeat() || h.data_len == 0) continue;
    const uint64_t start = h.offset_in_block;
    const uint64_t stop = start + h.data_len;
    if (start > pos_) {
      return Describe(Status::IoError("packet at offset " + std::to_string(start) +
                                      " skips past " + std::to_string(pos_)));
    }
    const bool direct = start == pos_ && h.data_len <= n && stop <= end_;
    uint8_t* target = buf;
    if (!direct) {
      if (buffer_.size() < h.data_len) buffer_.resize(h.data_len);
      target = buffer_.data();
    }
    Status s = transfer::ReadFully(fd_.get(), target, h.data_len, deadline);
    if (!s.ok()) return Describe(s);
    s = transfer::VerifyChunkChecksums(start, target, h.data_len, bytes_per_checksum_,
                                       checksums_.data(), h.checksum_len);
    if (!s.ok()) return Describe(s);
    if (direct) {
      pos_ += h.data_len;
      return static_cast<size_t>(h.data_len);
    }
    // The first packet may begin before pos_ (at a chunk boundary); the last may run past end_.
    buffer_offset_ = start;
    buffer_begin_ = static_cast<size_t>(std::min(pos_, stop) - start);
    buffer_end_ = static_cast<size_t>(std::min(stop, end_) - start);
  }
}

Status BlockReader::Skip(uint64_t n) {
  std::vector<uint8_t> scratch(std::min<uint64_t>(n, 64 * 1024));
  while (n > 0) {
    ASSIGN_OR_RETURN(size_t k, Read(scratch.data(), std::min<uint64_t>(n, scratch.size())));
    if (k == 0) return Status::InvalidArgument("skip past the end of the range being read");
    n -= k;
  }
  return Status::OK();
}

void BlockReader::Finish() {
  if (pos_ >= end_) DrainToLast();
  fd_.Reset();
}

void BlockReader::DrainToLast() {
  // Normally only the empty last packet is left, already sent; bounded in packets and time so
  // a slow or chatty peer cannot keep the reader here (the connection is dropped instead).
  if (drained_) return;
  drained_ = true;
  const transfer::Deadline deadline =
      transfer::DeadlineAfterMs(std::min(timeout_ms_, kDrainTimeoutMs));
  for (int i = 0; i < 4 && !saw_last_; ++i) {
    transfer::PacketHeader h;
    if (!NextHeader(&h, deadline).ok()) return;
    if (h.data_len > 0) {
      if (buffer_.size() < h.data_len) buffer_.resize(h.data_len);
      if (!transfer::ReadFully(fd_.get(), buffer_.data(), h.data_len, deadline).ok()) {
        return;
      }
    }
  }
}

}  // namespace talus::client
