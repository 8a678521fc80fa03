#include "datanode/transfer/block_receiver.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <glog/logging.h>

#include "common/transfer/stream_io.h"
#include "datanode/storage/block_meta.h"
#include "datanode/transfer/ack_queue.h"
#include "datanode/transfer/socket_buffer.h"
#include "datanode/transfer/transfer_metrics.h"

namespace talus::datanode {

using transfer::PacketHeader;
using transfer::PipelineAck;
using transfer::TransferStatus;
using transfer::WriteBlockOp;
using transfer::WriteStage;

namespace {

// Packets a node holds between arrival and acknowledgement before it stops reading.
constexpr size_t kMaxPacketsInFlight = 256;
// Receive buffers: packets (several 64 KiB packets per recv; grows for larger packets) and acks.
constexpr size_t kPacketBufferBytes = 512 * 1024;
constexpr size_t kAckBufferBytes = 4096;

struct SetupError {
  TransferStatus status = TransferStatus::kSuccess;
  std::string message;
  bool ok() const { return status == TransferStatus::kSuccess; }
};

SetupError Fail(TransferStatus status, std::string message) {
  return SetupError{status, std::move(message)};
}

SetupError FailWith(const Status& s) { return Fail(TransferStatusFor(s), s.message()); }

class BlockReceiver {
 public:
  BlockReceiver(const OpContext& ctx, const WriteBlockOp& op)
      : ctx_(ctx), op_(op), queue_(kMaxPacketsInFlight), in_(kPacketBufferBytes),
        acks_in_(kAckBufferBytes) {}

  bool Run();

 private:
  SetupError CheckOp() const;
  // Checks the replica against the stage and computes start_length_, without changing it.
  SetupError PlanReplica();
  // Creates or reopens the replica.
  SetupError PrepareReplica();
  SetupError ConnectDownstream();
  void SendSetupResponse(const SetupError& result);
  void ReceivePackets();
  TransferStatus WriteLocally(const PacketView& packet);
  void RunResponder();
  // The stream cannot go on: wakes both threads and cuts both sockets' inbound side.
  void FailStream();
  std::string BlockName() const { return "block " + std::to_string(op_.block_id); }
  // Waiting on the nodes after this one: longer than they wait on theirs, so the node next to a
  // hung one gives up first and names it (protocol.h, PipelineTimeoutMs).
  transfer::Deadline DownstreamDeadline() const {
    return transfer::DeadlineAfterMs(
        transfer::PipelineTimeoutMs(ctx_.options->socket_timeout_ms, op_.targets.size()));
  }

