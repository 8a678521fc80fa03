#include "raft/transport/peer_sender.h"

#include <sys/socket.h>

#include <glog/logging.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>
#include <thrift/transport/TTransportException.h>

#include "common/metrics/metrics.h"
#include "raft/transport/wire.h"
#include "talus_rpc/RaftService.h"

namespace talus::raft {

namespace {

metrics::Counter* SentCounter() {
  static metrics::Counter* const c = metrics::DefaultRegistry().GetCounter(
      "talus_raft_messages_sent_total", "Raft messages handed to a peer's server.");
  return c;
}


}  // namespace

PeerSender::PeerSender(const TransportOptions& options, NodeId peer, std::string address,
                       std::function<bool()> blocked)
    : options_(options), peer_(peer), address_(std::move(address)), blocked_(std::move(blocked)) {
  thread_ = std::thread([this] { Run(); });
}

PeerSender::~PeerSender() { Stop(); }

void PeerSender::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    // A call in flight would otherwise hold Stop up to the RPC timeout.
    if (socket_fd_ >= 0) ::shutdown(socket_fd_, SHUT_RDWR);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PeerSender::Drop(size_t n, const char* reason) {
  CountDroppedMessages(reason, n);
}

void PeerSender::Enqueue(std::vector<Message> msgs) {
  size_t dropped = 0;
  size_t too_large = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    for (Message& m : msgs) {
      size_t bytes = ApproximateBytes(m);
      if (bytes + 4096 > static_cast<size_t>(options_.max_frame_bytes)) {
        ++too_large;  // the peer's server would close the connection for it
        continue;
      }
      if (queue_.size() >= options_.max_queued_messages ||
          (queued_bytes_ + bytes > options_.max_queued_bytes && !queue_.empty())) {
        ++dropped;
        continue;
      }
      queued_bytes_ += bytes;
      queue_.push_back(std::move(m));
    }
  }
  Drop(dropped, "queue_full");
  if (too_large > 0) {
    LOG_EVERY_N(ERROR, 100) << "raft: a message to peer " << peer_ << " exceeds the frame limit ("
                            << options_.max_frame_bytes << " bytes); dropped";
    Drop(too_large, "too_large");
  }
  cv_.notify_one();
}

std::vector<Message> PeerSender::TakeBatch() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
  std::vector<Message> batch;
  if (stop_) return batch;
  size_t bytes = 0;
  while (!queue_.empty()) {
    size_t b = ApproximateBytes(queue_.front());
    if (!batch.empty() && bytes + b > options_.max_batch_bytes) break;
    bytes += b;
    queued_bytes_ -= b;
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return batch;
}

bool PeerSender::Connect() {
  using apache::thrift::transport::TSocket;
  Result<std::pair<std::string, int>> hp = ParseHostPort(address_);
  if (!hp.ok()) return false;
  auto socket = std::make_shared<TSocket>(hp->first, hp->second);
  socket->setConnTimeout(options_.connect_timeout_ms);
  socket->setRecvTimeout(options_.rpc_timeout_ms);
  socket->setSendTimeout(options_.rpc_timeout_ms);
  socket->setNoDelay(true);
  auto transport = std::make_shared<apache::thrift::transport::TFramedTransport>(
      std::make_shared<apache::thrift::transport::TBufferedTransport>(socket, 8192));
  try {
    transport->open();
  } catch (const apache::thrift::TException& e) {
    if (!reported_down_) {
      LOG(WARNING) << "raft: cannot reach peer " << peer_ << " at " << address_ << ": "
                   << e.what() << " (retrying with backoff; messages to it are dropped)";
      reported_down_ = true;
    }
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) {
      transport->close();
      return false;
    }
    socket_fd_ = socket->getSocketFD();
  }
  socket_ = socket;
  transport_ = transport;
  client_ = std::make_unique<rpc::RaftServiceClient>(
      std::make_shared<apache::thrift::protocol::TBinaryProtocol>(transport_));
  if (reported_down_) LOG(INFO) << "raft: connected to peer " << peer_ << " at " << address_;
  reported_down_ = false;
  return true;
}

void PeerSender::Disconnect() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    socket_fd_ = -1;
  }
  if (transport_) {
    try {
      transport_->close();
    } catch (...) {
    }
  }
  client_.reset();
  transport_.reset();
  socket_.reset();
}

void PeerSender::Run() {
  const auto min_backoff = std::chrono::milliseconds(options_.min_backoff_ms);
  const auto max_backoff = std::chrono::milliseconds(options_.max_backoff_ms);
  backoff_ = min_backoff;
  for (;;) {
    std::vector<Message> batch = TakeBatch();
    if (batch.empty()) break;  // stopping
    if (blocked_()) {
      Drop(batch.size(), "blocked");
      continue;
    }
    if (client_ == nullptr) {
      if (std::chrono::steady_clock::now() < next_connect_ || !Connect()) {
        if (std::chrono::steady_clock::now() >= next_connect_) {
          next_connect_ = std::chrono::steady_clock::now() + backoff_;
          backoff_ = std::min(backoff_ * 2, max_backoff);
        }
        Drop(batch.size(), "peer_down");
        continue;
      }
    }
    rpc::RaftEnvelope envelope;
    envelope.sender = static_cast<int64_t>(options_.id);
    envelope.client_address = options_.client_address;
    envelope.messages.reserve(batch.size());
    for (const Message& m : batch) envelope.messages.push_back(ToWire(m));
    try {
      client_->step(envelope);
      SentCounter()->Increment(static_cast<int64_t>(batch.size()));
      backoff_ = min_backoff;
    } catch (const rpc::TalusError& e) {
      // The peer answered (the connection is fine) but refused the batch.
      LOG_EVERY_N(WARNING, 100) << "raft: peer " << peer_ << " refused messages: " << e.message;
      Drop(batch.size(), "refused");
    } catch (const apache::thrift::TException& e) {
      bool stopping;
      {
        std::lock_guard<std::mutex> lock(mu_);
        stopping = stop_;
      }
      if (!stopping) {
        LOG(WARNING) << "raft: lost the connection to peer " << peer_ << " at " << address_
                     << ": " << e.what();
        reported_down_ = true;
      }
      Disconnect();
      next_connect_ = std::chrono::steady_clock::now() + backoff_;
      backoff_ = std::min(backoff_ * 2, max_backoff);
      Drop(batch.size(), "peer_down");
    }
  }
  Disconnect();
}

}  // namespace talus::raft
