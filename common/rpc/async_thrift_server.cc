#include "common/rpc/async_thrift_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>
#include <unordered_map>

#include <glog/logging.h>
#include <thrift/TConfiguration.h>
#include <thrift/async/TAsyncProcessor.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include "common/metrics/metrics.h"

namespace talus {

namespace {

using apache::thrift::protocol::TProtocol;
using apache::thrift::transport::TMemoryBuffer;
// Non-virtual transport calls inside the protocol: the buffers are always memory buffers.
using MemoryProtocol = apache::thrift::protocol::TBinaryProtocolT<TMemoryBuffer>;

constexpr size_t kFrameHeaderBytes = 4;
// A new connection's read buffer; it grows, as bytes arrive, up to what one frame needs.
constexpr size_t kInitialReadBytes = 16 << 10;
// Buffers grown above this by a large request or response are given back when idle, so that
// thousands of connections do not each keep their largest frame.
constexpr size_t kKeepBufferBytes = 256 << 10;
constexpr int kMaxEvents = 128;
// After accept() fails for want of descriptors or memory, wait this long before trying again
// rather than spin on the connection still pending.
constexpr int kAcceptBackoffMs = 100;

std::string ErrnoString(int err) {
  char buf[128];
  return strerror_r(err, buf, sizeof buf);  // GNU strerror_r returns the message
}

void SignalEventFd(int fd) {
  uint64_t one = 1;
  ssize_t unused = write(fd, &one, sizeof one);  // only fails when the counter would overflow
  (void)unused;
}

void DrainEventFd(int fd) {
  uint64_t value;
  ssize_t unused = read(fd, &value, sizeof value);
  (void)unused;
}

uint32_t LoadBigEndian32(const uint8_t* p) {
  uint32_t be;
  std::memcpy(&be, p, sizeof be);
  return ntohl(be);
}

// A memory buffer that reads a frame in place, in the connection's read buffer, with no copy
// and no allocation per request (TMemoryBuffer::resetBuffer allocates a configuration).
class FrameReadBuffer : public TMemoryBuffer {
 public:
  explicit FrameReadBuffer(int max_frame_bytes)
      : TMemoryBuffer(nullptr, 0, OBSERVE,
                      std::make_shared<apache::thrift::TConfiguration>(max_frame_bytes,
                                                                       max_frame_bytes)) {}

  void Observe(uint8_t* data, uint32_t size) {
    buffer_ = data;
    bufferSize_ = size;
    rBase_ = data;
    rBound_ = data + size;
    wBase_ = data + size;
    wBound_ = data + size;
    owner_ = false;
    // The protocol checks announced container sizes against the bytes left in the message:
    // make that the frame, so a list header cannot claim more elements than the frame holds.
    resetConsumedMessageSize();
    resetConsumedMessageSize(size);
  }
};

// The peer of the request being dispatched on this thread (see CurrentPeerHost).
thread_local const std::string* current_peer_host = nullptr;

std::string PeerHostOf(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "";
  char host[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, host, sizeof(host));
  } else if (addr.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, host,
                sizeof(host));
  }
  return host;
}

// The method a request calls, from its strict binary message header (version and type, name
// length, name): "" unless it is an identifier of at most kMaxMethodNameBytes characters.
constexpr uint32_t kMaxMethodNameBytes = 64;
constexpr uint32_t kVersionMask = 0xffff0000u;
constexpr uint32_t kBinaryVersion1 = 0x80010000u;
constexpr uint32_t kMessageTypeException = 3;  // T_EXCEPTION

std::string_view MethodNameOf(const uint8_t* message, uint32_t size) {
  if (size < 8) return {};
  if ((LoadBigEndian32(message) & kVersionMask) != kBinaryVersion1) return {};
  const uint32_t length = LoadBigEndian32(message + 4);
  if (length == 0 || length > kMaxMethodNameBytes || length > size - 8) return {};
  std::string_view name(reinterpret_cast<const char*>(message + 8), length);
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return {};
  }
  return name;
}

// Lookups by string_view without building a string (C++20 heterogeneous lookup).
struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

// A request's counter and latency histogram.
struct MethodMetrics {
  metrics::Counter* requests = nullptr;
  metrics::Histogram* latency = nullptr;
};

}  // namespace

