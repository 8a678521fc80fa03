#include "client/stream/data_streamer.h"

#include <sys/socket.h>

#include <algorithm>
#include <string>

#include <glog/logging.h>

#include "common/transfer/stream_io.h"

namespace talus::client {

namespace {

std::string NamesOf(const std::vector<DatanodeInfo>& nodes) {
  std::string out;
  for (const DatanodeInfo& n : nodes) out += (out.empty() ? "" : ", ") + n.DataAddress();
  return "[" + out + "]";
}

}  // namespace

Result<std::unique_ptr<DataStreamer>> DataStreamer::Open(const LocatedBlock& block,
                                                         const transfer::WriteBlockOp& op,
                                                         PacketPool* pool,
                                                         const Options& options,
                                                         Recovery recovery) {
  if (block.locations.empty()) {
    return Status::IoError("no datanode to write " + block.block.Name() + " to");
  }
  if (block.locations.size() > transfer::kMaxPipelineNodes) {
    return Status::InvalidArgument("pipeline of " + std::to_string(block.locations.size()) +
                                   " datanodes is longer than the protocol allows");
  }
  auto streamer = std::unique_ptr<DataStreamer>(
      new DataStreamer(block, pool, options, std::move(recovery)));
  DataStreamer& s = *streamer;
  const bool append = op.stage == transfer::WriteStage::kAppend;
  // Before an append's setup the replicas hold the old stamp; some may have moved to the new
  // one when it fails.
  s.replica_genstamp_ = append ? op.genstamp : block.block.genstamp;
  s.acked_bytes_ = s.queued_end_ = op.stage == transfer::WriteStage::kCreate ? 0
                                                                             : op.min_bytes_rcvd;
  int bad = 0;
  Status setup = s.Setup(block.locations, op, &bad);
  if (!setup.ok()) {
    if (!append || s.recovery_.namenode == nullptr) return setup;
    LOG(WARNING) << "append pipeline " << NamesOf(block.locations) << " of "
                 << block.block.Name() << " failed: " << setup << "; recovering";
    {
      std::lock_guard<std::mutex> lock(s.mu_);
      s.broken_ = setup;
      s.bad_node_ = bad;
    }
    RETURN_NOT_OK(s.Recover());
    return streamer;
  }
  s.replica_genstamp_ = block.block.genstamp;
  s.StartThreads();
  return streamer;
}

DataStreamer::DataStreamer(LocatedBlock block, PacketPool* pool, const Options& options,
                           Recovery recovery)
    : block_(std::move(block)), pool_(pool), options_(options), recovery_(std::move(recovery)) {}

DataStreamer::~DataStreamer() {
  StopThreads();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& p : to_send_) pool_->Put(std::move(p));
  for (auto& p : unacked_) pool_->Put(std::move(p));
}

int DataStreamer::AckTimeoutMs() const {
  return transfer::PipelineTimeoutMs(options_.timeout_ms, block_.locations.size());
}

Status DataStreamer::Setup(const std::vector<DatanodeInfo>& nodes,
                           const transfer::WriteBlockOp& op_in, int* bad) {
  *bad = 0;
  fd_.Reset();
  const DatanodeInfo& first = nodes[0];
  const int timeout_ms = transfer::PipelineTimeoutMs(options_.timeout_ms, nodes.size());
  Result<transfer::UniqueFd> fd = transfer::SocketConnect(
      first.host, static_cast<uint16_t>(first.data_port),
      transfer::DeadlineAfterMs(options_.timeout_ms));
  if (!fd.ok()) {
    return Status(ErrorCode::kUnavailable,
                  "cannot connect to datanode " + first.DataAddress() + " to write " +
                      block_.block.Name() + ": " + fd.status().message(),
                  first.storage_id);
  }
  transfer::WriteBlockOp op = op_in;
  op.targets.clear();
  for (size_t i = 1; i < nodes.size(); ++i) {
    op.targets.push_back({nodes[i].host, static_cast<uint16_t>(nodes[i].data_port)});
  }
  const transfer::Deadline deadline = transfer::DeadlineAfterMs(timeout_ms);
  Status sent = transfer::WriteOp(fd->get(), op, deadline);
  Result<transfer::OpResponse> response =
      sent.ok() ? transfer::ReadResponse(fd->get(), deadline) : Result<transfer::OpResponse>(sent);
  if (!response.ok()) {
    return Status(ErrorCode::kIoError,
                  "setting up the write pipeline of " + block_.block.Name() + " at datanode " +
                      first.DataAddress() + ": " + response.status().message(),
                  first.storage_id);
  }
  if (response->status != transfer::TransferStatus::kSuccess) {
    // The detail names the node to leave out of the next try: the one the message names, else
    // the first (which answered).
    *bad = BadNodeOfSetup(response->message, nodes);
    Status s = transfer::TransferStatusToStatus(response->status, response->message);
    return Status(s.code(),
                  "write pipeline of " + block_.block.Name() + " refused (via datanode " +
                      first.DataAddress() + "): " + s.message(),
                  nodes[*bad].storage_id);
  }
  fd_ = std::move(*fd);
  return Status::OK();
}

