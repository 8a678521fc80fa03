#include "datanode/transfer/transfer_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>
#include <variant>

#include <glog/logging.h>

#include "common/transfer/stream_io.h"
#include "datanode/transfer/block_copier.h"
#include "datanode/transfer/block_receiver.h"
#include "datanode/transfer/block_sender.h"
#include "datanode/transfer/op_context.h"
#include "datanode/transfer/transfer_metrics.h"

namespace talus::datanode {

using transfer::TransferStatus;
using transfer::UniqueFd;

namespace {

// How often the accept loop forgets the acked lengths of abandoned replicas.
constexpr auto kTrackerSweepInterval = std::chrono::seconds(60);

std::string PeerName(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
    port = ntohs(a->sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

}  // namespace

TransferServer::TransferServer(const TransferServerOptions& options, DataSet* data,
                               ReplicaEvents* events)
    : options_(options), data_(data), events_(events) {}

Result<std::unique_ptr<TransferServer>> TransferServer::Start(
    const TransferServerOptions& options, DataSet* data, ReplicaEvents* events) {
  GetDatanodeMetrics();  // registered now: /metrics shows zeros before the first transfer
  if (data == nullptr || events == nullptr) {
    return Status::InvalidArgument("transfer server needs a data set and an events sink");
  }
  if (options.socket_timeout_ms <= 0) {
    return Status::InvalidArgument("socket timeout must be positive, not " +
                                   std::to_string(options.socket_timeout_ms) + " ms");
  }
  if (options.max_connections <= 0) {
    return Status::InvalidArgument("max_connections must be positive");
  }
  if (options.max_packet_data_bytes == 0 ||
      options.max_packet_data_bytes > transfer::kMaxPacketDataBytes) {
    return Status::InvalidArgument("max_packet_data_bytes must be in [1, " +
                                   std::to_string(transfer::kMaxPacketDataBytes) + "]");
  }
  std::unique_ptr<TransferServer> server(new TransferServer(options, data, events));
  RETURN_NOT_OK(server->Listen());
  server->accept_thread_ = std::thread([s = server.get()] { s->AcceptLoop(); });
  LOG(INFO) << (options.node_name.empty() ? "" : options.node_name + ": ")
            << "data transfer server listening on " << options.host << ":" << server->port_;
  return server;
}

TransferServer::~TransferServer() { Stop(); }

Status TransferServer::Listen() {
  struct addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  struct addrinfo* addrs = nullptr;
  std::string port = std::to_string(options_.port);
  const char* host = options_.host.empty() ? nullptr : options_.host.c_str();
  int rc = ::getaddrinfo(host, port.c_str(), &hints, &addrs);
  if (rc != 0) {
    return Status::InvalidArgument("cannot resolve " + options_.host + ": " + gai_strerror(rc));
  }
  Status last = Status::IoError("no address to listen on for " + options_.host);
  for (struct addrinfo* a = addrs; a != nullptr; a = a->ai_next) {
    UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) {
      last = Status::FromErrno(errno, "socket");
      continue;
    }
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd.get(), a->ai_addr, a->ai_addrlen) != 0) {
      last = Status::FromErrno(errno, "bind " + options_.host + ":" + port);
      continue;
    }
    if (::listen(fd.get(), 128) != 0) {
      last = Status::FromErrno(errno, "listen");
      continue;
    }
    sockaddr_storage bound = {};
    socklen_t len = sizeof(bound);
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len);
    port_ = bound.ss_family == AF_INET6
                ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    listen_fd_ = std::move(fd);
    break;
  }
  ::freeaddrinfo(addrs);
  if (!listen_fd_.valid()) return last;
  wake_fd_.Reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_fd_.valid()) return Status::FromErrno(errno, "eventfd");
  return Status::OK();
}

void TransferServer::SweepTracker() {
  tracker_.Sweep([this](uint64_t block_id, uint64_t genstamp) {
    auto info = data_->GetReplica(block_id);
    return info.ok() && info->state != ReplicaState::kFinalized && info->genstamp == genstamp;
  });
}