// The server's metrics. Methods are learned from answered requests: a name is given its own
// label once the processor has answered it with something other than an exception message
// (an unknown method is answered with one), so a client sending made-up names cannot create
// labels. Loop threads keep their own caches of learned methods and take mu_ only for a name
// they have not seen yet.
class AsyncThriftServer::Metrics {
 public:
  static constexpr size_t kMaxMethods = 256;

  Metrics(metrics::Registry* registry, const std::string& server)
      : registry_(registry), server_(server) {
    open_connections = registry->GetGauge("talus_rpc_open_connections",
                                          "Thrift connections open now.", {{"server", server}});
    accepted = registry->GetCounter("talus_rpc_connections_total",
                                    "Thrift connections accepted.", {{"server", server}});
    refused = registry->GetCounter(
        "talus_rpc_refused_connections_total",
        "Thrift connections closed at once because the server's connection limit was reached.",
        {{"server", server}});
    unknown_ = Register("unknown");
    other_ = Register("other");
  }

  // A learned method's metrics; null for a name not learned yet. All names count as "other"
  // once kMaxMethods are learned.
  const MethodMetrics* Known(std::string_view name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = methods_.find(name);
    if (it != methods_.end()) return &it->second;
    return full_ ? &other_ : nullptr;
  }

  // `name` was answered as a method the processor knows: its metrics, from now on.
  const MethodMetrics* Learn(std::string_view name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = methods_.find(name);
    if (it != methods_.end()) return &it->second;
    if (methods_.size() >= kMaxMethods) {
      full_ = true;
      return &other_;
    }
    return &methods_.emplace(std::string(name), Register(std::string(name))).first->second;
  }

  const MethodMetrics* unknown() const { return &unknown_; }

  metrics::Gauge* open_connections;
  metrics::Counter* accepted;
  metrics::Counter* refused;

 private:
  MethodMetrics Register(const std::string& method) {
    const metrics::Labels labels = {{"server", server_}, {"method", method}};
    return MethodMetrics{
        registry_->GetCounter("talus_rpc_requests_total", "Thrift requests answered, by method.",
                              labels),
        registry_->GetHistogram("talus_rpc_latency_seconds",
                                "Thrift request latency from dispatch to the response, seconds.",
                                metrics::LatencyBuckets(), labels)};
  }

  metrics::Registry* const registry_;
  const std::string server_;
  MethodMetrics unknown_;
  MethodMetrics other_;
  std::mutex mu_;
  // Never erased: pointers to the values stay valid (node-based map).
  std::unordered_map<std::string, MethodMetrics, NameHash, std::equal_to<>> methods_;  // mu_
  bool full_ = false;                                                                 // mu_
};

const std::string& AsyncThriftServer::CurrentPeerHost() {
  static const std::string kNone;
  return current_peer_host != nullptr ? *current_peer_host : kNone;
}

