#include "datanode/transfer/block_copier.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>

#include <glog/logging.h>

#include "common/crc32c.h"
#include "common/transfer/stream_io.h"
#include "datanode/storage/block_meta.h"
#include "datanode/transfer/transfer_metrics.h"

namespace talus::datanode {
namespace {

using transfer::PacketHeader;
using transfer::PipelineAck;
using transfer::TransferStatus;

// Packets sent ahead of their acks. Far below what a receiver holds (block_receiver.cc keeps up
// to 256), so the sender never blocks on a receiver that waits for its acks to be read.
constexpr size_t kMaxUnackedPackets = 32;
// How often a copy waiting for an ack looks at its stop flag.
constexpr int64_t kStopCheckMs = 100;
// Bytes read (and verified) from the local replica at a time, then cut into packets.
constexpr uint64_t kReadBatchBytes = uint64_t{4} << 20;

std::string HostPortName(const transfer::HostPort& hp) {
  return hp.host + ":" + std::to_string(hp.port);
}

class Copier {
 public:
  Copier(DataSet* data, const CopyRequest& request, Throttler* throttle,
         const std::atomic<bool>* stop, ReplicaEvents* events)
      : data_(data), req_(request), throttle_(throttle), stop_(stop), events_(events),
        name_("blk_" + std::to_string(request.block_id)),
        target_(request.targets.empty() ? std::string() : HostPortName(request.targets[0])) {}

  Status Run(CopyStats* stats);

 private:
  Status Validate() const;
  Status CheckReplica();
  Status Connect();
  // Fills batch_ with verified data starting at `offset` (a chunk boundary).
  Status ReadBatch(uint64_t offset);
  Status SendPacket(uint64_t offset, uint32_t len, bool last);
  Status ReadOneAck();
  Status WaitForAck(transfer::Deadline deadline);
  Status Corrupt(const std::string& why);
  bool Stopped() const { return stop_ != nullptr && stop_->load(std::memory_order_relaxed); }