  const OpContext& ctx_;
  const WriteBlockOp& op_;
  uint64_t genstamp_ = 0;      // the replica's stamp for this write
  uint64_t start_length_ = 0;  // where the packets start
  ReplicaInfo replica_;
  // Recovery of a replica this node does not have: a node joining the pipeline before any byte
  // was acknowledged starts it empty.
  bool recover_fresh_ = false;
  std::shared_ptr<WriteTracker::Writer> writer_;
  transfer::UniqueFd down_fd_;
  // down_fd_'s number once connected, for the abort hook (which runs on another thread).
  std::atomic<int> down_fd_for_abort_{-1};
  std::string down_name_;  // "host:port" of the next node
  AckQueue queue_;
  std::atomic<bool> downstream_broken_{false};
  bool completed_ = false;  // set by the responder once the last packet's ack went up
  SocketBuffer in_;        // packets from upstream (receiver thread)
  transfer::UniqueFd stop_reading_;  // eventfd: FailStream wakes a receiver waiting on in_
  SocketBuffer acks_in_;   // acks from downstream (responder thread)
  std::vector<uint8_t> big_endian_sums_;
  std::string ack_bytes_;
};

SetupError BlockReceiver::CheckOp() const {
  if (op_.checksum_type != transfer::ChecksumType::kCrc32c ||
      op_.bytes_per_checksum != kBytesPerChecksum) {
    return Fail(TransferStatus::kErrorInvalid,
                "only CRC32C checksums per " + std::to_string(kBytesPerChecksum) +
                    " bytes are supported, not type " +
                    std::to_string(static_cast<int>(op_.checksum_type)) + " per " +
                    std::to_string(op_.bytes_per_checksum));
  }
  if (op_.block_id == 0 || op_.genstamp == 0) {
    return Fail(TransferStatus::kErrorInvalid, "block id and generation stamp must be positive");
  }
  if (op_.stage != WriteStage::kCreate && genstamp_ < op_.genstamp) {
    return Fail(TransferStatus::kErrorInvalid,
                BlockName() + ": new generation stamp " + std::to_string(genstamp_) +
                    " is below the current " + std::to_string(op_.genstamp));
  }
  if (op_.stage == WriteStage::kAppend && genstamp_ == op_.genstamp) {
    return Fail(TransferStatus::kErrorInvalid,
                BlockName() + ": append needs a new generation stamp above " +
                    std::to_string(op_.genstamp));
  }
  if (op_.min_bytes_rcvd > op_.max_bytes_rcvd) {
    return Fail(TransferStatus::kErrorInvalid, "min_bytes_rcvd is above max_bytes_rcvd");
  }
  return {};
}

SetupError BlockReceiver::PlanReplica() {
  if (op_.stage == WriteStage::kCreate) {
    start_length_ = 0;
    return {};
  }
  const bool append = op_.stage == WriteStage::kAppend;
  auto found = ctx_.data->GetReplica(op_.block_id);
  if (!found.ok()) {
    if (!append && op_.min_bytes_rcvd == 0 && found.status().IsNotFound()) {
      recover_fresh_ = true;
      start_length_ = 0;
      return {};
    }
    return Fail(TransferStatus::kErrorUnknownBlock, found.status().message());
  }
  const ReplicaInfo& info = *found;
  // Append reopens exactly the stamp the client names; recovery may find the replica already
  // moved to the new stamp by an earlier attempt.
  const bool stamp_ok = append ? info.genstamp == op_.genstamp
                               : info.genstamp >= op_.genstamp && info.genstamp <= genstamp_;
  if (!stamp_ok) {
    return Fail(TransferStatus::kErrorStaleGenstamp,
                BlockName() + ": replica has generation stamp " + std::to_string(info.genstamp) +
                    ", the write names " + std::to_string(op_.genstamp) +
                    (info.genstamp < op_.genstamp ? " (stale replica)" : " (stale request)"));
  }
  const ReplicaState wanted = append ? ReplicaState::kFinalized : ReplicaState::kRbw;
  // A node that got the last packet before the pipeline broke finalized its replica under the
  // old stamp (HDFS PIPELINE_CLOSE_RECOVERY): it is reopened like an append, then cut back.
  const bool finalized_for_recovery = !append && info.state == ReplicaState::kFinalized &&
                                      info.genstamp < genstamp_;
  if (info.state != wanted && !finalized_for_recovery) {
    return Fail(TransferStatus::kErrorInvalid,
                BlockName() + ": " + (append ? "append" : "pipeline recovery") + " needs a " +
                    ReplicaStateName(wanted) + " replica, this one is " +
                    ReplicaStateName(info.state));
  }
  if (info.bytes_on_disk < op_.min_bytes_rcvd || info.bytes_on_disk > op_.max_bytes_rcvd) {
    return Fail(TransferStatus::kErrorInvalid,
                BlockName() + ": replica holds " + std::to_string(info.bytes_on_disk) +
                    " bytes, outside the expected [" + std::to_string(op_.min_bytes_rcvd) + ", " +
                    std::to_string(op_.max_bytes_rcvd) + "]");
  }
  // Recovery resumes where the client's acknowledged data ends; anything beyond it on this node
  // was never acknowledged and is sent again.
  start_length_ = append ? info.bytes_on_disk : op_.min_bytes_rcvd;
  replica_ = info;
  return {};
}

SetupError BlockReceiver::PrepareReplica() {
  switch (op_.stage) {
    case WriteStage::kCreate: {
      auto created = ctx_.data->CreateRbw(op_.block_id, genstamp_, /*expected_bytes=*/0);
      if (!created.ok()) return FailWith(created.status());
      replica_ = std::move(created).value();
      return {};
    }
    case WriteStage::kAppend: {
      auto reopened = ctx_.data->AppendToFinalized(op_.block_id, op_.genstamp, genstamp_);
      if (!reopened.ok()) return FailWith(reopened.status());
      replica_ = std::move(reopened).value();
      return {};
    }
    case WriteStage::kRecovery: {
      if (recover_fresh_) {
        auto created = ctx_.data->CreateRbw(op_.block_id, genstamp_, /*expected_bytes=*/0);
        if (!created.ok()) return FailWith(created.status());
        replica_ = std::move(created).value();
        return {};
      }
      uint64_t have = replica_.genstamp;
      if (replica_.state == ReplicaState::kFinalized) {
        auto reopened = ctx_.data->AppendToFinalized(op_.block_id, have, genstamp_);
        if (!reopened.ok()) return FailWith(reopened.status());
        have = genstamp_;
      }
      if (replica_.bytes_on_disk > start_length_) {
        Status s = ctx_.data->Truncate(op_.block_id, have, start_length_);
        if (!s.ok()) return FailWith(s);
      }
      if (have < genstamp_) {
        Status s = ctx_.data->BumpGenstamp(op_.block_id, have, genstamp_);
        if (!s.ok()) return FailWith(s);
      }
      auto info = ctx_.data->GetReplica(op_.block_id);
      if (!info.ok()) return FailWith(info.status());
      replica_ = std::move(info).value();
      return {};
    }
  }
  return Fail(TransferStatus::kErrorInvalid, "unknown write stage");
}

SetupError BlockReceiver::ConnectDownstream() {
  const transfer::HostPort& next = op_.targets[0];
  down_name_ = next.host + ":" + std::to_string(next.port);
  auto bad = [&](const std::string& why) {
    return Fail(TransferStatus::kError, kBadNodePrefix + down_name_ + ": " + why);
  };
  auto fd = transfer::SocketConnect(next.host, next.port, ctx_.IoDeadline());
  if (!fd.ok()) return bad(fd.status().ToString());
  down_fd_ = std::move(fd).value();
  down_fd_for_abort_.store(down_fd_.get());
  // An Abort whose hook ran before the store above could not cut this socket.
  if (writer_->aborted()) return bad("writer stopped for recovery");
  Status s = transfer::WriteOp(down_fd_.get(), transfer::DownstreamOp(op_), DownstreamDeadline());
  if (!s.ok()) return bad(s.ToString());
  auto response = transfer::ReadResponse(down_fd_.get(), DownstreamDeadline());
  if (!response.ok()) return bad(response.status().ToString());
  if (response->status != TransferStatus::kSuccess) {
    // A message that already names a node further down is passed up as it is.
    if (response->message.rfind(kBadNodePrefix, 0) == 0) {
      return Fail(response->status, response->message);
    }
    return Fail(response->status, kBadNodePrefix + down_name_ + ": " + response->message);
  }
  return {};
}

void BlockReceiver::SendSetupResponse(const SetupError& result) {
  transfer::OpResponse response;
  response.status = result.status;
  response.message = result.message;
  if (response.message.size() > transfer::kMaxMessageBytes) {
    response.message.resize(transfer::kMaxMessageBytes);
  }
  Status s = transfer::WriteResponse(ctx_.fd, response, ctx_.IoDeadline());
  if (!s.ok() && result.ok()) {
    LOG(WARNING) << ctx_.NodePrefix() << "WRITE_BLOCK of " << BlockName() << " from "
                 << ctx_.peer << ": cannot answer the setup: " << s;
  }
}

bool BlockReceiver::Run() {
  genstamp_ = op_.latest_genstamp == 0 ? op_.genstamp : op_.latest_genstamp;
  if (op_.stage == WriteStage::kCreate) genstamp_ = op_.genstamp;
  SetupError result = CheckOp();
  if (result.ok()) {
    // Recovery takes over from any writer still on the block (the old pipeline).
    if (op_.stage == WriteStage::kRecovery) ctx_.tracker->Stop(op_.block_id);
    result = PlanReplica();
  }
  if (result.ok()) {
    writer_ = std::make_shared<WriteTracker::Writer>(op_.block_id, genstamp_, start_length_);
    Status s = ctx_.tracker->Begin(writer_);
    if (!s.ok()) {
      writer_.reset();
      result = Fail(TransferStatus::kError, s.message());
    }
  }
  if (result.ok()) result = PrepareReplica();
  const bool prepared = result.ok();
  if (result.ok()) {
    writer_->SetAbortHook([this] {
      queue_.Abort();
      ::shutdown(ctx_.fd, SHUT_RDWR);
      int down = down_fd_for_abort_.load();
      if (down >= 0) ::shutdown(down, SHUT_RDWR);
    });
    if (!writer_->aborted() && !op_.targets.empty()) result = ConnectDownstream();
    if (result.ok() && writer_->aborted()) {
      result = Fail(TransferStatus::kError, BlockName() + ": writer stopped for recovery");
    }
  }
  auto finish = [&](bool ok) {
    if (writer_ != nullptr) {
      writer_->ClearAbortHook();
      ctx_.tracker->End(writer_);
      if (completed_) ctx_.tracker->Forget(op_.block_id, genstamp_);
    }
    down_fd_.Reset();
    (ok ? ctx_.counters->ops_served : ctx_.counters->ops_failed)
        .fetch_add(1, std::memory_order_relaxed);
    if (!ok) GetDatanodeMetrics().ops_failed->Increment();
    return ok;
  };
  if (!result.ok()) {
    LOG(WARNING) << ctx_.NodePrefix() << "WRITE_BLOCK of " << BlockName() << " from "
                 << ctx_.peer << " refused (" << transfer::TransferStatusName(result.status)
                 << "): " << result.message;
    // (A recovery that stopped us owns the replica from here: it stays.)
    if (prepared && (op_.stage == WriteStage::kCreate || recover_fresh_) &&
        !writer_->aborted()) {
      // Nothing was written: the empty replica would only wait for a namenode to delete it.
      Status s = ctx_.data->Delete(op_.block_id, genstamp_);
      if (!s.ok()) LOG(WARNING) << "Dropping the new replica of " << BlockName() << ": " << s;
    }
    SendSetupResponse(result);
    return finish(false);
  }
  // Reported before the client hears of it, so the namenode learns of the replica first.
  ctx_.events->OnReceiving(replica_);
  SendSetupResponse(result);

  // Made before the responder starts, since it may fail the stream at once. Without it (out of
  // descriptors) a failed stream's receiver stops at the next packet or end of stream instead.
  stop_reading_ = transfer::UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  in_.set_wake_fd(stop_reading_.get());
  std::thread responder;
  try {
    responder = std::thread([this] { RunResponder(); });
  } catch (const std::system_error& e) {
    LOG(ERROR) << ctx_.NodePrefix() << "WRITE_BLOCK of " << BlockName()
               << ": cannot start the responder thread: " << e.what();
    return finish(false);
  }
  ReceivePackets();
  responder.join();
  if (completed_) {
    VLOG(1) << ctx_.NodePrefix() << "received " << BlockName() << " from " << ctx_.peer;
  }
  // Bytes read past the last packet (a next op sent without waiting for the last ack) sit in
  // our buffer, not the socket: the connection cannot carry on.
  const bool reusable = completed_ && in_.size() == 0;
  if (completed_ && !reusable) {
    VLOG(1) << ctx_.NodePrefix() << "closing the connection from " << ctx_.peer
            << ": data arrived after the last packet of " << BlockName();
  }
  finish(completed_);
  return reusable;
}

void BlockReceiver::ReceivePackets() {
  transfer::PacketValidator::Options vo;
  vo.start_offset = start_length_;
  vo.bytes_per_checksum = kBytesPerChecksum;
  vo.max_data_len = static_cast<uint32_t>(
      std::min<uint64_t>({ctx_.options->max_packet_data_bytes, transfer::kMaxPacketDataBytes,
                          ctx_.data->options().max_io_bytes}));
  transfer::PacketValidator validator(vo);
  PacketView packet;
  // Where the stream stands after the last packet read whole (the validator moves on as soon
  // as it accepts a header, before the payload has arrived).
  int64_t next_seqno = 0;
  uint64_t next_offset = start_length_;
  while (!validator.saw_last()) {
    Status s = ReadPacketBuffered(ctx_.fd, ctx_.IoDeadline(), &validator, &in_, &packet);
    if (!s.ok()) {
      if (queue_.aborted()) return;
      // A sender that stops mid-packet or sends what the stream does not allow is at fault;
      // a timeout may be the network's.
      const bool malformed = s.code() != ErrorCode::kTimedOut;
      LOG(WARNING) << ctx_.NodePrefix() << "WRITE_BLOCK of " << BlockName() << " from "
                   << ctx_.peer << ": bad or missing packet seqno " << next_seqno << ": " << s;
      AckQueue::Entry failed;
      failed.seqno = next_seqno;
      failed.end_offset = next_offset;
      failed.written = true;
      failed.status = malformed ? TransferStatus::kErrorInvalid : TransferStatus::kError;
      queue_.Push(failed);
      return;
    }
    const PacketHeader& h = packet.header;
    if (!h.heartbeat()) {
      next_seqno = h.seqno + 1;
      next_offset = h.offset_in_block + h.data_len;
    }
    AckQueue::Entry entry;
    entry.seqno = h.seqno;
    entry.end_offset = h.offset_in_block + h.data_len;
    entry.last = h.last;
    if (!queue_.Push(entry)) return;
    // Forward first, so the next node works on the packet while this one writes it.
    if (down_fd_.valid() && !downstream_broken_.load(std::memory_order_acquire)) {
      Status f = transfer::WritePacket(down_fd_.get(), h, packet.checksums, packet.data,
                                       DownstreamDeadline());
      if (!f.ok()) {
        if (!queue_.aborted()) {
          LOG(WARNING) << ctx_.NodePrefix() << "WRITE_BLOCK of " << BlockName()
                       << ": cannot forward to " << down_name_ << ": " << f;
        }
        downstream_broken_.store(true, std::memory_order_release);
        ::shutdown(down_fd_.get(), SHUT_RDWR);
      }
    }
    TransferStatus local = WriteLocally(packet);
    queue_.MarkNewestWritten(local);
    if (local != TransferStatus::kSuccess) return;
  }
}

TransferStatus BlockReceiver::WriteLocally(const PacketView& packet) {
  const PacketHeader& h = packet.header;
  if (h.heartbeat()) return TransferStatus::kSuccess;
  if (h.data_len > 0) {
    // The wire's checksums are little-endian, the meta file's big-endian.
    big_endian_sums_.resize(h.checksum_len);
    const uint8_t* in = packet.checksums;
    uint8_t* out = big_endian_sums_.data();
    for (uint32_t i = 0; i < h.checksum_len; i += 4) {
      out[i] = in[i + 3];
      out[i + 1] = in[i + 2];
      out[i + 2] = in[i + 1];
      out[i + 3] = in[i];
    }
    const auto write_start = std::chrono::steady_clock::now();
    Status s = ctx_.data->Append(
        op_.block_id, genstamp_, h.offset_in_block,
        std::string_view(reinterpret_cast<const char*>(packet.data), h.data_len),
        std::string_view(reinterpret_cast<const char*>(out), h.checksum_len));
    if (!s.ok()) {
      TransferStatus status = TransferStatusFor(s);
      if (status == TransferStatus::kErrorChecksum) {
        ctx_.counters->checksum_errors.fetch_add(1, std::memory_order_relaxed);
        GetDatanodeMetrics().checksum_failures_write->Increment();
      }
      if (!queue_.aborted()) {
        LOG(WARNING) << ctx_.NodePrefix() << "WRITE_BLOCK of " << BlockName() << " from "
                     << ctx_.peer << ": packet seqno " << h.seqno << " not stored: " << s;
      }
      return status == TransferStatus::kSuccess ? TransferStatus::kError : status;
    }
    ctx_.counters->bytes_written.fetch_add(h.data_len, std::memory_order_relaxed);
    const DatanodeMetrics& m = GetDatanodeMetrics();
    m.bytes_written->Increment(h.data_len);
    m.packet_write_seconds->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - write_start).count());
  }
  if (h.sync || h.last) {
    // Finalize syncs too; an explicit sync before it would only repeat the work.
    Status s = h.last ? ctx_.data->Finalize(op_.block_id, genstamp_).status()
                      : ctx_.data->Sync(op_.block_id, genstamp_);
    if (!s.ok()) {
      LOG(WARNING) << ctx_.NodePrefix() << "WRITE_BLOCK of " << BlockName() << ": "
                   << (h.last ? "finalize" : "sync") << " failed: " << s;
      return TransferStatus::kError;
    }
    if (h.last) {
      GetDatanodeMetrics().blocks_written->Increment();
      auto info = ctx_.data->GetReplica(op_.block_id);
      if (info.ok()) {
        replica_ = std::move(info).value();
        ctx_.events->OnReceived(replica_);
      }
    }
  }
  return TransferStatus::kSuccess;
}