// One client connection. Its input side belongs to its loop thread; its output side and the
// state shared with completing threads are guarded by mu_ (see the header).
class AsyncThriftServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(int fd, Loop* loop, std::shared_ptr<apache::thrift::async::TAsyncProcessor> processor,
             int max_frame_bytes, std::shared_ptr<Metrics> metrics)
      : fd_number_(fd),
        loop_(loop),
        processor_(std::move(processor)),
        metrics_(std::move(metrics)),
        max_frame_bytes_(max_frame_bytes),
        in_cap_(kInitialReadBytes),
        in_(new uint8_t[kInitialReadBytes]),
        peer_host_(PeerHostOf(fd)),
        fd_(fd) {
    in_buf_ = std::make_shared<FrameReadBuffer>(max_frame_bytes);
    in_proto_ = std::make_shared<MemoryProtocol>(in_buf_, max_frame_bytes, max_frame_bytes,
                                                 /*strict_read=*/true, /*strict_write=*/true);
    in_proto_base_ = in_proto_;
    ResetOutput();
  }

  // The completion of request `seq`, on any thread: frame the response and send it now if
  // nothing is queued ahead of it, else queue it. Drops it if the connection is closed or
  // the request is not the one in flight (a handler calling done twice).
  void OnDone(uint64_t seq, bool ok);

  // Loop thread, on EPOLLOUT: sends queued output. Returns true if the loop should drive the
  // connection now (input waiting for the output to drain, or a close requested).
  bool FlushQueued();

  // --- Input side: loop thread only (and Stop() after the loop thread has exited). ---

  // Prepares the buffers for the frame at data (size bytes): reads it in place and starts
  // the response with room for its frame header.
  void PrepareCall(uint8_t* data, uint32_t size) {
    in_buf_->Observe(data, size);
    // No string or container inside a frame can be larger than the frame.
    in_proto_->setStringSizeLimit(static_cast<int32_t>(size));
    in_proto_->setContainerSizeLimit(static_cast<int32_t>(size));
    if (out_buf_->getBufferSize() > kKeepBufferBytes) ResetOutput();
    out_buf_->resetBuffer();
    static constexpr uint8_t kPlaceholder[kFrameHeaderBytes] = {0, 0, 0, 0};
    out_buf_->write(kPlaceholder, kFrameHeaderBytes);
  }

  const int fd_number_;  // the descriptor, as the loop knows it; closed only by the loop
  Loop* const loop_;
  const std::shared_ptr<apache::thrift::async::TAsyncProcessor> processor_;
  // Null: no metrics. Recorded only while the connection is open (so the server lives).
  const std::shared_ptr<Metrics> metrics_;
  const int max_frame_bytes_;

  // Read buffer: bytes [in_begin_, in_end_) of in_ are received and not yet dispatched.
  size_t in_cap_;
  std::unique_ptr<uint8_t[]> in_;
  const std::string peer_host_;  // numeric address of the client
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  // The last recv() drained the socket, so edge-triggered epoll reports any byte that comes
  // later.
  bool drained_ = true;
  // The peer has shut its side (EPOLLRDHUP): a short read no longer proves the socket drained,
  // since the end of the stream raises no further edge; read on until recv() says so.
  bool peer_shut_ = false;
  // recv() returned 0: the peer sends no more. Requests already buffered are still served.
  bool eof_ = false;
  bool closed_by_loop_ = false;

  std::shared_ptr<FrameReadBuffer> in_buf_;
  std::shared_ptr<MemoryProtocol> in_proto_;
  std::shared_ptr<TProtocol> in_proto_base_;
  // Written by the loop before a request is dispatched and by the processor until done() is
  // called, perhaps on another thread; read by done() under mu_. The hand-over through
  // in_flight_ under mu_ orders these accesses.
  std::shared_ptr<TMemoryBuffer> out_buf_;
  std::shared_ptr<TProtocol> out_proto_;

  std::mutex mu_;
  int fd_;                      // guarded by mu_; -1 once closed: senders check it
  uint64_t seq_ = 0;            // guarded by mu_; number of the last dispatched request
  bool in_flight_ = false;      // guarded by mu_; that request has not completed
  std::string queued_;          // guarded by mu_; output not yet accepted by the socket
  size_t queued_offset_ = 0;    // guarded by mu_; bytes of queued_ already sent
  bool resume_wanted_ = false;  // guarded by mu_; the loop stopped with input left to serve
  bool close_wanted_ = false;   // guarded by mu_; the loop should close this connection
  // The request in flight, for metrics; set with in_flight_ (guarded by mu_).
  std::chrono::steady_clock::time_point call_start_;
  const MethodMetrics* call_metrics_ = nullptr;  // null: method not learned yet
  std::string call_method_;                      // its name then

 private:
  // Counts the request completing now and its latency; `response` is its framed answer.
  void RecordLocked(bool ok, const uint8_t* response, uint32_t size);
  void ResetOutput() {
    out_buf_ = std::make_shared<TMemoryBuffer>();
    out_proto_ = std::make_shared<MemoryProtocol>(out_buf_, max_frame_bytes_, max_frame_bytes_,
                                                  /*strict_read=*/true, /*strict_write=*/true);
  }
  // Sends data[*sent, size) until done or the socket is full. False on a connection error.
  bool SendLocked(const uint8_t* data, size_t size, size_t* sent);
  void RequestCloseLocked();
};

// One event loop: an epoll set (edge-triggered for connections), an eventfd for its inbox,
// and the connections it owns.
class AsyncThriftServer::Loop {
 public:
  explicit Loop(AsyncThriftServer* server) : server_(server) {}
  ~Loop() {
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  Status Init() {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return Status::FromErrno(errno, "epoll_create1");
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) return Status::FromErrno(errno, "eventfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // the inbox
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
      return Status::FromErrno(errno, "epoll_ctl");
    }
    return Status::OK();
  }

