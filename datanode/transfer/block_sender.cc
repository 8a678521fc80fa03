#include "datanode/transfer/block_sender.h"

#include <algorithm>
#include <vector>

#include <glog/logging.h>

#include "common/crc32c.h"
#include "common/transfer/checksum.h"
#include "common/transfer/stream_io.h"
#include "datanode/storage/block_meta.h"
#include "datanode/storage/file_util.h"
#include "datanode/transfer/transfer_metrics.h"

namespace talus::datanode {

using transfer::OpResponse;
using transfer::PacketHeader;
using transfer::TransferStatus;

namespace {

// Read packets carry whole chunks. Larger packets mean fewer system calls per byte on both
// sides; readers accept up to transfer::kMaxPacketDataBytes.
constexpr uint64_t kReadPacketBytes = uint64_t{256} << 10;
// Checksums are read from the meta file for this much data at a time (8 KiB of checksums).
constexpr uint64_t kChecksumBatchBytes = uint64_t{1} << 20;
// BLOCK_CHECKSUM reads and verifies the replica this much at a time.
constexpr uint64_t kChecksumOpPieceBytes = uint64_t{1} << 20;

uint64_t RoundUpToChunk(uint64_t x) {
  return (x + kBytesPerChecksum - 1) / kBytesPerChecksum * kBytesPerChecksum;
}

// Meta files hold big-endian CRCs; the wire carries little-endian ones.
void SwapChecksumBytes(uint8_t* p, size_t n) {
  for (size_t i = 0; i + kChecksumBytes <= n; i += kChecksumBytes) {
    std::swap(p[i], p[i + 3]);
    std::swap(p[i + 1], p[i + 2]);
  }
}

std::string BlockName(uint64_t block_id) { return "block " + std::to_string(block_id); }

}  // namespace

bool ServeReadBlock(const OpContext& ctx, const transfer::ReadBlockOp& op) {
  static constexpr char kOp[] = "READ_BLOCK";
  ReplicaLookup lookup = LookupForReader(*ctx.data, op.block_id, op.genstamp);
  if (lookup.status != TransferStatus::kSuccess) {
    RespondError(ctx, kOp, lookup.status, lookup.error.message());
    return false;
  }
  const uint64_t visible = ReplicaVisibleLength(lookup.info, *ctx.tracker);
  if (op.offset > visible) {
    RespondError(ctx, kOp, TransferStatus::kErrorInvalid,
                 BlockName(op.block_id) + ": offset " + std::to_string(op.offset) +
                     " is past the " + std::to_string(visible) + " bytes a reader may see");
    return false;
  }
  const uint64_t length = std::min(op.length, visible - op.offset);
  auto opened = ctx.data->OpenForSend(op.block_id, op.genstamp, op.offset, length);
  if (!opened.ok()) {
    RespondError(ctx, kOp, TransferStatusFor(opened.status()), opened.status().message());
    return false;
  }
  const SendHandle& h = *opened;
  const uint64_t start = h.aligned_offset;
  const uint64_t send_end =
      length == 0 ? start
                  : std::min({RoundUpToChunk(op.offset + length), visible, h.replica_length});
  // The stored checksum of a partial last chunk covers what is on disk, which may be more than
  // we send (a replica being written past its acked length), or may change under us (a writer
  // extending the chunk). Such a tail goes from a buffer with a checksum of exactly its bytes.
  const bool tail_from_buffer =
      send_end % kBytesPerChecksum != 0 &&
      (lookup.info.state != ReplicaState::kFinalized || send_end < h.replica_length);
  const uint64_t file_end = tail_from_buffer ? send_end - send_end % kBytesPerChecksum : send_end;

  OpResponse response;
  response.checksum_type =
      op.send_checksums ? transfer::ChecksumType::kCrc32c : transfer::ChecksumType::kNone;
  response.bytes_per_checksum = kBytesPerChecksum;
  response.first_chunk_offset = start;
  Status s = transfer::WriteResponse(ctx.fd, response, ctx.IoDeadline());
  if (!s.ok()) {
    LOG(WARNING) << ctx.NodePrefix() << kOp << " of " << BlockName(op.block_id) << " to "
                 << ctx.peer << ": " << s;
    ctx.counters->ops_failed.fetch_add(1, std::memory_order_relaxed);
    GetDatanodeMetrics().ops_failed->Increment();
    return false;
  }

  std::vector<uint8_t> sums;
  uint64_t sums_from = 0, sums_to = 0;  // the data range whose checksums `sums` holds
  int64_t seqno = 0;
  uint64_t pos = start;
  auto fail = [&](const Status& why) {
    LOG(WARNING) << ctx.NodePrefix() << kOp << " of " << BlockName(op.block_id) << " to "
                 << ctx.peer << " stopped at offset " << pos << ": " << why;
    ctx.counters->ops_failed.fetch_add(1, std::memory_order_relaxed);
    GetDatanodeMetrics().ops_failed->Increment();
    return false;
  };
  while (pos < file_end) {
    const uint64_t n = std::min(kReadPacketBytes, file_end - pos);
    const uint8_t* checksums = nullptr;
    uint32_t checksum_len = 0;
    if (op.send_checksums) {
      if (pos + n > sums_to) {
        uint64_t batch_end = std::min(file_end, pos + kChecksumBatchBytes);
        sums.resize(ChunkCount(batch_end - pos) * kChecksumBytes);
        s = PreadAll(h.meta_fd.get(), sums.data(), sums.size(), ChecksumOffsetInMeta(pos),
                     "meta file of " + BlockName(op.block_id));
        if (!s.ok()) return fail(s);
        SwapChecksumBytes(sums.data(), sums.size());
        sums_from = pos;
        sums_to = batch_end;
      }
      checksums = sums.data() + (pos - sums_from) / kBytesPerChecksum * kChecksumBytes;
      checksum_len = static_cast<uint32_t>(ChunkCount(n) * kChecksumBytes);
    }
    PacketHeader header;
    header.seqno = seqno++;
    header.offset_in_block = pos;
    header.data_len = static_cast<uint32_t>(n);
    header.checksum_len = checksum_len;
    header.last = pos + n == send_end;
    s = transfer::WritePacketFromFile(ctx.fd, header, checksums, h.data_fd.get(), pos,
                                      ctx.IoDeadline());
    if (!s.ok()) return fail(s);
    ctx.counters->bytes_read.fetch_add(n, std::memory_order_relaxed);
    GetDatanodeMetrics().bytes_read->Increment(static_cast<int64_t>(n));
    pos += n;
  }
  if (tail_from_buffer || send_end == start) {
    uint8_t tail[kBytesPerChecksum];
    uint8_t tail_sum[kChecksumBytes];
    const auto n = static_cast<uint32_t>(send_end - file_end);
    if (n > 0) {
      s = PreadAll(h.data_fd.get(), tail, n, file_end, BlockName(op.block_id));
      if (!s.ok()) return fail(s);
      transfer::ComputeChunkChecksums(file_end, tail, n, kBytesPerChecksum, tail_sum);
    }
    PacketHeader header;
    header.seqno = seqno++;
    header.offset_in_block = file_end;
    header.data_len = n;
    header.checksum_len = op.send_checksums && n > 0 ? kChecksumBytes : 0;
    header.last = true;
    s = transfer::WritePacket(ctx.fd, header, tail_sum, tail, ctx.IoDeadline());
    if (!s.ok()) return fail(s);
    ctx.counters->bytes_read.fetch_add(n, std::memory_order_relaxed);
    GetDatanodeMetrics().bytes_read->Increment(static_cast<int64_t>(n));
  }
  GetDatanodeMetrics().blocks_read->Increment();
  ctx.counters->ops_served.fetch_add(1, std::memory_order_relaxed);
  VLOG(1) << ctx.NodePrefix() << "sent " << BlockName(op.block_id) << " [" << start << ", "
          << send_end << ") to " << ctx.peer;
  return true;
}

bool ServeBlockChecksum(const OpContext& ctx, const transfer::BlockChecksumOp& op) {
  static constexpr char kOp[] = "BLOCK_CHECKSUM";
  ReplicaLookup lookup = LookupForReader(*ctx.data, op.block_id, op.genstamp);
  if (lookup.status != TransferStatus::kSuccess) {
    RespondError(ctx, kOp, lookup.status, lookup.error.message());
    return false;
  }
  const uint64_t visible = ReplicaVisibleLength(lookup.info, *ctx.tracker);
  const uint64_t covered = op.length == transfer::kWholeBlock ? visible : op.length;
  if (covered > visible) {
    RespondError(ctx, kOp, TransferStatus::kErrorInvalid,
                 BlockName(op.block_id) + ": checksum of " + std::to_string(covered) +
                     " bytes asked, but a reader may see only " + std::to_string(visible));
    return false;
  }
  uint32_t crc = 0;
  for (uint64_t pos = 0; pos < covered;) {
    const uint64_t n = std::min(kChecksumOpPieceBytes, covered - pos);
    auto piece = ctx.data->Read(op.block_id, op.genstamp, pos, n);
    if (!piece.ok()) {
      TransferStatus status = TransferStatusFor(piece.status());
      if (status == TransferStatus::kErrorChecksum) {
        ctx.counters->checksum_errors.fetch_add(1, std::memory_order_relaxed);
        GetDatanodeMetrics().checksum_failures_read->Increment();
        ctx.events->OnBadReplica(op.block_id, lookup.info.genstamp);
      }
      RespondError(ctx, kOp, status, piece.status().message());
      return false;
    }
    crc = crc32c::Extend(crc, piece->data.data() + piece->skip, n);
    pos += n;
  }
  OpResponse response;
  response.block_crc = crc;
  response.block_crc_length = covered;
  Status s = transfer::WriteResponse(ctx.fd, response, ctx.IoDeadline());
  if (!s.ok()) {
    LOG(WARNING) << ctx.NodePrefix() << kOp << " of " << BlockName(op.block_id) << " to "
                 << ctx.peer << ": " << s;
    ctx.counters->ops_failed.fetch_add(1, std::memory_order_relaxed);
    GetDatanodeMetrics().ops_failed->Increment();
    return false;
  }
  ctx.counters->ops_served.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace talus::datanode
