#pragma once

// PeerSender: the messages of one node to one peer. Its own thread drains a bounded queue into
// step() calls over one persistent connection; see transport.h for the policy (drop, never
// wait). Thread-safe.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "raft/core/messages.h"
#include "raft/transport/transport.h"

namespace talus::rpc {
class RaftServiceClient;
}

namespace apache::thrift::transport {
class TTransport;
class TSocket;
}  // namespace apache::thrift::transport

namespace talus::raft {

class PeerSender {
 public:
  // `blocked` says whether the fault hook isolates the peer now (called on the sender thread).
  PeerSender(const TransportOptions& options, NodeId peer, std::string address,
             std::function<bool()> blocked);
  ~PeerSender();  // Stop()

  // Queues what fits; the rest is dropped (counted).
  void Enqueue(std::vector<Message> msgs);
  // Interrupts a call in flight and joins the thread. Idempotent.
  void Stop();

 private:
  void Run();
  // Blocks until something is queued or Stop; takes a batch (empty on Stop).
  std::vector<Message> TakeBatch();
  bool Connect();
  void Disconnect();
  void Drop(size_t n, const char* reason);

  const TransportOptions& options_;
  const NodeId peer_;
  const std::string address_;
  const std::function<bool()> blocked_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Message> queue_;  // guarded by mu_
  size_t queued_bytes_ = 0;    // guarded by mu_
  bool stop_ = false;          // guarded by mu_
  int socket_fd_ = -1;         // guarded by mu_: the fd a Stop may shut down

  // The sender thread's own.
  std::shared_ptr<apache::thrift::transport::TSocket> socket_;
  std::shared_ptr<apache::thrift::transport::TTransport> transport_;
  std::unique_ptr<rpc::RaftServiceClient> client_;
  std::chrono::steady_clock::time_point next_connect_{};
  std::chrono::milliseconds backoff_{0};
  bool reported_down_ = false;

  std::thread thread_;
};

}  // namespace talus::raft