  void StartThread() { thread_ = std::thread([this] { Run(); }); }

  // Stops the loop thread and closes every connection; from Stop() only.
  void StopAndJoin();

  // Acceptor thread: hands over a connected socket.
  void AddConnection(int fd) {
    std::lock_guard<std::mutex> lock(wake_mu_);
    new_fds_.push_back(fd);
    WakeLocked();
  }

  // Any thread, holding c->mu_ with the connection open: asks the loop to drive c again.
  void Post(std::shared_ptr<Connection> c) {
    std::lock_guard<std::mutex> lock(wake_mu_);
    resumes_.push_back(std::move(c));
    WakeLocked();
  }

 private:
  enum class FrameState { kIncomplete, kComplete, kInvalid };

  void WakeLocked() {
    if (wake_pending_) return;
    wake_pending_ = true;
    SignalEventFd(wake_fd_);
  }
  void Run();
  void HandleInbox();
  void HandleEvent(Connection* c, uint32_t events);
  // Reads and dispatches frames while the connection is idle (no request in flight, no
  // output queued); otherwise notes that the completion must hand the connection back.
  void Drive(Connection* c);
  // Receives until the socket is drained (EAGAIN, a short read, or the end of the stream), or
  // until a whole frame is buffered and the buffer is full.
  // False: the socket failed, or the frame header is out of bounds.
  bool ReadSome(Connection* c);
  FrameState PeekFrame(Connection* c) const;
  // False: the connection must be closed.
  bool Dispatch(Connection* c);
  void Close(Connection* c);

  AsyncThriftServer* const server_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};

  // The metrics of a request's method (see Metrics); null when not learned yet.
  const MethodMetrics* MethodFor(std::string_view name);

  // Loop thread only (and StopAndJoin() after the thread has exited).
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections_;
  // Methods this loop has seen learned (at most Metrics::kMaxMethods).
  std::unordered_map<std::string, const MethodMetrics*, NameHash, std::equal_to<>> methods_;
  // Connections closed during the current batch of events, kept alive until the batch ends
  // because a later event of the batch may still name them.
  std::vector<std::shared_ptr<Connection>> closed_in_batch_;

  std::mutex wake_mu_;
  std::vector<int> new_fds_;                          // guarded by wake_mu_
  std::vector<std::shared_ptr<Connection>> resumes_;  // guarded by wake_mu_
  bool wake_pending_ = false;                         // guarded by wake_mu_
};

// ---------------------------------------------------------------------------------------------
// Connection

bool AsyncThriftServer::Connection::SendLocked(const uint8_t* data, size_t size, size_t* sent) {
  while (*sent < size) {
    ssize_t n = ::send(fd_, data + *sent, size - *sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      *sent += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;  // the loop finishes on EPOLLOUT
    } else {
      return false;
    }
  }
  return true;
}

void AsyncThriftServer::Connection::RequestCloseLocked() {
  if (close_wanted_) return;
  close_wanted_ = true;
  loop_->Post(shared_from_this());
}

void AsyncThriftServer::Connection::OnDone(uint64_t seq, bool ok) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ < 0 || !in_flight_ || seq != seq_) return;
  in_flight_ = false;
  uint8_t* data;
  uint32_t size;
  out_buf_->getBuffer(&data, &size);
  // Recorded before the response leaves, so a client that got its answer sees it counted.
  // (Learning a new method takes the metrics' lock under mu_: once per method.)
  if (metrics_ != nullptr) RecordLocked(ok, data, size);
  if (!ok) {
    LOG_EVERY_T(WARNING, 1) << "closing Thrift connection: the processor refused a request";
    RequestCloseLocked();
    return;
  }
  if (size > kFrameHeaderBytes) {  // nothing at all is sent for a oneway call
    uint32_t be = htonl(size - static_cast<uint32_t>(kFrameHeaderBytes));
    std::memcpy(data, &be, sizeof be);
    if (queued_.empty()) {
      size_t sent = 0;
      if (!SendLocked(data, size, &sent)) {
        RequestCloseLocked();
        return;
      }
      if (sent < size) queued_.assign(reinterpret_cast<char*>(data) + sent, size - sent);
    } else {
      queued_.append(reinterpret_cast<char*>(data), size);
    }
  }
  // The loop left input waiting for this response; unless output is still queued (then the
  // loop resumes by itself once EPOLLOUT drains it), hand the connection back.
  if (resume_wanted_ && queued_.empty()) {
    resume_wanted_ = false;
    loop_->Post(shared_from_this());
  }
}