void TransferServer::AcceptLoop() {
  auto next_sweep = transfer::Clock::now() + kTrackerSweepInterval;
  while (!stopping_.load()) {
    struct pollfd fds[2] = {{listen_fd_.get(), POLLIN, 0}, {wake_fd_.get(), POLLIN, 0}};
    int rc = ::poll(fds, 2, 1000);
    ReapFinished();
    if (transfer::Clock::now() >= next_sweep) {
      SweepTracker();
      next_sweep = transfer::Clock::now() + kTrackerSweepInterval;
    }
    if (rc < 0 && errno != EINTR) {
      PLOG(ERROR) << "poll on the data port";
      continue;
    }
    if (stopping_.load()) break;
    if (rc <= 0 || (fds[0].revents & POLLIN) == 0) continue;
    sockaddr_storage addr = {};
    socklen_t len = sizeof(addr);
    UniqueFd fd(::accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len,
                          SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!fd.valid()) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
          errno != ECONNABORTED) {
        PLOG(WARNING) << "accept on the data port";
        // Out of descriptors, say: do not spin.
        if (errno == EMFILE || errno == ENFILE) ::poll(nullptr, 0, 100);
      }
      continue;
    }
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::string peer = PeerName(addr);
    std::lock_guard<std::mutex> l(conns_mu_);
    if (static_cast<int>(conns_.size()) >= options_.max_connections) {
      counters_.connections_refused.fetch_add(1, std::memory_order_relaxed);
      GetDatanodeMetrics().connections_refused->Increment();
      Refuse(std::move(fd), peer);
      continue;
    }
    auto conn = std::make_unique<Connection>();
    conn->id = next_conn_id_++;
    conn->fd = std::move(fd);
    conn->peer = std::move(peer);
    Connection* c = conn.get();
    try {
      c->thread = std::thread([this, c] { ServeConnection(c); });
    } catch (const std::system_error& e) {
      LOG(ERROR) << "cannot start a thread for the data connection from " << c->peer << ": "
                 << e.what();
      counters_.connections_refused.fetch_add(1, std::memory_order_relaxed);
      GetDatanodeMetrics().connections_refused->Increment();
      Refuse(std::move(c->fd), c->peer);
      continue;
    }
    conns_.emplace(c->id, std::move(conn));
  }
}

void TransferServer::Refuse(UniqueFd fd, const std::string& peer) {
  LOG(WARNING) << (options_.node_name.empty() ? "" : options_.node_name + ": ")
               << "refusing data connection from " << peer << ": already serving "
               << options_.max_connections << " connections";
  transfer::OpResponse response;
  response.status = TransferStatus::kError;
  response.message = "datanode " + options_.node_name + " is busy: " +
                     std::to_string(options_.max_connections) + " connections already open";
  // The socket buffer of a new connection holds the few bytes at once; never wait here.
  (void)transfer::WriteResponse(fd.get(), response, transfer::DeadlineAfterMs(0));
}

void TransferServer::DrainBeforeClose(int fd) const {
  // Closing a socket with unread data makes the kernel reset the connection, and a reset can
  // destroy what we sent last (an error ack naming the bad node) before the peer reads it. So:
  // send our FIN after it, then read and drop whatever the peer still sends until it hangs up
  // too, for a bounded time.
  ::shutdown(fd, SHUT_WR);
  const int budget_ms = std::min(options_.socket_timeout_ms, kMaxDrainMs);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(budget_ms);
  char buf[16 * 1024];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0) return;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return;
  }
}

void TransferServer::ReapFinished() {
  std::vector<std::thread> done;
  {
    std::lock_guard<std::mutex> l(conns_mu_);
    done.swap(finished_);
  }
  for (auto& t : done) t.join();
}

void TransferServer::ServeConnection(Connection* conn) {
  while (!stopping_.load() && ServeOp(conn)) {
  }
  if (!stopping_.load()) DrainBeforeClose(conn->fd.get());
  std::lock_guard<std::mutex> l(conns_mu_);
  // Shut and closed under the lock, so Stop never shuts a descriptor number reused elsewhere.
  conn->fd.Reset();
  finished_.push_back(std::move(conn->thread));
  conns_.erase(conn->id);
}

bool TransferServer::ServeOp(Connection* conn) {
  OpContext ctx;
  ctx.fd = conn->fd.get();
  ctx.peer = conn->peer;
  ctx.data = data_;
  ctx.events = events_;
  ctx.options = &options_;
  ctx.tracker = &tracker_;
  ctx.counters = &counters_;
  bool clean_eof = false;
  auto op = transfer::ReadOp(ctx.fd, ctx.IoDeadline(), &clean_eof);
  if (!op.ok()) {
    if (clean_eof || stopping_.load()) return false;  // the client hung up between ops
    const Status& s = op.status();
    if (s.code() == ErrorCode::kIoError || s.code() == ErrorCode::kTimedOut) {
      LOG(WARNING) << ctx.NodePrefix() << "data connection from " << ctx.peer
                   << " ended inside an op: " << s;
      return false;
    }
    RespondError(ctx, "op", TransferStatus::kErrorInvalid, "malformed op: " + s.ToString());
    return false;
  }
  active_transfers_.fetch_add(1);
  const DatanodeMetrics& m = GetDatanodeMetrics();
  m.active_transfers->Add(1);
  const auto start = std::chrono::steady_clock::now();
  metrics::Histogram* took = nullptr;
  bool keep = std::visit(
      [&](const auto& o) -> bool {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, transfer::WriteBlockOp>) {
          m.ops_write_block->Increment();
          took = m.op_seconds_write_block;
          return ServeWriteBlock(ctx, o);
        } else if constexpr (std::is_same_v<T, transfer::ReadBlockOp>) {
          m.ops_read_block->Increment();
          took = m.op_seconds_read_block;
          return ServeReadBlock(ctx, o);
        } else if constexpr (std::is_same_v<T, transfer::TransferBlockOp>) {
          m.ops_transfer_block->Increment();
          took = m.op_seconds_transfer_block;
          return ServeTransferBlock(ctx, o);
        } else {
          m.ops_block_checksum->Increment();
          took = m.op_seconds_block_checksum;
          return ServeBlockChecksum(ctx, o);
        }
      },
      *op);
  took->Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  m.active_transfers->Add(-1);
  active_transfers_.fetch_sub(1);
  return keep;
}