void DataStreamer::StartThreads() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
    last_sent_ = false;
    broken_ = Status::OK();
    send_failed_ = Status::OK();
    bad_node_ = -1;
  }
  sender_ = std::thread([this] { SendLoop(); });
  responder_ = std::thread([this] { AckLoop(); });
}

void DataStreamer::StopThreads() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  // Unblocks a send or an ack read still waiting on the network.
  if (fd_.valid()) ::shutdown(fd_.get(), SHUT_RDWR);
  if (sender_.joinable()) sender_.join();
  if (responder_.joinable()) responder_.join();
}

std::string DataStreamer::PipelineNames() const { return NamesOf(block_.locations); }

Status DataStreamer::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

void DataStreamer::Fail(Status status, int bad) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!broken_.ok() || stopping_) return;
    broken_ = std::move(status);
    bad_node_ = bad;
    LOG(WARNING) << "write pipeline " << PipelineNames() << " of " << block_.block.Name()
                 << " failed: " << broken_;
  }
  cv_.notify_all();
  ::shutdown(fd_.get(), SHUT_RDWR);
}

Status DataStreamer::GiveUp(const Status& why, const Status& cause) {
  std::string message = "write pipeline of " + block_.block.Name() + " for " + recovery_.path +
                        " could not be recovered: " + why.message();
  if (!cause.ok() && why.message().find(cause.message()) == std::string::npos) {
    message += " (after: " + cause.message() + ")";
  }
  Status s(why.code() == ErrorCode::kOk ? ErrorCode::kIoError : why.code(), message,
           why.detail());
  LOG(WARNING) << s;
  std::lock_guard<std::mutex> lock(mu_);
  error_ = s;
  cv_.notify_all();
  return s;
}