void AsyncThriftServer::Connection::RecordLocked(bool ok, const uint8_t* response,
                                                 uint32_t size) {
  const MethodMetrics* m = call_metrics_;
  if (m == nullptr) {
    // A method not learned yet. An exception message answers an unknown method (and
    // unexpected handler failures): no label for a name the server may not have.
    const bool exception =
        !ok || (size >= kFrameHeaderBytes + 4 &&
                (LoadBigEndian32(response + kFrameHeaderBytes) & 0xffu) == kMessageTypeException);
    m = exception || call_method_.empty() ? metrics_->unknown() : metrics_->Learn(call_method_);
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - call_start_;
  m->requests->Increment();
  m->latency->Observe(took.count());
}

bool AsyncThriftServer::Connection::FlushQueued() {
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ < 0 || queued_.empty()) return false;
  size_t sent = queued_offset_;
  if (!SendLocked(reinterpret_cast<const uint8_t*>(queued_.data()), queued_.size(), &sent)) {
    close_wanted_ = true;
    return true;
  }
  queued_offset_ = sent;
  if (sent < queued_.size()) return false;
  queued_offset_ = 0;
  if (queued_.capacity() > kKeepBufferBytes) {
    std::string().swap(queued_);
  } else {
    queued_.clear();
  }
  if (!in_flight_ && resume_wanted_) {
    resume_wanted_ = false;
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Loop

void AsyncThriftServer::Loop::Run() {
  epoll_event events[kMaxEvents];
  while (!stop_.load(std::memory_order_acquire)) {
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, -1);
    if (n < 0) {
      // Only EINTR is expected; anything else means our epoll descriptor is broken.
      PCHECK(errno == EINTR) << "epoll_wait";
      continue;
    }
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == nullptr) {
        HandleInbox();
      } else {
        HandleEvent(static_cast<Connection*>(events[i].data.ptr), events[i].events);
      }
    }
    closed_in_batch_.clear();
  }
}

void AsyncThriftServer::Loop::HandleInbox() {
  DrainEventFd(wake_fd_);
  std::vector<int> fds;
  std::vector<std::shared_ptr<Connection>> resumes;
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    fds.swap(new_fds_);
    resumes.swap(resumes_);
    wake_pending_ = false;
  }
  for (int fd : fds) {
    auto c = std::make_shared<Connection>(fd, this, server_->processor_,
                                          server_->options_.max_frame_bytes,
                                          server_->metrics_);
    epoll_event ev{};
    // Edge-triggered: an event says "something new", so a connection that waits for its
    // request's completion costs no wakeups; EPOLLOUT is watched from the start and fires
    // only after a send found the socket full.
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = c.get();
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      LOG(WARNING) << "cannot watch a new connection: " << ErrnoString(errno);
      ::close(fd);
      server_->ConnectionClosed();
      continue;
    }
    connections_.emplace(c.get(), std::move(c));
  }
  for (auto& c : resumes) {
    if (!c->closed_by_loop_) Drive(c.get());
  }
  // A connection closed just now stays alive until the batch ends (see closed_in_batch_).
}

void AsyncThriftServer::Loop::HandleEvent(Connection* c, uint32_t events) {
  if (c->closed_by_loop_) return;
  if (events & (EPOLLERR | EPOLLHUP)) {
    Close(c);
    return;
  }
  bool drive = false;
  if (events & EPOLLOUT) drive = c->FlushQueued();
  if (events & EPOLLRDHUP) c->peer_shut_ = true;
  if (events & (EPOLLIN | EPOLLRDHUP)) {
    c->drained_ = false;  // new bytes, or the end of the stream, wait in the socket
    drive = true;
  }
  // A peer that half-closes while its request is in flight still gets the response: Drive
  // leaves the connection to the completion, and the next read sees the end of the stream.
  if (drive) Drive(c);
}

