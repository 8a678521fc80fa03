#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/stream/data_namenode.h"
#include "client/stream/packet_pool.h"
#include "common/result.h"
#include "common/transfer/ops.h"
#include "common/transfer/pipeline_ack.h"
#include "common/transfer/socket_io.h"

namespace talus::client {

// The write pipeline of one block: client → DN1 → DN2 → DN3. A sender thread streams queued
// packets down (at most max_in_flight queued or unacknowledged); a responder thread reads the
// pipeline's acks, checks every node's status and gives acknowledged packets back to the pool.
// The first failure (a node's error status, a broken connection, a timeout, an ack out of
// order) breaks the pipeline: every later call returns that Status, naming the node.
// Unacknowledged packets are kept until acked so a later pipeline recovery can resend them.
// Enqueue/WaitAcked are called from one writer thread.
class DataStreamer {
 public:
  struct Options {
    int timeout_ms = 60000;
    int max_in_flight = 80;
  };

  // Connects to the first location, sends `op` (its targets are the other locations) and
  // waits for the pipeline's answer.
  static Result<std::unique_ptr<DataStreamer>> Open(const LocatedBlock& block,
                                                    const transfer::WriteBlockOp& op,
                                                    PacketPool* pool, const Options& options);
  ~DataStreamer();  // stops both threads and closes the connection

  // Queues a sealed packet (its seqno is assigned here); waits while the window is full.
  Status Enqueue(std::unique_ptr<Packet> packet);
  // Waits until every queued packet has been acknowledged by every node.
  Status WaitAcked();
  Status status() const;

  const LocatedBlock& block() const { return block_; }

 private:
  DataStreamer(LocatedBlock block, transfer::UniqueFd fd, PacketPool* pool,
               const Options& options);
  void SendLoop();
  void AckLoop();
  // Records the first error, wakes everyone and unblocks both threads' socket calls.
  void Fail(Status status);
  Status CheckAck(const transfer::PipelineAck& ack, const Packet& packet) const;
  std::string PipelineNames() const;

  const LocatedBlock block_;
  transfer::UniqueFd fd_;
  PacketPool* const pool_;
  const Options options_;
  int64_t next_seqno_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Packet>> to_send_;  // guarded by mu_
  std::deque<std::unique_ptr<Packet>> unacked_;  // sent, in seqno order; guarded by mu_
  Status error_;                                 // guarded by mu_
  bool stopping_ = false;                        // guarded by mu_
  bool last_sent_ = false;                       // guarded by mu_
  std::thread sender_;
  std::thread responder_;
};

}  // namespace talus::client
