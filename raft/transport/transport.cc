#include "raft/transport/transport.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include <glog/logging.h>
#include <thrift/TApplicationException.h>
#include <thrift/async/TAsyncProtocolProcessor.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include "common/crc32c.h"
#include "common/metrics/metrics.h"
#include "common/rpc/async_thrift_server.h"
#include "common/rpc/thrift_status.h"
#include "raft/transport/peer_sender.h"
#include "raft/transport/wire.h"
#include "talus_rpc/RaftService.h"

namespace talus::raft {

namespace {

using apache::thrift::TDelayedException;
using ExnCob = std::function<void(TDelayedException*)>;

constexpr size_t kMaxClientAddressBytes = 256;

metrics::Counter* ReceivedCounter() {
  static metrics::Counter* const c = metrics::DefaultRegistry().GetCounter(
      "talus_raft_messages_received_total", "Raft messages received from peers and queued.");
  return c;
}


void Fail(const ExnCob& exn_cob, const Status& status) {
  exn_cob(TDelayedException::delayException(ToThriftError(status)));
}

// Thrift prints connection errors to stderr by default; they reach the caller as a Status.
void QuietThriftOutput(const char* message) { VLOG(1) << "thrift: " << message; }

struct Connection {
  std::shared_ptr<apache::thrift::transport::TSocket> socket;
  std::shared_ptr<apache::thrift::transport::TTransport> transport;
  std::unique_ptr<rpc::RaftServiceClient> client;
};

Result<Connection> Open(const std::string& address, int connect_timeout_ms, int rpc_timeout_ms) {
  ASSIGN_OR_RETURN(auto hp, ParseHostPort(address));
  Connection c;
  c.socket = std::make_shared<apache::thrift::transport::TSocket>(hp.first, hp.second);
  c.socket->setConnTimeout(connect_timeout_ms);
  c.socket->setRecvTimeout(rpc_timeout_ms);
  c.socket->setSendTimeout(rpc_timeout_ms);
  c.socket->setNoDelay(true);
  c.transport = std::make_shared<apache::thrift::transport::TFramedTransport>(
      std::make_shared<apache::thrift::transport::TBufferedTransport>(c.socket, 8192));
  try {
    c.transport->open();
  } catch (const apache::thrift::TException& e) {
    return Status::Unavailable("cannot connect to " + address + ": " + e.what());
  }
  c.client = std::make_unique<rpc::RaftServiceClient>(
      std::make_shared<apache::thrift::protocol::TBinaryProtocol>(c.transport));
  return c;
}

}  // namespace

void CountDroppedMessages(const char* reason, size_t n) {
  if (n == 0) return;
  metrics::DefaultRegistry()
      .GetCounter("talus_raft_messages_dropped_total",
                  "Raft messages dropped by this node (Raft resends what matters), by reason.",
                  {{"reason", reason}})
      ->Increment(static_cast<int64_t>(n));
}

Result<std::pair<std::string, int>> ParseHostPort(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return Status::InvalidArgument("bad address \"" + address + "\" (expected host:port)");
  }
  std::string port = address.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument("bad port in \"" + address + "\"");
  }
  int p = std::stoi(port);
  if (p < 1 || p > 65535) return Status::InvalidArgument("bad port in \"" + address + "\"");
  return std::make_pair(address.substr(0, colon), p);
}

class Transport::Impl : public rpc::RaftServiceCobSvIf {
 public:
  Impl(TransportOptions options, TransportHandler* handler)
      : options_(std::move(options)), handler_(handler) {}

  Status Start() {
    static std::once_flag quiet;
    std::call_once(quiet,
                   [] { apache::thrift::GlobalOutput.setOutputFunction(QuietThriftOutput); });
    if (options_.id == kNoNode) return Status::InvalidArgument("raft transport: node id 0");
    for (const auto& [id, address] : options_.peers) {
      if (id == kNoNode || id == options_.id) {
        return Status::InvalidArgument("raft transport: bad peer id " + std::to_string(id));
      }
      RETURN_NOT_OK(ParseHostPort(address).status());
    }
    ASSIGN_OR_RETURN(receiver_, SnapshotReceiver::Open(options_.snapshot_dir));
    ASSIGN_OR_RETURN(auto listen, ParseHostPort(options_.listen_address));
    AsyncThriftServerOptions server_options;
    server_options.host = listen.first;
    server_options.port = listen.second;
    server_options.max_frame_bytes = options_.max_frame_bytes;
    server_options.io_threads = options_.io_threads;
    server_options.max_connections = 64;
    server_options.metrics_name = "raft";
    // The processor holds the handler; `this` outlives the server (Stop joins it first).
    std::shared_ptr<rpc::RaftServiceCobSvIf> iface(this, [](rpc::RaftServiceCobSvIf*) {});
    ASSIGN_OR_RETURN(server_, AsyncThriftServer::Start(
                                  std::make_shared<rpc::RaftServiceAsyncProcessor>(iface),
                                  server_options));
    for (const auto& [id, address] : options_.peers) {
      NodeId peer = id;
      senders_.emplace(id, std::make_unique<PeerSender>(options_, id, address,
                                                        [this, peer] { return IsBlocked(peer); }));
    }
    return Status::OK();
  }