AsyncThriftServer::Loop::FrameState AsyncThriftServer::Loop::PeekFrame(Connection* c) const {
  size_t buffered = c->in_end_ - c->in_begin_;
  if (buffered < kFrameHeaderBytes) return FrameState::kIncomplete;
  auto length = static_cast<int32_t>(LoadBigEndian32(c->in_.get() + c->in_begin_));
  if (length <= 0 || length > c->max_frame_bytes_) {
    LOG_EVERY_T(WARNING, 1) << "closing Thrift connection: frame of " << length
                            << " bytes announced (limit " << c->max_frame_bytes_ << ")";
    return FrameState::kInvalid;
  }
  return buffered - kFrameHeaderBytes >= static_cast<size_t>(length) ? FrameState::kComplete
                                                                      : FrameState::kIncomplete;
}

void AsyncThriftServer::Loop::Drive(Connection* c) {
  for (;;) {
    FrameState state = PeekFrame(c);
    bool close_wanted;
    {
      std::lock_guard<std::mutex> lock(c->mu_);
      if (c->fd_ < 0) return;
      close_wanted = c->close_wanted_;
      if (!close_wanted && (c->in_flight_ || !c->queued_.empty())) {
        // Busy: whoever finishes the response hands the connection back if input waits.
        if (!c->drained_ || c->eof_ || state == FrameState::kComplete) {
          c->resume_wanted_ = true;
        }
        return;
      }
    }
    if (close_wanted || state == FrameState::kInvalid) break;
    if (state == FrameState::kIncomplete) {
      if (c->eof_) break;  // the peer has gone, and no whole request is left
      // Nothing came since the socket was drained: the next edge will say when something does.
      if (c->drained_) return;
      if (!ReadSome(c)) break;
      state = PeekFrame(c);
      if (state == FrameState::kInvalid || (state == FrameState::kIncomplete && c->eof_)) break;
      if (state == FrameState::kIncomplete) return;  // drained: the next edge brings more
    }
    if (!Dispatch(c)) break;
  }
  Close(c);
}

bool AsyncThriftServer::Loop::ReadSome(Connection* c) {
  // Idle here, so no request reads from the buffer: it may move, grow or shrink.
  if (c->in_begin_ == c->in_end_) {
    c->in_begin_ = c->in_end_ = 0;
    if (c->in_cap_ > kKeepBufferBytes) {
      c->in_.reset(new uint8_t[kInitialReadBytes]);
      c->in_cap_ = kInitialReadBytes;
    }
  }
  for (;;) {
    if (c->in_end_ == c->in_cap_) {
      size_t buffered = c->in_end_ - c->in_begin_;
      size_t wanted = kFrameHeaderBytes;
      if (buffered >= kFrameHeaderBytes) {
        FrameState state = PeekFrame(c);
        if (state == FrameState::kInvalid) return false;
        if (state == FrameState::kComplete) {
          c->drained_ = false;  // serve this frame first; Drive comes back for the rest
          return true;
        }
        wanted += LoadBigEndian32(c->in_.get() + c->in_begin_);
      }
      if (c->in_begin_ > 0) {
        std::memmove(c->in_.get(), c->in_.get() + c->in_begin_, buffered);
        c->in_begin_ = 0;
        c->in_end_ = buffered;
      }
      if (c->in_end_ == c->in_cap_) {
        // Grow with the bytes actually received, never straight to the announced size.
        size_t cap = std::min(std::max(c->in_cap_ * 2, kInitialReadBytes), wanted);
        std::unique_ptr<uint8_t[]> grown(new uint8_t[cap]);
        std::memcpy(grown.get(), c->in_.get(), c->in_end_);
        c->in_ = std::move(grown);
        c->in_cap_ = cap;
      }
    }
    size_t room = c->in_cap_ - c->in_end_;
    ssize_t n = ::recv(c->fd_number_, c->in_.get() + c->in_end_, room, 0);
    if (n > 0) {
      c->in_end_ += static_cast<size_t>(n);
      if (static_cast<size_t>(n) < room && !c->peer_shut_) {
        // A short read from TCP means the socket's queue (and backlog) was empty when recv()
        // returned, and anything arriving later raises a new edge: drained, without paying
        // for the recv() that would say EAGAIN.
        c->drained_ = true;
        return true;
      }
      continue;
    }
    if (n == 0) {
      c->eof_ = true;
      c->drained_ = true;
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      c->drained_ = true;
      return true;
    }
    VLOG(1) << "recv on Thrift connection: " << ErrnoString(errno);
    return false;
  }
}

