#include "client/stream/data_streamer.h"

#include <sys/socket.h>

#include <string>
#include <string_view>

#include <glog/logging.h>

#include "common/transfer/stream_io.h"

namespace talus::client {

namespace {

// Returns the index of the location a failed pipeline setup names, or -1. The datanode starts
// such a message with "bad datanode HOST:PORT: " (kBadNodePrefix in
// datanode/transfer/transfer_server.h); the address is compared whole, so 127.0.0.1:3456 is
// never taken for 127.0.0.1:34567.
int NodeNamedIn(const std::string& message, const std::vector<DatanodeInfo>& nodes) {
  static constexpr std::string_view kPrefix = "bad datanode ";
  if (message.compare(0, kPrefix.size(), kPrefix) != 0) return -1;
  const size_t end = message.find(": ", kPrefix.size());
  const std::string named = message.substr(kPrefix.size(), end == std::string::npos
                                                               ? std::string::npos
                                                               : end - kPrefix.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (named == nodes[i].DataAddress()) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

Result<std::unique_ptr<DataStreamer>> DataStreamer::Open(const LocatedBlock& block,
                                                         const transfer::WriteBlockOp& op_in,
                                                         PacketPool* pool,
                                                         const Options& options) {
  if (block.locations.empty()) {
    return Status::IoError("no datanode to write " + block.block.Name() + " to");
  }
  if (block.locations.size() > transfer::kMaxPipelineNodes) {
    return Status::InvalidArgument("pipeline of " + std::to_string(block.locations.size()) +
                                   " datanodes is longer than the protocol allows");
  }
  const DatanodeInfo& first = block.locations[0];
  Result<transfer::UniqueFd> fd = transfer::SocketConnect(
      first.host, static_cast<uint16_t>(first.data_port),
      transfer::DeadlineAfterMs(options.timeout_ms));
  if (!fd.ok()) {
    return Status(ErrorCode::kUnavailable,
                  "cannot connect to datanode " + first.DataAddress() + " to write " +
                      block.block.Name() + ": " + fd.status().message(),
                  first.storage_id);
  }
  transfer::WriteBlockOp op = op_in;
  op.targets.clear();
  for (size_t i = 1; i < block.locations.size(); ++i) {
    op.targets.push_back({block.locations[i].host,
                          static_cast<uint16_t>(block.locations[i].data_port)});
  }
  const transfer::Deadline deadline = transfer::DeadlineAfterMs(options.timeout_ms);
  Status sent = transfer::WriteOp(fd->get(), op, deadline);
  Result<transfer::OpResponse> response =
      sent.ok() ? transfer::ReadResponse(fd->get(), deadline) : Result<transfer::OpResponse>(sent);
  if (!response.ok()) {
    return Status(ErrorCode::kIoError,
                  "setting up the write pipeline of " + block.block.Name() + " at datanode " +
                      first.DataAddress() + ": " + response.status().message(),
                  first.storage_id);
  }
  if (response->status != transfer::TransferStatus::kSuccess) {
    // The detail names the node to leave out of the next try: the one the message names, else
    // the first (which answered).
    int bad = NodeNamedIn(response->message, block.locations);
    Status s = transfer::TransferStatusToStatus(response->status, response->message);
    return Status(s.code(),
                  "write pipeline of " + block.block.Name() + " refused (via datanode " +
                      first.DataAddress() + "): " + s.message(),
                  block.locations[bad < 0 ? 0 : bad].storage_id);
  }
  auto streamer = std::unique_ptr<DataStreamer>(
      new DataStreamer(block, std::move(*fd), pool, options));
  streamer->sender_ = std::thread([s = streamer.get()] { s->SendLoop(); });
  streamer->responder_ = std::thread([s = streamer.get()] { s->AckLoop(); });
  return streamer;
}

DataStreamer::DataStreamer(LocatedBlock block, transfer::UniqueFd fd, PacketPool* pool,
                           const Options& options)
    : block_(std::move(block)), fd_(std::move(fd)), pool_(pool), options_(options) {}

DataStreamer::~DataStreamer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  // Unblocks a send or an ack read still waiting on the network.
  if (fd_.valid()) ::shutdown(fd_.get(), SHUT_RDWR);
  if (sender_.joinable()) sender_.join();
  if (responder_.joinable()) responder_.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& p : to_send_) pool_->Put(std::move(p));
  for (auto& p : unacked_) pool_->Put(std::move(p));
}

std::string DataStreamer::PipelineNames() const {
  std::string out;
  for (const DatanodeInfo& n : block_.locations) out += (out.empty() ? "" : ", ") + n.DataAddress();
  return "[" + out + "]";
}

Status DataStreamer::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

void DataStreamer::Fail(Status status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return;
    error_ = std::move(status);
    LOG(WARNING) << "write pipeline " << PipelineNames() << " of " << block_.block.Name()
                 << " failed: " << error_;
  }
  cv_.notify_all();
  ::shutdown(fd_.get(), SHUT_RDWR);
}

Status DataStreamer::Enqueue(std::unique_ptr<Packet> packet) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] {
    return !error_.ok() ||
           to_send_.size() + unacked_.size() < static_cast<size_t>(options_.max_in_flight);
  });
  if (!error_.ok()) {
    pool_->Put(std::move(packet));
    return error_;
  }
  packet->seqno = next_seqno_++;
  to_send_.push_back(std::move(packet));
  lock.unlock();
  cv_.notify_all();
  return Status::OK();
}

