#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "common/transfer/socket_io.h"
#include "datanode/storage/dataset.h"
#include "datanode/storage/replica.h"
#include "common/transfer/ops.h"
#include "datanode/transfer/write_tracker.h"

// The datanode's data port: serves the data transfer protocol (common/transfer/protocol.h) on top
// of the replica store. Bulk data never goes through Thrift.
//
// Threading: one accept thread, then a thread per connection (at most max_connections); a
// connection serves its ops one after another. A WRITE_BLOCK adds a responder thread for the
// acks while the connection's thread receives packets (block_receiver.h).
//
// Semantics a client relies on:
// - Generation stamps: a replica whose stamp is OLDER than the request's is stale
//   (kErrorStaleGenstamp). For reads and checksums a request with an older stamp than the
//   replica's is served (append and recovery only ever add to the data a reader knew of); writes
//   need the exact stamp.
// - A failed pipeline setup answers an error RESPONSE. When the failure is at or beyond the
//   next node, the message starts with kBadNodePrefix followed by "host:port" of the first bad
//   node (as the op's targets name it); a message without the prefix means the node the client
//   talked to failed itself.
// - Pipeline acks: replies[0] is the node's own status. When the next node cannot be written to
//   or its ack cannot be read, the node acks {own, kError}: the next node is the bad one.
// - Recovery (stage kRecovery): the replica must be RBW with a stamp in [genstamp,
//   latest_genstamp] and a length in [min_bytes_rcvd, max_bytes_rcvd]; it is cut to
//   min_bytes_rcvd (the client's acked length, where it resumes sending) and takes
//   latest_genstamp. Any writer still on the block is stopped first.
// - Append (stage kAppend): a FINALIZED replica of stamp genstamp whose length lies in
//   [min_bytes_rcvd, max_bytes_rcvd] is reopened under latest_genstamp; packets start at its
//   length.
namespace talus::datanode {

struct OpContext;

// Callbacks to the daemon's namenode link (incremental block reports, bad replicas). Called from
// connection threads; implementations must be thread-safe and should not block for long.
class ReplicaEvents {
 public:
  virtual ~ReplicaEvents() = default;
  virtual void OnReceiving(const ReplicaInfo& replica) {}  // RBW created (or reopened for append)
  virtual void OnReceived(const ReplicaInfo& replica) = 0;  // finalized (after a last packet)
  virtual void OnBadReplica(uint64_t block_id, uint64_t genstamp) = 0;  // data failed its checksum
};

struct TransferServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;                           // 0: ephemeral
  int socket_timeout_ms = 60000;               // per read/write on a connection
  int max_connections = 256;                   // beyond: refuse with an error response
  uint32_t max_packet_data_bytes = 16 << 20;   // what a writer may send per packet
  std::string node_name;                       // for logs / error messages
};

// Counters for heartbeats and metrics; monotonic since Start.
struct TransferCounters {
  uint64_t bytes_written = 0;        // block data received and stored
  uint64_t bytes_read = 0;           // block data sent to readers
  uint64_t checksum_errors = 0;      // packets received or replicas read that failed a checksum
  uint64_t ops_served = 0;           // ops that completed successfully
  uint64_t ops_failed = 0;           // ops answered with an error or cut short
  uint64_t connections_refused = 0;  // turned away at max_connections
};

// Prefix of a failed pipeline setup's message when a node after the receiver failed.
inline constexpr char kBadNodePrefix[] = "bad datanode ";

class TransferServer {
 public:
  static Result<std::unique_ptr<TransferServer>> Start(const TransferServerOptions& options,
                                                       DataSet* data, ReplicaEvents* events);
  ~TransferServer();  // Stop()
  TransferServer(const TransferServer&) = delete;
  TransferServer& operator=(const TransferServer&) = delete;

  uint16_t port() const { return port_; }
  int active_transfers() const { return active_transfers_.load(); }
  int active_connections() const;
  // What a reader may see of a replica: for one being written, the bytes every node of the
  // pipeline has acknowledged; for a finalized one, its length. NotFound / InvalidArgument
  // (stale genstamp).
  Result<uint64_t> VisibleLength(uint64_t block_id, uint64_t genstamp) const;
  // Lease/pipeline recovery: aborts any WRITE_BLOCK in progress on block_id and returns once it
  // has stopped.
  void StopWriter(uint64_t block_id);
  // Closes the listener and every connection, joins threads. Idempotent.
  void Stop();
  TransferCounters counters() const;
  // For tests: runs the periodic clean-up of acked lengths now; returns how many remain known.
  size_t SweepTrackerForTests() {
    SweepTracker();
    return tracker_.known_count();
  }

  // Shared with the op handlers (block_receiver.h, block_sender.h).
  struct AtomicCounters {
    std::atomic<uint64_t> bytes_written{0};
    std::atomic<uint64_t> bytes_read{0};
    std::atomic<uint64_t> checksum_errors{0};
    std::atomic<uint64_t> ops_served{0};
    std::atomic<uint64_t> ops_failed{0};
    std::atomic<uint64_t> connections_refused{0};
  };

 private:
  struct Connection {
    uint64_t id = 0;
    transfer::UniqueFd fd;
    std::string peer;
    std::thread thread;
  };

  TransferServer(const TransferServerOptions& options, DataSet* data, ReplicaEvents* events);
  Status Listen();
  void AcceptLoop();
  void Refuse(transfer::UniqueFd fd, const std::string& peer);
  void ServeConnection(Connection* conn);
  // Serves one op; returns false when the connection must close.
  bool ServeOp(Connection* conn);
  // TRANSFER_BLOCK: copies the replica's acknowledged bytes to a node joining a rebuilt
  // pipeline (block_copier.h) and answers once the targets hold them.
  bool ServeTransferBlock(const OpContext& ctx, const transfer::TransferBlockOp& op);
  void ReapFinished();
  // Before a connection closes: FIN after our last bytes, then drop what the peer still sends
  // until it hangs up (at most kMaxDrainMs), so the close never resets the connection.
  void DrainBeforeClose(int fd) const;
  static constexpr int kMaxDrainMs = 2000;
  // Forgets the acked lengths of replicas no longer being written at their stamp.
  void SweepTracker();

  const TransferServerOptions options_;
  DataSet* const data_;
  ReplicaEvents* const events_;
  transfer::UniqueFd listen_fd_;
  transfer::UniqueFd wake_fd_;  // eventfd: wakes the accept loop on Stop
  uint16_t port_ = 0;
  std::thread accept_thread_;
  std::atomic<bool> stopping_{false};
  std::mutex stop_mu_;  // serializes Stop
  bool stopped_ = false;

  mutable std::mutex conns_mu_;
  uint64_t next_conn_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Connection>> conns_;  // guarded by conns_mu_
  std::vector<std::thread> finished_;                      // guarded by conns_mu_; to join

  std::atomic<int> active_transfers_{0};
  mutable WriteTracker tracker_;
  AtomicCounters counters_;
};

}  // namespace talus::datanode