bool AsyncThriftServer::Loop::Dispatch(Connection* c) {
  uint8_t* frame = c->in_.get() + c->in_begin_;
  uint32_t length = LoadBigEndian32(frame);
  c->in_begin_ += kFrameHeaderBytes + length;
  try {
    c->PrepareCall(frame + kFrameHeaderBytes, length);
    const MethodMetrics* method = nullptr;
    std::string_view name;
    if (c->metrics_ != nullptr) {
      name = MethodNameOf(frame + kFrameHeaderBytes, length);
      method = name.empty() ? c->metrics_->unknown() : MethodFor(name);
    }
    uint64_t seq;
    {
      std::lock_guard<std::mutex> lock(c->mu_);
      seq = ++c->seq_;
      c->in_flight_ = true;
      if (c->metrics_ != nullptr) {
        c->call_start_ = std::chrono::steady_clock::now();
        c->call_metrics_ = method;
        if (method == nullptr) c->call_method_.assign(name);
      }
    }
    // The callback's reference keeps the connection, and so the buffers the generated code
    // writes into and the processor itself, alive until the completion.
    auto done = [conn = c->shared_from_this(), seq](bool ok) { conn->OnDone(seq, ok); };
    current_peer_host = &c->peer_host_;
    c->processor_->process(std::move(done), c->in_proto_base_, c->out_proto_);
    current_peer_host = nullptr;
  } catch (const std::exception& e) {
    current_peer_host = nullptr;
    LOG_EVERY_T(WARNING, 1) << "closing Thrift connection: bad request: " << e.what();
    return false;
  }
  return true;
}

const MethodMetrics* AsyncThriftServer::Loop::MethodFor(std::string_view name) {
  auto it = methods_.find(name);
  if (it != methods_.end()) return it->second;
  const MethodMetrics* m = server_->metrics_->Known(name);
  // "other" is not cached: names beyond the limit would grow the cache without bound.
  if (m != nullptr && methods_.size() < Metrics::kMaxMethods) methods_.emplace(name, m);
  return m;
}

void AsyncThriftServer::Loop::Close(Connection* c) {
  {
    std::lock_guard<std::mutex> lock(c->mu_);
    if (c->fd_ < 0) return;
    // From here on no completion writes to this descriptor number, which the kernel may reuse
    // as soon as it is closed below.
    c->fd_ = -1;
    c->queued_.clear();
  }
  c->closed_by_loop_ = true;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd_number_, nullptr);
  ::close(c->fd_number_);
  server_->ConnectionClosed();
  auto it = connections_.find(c);
  if (it != connections_.end()) {
    closed_in_batch_.push_back(std::move(it->second));
    connections_.erase(it);
  }
}

void AsyncThriftServer::Loop::StopAndJoin() {
  if (thread_.joinable()) {
    stop_.store(true, std::memory_order_release);
    SignalEventFd(wake_fd_);
    thread_.join();
  }
  // The loop thread is gone: this thread owns the loop's state now.
  for (auto& [raw, c] : connections_) {
    {
      std::lock_guard<std::mutex> lock(c->mu_);
      c->fd_ = -1;  // completions still pending find the connection closed
      c->queued_.clear();
    }
    ::close(c->fd_number_);
    server_->ConnectionClosed();
  }
  connections_.clear();
  closed_in_batch_.clear();
  std::vector<std::shared_ptr<Connection>> resumes;
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    for (int fd : new_fds_) {
      ::close(fd);
      server_->ConnectionClosed();
    }
    new_fds_.clear();
    resumes.swap(resumes_);
  }
}

// ---------------------------------------------------------------------------------------------
// AsyncThriftServer

namespace {

Result<int> Listen(const std::string& host, int port, int* bound_port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* addrs = nullptr;
  std::string service = std::to_string(port);
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &addrs);
  if (rc != 0) {
    return Status::InvalidArgument("cannot resolve " + host + ": " + gai_strerror(rc));
  }
  std::string error = "no address";
  int fd = -1;
  for (addrinfo* a = addrs; a != nullptr; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      error = ErrnoString(errno);
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) break;
    error = ErrnoString(errno);
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(addrs);
  if (fd < 0) {
    return Status::IoError("cannot listen on " + host + ":" + service + ": " + error);
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    Status s = Status::FromErrno(errno, "getsockname");
    ::close(fd);
    return s;
  }
  *bound_port = addr.ss_family == AF_INET6
                    ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                    : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return fd;
}

}  // namespace

