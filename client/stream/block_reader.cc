#include "client/stream/block_reader.h"

#include <glog/logging.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "client/stream/datanode_client.h"
#include "common/transfer/checksum.h"
#include "common/transfer/stream_io.h"

namespace talus::client {

namespace {

constexpr int kDrainTimeoutMs = 500;

Status SetReceiveTimeout(int fd, int timeout_ms) {
  timeval tv{};
  tv.tv_sec = timeout_ms / 1000;
  tv.tv_usec = (timeout_ms % 1000) * 1000;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
    return Status::FromErrno(errno, "setting the receive timeout");
  }
  return Status::OK();
}

// Sends READ_BLOCK on `fd` and reads the datanode's answer to it.
Result<transfer::OpResponse> StartRead(int fd, const BlockRef& block, uint64_t offset,
                                       uint64_t end, const std::string& client_name,
                                       int timeout_ms) {
  RETURN_NOT_OK(SetReceiveTimeout(fd, timeout_ms));
  const transfer::Deadline deadline = transfer::DeadlineAfterMs(timeout_ms);
  transfer::ReadBlockOp op;
  op.block_id = block.block_id;
  op.genstamp = block.genstamp;
  op.offset = offset;
  op.length = end - offset;
  op.send_checksums = true;
  op.client_name = client_name;
  RETURN_NOT_OK(transfer::WriteOp(fd, op, deadline));
  return transfer::ReadResponse(fd, deadline);
}

}  // namespace

Result<std::unique_ptr<BlockReader>> BlockReader::Open(const DatanodeInfo& node,
                                                       const BlockRef& block, uint64_t offset,
                                                       uint64_t end,
                                                       const std::string& client_name,
                                                       int timeout_ms,
                                                       DatanodeConnectionCache* cache) {
  const std::string where =
      "reading " + block.Name() + " from datanode " + node.DataAddress();
  transfer::UniqueFd fd;
  if (cache != nullptr) fd = cache->Take(node.DataAddress());
  const bool cached = fd.valid();
  if (!cached) {
    ASSIGN_OR_RETURN(fd, ConnectDataPort(node, timeout_ms));
  }
  // Packets are received with blocking MSG_WAITALL calls (one wake-up per packet rather than
  // one per segment); the receive timeout bounds how long one waits for data.
  Result<transfer::OpResponse> response =
      StartRead(fd.get(), block, offset, end, client_name, timeout_ms);
  if (!response.ok() && cached) {
    // The cached connection died while idle (the datanode restarted, or gave up on it): that
    // says nothing about the replica, so the op goes again on a new connection.
    VLOG(1) << where << ": cached connection failed, reconnecting: " << response.status();
    fd.Reset();
    ASSIGN_OR_RETURN(fd, ConnectDataPort(node, timeout_ms));
    response = StartRead(fd.get(), block, offset, end, client_name, timeout_ms);
  }
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
      new BlockReader(node, block, std::move(fd), offset, end, timeout_ms, v, cache));
}

BlockReader::BlockReader(const DatanodeInfo& node, const BlockRef& block, transfer::UniqueFd fd,
                         uint64_t offset, uint64_t end, int timeout_ms,
                         const transfer::PacketValidator::Options& validator_options,
                         DatanodeConnectionCache* cache)
    : node_(node),
      block_(block),
      fd_(std::move(fd)),
      pos_(offset),
      end_(end),
      timeout_ms_(timeout_ms),
      bytes_per_checksum_(validator_options.bytes_per_checksum),
      validator_(validator_options),
      cache_(cache) {}

Status BlockReader::Describe(const Status& s) {
  broken_ = true;
  return Status(s.code(), "reading " + block_.Name() + " from datanode " + node_.DataAddress() +
                              ": " + s.message());
}

Status BlockReader::ReceiveAll(struct iovec* iov, int iovcnt) {
  while (iovcnt > 0 && iov->iov_len == 0) {
    ++iov;
    --iovcnt;
  }
  while (iovcnt > 0) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(iovcnt);
    ssize_t got = ::recvmsg(fd_.get(), &msg, MSG_WAITALL);
    if (got == 0) return Status::IoError("connection closed by the datanode");
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return Status::TimedOut("no data for " + std::to_string(timeout_ms_) + " ms");
      }
      return Status::FromErrno(errno, "recvmsg");
    }
    auto left = static_cast<size_t>(got);
    while (iovcnt > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --iovcnt;
    }
    if (iovcnt > 0) {
      iov->iov_base = static_cast<uint8_t*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return Status::OK();
}

Status BlockReader::NextHeader(transfer::PacketHeader* header) {
  if (saw_last_) {
    return Describe(Status::IoError("the block ended at offset " +
                                    std::to_string(validator_.next_offset()) + " before " +
                                    std::to_string(end_)));
  }
  Status s;
  if (!have_next_header_) {
    iovec iov{next_header_.data(), next_header_.size()};
    s = ReceiveAll(&iov, 1);
  }
  have_next_header_ = false;
  if (s.ok()) s = transfer::DecodePacketHeader(next_header_.data(), header);
  if (s.ok()) s = validator_.Accept(*header);
  if (!s.ok()) return Describe(s);
  saw_last_ = header->last;
  if (checksums_.size() < header->checksum_len) checksums_.resize(header->checksum_len);
  return Status::OK();
}

Status BlockReader::ReadBody(const transfer::PacketHeader& header, uint8_t* data) {
  iovec iov[3] = {
      {checksums_.data(), header.checksum_len},
      {data, header.data_len},
      {next_header_.data(), header.last ? 0 : next_header_.size()},
  };
  Status s = ReceiveAll(iov, 3);
  if (!s.ok()) return Describe(s);
  have_next_header_ = !header.last;
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
    RETURN_NOT_OK(NextHeader(&h));
    if (h.heartbeat() || h.data_len == 0) {
      RETURN_NOT_OK(ReadBody(h, nullptr));
      continue;
    }
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
    RETURN_NOT_OK(ReadBody(h, target));
    Status s = transfer::VerifyChunkChecksums(start, target, h.data_len, bytes_per_checksum_,
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
  // Only a connection whose read ended at its last packet, with nothing left unread, is at an
  // op boundary the datanode also sees as one (it then waits for the next op).
  if (cache_ != nullptr && fd_.valid() && pos_ >= end_ && saw_last_ && !broken_ &&
      !have_next_header_) {
    cache_->Put(node_.DataAddress(), std::move(fd_));
  }
  fd_.Reset();
}

void BlockReader::DrainToLast() {
  // Normally only the empty last packet is left, already sent; bounded in packets and time so
  // a slow or chatty peer cannot keep the reader here (the connection is dropped instead).
  if (drained_ || !fd_.valid()) return;
  drained_ = true;
  if (!saw_last_ && !SetReceiveTimeout(fd_.get(), std::min(timeout_ms_, kDrainTimeoutMs)).ok()) {
    return;
  }
  for (int i = 0; i < 4 && !saw_last_; ++i) {
    transfer::PacketHeader h;
    if (!NextHeader(&h).ok()) return;
    if (buffer_.size() < h.data_len) buffer_.resize(h.data_len);
    if (!ReadBody(h, buffer_.data()).ok()) return;
  }
}

}  // namespace talus::client