  DataSet* const data_;
  const CopyRequest& req_;
  Throttler* const throttle_;
  const std::atomic<bool>* const stop_;
  ReplicaEvents* const events_;
  const std::string name_;
  const std::string target_;  // "host:port" of targets[0]
  uint64_t length_ = 0;       // bytes to send
  transfer::UniqueFd fd_;
  ReadResult batch_;
  int64_t next_seqno_ = 0;
  int64_t next_ack_ = 0;
  std::string sums_;  // little-endian checksums of the packet being sent
  CopyStats stats_;
};

Status Copier::Validate() const {
  if (req_.block_id == 0 || req_.genstamp == 0) {
    return Status::InvalidArgument("copy needs a positive block id and generation stamp");
  }
  if (req_.targets.empty()) return Status::InvalidArgument("copy of " + name_ + ": no target");
  if (req_.targets.size() >= transfer::kMaxPipelineNodes) {
    return Status::InvalidArgument("copy of " + name_ + ": too many targets");
  }
  if (req_.packet_data_bytes == 0 || req_.packet_data_bytes % kBytesPerChecksum != 0 ||
      req_.packet_data_bytes > transfer::kMaxPacketDataBytes) {
    return Status::InvalidArgument("copy of " + name_ + ": packet size " +
                                   std::to_string(req_.packet_data_bytes) +
                                   " is not a positive multiple of 512 within the limit");
  }
  if (req_.timeout_ms <= 0) return Status::InvalidArgument("copy timeout must be positive");
  return Status::OK();
}

Status Copier::Corrupt(const std::string& why) {
  LOG(WARNING) << "Copy of " << name_ << " to " << target_ << ": local replica is corrupt: "
               << why;
  GetDatanodeMetrics().checksum_failures_read->Increment();
  if (events_ != nullptr) events_->OnBadReplica(req_.block_id, req_.genstamp);
  return Status::Corruption(name_ + ": local replica is corrupt: " + why);
}

Status Copier::CheckReplica() {
  ASSIGN_OR_RETURN(ReplicaInfo info, data_->GetReplica(req_.block_id));
  if (info.genstamp != req_.genstamp) {
    return Status::InvalidArgument(name_ + ": the replica here has generation stamp " +
                                   std::to_string(info.genstamp) + ", the copy names " +
                                   std::to_string(req_.genstamp));
  }
  if (req_.require_finalized && info.state != ReplicaState::kFinalized) {
    return Status::InvalidArgument(name_ + ": cannot copy a " +
                                   std::string(ReplicaStateName(info.state)) + " replica");
  }
  const uint64_t have = info.bytes_on_disk;
  if (req_.expected_length > have) {
    // The namenode knows more bytes than this finalized replica holds: it lost data.
    return Corrupt("it holds " + std::to_string(have) + " bytes, the namenode records " +
                   std::to_string(req_.expected_length));
  }
  if (req_.require_finalized && req_.expected_length != 0 && have != req_.expected_length) {
    return Status::InvalidArgument(name_ + ": the replica here holds " + std::to_string(have) +
                                   " bytes, the namenode records " +
                                   std::to_string(req_.expected_length));
  }
  length_ = req_.length == kWholeReplica ? have : req_.length;
  if (length_ > have) {
    return Status::InvalidArgument(name_ + ": cannot send " + std::to_string(length_) +
                                   " bytes of a replica holding " + std::to_string(have));
  }
  return Status::OK();
}

Status Copier::Connect() {
  const transfer::Deadline deadline = transfer::DeadlineAfterMs(req_.timeout_ms);
  auto fd = transfer::SocketConnect(req_.targets[0].host, req_.targets[0].port, deadline);
  if (!fd.ok()) {
    return Status::IoError("copy of " + name_ + ": cannot connect to " + target_ + ": " +
                           fd.status().message());
  }
  fd_ = std::move(fd).value();
  transfer::WriteBlockOp op;
  op.block_id = req_.block_id;
  op.genstamp = req_.genstamp;
  op.latest_genstamp = req_.latest_genstamp == 0 ? req_.genstamp : req_.latest_genstamp;
  op.stage = req_.stage;
  op.checksum_type = transfer::ChecksumType::kCrc32c;
  op.bytes_per_checksum = kBytesPerChecksum;
  op.client_name = req_.client_name;
  op.targets.assign(req_.targets.begin() + 1, req_.targets.end());
  Status s = transfer::WriteOp(fd_.get(), op, deadline);
  if (!s.ok()) {
    return Status::IoError("copy of " + name_ + ": cannot send the op to " + target_ + ": " +
                           s.message());
  }
  auto response = transfer::ReadResponse(fd_.get(), deadline);
  if (!response.ok()) {
    return Status::IoError("copy of " + name_ + ": no answer from " + target_ + ": " +
                           response.status().message());
  }
  if (response->status != TransferStatus::kSuccess) {
    // The message names a node further down itself; otherwise the first target refused.
    std::string who = response->message.rfind(kBadNodePrefix, 0) == 0
                          ? std::string()
                          : std::string(kBadNodePrefix) + target_ + ": ";
    Status code = transfer::TransferStatusToStatus(response->status, "");
    return Status(code.code() == ErrorCode::kNoSpace ? ErrorCode::kNoSpace : ErrorCode::kIoError,
                  "copy of " + name_ + " refused: " + who +
                      transfer::TransferStatusName(response->status) + ": " +
                      response->message);
  }
  return Status::OK();
}

Status Copier::ReadBatch(uint64_t offset) {
  const uint64_t n = std::min(kReadBatchBytes, length_ - offset);
  Result<ReadResult> read = data_->Read(req_.block_id, req_.genstamp, offset, n);
  if (read.ok()) {
    batch_ = std::move(read).value();
    return Status::OK();
  }
  if (read.status().code() != ErrorCode::kCorruption) return read.status();
  // Before blaming the disk, make sure the replica is still the one we meant (not deleted or
  // rewritten meanwhile) and that the failure repeats.
  Result<ReplicaInfo> info = data_->GetReplica(req_.block_id);
  if (!info.ok()) return info.status();
  if (info->genstamp != req_.genstamp || info->bytes_on_disk < offset + n) {
    return Status::Unavailable(name_ + ": the replica changed during the copy");
  }
  read = data_->Read(req_.block_id, req_.genstamp, offset, n);
  if (read.ok()) {
    batch_ = std::move(read).value();
    return Status::OK();
  }
  if (read.status().code() != ErrorCode::kCorruption) return read.status();
  return Corrupt(read.status().message());
}

Status Copier::SendPacket(uint64_t offset, uint32_t len, bool last) {
  PacketHeader h;
  h.seqno = next_seqno_;
  h.offset_in_block = offset;
  h.data_len = len;
  h.last = last;
  const uint8_t* data = nullptr;
  sums_.clear();
  if (len > 0) {
    const uint64_t base = batch_.aligned_offset;
    const uint64_t batch_end = base + batch_.data.size();
    data = reinterpret_cast<const uint8_t*>(batch_.data.data() + (offset - base));
    for (uint64_t p = offset; p < offset + len;) {
      const uint64_t chunk_start = p - p % kBytesPerChecksum;
      const uint64_t chunk_end = std::min(chunk_start + kBytesPerChecksum, batch_end);
      const uint64_t piece_end = std::min(chunk_end, offset + len);
      uint32_t crc;
      if (p == chunk_start && piece_end == chunk_end) {
        // A whole stored chunk: its checksum as the meta file has it (verified by Read).
        crc = GetChecksum(batch_.checksums.data() +
                          kChecksumBytes * ((chunk_start - base) / kBytesPerChecksum));
      } else {
        crc = crc32c::Value(batch_.data.data() + (p - base), piece_end - p);
      }
      char le[4] = {static_cast<char>(crc), static_cast<char>(crc >> 8),
                    static_cast<char>(crc >> 16), static_cast<char>(crc >> 24)};
      sums_.append(le, sizeof(le));
      p = piece_end;
    }
  }
  h.checksum_len = static_cast<uint32_t>(sums_.size());
  while (static_cast<size_t>(next_seqno_ - next_ack_) >= kMaxUnackedPackets) {
    RETURN_NOT_OK(ReadOneAck());
  }
  Status s = transfer::WritePacket(fd_.get(), h, reinterpret_cast<const uint8_t*>(sums_.data()),
                                   data, transfer::DeadlineAfterMs(req_.timeout_ms));
  if (!s.ok()) {
    // A target that failed answers an error ack before it hangs up: that ack says why (a full
    // disk, a bad checksum), where the send error only says the connection broke.
    while (next_ack_ < next_seqno_) {
      Status ack = ReadOneAck();
      if (!ack.ok()) {
        if (ack.message().find(kBadNodePrefix) != std::string::npos) return ack;
        break;
      }
    }
    return Status::IoError("copy of " + name_ + ": cannot send to " + target_ + ": " +
                           s.message());
  }
  ++next_seqno_;
  stats_.bytes_sent += len;
  ++stats_.packets_sent;
  return Status::OK();
}

Status Copier::WaitForAck(transfer::Deadline deadline) {
  // Waits in short slices so that a stop request (the daemon shutting down) does not wait out
  // the socket timeout of a target that hangs. Nothing is read here: an ack is never cut.
  while (true) {
    if (Stopped()) return Status::Unavailable("copy of " + name_ + " stopped");
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - transfer::Clock::now());
    if (left.count() <= 0) return Status::OK();  // ReadAck reports the timeout
    struct pollfd p = {fd_.get(), POLLIN, 0};
    const int slice = static_cast<int>(std::min<int64_t>(left.count(), kStopCheckMs));
    const int n = ::poll(&p, 1, slice);
    if (n > 0 || (n < 0 && errno != EINTR)) return Status::OK();
  }
}

Status Copier::ReadOneAck() {
  PipelineAck ack;
  const transfer::Deadline deadline = transfer::DeadlineAfterMs(req_.timeout_ms);
  RETURN_NOT_OK(WaitForAck(deadline));
  Status s = transfer::ReadAck(fd_.get(), deadline, &ack);
  if (!s.ok()) {
    return Status::IoError("copy of " + name_ + ": no ack from " + target_ + ": " +
                           s.message());
  }
  if (ack.seqno != next_ack_) {
    return Status::IoError("copy of " + name_ + ": " + target_ + " acked seqno " +
                           std::to_string(ack.seqno) + " while " + std::to_string(next_ack_) +
                           " was expected");
  }
  if (!ack.AllSucceeded()) {
    const int bad = ack.FirstFailure();
    const std::string who = bad >= 0 && static_cast<size_t>(bad) < req_.targets.size()
                                ? HostPortName(req_.targets[bad])
                                : target_;
    const TransferStatus status = bad >= 0 ? ack.replies[bad] : TransferStatus::kError;
    return Status(status == TransferStatus::kErrorNoSpace ? ErrorCode::kNoSpace
                                                          : ErrorCode::kIoError,
                  "copy of " + name_ + ": " + kBadNodePrefix + who + ": " +
                      transfer::TransferStatusName(status) + " for packet " +
                      std::to_string(ack.seqno));
  }
  ++next_ack_;
  return Status::OK();
}

Status Copier::Run(CopyStats* stats) {
  RETURN_NOT_OK(Validate());
  RETURN_NOT_OK(CheckReplica());
  // Read the first batch before connecting: a corrupt replica never opens a target's replica.
  if (length_ > 0) RETURN_NOT_OK(ReadBatch(0));
  if (Stopped()) return Status::Unavailable("copy of " + name_ + " stopped");
  RETURN_NOT_OK(Connect());
  uint64_t offset = 0;
  while (offset < length_) {
    if (Stopped()) return Status::Unavailable("copy of " + name_ + " stopped");
    if (offset >= batch_.aligned_offset + batch_.data.size()) RETURN_NOT_OK(ReadBatch(offset));
    const uint64_t batch_end = batch_.aligned_offset + batch_.data.size();
    const uint32_t len = static_cast<uint32_t>(
        std::min<uint64_t>({req_.packet_data_bytes, length_ - offset, batch_end - offset}));
    if (throttle_ != nullptr && !throttle_->Acquire(len)) {
      return Status::Unavailable("copy of " + name_ + " stopped");
    }
    RETURN_NOT_OK(SendPacket(offset, len, /*last=*/false));
    offset += len;
  }
  if (req_.finalize) RETURN_NOT_OK(SendPacket(length_, 0, /*last=*/true));
  while (next_ack_ < next_seqno_) RETURN_NOT_OK(ReadOneAck());
  if (stats != nullptr) *stats = stats_;
  return Status::OK();
}

}  // namespace

Status CopyReplica(DataSet* data, const CopyRequest& request, Throttler* throttle,
                   const std::atomic<bool>* stop, ReplicaEvents* events, CopyStats* stats) {
  Copier copier(data, request, throttle, stop, events);
  CopyStats local;
  Status s = copier.Run(&local);
  const DatanodeMetrics& m = GetDatanodeMetrics();
  (s.ok() ? m.copies_ok : m.copies_failed)->Increment();
  if (s.ok()) m.copy_bytes->Increment(static_cast<int64_t>(local.bytes_sent));
  if (stats != nullptr) *stats = local;
  return s;
}

}  // namespace talus::datanode