Result<std::unique_ptr<AsyncThriftServer>> AsyncThriftServer::Start(
    std::shared_ptr<apache::thrift::async::TAsyncProcessor> processor,
    const AsyncThriftServerOptions& options) {
  if (processor == nullptr) return Status::InvalidArgument("no processor");
  if (options.port < 0 || options.port > 65535) {
    return Status::InvalidArgument("port out of range: " + std::to_string(options.port));
  }
  if (options.max_frame_bytes <= 0) {
    return Status::InvalidArgument("max_frame_bytes must be positive: " +
                                   std::to_string(options.max_frame_bytes));
  }
  if (options.io_threads < 1 || options.io_threads > 256) {
    return Status::InvalidArgument("io_threads must be in [1, 256]: " +
                                   std::to_string(options.io_threads));
  }
  if (options.max_connections < 1) {
    return Status::InvalidArgument("max_connections must be positive: " +
                                   std::to_string(options.max_connections));
  }
  std::unique_ptr<AsyncThriftServer> server(new AsyncThriftServer());
  server->processor_ = std::move(processor);
  server->options_ = options;
  if (!options.metrics_name.empty()) {
    server->metrics_ = std::make_shared<Metrics>(
        options.metrics_registry != nullptr ? options.metrics_registry
                                            : &metrics::DefaultRegistry(),
        options.metrics_name);
  }
  // On any error below, the destructor's Stop() undoes what was done.
  ASSIGN_OR_RETURN(server->listen_fd_, Listen(options.host, options.port, &server->port_));
  server->accept_stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (server->accept_stop_fd_ < 0) return Status::FromErrno(errno, "eventfd");
  for (int i = 0; i < options.io_threads; ++i) {
    auto loop = std::make_unique<Loop>(server.get());
    RETURN_NOT_OK(loop->Init());
    server->loops_.push_back(std::move(loop));
  }
  for (auto& loop : server->loops_) loop->StartThread();
  AsyncThriftServer* raw = server.get();
  server->acceptor_ = std::thread([raw] { raw->AcceptLoop(); });
  return server;
}

void AsyncThriftServer::AcceptLoop() {
  size_t next_loop = 0;
  bool backing_off = false;
  for (;;) {
    // The stop eventfd first, so that during a back-off only it is watched.
    pollfd fds[2] = {{accept_stop_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    int n = ::poll(fds, backing_off ? 1 : 2, backing_off ? kAcceptBackoffMs : -1);
    if (n < 0) {
      PCHECK(errno == EINTR) << "poll";
      continue;
    }
    if (fds[0].revents != 0) return;
    backing_off = false;
    for (;;) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        int err = errno;
        if (err == EINTR || err == ECONNABORTED) continue;
        if (err == EAGAIN || err == EWOULDBLOCK) break;
        LOG_EVERY_T(WARNING, 1) << "accept on port " << port_ << ": " << ErrnoString(err);
        backing_off = true;
        break;
      }
      if (open_connections_.load(std::memory_order_relaxed) >= options_.max_connections) {
        refused_connections_.fetch_add(1);
        if (metrics_ != nullptr) metrics_->refused->Increment();
        ::close(fd);
        LOG_EVERY_T(WARNING, 1) << "refusing a connection on port " << port_ << ": "
                                << options_.max_connections << " connections are open";
        continue;
      }
      open_connections_.fetch_add(1, std::memory_order_relaxed);
      if (metrics_ != nullptr) {
        metrics_->accepted->Increment();
        metrics_->open_connections->Add(1);
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      loops_[next_loop++ % loops_.size()]->AddConnection(fd);
    }
  }
}

void AsyncThriftServer::Stop() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  if (acceptor_.joinable()) {
    SignalEventFd(accept_stop_fd_);
    acceptor_.join();
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (accept_stop_fd_ >= 0) ::close(accept_stop_fd_);
  listen_fd_ = accept_stop_fd_ = -1;
  for (auto& loop : loops_) loop->StopAndJoin();
}

void AsyncThriftServer::ConnectionClosed() {
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
  if (metrics_ != nullptr) metrics_->open_connections->Add(-1);
}

AsyncThriftServer::~AsyncThriftServer() { Stop(); }

}  // namespace talus
