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
#include "client/stream/pipeline_recovery.h"
#include "common/result.h"
#include "common/transfer/ops.h"
#include "common/transfer/pipeline_ack.h"
#include "common/transfer/socket_io.h"

namespace talus::client {

// The write pipeline of one block: client → DN1 → DN2 → DN3. A sender thread streams queued
// packets down (at most max_in_flight queued or unacknowledged); a responder thread reads the
// pipeline's acks, checks every node's status and gives acknowledged packets back to the pool.
//
// A failure (a node's error status in an ack, a broken connection, a timeout, an ack out of
// order) breaks the pipeline and names the first bad node: the one an ack or a failed setup
// names, else the first node. The writer's next Enqueue or WaitAcked then rebuilds it (HDFS
// pipeline recovery): the bad node is dropped, the namenode hands out a new generation stamp,
// a replacement node is added when the policy asks for one and it costs no copy (nothing
// acknowledged yet), the survivors resume the block at the acknowledged length under the new
// stamp (stage recovery), every unacknowledged packet is sent again, and updatePipeline
// commits the new stamp, length and nodes. Only when no node survives, or after max_recoveries
// rebuilds of the block, does the writer see an error; from then on every call returns it.
// Enqueue/WaitAcked (and so recovery) run on the one writer thread.
class DataStreamer {
 public:
  struct Options {
    // Waiting on the first node; the wait for acks adds an extension per node of the pipeline
    // (transfer::PipelineTimeoutMs), so the datanode next to a hung one names it first.
    int timeout_ms = 60000;
    int max_in_flight = 80;
    // Pipeline rebuilds per block before the write fails (HDFS dfs.client.block.write.retries).
    int max_recoveries = 5;
    ReplaceDatanodePolicy replace_policy = ReplaceDatanodePolicy::kDefault;
  };
  // What recovery needs to know of the file. Without a namenode any failure is final.
  struct Recovery {
    DataNamenode* namenode = nullptr;
    std::string path;
    uint64_t file_id = 0;
    std::string client_name;
    int replication = 3;
    bool appended = false;  // the block was reopened by append (its data was visible already)
  };

  // Connects to the first location, sends `op` (its targets are the other locations) and
  // waits for the pipeline's answer. A failed create setup is returned (the caller abandons the
  // block and asks for another); a failed append setup is recovered like a broken pipeline.
  static Result<std::unique_ptr<DataStreamer>> Open(const LocatedBlock& block,
                                                    const transfer::WriteBlockOp& op,
                                                    PacketPool* pool, const Options& options,
                                                    Recovery recovery);
  ~DataStreamer();  // stops both threads and closes the connection

  // Queues a sealed packet (its seqno is assigned here); waits while the window is full.
  Status Enqueue(std::unique_ptr<Packet> packet);
  // Waits until every queued packet has been acknowledged by every node.
  Status WaitAcked();
  // The writer hflushed: its data is visible, which the replacement policy weighs.
  void NoteHflush() { hflushed_ = true; }
  Status status() const;

  // The block as the namenode knows it now (a recovery changes its stamp and nodes). Writer
  // thread only.
  const LocatedBlock& block() const { return block_; }
  // Pipeline rebuilds so far (tests, logs).
  int recoveries() const { return recoveries_; }

 private:
  DataStreamer(LocatedBlock block, PacketPool* pool, const Options& options, Recovery recovery);
  // Connects `nodes` with `op` into fd_. On failure returns why, with *bad the node to drop.
  Status Setup(const std::vector<DatanodeInfo>& nodes, const transfer::WriteBlockOp& op,
               int* bad);
  void StartThreads();
  void StopThreads();
  // Rebuilds the broken pipeline (writer thread). Not OK: the error is final (error_ is set).
  Status Recover();
  Status GiveUp(const Status& why, const Status& cause);
  // Adds replacement nodes to `nodes` when the policy asks for them: from the namenode, given
  // the acknowledged bytes by a survivor (TRANSFER_BLOCK) first. Any failure leaves `nodes` as
  // it was: the block goes on with the survivors.
  void MaybeAddDatanodes(std::vector<DatanodeInfo>* nodes, uint64_t acked);
  Status TransferTo(const DatanodeInfo& source, const std::vector<DatanodeInfo>& targets,
                    uint64_t length);
  // Waits for `ready`, recovering a broken pipeline on the way. OK once ready.
  template <typename Ready>
  Status WaitRecovering(std::unique_lock<std::mutex>& lock, Ready ready);
  void SendLoop();
  void AckLoop();
  // Records the first failure of the current pipeline (`bad`: index of the node to blame),
  // wakes everyone and unblocks both threads' socket calls.
  void Fail(Status status, int bad);
  Status CheckAck(const transfer::PipelineAck& ack, const Packet& packet, int* bad) const;
  std::string PipelineNames() const;
  int AckTimeoutMs() const;

  LocatedBlock block_;
  transfer::UniqueFd fd_;
  PacketPool* const pool_;
  const Options options_;
  const Recovery recovery_;
  int64_t next_seqno_ = 0;
  // Writer thread only: what a recovery resumes from.
  uint64_t replica_genstamp_ = 0;  // oldest stamp the pipeline's replicas may hold
  int recoveries_ = 0;
  bool hflushed_ = false;
  std::vector<std::string> excluded_;  // storage ids dropped from this block's pipeline

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Packet>> to_send_;  // guarded by mu_
  std::deque<std::unique_ptr<Packet>> unacked_;  // sent, in seqno order; guarded by mu_
  uint64_t acked_bytes_ = 0;                     // guarded by mu_
  uint64_t queued_end_ = 0;                      // guarded by mu_: end of the last packet queued
  Status error_;                                 // final; guarded by mu_
  Status broken_;                                // the current pipeline's failure; guarded by mu_
  int bad_node_ = -1;                            // guarded by mu_
  Status send_failed_;                           // guarded by mu_
  bool stopping_ = false;                        // guarded by mu_
  bool last_sent_ = false;                       // guarded by mu_
  std::thread sender_;
  std::thread responder_;
};

}  // namespace talus::client