void BlockReceiver::RunResponder() {
  const bool has_downstream = down_fd_.valid();
  PipelineAck down;
  PipelineAck broken;
  broken.replies.assign(1, TransferStatus::kError);
  AckQueue::Entry e;
  while (queue_.WaitFront(&e)) {
    const bool failed_here = e.written && e.status != TransferStatus::kSuccess;
    bool have_down_ack = false;
    if (has_downstream && !failed_here && !downstream_broken_.load(std::memory_order_acquire)) {
      Status s = ReadAckBuffered(down_fd_.get(), DownstreamDeadline(), &acks_in_, &down);
      if (s.ok() && down.seqno != e.seqno) {
        s = Status::InvalidArgument("ack for seqno " + std::to_string(down.seqno) +
                                    " while expecting " + std::to_string(e.seqno));
      }
      if (s.ok()) {
        have_down_ack = true;
      } else {
        if (!queue_.aborted()) {
          LOG(WARNING) << ctx_.NodePrefix() << "WRITE_BLOCK of " << BlockName()
                       << ": no ack from " << down_name_ << ": " << s;
        }
        downstream_broken_.store(true, std::memory_order_release);
      }
    }
    if (!queue_.WaitFrontWritten(&e)) return;
    const PipelineAck* downstream = nullptr;
    if (have_down_ack) {
      downstream = &down;
    } else if (has_downstream && e.status == TransferStatus::kSuccess) {
      broken.seqno = e.seqno;  // the next node is the one that failed
      downstream = &broken;
    }
    PipelineAck ack = transfer::MakeUpstreamAck(e.seqno, e.status, downstream);
    const bool all_ok = ack.AllSucceeded();
    if (all_ok && e.seqno != transfer::kHeartbeatSeqno) writer_->SetAckedLength(e.end_offset);
    if (all_ok && e.last) {
      // The replica is finalized everywhere: a next writer (an append right after the close)
      // must find the block free by the time the client hears of it.
      writer_->ClearAbortHook();
      ctx_.tracker->End(writer_);
      ctx_.tracker->Forget(op_.block_id, genstamp_);
    }
    Status s = transfer::EncodePipelineAck(ack, &ack_bytes_);
    if (s.ok()) s = transfer::WriteFully(ctx_.fd, ack_bytes_.data(), ack_bytes_.size(),
                                         ctx_.IoDeadline());
    queue_.PopFront();
    if (!s.ok()) {
      if (!queue_.aborted()) {
        LOG(WARNING) << ctx_.NodePrefix() << "WRITE_BLOCK of " << BlockName()
                     << ": cannot ack to " << ctx_.peer << ": " << s;
      }
      FailStream();
      return;
    }
    if (!all_ok) {
      FailStream();
      return;
    }
    if (e.last) {
      completed_ = true;
      return;
    }
  }
}

void BlockReceiver::FailStream() {
  queue_.Abort();
  if (stop_reading_.valid()) {
    uint64_t one = 1;
    ssize_t ignored = ::write(stop_reading_.get(), &one, sizeof(one));
    (void)ignored;
  }
  // Our error ack is on its way. The upstream socket is not shut for reading (the receiver is
  // woken through stop_reading_ instead): data arriving after our FIN on a socket shut for
  // reading makes the kernel reset the connection, and a reset (as a close with unread data)
  // can destroy the ack before upstream reads it. The server drains what is left before
  // closing (transfer_server.cc). The next node sees us hang up.
  if (down_fd_.valid()) ::shutdown(down_fd_.get(), SHUT_RDWR);
}

}  // namespace

bool ServeWriteBlock(const OpContext& ctx, const WriteBlockOp& op) {
  BlockReceiver receiver(ctx, op);
  return receiver.Run();
}

}  // namespace talus::datanode