Status DataStreamer::WaitAcked() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !error_.ok() || (to_send_.empty() && unacked_.empty()); });
  return error_;
}

void DataStreamer::SendLoop() {
  // An idle pipeline gets an empty heartbeat packet now and then, so datanodes waiting for the
  // next packet do not time out while the writer thinks.
  const auto heartbeat_every = std::chrono::milliseconds(std::max(options_.timeout_ms / 2, 1));
  while (true) {
    Packet* packet = nullptr;
    // Read under the lock: once sent, the packet may be acked and recycled by the responder
    // (even reused for the writer's next packet) before this thread looks at it again.
    bool is_last = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      bool ready = cv_.wait_for(lock, heartbeat_every, [&] {
        return stopping_ || !error_.ok() || !to_send_.empty();
      });
      if (stopping_ || !error_.ok() || last_sent_) return;
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
    const transfer::Deadline deadline = transfer::DeadlineAfterMs(options_.timeout_ms);
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
      Fail(Status(s.code(),
                  "sending " + block_.block.Name() + " to datanode " +
                      block_.locations[0].DataAddress() + ": " + s.message(),
                  block_.locations[0].storage_id));
      return;
    }
    if (is_last) return;
  }
}

Status DataStreamer::CheckAck(const transfer::PipelineAck& ack, const Packet& packet) const {
  if (ack.seqno != packet.seqno) {
    return Status(ErrorCode::kIoError,
                  "datanode " + block_.locations[0].DataAddress() + " acknowledged seqno " +
                      std::to_string(ack.seqno) + " of " + block_.block.Name() +
                      " but packet " + std::to_string(packet.seqno) + " was next",
                  block_.locations[0].storage_id);
  }
  const int bad = ack.FirstFailure();
  if (bad >= 0) {
    const size_t index = std::min(static_cast<size_t>(bad), block_.locations.size() - 1);
    const DatanodeInfo& node = block_.locations[index];
    Status s = transfer::TransferStatusToStatus(ack.replies[bad], "");
    return Status(s.code(),
                  "datanode " + node.DataAddress() + " (node " + std::to_string(bad + 1) +
                      " of pipeline " + PipelineNames() + ") answered " +
                      transfer::TransferStatusName(ack.replies[bad]) + " for packet " +
                      std::to_string(packet.seqno) + " of " + block_.block.Name(),
                  node.storage_id);
  }
  if (ack.replies.size() < block_.locations.size()) {
    const DatanodeInfo& node = block_.locations[ack.replies.size()];
    return Status(ErrorCode::kIoError,
                  "pipeline " + PipelineNames() + " acknowledged packet " +
                      std::to_string(packet.seqno) + " of " + block_.block.Name() + " on " +
                      std::to_string(ack.replies.size()) + " node(s) only; datanode " +
                      node.DataAddress() + " is missing",
                  node.storage_id);
  }
  return Status::OK();
}

void DataStreamer::AckLoop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !error_.ok() || !unacked_.empty(); });
      if (stopping_ || !error_.ok()) return;
    }
    transfer::PipelineAck ack;
    Status s = transfer::ReadAck(fd_.get(), transfer::DeadlineAfterMs(options_.timeout_ms), &ack);
    if (!s.ok()) {
      Fail(Status(s.code(),
                  "reading acks of " + block_.block.Name() + " from datanode " +
                      block_.locations[0].DataAddress() + ": " + s.message(),
                  block_.locations[0].storage_id));
      return;
    }
    if (ack.seqno == transfer::kHeartbeatSeqno) continue;
    std::unique_ptr<Packet> done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (unacked_.empty()) {
        s = Status::IoError("datanode " + block_.locations[0].DataAddress() +
                            " acknowledged seqno " + std::to_string(ack.seqno) + " of " +
                            block_.block.Name() + " that was never sent");
      } else {
        s = CheckAck(ack, *unacked_.front());
        if (s.ok()) {
          done = std::move(unacked_.front());
          unacked_.pop_front();
        }
      }
    }
    if (!s.ok()) {
      Fail(std::move(s));
      return;
    }
    const bool last = done->last;
    pool_->Put(std::move(done));
    cv_.notify_all();
    if (last) return;
  }
}

}  // namespace talus::client