  void Stop() {
    std::lock_guard<std::mutex> stop_lock(stop_mu_);
    if (stopped_) return;
    stopped_ = true;
    if (server_) server_->Stop();
    for (auto& [id, sender] : senders_) sender->Stop();
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (int fd : snapshot_fds_) ::shutdown(fd, SHUT_RDWR);
  }

  void Send(std::vector<Message> msgs) {
    // Group per peer, keeping each peer's order.
    std::map<NodeId, std::vector<Message>> by_peer;
    for (Message& m : msgs) {
      if (m.type == MessageType::kInstallSnapshot) {
        LOG(DFATAL) << "raft transport: snapshots go through SendSnapshot";
        continue;
      }
      by_peer[m.to].push_back(std::move(m));
    }
    for (auto& [to, list] : by_peer) {
      auto it = senders_.find(to);
      if (it == senders_.end()) {
        CountDroppedMessages("unknown_peer", list.size());
        continue;
      }
      it->second->Enqueue(std::move(list));
    }
  }

  Status SendSnapshot(NodeId to, Term term, const SnapshotMeta& meta, const std::string& path,
                      size_t chunk_bytes, const std::atomic<bool>& cancel) {
    auto it = options_.peers.find(to);
    if (it == options_.peers.end()) return Status::InvalidArgument("unknown peer");
    if (IsBlocked(to)) return Status::Unavailable("peer blocked by fault injection");
    if (chunk_bytes == 0) chunk_bytes = 1 << 20;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open " + path);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      Status s = Status::FromErrno(errno, "stat " + path);
      ::close(fd);
      return s;
    }
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    Result<Connection> conn =
        Open(it->second, options_.connect_timeout_ms, options_.snapshot_rpc_timeout_ms);
    if (!conn.ok()) {
      ::close(fd);
      return conn.status();
    }
    const int sock = conn->socket->getSocketFD();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        ::close(fd);
        return Status::Unavailable("transport stopping");
      }
      snapshot_fds_.insert(sock);
    }
    Status result = Stream(*conn, fd, size, to, term, meta, chunk_bytes, cancel);
    {
      std::lock_guard<std::mutex> lock(mu_);
      snapshot_fds_.erase(sock);
    }
    try {
      conn->transport->close();
    } catch (...) {
    }
    ::close(fd);
    return result;
  }

  void SetBlockedPeers(const std::set<NodeId>& peers) {
    std::lock_guard<std::mutex> lock(mu_);
    if (peers != blocked_) {
      LOG(WARNING) << "raft: fault injection: blocking " << peers.size() << " peer(s)";
    }
    blocked_ = peers;
  }

  std::set<NodeId> BlockedPeers() const {
    std::lock_guard<std::mutex> lock(mu_);
    return blocked_;
  }

  bool IsBlocked(NodeId peer) const {
    std::lock_guard<std::mutex> lock(mu_);
    return blocked_.count(peer) > 0;
  }

  int port() const { return server_ ? server_->port() : 0; }

  // rpc::RaftServiceCobSvIf: on the server's loop threads.
  void step(std::function<void()> cob, ExnCob exn_cob, const rpc::RaftEnvelope& env) override {
    Status s = CheckSender(env.sender, env.client_address);
    if (!s.ok()) {
      CountDroppedMessages("invalid", env.messages.size());
      LOG_EVERY_N(WARNING, 100) << "raft: dropped " << env.messages.size()
                                << " message(s): " << s;
      return Fail(exn_cob, s);
    }
    const NodeId from = static_cast<NodeId>(env.sender);
    if (IsBlocked(from)) {
      CountDroppedMessages("blocked", env.messages.size());
      return cob();
    }
    std::vector<Message> msgs;
    msgs.reserve(env.messages.size());
    for (const rpc::RaftMessage& w : env.messages) {
      Result<Message> m = FromWire(w, from);
      if (m.ok() && m->to != options_.id) {
        m = Status::InvalidArgument("message for node " + std::to_string(m->to));
      }
      if (!m.ok()) {
        CountDroppedMessages("invalid", 1);
        LOG_EVERY_N(WARNING, 100) << "raft: dropped a message from " << from << ": "
                                  << m.status();
        continue;
      }
      msgs.push_back(std::move(*m));
    }
    if (!msgs.empty()) {
      ReceivedCounter()->Increment(static_cast<int64_t>(msgs.size()));
      handler_->OnMessages(from, env.client_address, std::move(msgs));
    }
    cob();
  }

  void installSnapshotChunk(std::function<void(const rpc::SnapshotChunkAck&)> cob, ExnCob exn_cob,
                            const rpc::SnapshotChunk& chunk) override {
    Status s = CheckSender(chunk.sender, chunk.client_address);
    if (s.ok() && chunk.to != static_cast<int64_t>(options_.id)) {
      s = Status::InvalidArgument("snapshot chunk for node " + std::to_string(chunk.to));
    }
    if (s.ok() && (chunk.term <= 0 || chunk.snapshot_index <= 0 || chunk.snapshot_term <= 0 ||
                   chunk.offset < 0)) {
      s = Status::InvalidArgument("snapshot chunk with a negative or zero term, index or offset");
    }
    if (!s.ok()) {
      LOG_EVERY_N(WARNING, 10) << "raft: refused a snapshot chunk: " << s;
      return Fail(exn_cob, s);
    }
    const NodeId from = static_cast<NodeId>(chunk.sender);
    if (IsBlocked(from)) return Fail(exn_cob, Status::Unavailable("blocked by fault injection"));
    SnapshotChunkIn in;
    in.from = from;
    in.term = static_cast<Term>(chunk.term);
    in.meta = SnapshotMeta{static_cast<Index>(chunk.snapshot_index),
                           static_cast<Term>(chunk.snapshot_term)};
    in.offset = static_cast<uint64_t>(chunk.offset);
    in.data = chunk.data;
    in.last = chunk.last;
    in.crc = static_cast<uint32_t>(chunk.crc32c);
    std::optional<ReceivedSnapshot> complete;
    Result<uint64_t> received = receiver_->Receive(in, &complete);
    if (!received.ok()) {
      LOG_EVERY_N(WARNING, 10) << "raft: refused a snapshot chunk from " << from << ": "
                               << received.status();
      return Fail(exn_cob, received.status());
    }
    rpc::SnapshotChunkAck ack;
    ack.received_bytes = static_cast<int64_t>(*received);
    ack.complete = complete.has_value();
    if (complete) {
      LOG(INFO) << "raft: received a snapshot from " << from << " at index "
                << complete->meta.index << " term " << complete->meta.term << " ("
                << *received << " bytes)";
      handler_->OnSnapshot(std::move(*complete), chunk.client_address);
    }
    cob(ack);
  }

  void setBlockedPeers(std::function<void()> cob, ExnCob exn_cob,
                       const std::vector<int64_t>& peers) override {
    if (!options_.enable_fault_injection) {
      return Fail(exn_cob, Status::NotPermitted("fault injection is disabled on this node"));
    }
    std::set<NodeId> ids;
    for (int64_t p : peers) {
      if (p <= 0) return Fail(exn_cob, Status::InvalidArgument("bad peer id"));
      ids.insert(static_cast<NodeId>(p));
    }
    SetBlockedPeers(ids);
    cob();
  }

 private:
  Status CheckSender(int64_t sender, const std::string& client_address) const {
    if (sender <= 0 || !options_.peers.count(static_cast<NodeId>(sender))) {
      return Status::InvalidArgument("unknown sender " + std::to_string(sender));
    }
    if (client_address.size() > kMaxClientAddressBytes) {
      return Status::InvalidArgument("client address too long");
    }
    return Status::OK();
  }

  Status Stream(Connection& conn, int fd, uint64_t size, NodeId to, Term term,
                const SnapshotMeta& meta, size_t chunk_bytes, const std::atomic<bool>& cancel) {
    rpc::SnapshotChunk chunk;
    chunk.sender = static_cast<int64_t>(options_.id);
    chunk.client_address = options_.client_address;
    chunk.to = static_cast<int64_t>(to);
    chunk.term = static_cast<int64_t>(term);
    chunk.snapshot_index = static_cast<int64_t>(meta.index);
    chunk.snapshot_term = static_cast<int64_t>(meta.term);
    uint64_t offset = 0;
    uint32_t crc = 0;
    do {
      if (cancel.load()) return Status::Unavailable("snapshot transfer cancelled");
      if (IsBlocked(to)) return Status::Unavailable("peer blocked by fault injection");
      size_t n = static_cast<size_t>(std::min<uint64_t>(chunk_bytes, size - offset));
      chunk.data.resize(n);
      size_t got = 0;
      while (got < n) {
        ssize_t r = ::pread(fd, chunk.data.data() + got, n - got,
                            static_cast<off_t>(offset + got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return Status::FromErrno(errno, "read snapshot file");
        if (r == 0) return Status::IoError("snapshot file shrank while being sent");
        got += static_cast<size_t>(r);
      }
      crc = crc32c::Extend(crc, chunk.data.data(), n);
      chunk.offset = static_cast<int64_t>(offset);
      chunk.last = offset + n == size;
      if (chunk.last) chunk.__set_crc32c(static_cast<int32_t>(crc));
      rpc::SnapshotChunkAck ack;
      try {
        conn.client->installSnapshotChunk(ack, chunk);
      } catch (const rpc::TalusError& e) {
        return FromThriftError(e);
      } catch (const apache::thrift::TException& e) {
        return Status::Unavailable(std::string("snapshot transfer: ") + e.what());
      }
      offset += n;
      if (ack.received_bytes != static_cast<int64_t>(offset)) {
        return Status::Internal("snapshot receiver holds " + std::to_string(ack.received_bytes) +
                                " bytes, expected " + std::to_string(offset));
      }
      if (chunk.last && !ack.complete) {
        return Status::Internal("snapshot receiver did not complete the file");
      }
    } while (offset < size);
    return Status::OK();
  }

  const TransportOptions options_;
  TransportHandler* const handler_;
  std::unique_ptr<SnapshotReceiver> receiver_;
  std::unique_ptr<AsyncThriftServer> server_;
  std::map<NodeId, std::unique_ptr<PeerSender>> senders_;  // fixed after Start

  mutable std::mutex mu_;
  std::set<NodeId> blocked_;    // guarded by mu_
  std::set<int> snapshot_fds_;  // guarded by mu_: streams a Stop interrupts
  bool stopping_ = false;       // guarded by mu_

  std::mutex stop_mu_;
  bool stopped_ = false;  // guarded by stop_mu_
};

Result<std::unique_ptr<Transport>> Transport::Start(TransportOptions options,
                                                    TransportHandler* handler) {
  auto impl = std::make_unique<Impl>(std::move(options), handler);
  RETURN_NOT_OK(impl->Start());
  return std::unique_ptr<Transport>(new Transport(std::move(impl)));
}

Transport::Transport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Transport::~Transport() { Stop(); }
void Transport::Send(std::vector<Message> msgs) { impl_->Send(std::move(msgs)); }
Status Transport::SendSnapshot(NodeId to, Term term, const SnapshotMeta& meta,
                               const std::string& path, size_t chunk_bytes,
                               const std::atomic<bool>& cancel) {
  return impl_->SendSnapshot(to, term, meta, path, chunk_bytes, cancel);
}
void Transport::SetBlockedPeers(const std::set<NodeId>& peers) { impl_->SetBlockedPeers(peers); }
std::set<NodeId> Transport::BlockedPeers() const { return impl_->BlockedPeers(); }
int Transport::port() const { return impl_->port(); }
void Transport::Stop() { impl_->Stop(); }

Status SetRemoteBlockedPeers(const std::string& raft_address, const std::vector<NodeId>& peers,
                             int timeout_ms) {
  ASSIGN_OR_RETURN(Connection conn, Open(raft_address, timeout_ms, timeout_ms));
  std::vector<int64_t> ids(peers.begin(), peers.end());
  Status result;
  try {
    conn.client->setBlockedPeers(ids);
  } catch (const rpc::TalusError& e) {
    result = FromThriftError(e);
  } catch (const apache::thrift::TException& e) {
    result = Status::Unavailable(std::string("setBlockedPeers: ") + e.what());
  }
  try {
    conn.transport->close();
  } catch (...) {
  }
  return result;
}

}  // namespace talus::raft