Status DataStreamer::Recover() {
  StopThreads();
  Status cause;
  int bad = -1;
  uint64_t acked = 0;
  uint64_t sent = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cause = broken_;
    bad = bad_node_;
    // Every unacknowledged packet goes again, in order, before those not sent yet.
    while (!unacked_.empty()) {
      to_send_.push_front(std::move(unacked_.back()));
      unacked_.pop_back();
    }
    acked = acked_bytes_;
    sent = queued_end_;
  }
  fd_.Reset();
  std::vector<DatanodeInfo> nodes = block_.locations;
  Status last = cause;
  while (true) {
    if (recovery_.namenode == nullptr) {
      // The caller may write the block again elsewhere: the detail names the node to avoid.
      const bool known = bad >= 0 && static_cast<size_t>(bad) < nodes.size();
      return GiveUp(Status(last.code(), last.message(),
                           known ? nodes[bad].storage_id : last.detail()),
                    cause);
    }
    if (recoveries_ >= options_.max_recoveries) {
      return GiveUp(Status(last.code(), "gave up after " + std::to_string(recoveries_) +
                                            " pipeline recoveries; last failure: " +
                                            last.message()),
                    cause);
    }
    ++recoveries_;
    if (bad >= 0 && static_cast<size_t>(bad) < nodes.size()) {
      LOG(WARNING) << "dropping datanode " << nodes[bad].DataAddress() << " from the pipeline "
                   << NamesOf(nodes) << " of " << block_.block.Name() << " (" << recovery_.path
                   << "): " << last.message();
      excluded_.push_back(nodes[bad].storage_id);
      nodes.erase(nodes.begin() + bad);
    }
    if (nodes.empty()) {
      return GiveUp(Status(ErrorCode::kIoError, "all datanodes of the pipeline failed"), last);
    }
    if (ShouldAddDatanode(options_.replace_policy, recovery_.replication, nodes.size(),
                          hflushed_ || recovery_.appended)) {
      MaybeAddDatanodes(&nodes, acked);
    }
    Result<uint64_t> stamp =
        recovery_.namenode->UpdateBlockForPipeline(block_.block, recovery_.client_name);
    if (!stamp.ok()) return GiveUp(stamp.status(), last);
    RecoveryPoint point;
    point.block_id = block_.block.block_id;
    point.replica_genstamp = replica_genstamp_;
    point.new_genstamp = *stamp;
    point.acked_bytes = acked;
    point.sent_bytes = sent;
    point.client_name = recovery_.client_name;
    Status setup = Setup(nodes, RecoveryOp(point), &bad);
    if (!setup.ok()) {
      LOG(WARNING) << "recovering the pipeline " << NamesOf(nodes) << " of "
                   << block_.block.Name() << ": " << setup;
      last = setup;
      continue;
    }
    BlockRef updated{block_.block.block_id, *stamp, acked};
    Status committed =
        recovery_.namenode->UpdatePipeline(recovery_.client_name, block_.block, updated, nodes);
    if (!committed.ok()) {
      fd_.Reset();
      return GiveUp(committed, last);
    }
    LOG(INFO) << "write pipeline of " << block_.block.Name() << " (" << recovery_.path
              << ") rebuilt as " << NamesOf(nodes) << " under stamp " << *stamp << " from byte "
              << acked;
    block_.block = updated;
    block_.locations = std::move(nodes);
    replica_genstamp_ = *stamp;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // The new pipeline numbers packets from 0 again.
      next_seqno_ = 0;
      for (auto& p : to_send_) p->seqno = next_seqno_++;
    }
    StartThreads();
    return Status::OK();
  }
}

void DataStreamer::MaybeAddDatanodes(std::vector<DatanodeInfo>* nodes, uint64_t acked) {
  const int wanted = recovery_.replication - static_cast<int>(nodes->size());
  Result<std::vector<DatanodeInfo>> added = recovery_.namenode->GetAdditionalDatanodes(
      recovery_.path, recovery_.file_id, block_.block, *nodes, excluded_, wanted,
      recovery_.client_name);
  if (!added.ok() || added->empty() ||
      nodes->size() + added->size() > transfer::kMaxPipelineNodes) {
    LOG(WARNING) << "no replacement datanode for " << block_.block.Name() << " of "
                 << recovery_.path << ", going on with " << nodes->size() << " of "
                 << recovery_.replication << ": "
                 << (added.ok() ? Status::Unavailable("none offered") : added.status());
    return;
  }
  // A node that joins must first hold what the others acknowledged (nothing to copy when
  // nothing was acknowledged: it starts the replica empty).
  if (acked > 0) {
    Status copied = TransferTo((*nodes)[0], *added, acked);
    if (!copied.ok()) {
      LOG(WARNING) << "could not give " << NamesOf(*added) << " the " << acked
                   << " acknowledged bytes of " << block_.block.Name() << ", going on with "
                   << nodes->size() << " datanodes: " << copied;
      for (const DatanodeInfo& n : *added) excluded_.push_back(n.storage_id);
      return;
    }
  }
  LOG(INFO) << "adding " << NamesOf(*added) << " to the pipeline of " << block_.block.Name()
            << " (" << recovery_.path << ")";
  for (DatanodeInfo& n : *added) nodes->push_back(std::move(n));
}

