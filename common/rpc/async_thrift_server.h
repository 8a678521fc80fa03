#pragma once
// An event-driven Thrift server (framed transport, binary protocol) for the hot RPC path.
//
// Why: with one thread per connection every call costs the server at least two context
// switches (wake the connection thread, then the completion), and on a small machine those
// dominate the CPU a metadata call needs. Here a few event loops serve every connection, and a
// completion that arrives on another thread (a mutation finishing after the journal's fsync)
// sends its response straight from that thread, without waking a loop.
//
// Threading model
//   - One acceptor thread accepts connections and hands each to an event loop, round-robin.
//   - `io_threads` loop threads, each with its own epoll set (edge-triggered) and eventfd.
//     A connection belongs to one loop for its whole life. Only its loop reads from it,
//     decodes frames, calls the processor, and closes its file descriptor.
//   - The processor is called on the loop thread. Its `done(ok)` may run inline or later on
//     ANY thread. `done` frames the response and, when nothing is queued ahead of it, sends it
//     right there with a non-blocking send(); what does not fit is queued and the loop finishes
//     it on EPOLLOUT. `done` wakes the loop (eventfd) only when the loop has something left to
//     do for that connection: input already waiting, or a connection to close.
//   - One request at a time per connection: the next frame is not decoded before the previous
//     response has been sent or queued, so responses keep the order of requests.
//
// Locks (no thread ever holds two, except the documented order below)
//   - Connection::mu_ guards the connection's output side and its state shared with
//     completing threads: the fd number as seen by senders (-1 once closed, so a late
//     completion can never write to a reused fd number), the request in flight, queued
//     output, and the "loop must resume / close this connection" requests.
//   - Loop::wake_mu_ guards the loop's inbox (new connections, connections to resume).
//     Lock order: Connection::mu_ before Loop::wake_mu_ (a completion posts to the inbox
//     while holding its connection's lock, which keeps the loop alive: Stop() takes every
//     connection's lock to close it before any loop is destroyed).
//   - AsyncThriftServer::stop_mu_ serialises Stop().
//   The input side (read buffer, frame decoding) and the loop's connection table are touched
//   only by the loop thread and need no lock.
//
// Lifetime: a pending completion holds a shared_ptr to its connection, which holds the
// protocols and buffers the generated code writes into and the processor itself, so they
// outlive the completion even after the peer went away or the server stopped; such a late
// completion finds the connection closed and is dropped.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"

namespace apache::thrift::async {
class TAsyncProcessor;
}  // namespace apache::thrift::async

namespace talus {

namespace metrics {
class Registry;
}  // namespace metrics

struct AsyncThriftServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;                    // 0: pick a free port
  int max_frame_bytes = 16 << 20;  // larger frames: the connection is closed
  int io_threads = 2;              // event loops; connections spread round-robin
  int max_connections = 4096;      // beyond this, new connections are closed at once
  // Non-empty: the server's metrics, labelled server="<metrics_name>" (servers of one name
  // add up): talus_rpc_requests_total{server,method}, talus_rpc_latency_seconds{server,method}
  // (histogram, from dispatch to the completion), talus_rpc_open_connections{server},
  // talus_rpc_connections_total{server}, talus_rpc_refused_connections_total{server}. The
  // method is read from the request's message header. Labels stay bounded: a name that is not
  // an identifier of at most 64 characters, or one the processor does not know (it answers an
  // exception), counts as method="unknown"; beyond 256 methods per server, as "other".
  std::string metrics_name;
  metrics::Registry* metrics_registry = nullptr;  // null: metrics::DefaultRegistry()
};

class AsyncThriftServer {
 public:
  // Binds, listens and starts the loops; returns once it accepts connections.
  static Result<std::unique_ptr<AsyncThriftServer>> Start(
      std::shared_ptr<apache::thrift::async::TAsyncProcessor> processor,
      const AsyncThriftServerOptions& options);
  ~AsyncThriftServer();  // Stop()

  AsyncThriftServer(const AsyncThriftServer&) = delete;
  AsyncThriftServer& operator=(const AsyncThriftServer&) = delete;

  int port() const { return port_; }
  // The numeric address of the client whose request a handler is running for, valid while the
  // handler runs synchronously inside the dispatch (not in a later completion); "" elsewhere.
  // Placement and reader sorting use it as the client's host, as HDFS uses the RPC peer.
  static const std::string& CurrentPeerHost();
  // Stops accepting, closes every connection and joins the threads. Idempotent. Completions
  // that arrive later are dropped. Not to be called from a completion running on a loop
  // thread (it would join itself).
  void Stop();

  // Connections open now (accepted and not yet closed).
  int open_connections() const { return open_connections_.load(std::memory_order_relaxed); }
  // Connections closed at once because max_connections were open.
  int64_t refused_connections() const { return refused_connections_.load(); }

 private:
  class Connection;
  class Loop;
  class Metrics;

  AsyncThriftServer() = default;
  void AcceptLoop();
  void ConnectionClosed();

  std::shared_ptr<apache::thrift::async::TAsyncProcessor> processor_;
  AsyncThriftServerOptions options_;
  int port_ = 0;
  int listen_fd_ = -1;
  int accept_stop_fd_ = -1;  // eventfd that tells the acceptor to exit
  std::thread acceptor_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::shared_ptr<Metrics> metrics_;  // null without metrics_name
  std::atomic<int> open_connections_{0};
  std::atomic<int64_t> refused_connections_{0};

  std::mutex stop_mu_;
  bool stopped_ = false;  // guarded by stop_mu_
};

}  // namespace talus