bool TransferServer::ServeTransferBlock(const OpContext& ctx,
                                        const transfer::TransferBlockOp& op) {
  if (op.length == 0) {
    RespondError(ctx, "TRANSFER_BLOCK", TransferStatus::kErrorInvalid,
                 "block " + std::to_string(op.block_id) + ": nothing to transfer");
    return false;
  }
  CopyRequest request;
  request.block_id = op.block_id;
  request.genstamp = op.genstamp;
  request.length = op.length;
  request.require_finalized = false;
  request.stage = transfer::WriteStage::kCreate;
  // The targets keep a replica being written: the rebuilt pipeline resumes it.
  request.finalize = false;
  request.targets = op.targets;
  request.client_name = op.client_name;
  request.timeout_ms = options_.socket_timeout_ms;
  CopyStats stats;
  Status s = CopyReplica(data_, request, /*throttle=*/nullptr, &stopping_, events_, &stats);
  if (!s.ok()) {
    RespondError(ctx, "TRANSFER_BLOCK", TransferStatusFor(s),
                 "block " + std::to_string(op.block_id) + ": " + s.message());
    return false;
  }
  LOG(INFO) << ctx.NodePrefix() << "transferred " << stats.bytes_sent << " bytes of block "
            << op.block_id << " to " << op.targets[0].host << ":" << op.targets[0].port
            << " for a rebuilt pipeline";
  Status answered = transfer::WriteResponse(ctx.fd, transfer::OpResponse{}, ctx.IoDeadline());
  counters_.ops_served.fetch_add(1, std::memory_order_relaxed);
  return answered.ok();
}

int TransferServer::active_connections() const {
  std::lock_guard<std::mutex> l(conns_mu_);
  return static_cast<int>(conns_.size());
}

Result<uint64_t> TransferServer::VisibleLength(uint64_t block_id, uint64_t genstamp) const {
  ReplicaLookup lookup = LookupForReader(*data_, block_id, genstamp);
  if (lookup.status != TransferStatus::kSuccess) return lookup.error;
  return ReplicaVisibleLength(lookup.info, tracker_);
}

void TransferServer::StopWriter(uint64_t block_id) { tracker_.Stop(block_id); }

void TransferServer::Stop() {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  stopping_.store(true);
  if (wake_fd_.valid()) {
    uint64_t one = 1;
    ssize_t ignored = ::write(wake_fd_.get(), &one, sizeof(one));
    (void)ignored;
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  listen_fd_.Reset();
  {
    std::lock_guard<std::mutex> l(conns_mu_);
    for (auto& [id, conn] : conns_) ::shutdown(conn->fd.get(), SHUT_RDWR);
  }
  tracker_.StopAll();  // also cuts the connections to the next nodes of pipelines
  std::vector<std::thread> threads;
  // Connection threads remove themselves; wait for all of them.
  while (true) {
    {
      std::lock_guard<std::mutex> l(conns_mu_);
      threads.swap(finished_);
      if (threads.empty() && conns_.empty()) break;
    }
    for (auto& t : threads) t.join();
    threads.clear();
    if (active_connections() > 0) ::poll(nullptr, 0, 5);
  }
}

TransferCounters TransferServer::counters() const {
  TransferCounters c;
  c.bytes_written = counters_.bytes_written.load(std::memory_order_relaxed);
  c.bytes_read = counters_.bytes_read.load(std::memory_order_relaxed);
  c.checksum_errors = counters_.checksum_errors.load(std::memory_order_relaxed);
  c.ops_served = counters_.ops_served.load(std::memory_order_relaxed);
  c.ops_failed = counters_.ops_failed.load(std::memory_order_relaxed);
  c.connections_refused = counters_.connections_refused.load(std::memory_order_relaxed);
  return c;
}

}  // namespace talus::datanode