Status DataStreamer::TransferTo(const DatanodeInfo& source,
                                const std::vector<DatanodeInfo>& targets, uint64_t length) {
  transfer::TransferBlockOp op;
  op.block_id = block_.block.block_id;
  op.genstamp = replica_genstamp_;
  op.length = length;
  op.client_name = recovery_.client_name;
  for (const DatanodeInfo& t : targets) {
    op.targets.push_back({t.host, static_cast<uint16_t>(t.data_port)});
  }
  ASSIGN_OR_RETURN(transfer::UniqueFd fd,
                   transfer::SocketConnect(source.host, static_cast<uint16_t>(source.data_port),
                                           transfer::DeadlineAfterMs(options_.timeout_ms)));
  RETURN_NOT_OK(transfer::WriteOp(fd.get(), op, transfer::DeadlineAfterMs(options_.timeout_ms)));
  // The copy itself takes time: a block at a few tens of MiB/s, on top of the usual timeout.
  const int copy_ms = static_cast<int>(std::min<uint64_t>(length / (16 * 1024), 600000));
  ASSIGN_OR_RETURN(transfer::OpResponse response,
                   transfer::ReadResponse(
                       fd.get(), transfer::DeadlineAfterMs(
                                     transfer::PipelineTimeoutMs(options_.timeout_ms,
                                                                 targets.size()) +
                                     copy_ms)));
  return transfer::TransferStatusToStatus(response.status, response.message);
}

template <typename Ready>
Status DataStreamer::WaitRecovering(std::unique_lock<std::mutex>& lock, Ready ready) {
  while (true) {
    cv_.wait(lock, [&] { return !error_.ok() || !broken_.ok() || ready(); });
    if (!error_.ok()) return error_;
    if (broken_.ok()) return Status::OK();
    lock.unlock();
    Status recovered = Recover();
    lock.lock();
    if (!recovered.ok()) return recovered;
  }
}

Status DataStreamer::Enqueue(std::unique_ptr<Packet> packet) {
  std::unique_lock<std::mutex> lock(mu_);
  Status s = WaitRecovering(lock, [&] {
    return to_send_.size() + unacked_.size() < static_cast<size_t>(options_.max_in_flight);
  });
  if (!s.ok()) {
    pool_->Put(std::move(packet));
    return s;
  }
  packet->seqno = next_seqno_++;
  queued_end_ = std::max(queued_end_, packet->offset_in_block + packet->data_len);
  to_send_.push_back(std::move(packet));
  lock.unlock();
  cv_.notify_all();
  return Status::OK();
}

Status DataStreamer::WaitAcked() {
  std::unique_lock<std::mutex> lock(mu_);
  return WaitRecovering(lock, [&] { return to_send_.empty() && unacked_.empty(); });
}

void DataStreamer::SendLoop() {
  // An idle pipeline gets an empty heartbeat packet now and then, so datanodes waiting for the
  // next packet do not time out while the writer thinks.
  const auto heartbeat_every = std::chrono::milliseconds(std::max(options_.timeout_ms / 2, 1));
  const int timeout_ms = AckTimeoutMs();
  while (true) {
    Packet* packet = nullptr;
    // Read under the lock: once sent, the packet may be acked and recycled by the responder
    // (even reused for the writer's next packet) before this thread looks at it again.
    bool is_last = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      bool ready = cv_.wait_for(lock, heartbeat_every, [&] {
        return stopping_ || !broken_.ok() || !to_send_.empty();
      });
      if (stopping_ || !broken_.ok() || last_sent_) return;
      if (ready) {
        // Moved to unacked_ before it is sent, so its ack always finds it there.
        unacked_.push_back(std::move(to_send_.front()));
        to_send_.pop_front();
        packet = unacked_.back().get();
        is_last = packet->last;
        if (is_last) last_sent_ = true;
      }
    }
    if (packet != nullptr) cv_.notify_all();  // the responder waits for something unacked
    const transfer::Deadline deadline = transfer::DeadlineAfterMs(timeout_ms);
    Status s;
    if (packet == nullptr) {
      transfer::PacketHeader heartbeat;
      heartbeat.seqno = transfer::kHeartbeatSeqno;
      s = transfer::WritePacket(fd_.get(), heartbeat, nullptr, nullptr, deadline);
    } else {
      transfer::PacketHeader header;
      header.seqno = packet->seqno;
      header.offset_in_block = packet->offset_in_block;
      header.data_len = packet->data_len;
      header.checksum_len = packet->checksum_len;
      header.last = packet->last;
      header.sync = packet->sync;
      s = transfer::WritePacket(fd_.get(), header, packet->checksums.data(), packet->data.data(),
                                deadline);
    }
    if (!s.ok()) {
      Status failed(s.code(),
                    "sending " + block_.block.Name() + " to datanode " +
                        block_.locations[0].DataAddress() + ": " + s.message(),
                    block_.locations[0].storage_id);
      bool nothing_to_read = false;
      {
        // The first node may have hung up right after an ack naming a node further down: the
        // responder reads what is left and blames the right node. With nothing unacknowledged
        // there is no ack to wait for.
        std::lock_guard<std::mutex> lock(mu_);
        send_failed_ = failed;
        nothing_to_read = unacked_.empty();
      }
      cv_.notify_all();
      if (nothing_to_read) Fail(std::move(failed), 0);
      return;
    }
    if (is_last) return;
  }
}

Status DataStreamer::CheckAck(const transfer::PipelineAck& ack, const Packet& packet,
                              int* bad) const {
  *bad = 0;
  if (ack.seqno != packet.seqno) {
    return Status(ErrorCode::kIoError,
                  "datanode " + block_.locations[0].DataAddress() + " acknowledged seqno " +
                      std::to_string(ack.seqno) + " of " + block_.block.Name() +
                      " but packet " + std::to_string(packet.seqno) + " was next",
                  block_.locations[0].storage_id);
  }
  const int failed = BadNodeOfAck(ack, block_.locations.size());
  if (failed < 0) return Status::OK();
  *bad = failed;
  const DatanodeInfo& node = block_.locations[failed];
  if (ack.FirstFailure() >= 0) {
    const transfer::TransferStatus status = ack.replies[ack.FirstFailure()];
    Status s = transfer::TransferStatusToStatus(status, "");
    return Status(s.code(),
                  "datanode " + node.DataAddress() + " (node " + std::to_string(failed + 1) +
                      " of pipeline " + PipelineNames() + ") answered " +
                      transfer::TransferStatusName(status) + " for packet " +
                      std::to_string(packet.seqno) + " of " + block_.block.Name(),
                  node.storage_id);
  }
  return Status(ErrorCode::kIoError,
                "pipeline " + PipelineNames() + " acknowledged packet " +
                    std::to_string(packet.seqno) + " of " + block_.block.Name() + " on " +
                    std::to_string(ack.replies.size()) + " node(s) only; datanode " +
                    node.DataAddress() + " is missing",
                node.storage_id);
}

void DataStreamer::AckLoop() {
  const int timeout_ms = AckTimeoutMs();
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        return stopping_ || !broken_.ok() || !unacked_.empty() || !send_failed_.ok();
      });
      if (stopping_ || !broken_.ok()) return;
      if (unacked_.empty()) {
        Status failed = send_failed_;
        lock.unlock();
        Fail(std::move(failed), 0);
        return;
      }
    }
    transfer::PipelineAck ack;
    Status s = transfer::ReadAck(fd_.get(), transfer::DeadlineAfterMs(timeout_ms), &ack);
    if (!s.ok()) {
      Status failed;
      {
        std::lock_guard<std::mutex> lock(mu_);
        failed = send_failed_;
      }
      // Nothing names a node further down: the first node is the one that failed us.
      if (failed.ok()) {
        failed = Status(s.code(),
                        "reading acks of " + block_.block.Name() + " from datanode " +
                            block_.locations[0].DataAddress() + ": " + s.message(),
                        block_.locations[0].storage_id);
      }
      Fail(std::move(failed), 0);
      return;
    }
    int bad = 0;
    if (ack.seqno == transfer::kHeartbeatSeqno) {
      if (BadNodeOfAck(ack, block_.locations.size()) >= 0) {
        Packet heartbeat;
        heartbeat.seqno = transfer::kHeartbeatSeqno;
        Status hs = CheckAck(ack, heartbeat, &bad);
        Fail(std::move(hs), bad);
        return;
      }
      continue;
    }
    std::unique_ptr<Packet> done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (unacked_.empty()) {
        s = Status::IoError("datanode " + block_.locations[0].DataAddress() +
                            " acknowledged seqno " + std::to_string(ack.seqno) + " of " +
                            block_.block.Name() + " that was never sent");
      } else {
        s = CheckAck(ack, *unacked_.front(), &bad);
        if (s.ok()) {
          done = std::move(unacked_.front());
          unacked_.pop_front();
          acked_bytes_ = done->offset_in_block + done->data_len;
        }
      }
    }
    if (!s.ok()) {
      Fail(std::move(s), bad);
      return;
    }
    const bool last = done->last;
    pool_->Put(std::move(done));
    cv_.notify_all();
    if (last) return;
  }
}

}  // namespace talus::client
