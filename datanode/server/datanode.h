#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/rpc/async_thrift_server.h"
#include "common/thread_pool.h"
#include "datanode/server/block_scanner.h"
#include "datanode/server/namenode_link.h"
#include "datanode/server/replica_recovery.h"
#include "datanode/storage/dataset.h"
#include "datanode/transfer/throttler.h"
#include "datanode/transfer/transfer_server.h"

namespace talus::datanode {

struct HostPort {
  std::string host;
  int port = 0;
  std::string ToString() const { return host + ":" + std::to_string(port); }
};

// "host:port[,host:port...]"; every port within 1..65535.
Result<std::vector<HostPort>> ParseHostPortList(const std::string& list);

struct DatanodeOptions {
  std::vector<std::string> data_dirs;  // one volume each
  uint64_t reserved_bytes_per_volume = 0;
  std::string rpc_host = "127.0.0.1";  // both servers bind here and register this host
  int rpc_port = 0;                    // DatanodeProtocol; 0: ephemeral
  int data_port = 0;                   // the transfer server; 0: ephemeral
  int http_port = 0;                   // the web server, bound already by the caller; 0: none
  std::vector<HostPort> namenodes;     // their service RPC ports
  int64_t heartbeat_interval_ms = 3000;
  int64_t block_report_interval_ms = 6LL * 3600 * 1000;
  std::string cluster_id;
  int rpc_timeout_ms = 30000;          // calls to namenodes and peers
  int transfer_socket_timeout_ms = 60000;
  int max_transfer_connections = 256;
  uint32_t max_packet_data_bytes = 16 << 20;
  // Space a new replica needs on a volume (DataSetOptions::expected_block_bytes).
  uint64_t expected_block_bytes = 0;
  // REPLICATE_BLOCKS: copies run at once at most, copies waiting beyond them (more are dropped;
  // the namenode asks again after its timeout), and their combined rate (0: unlimited).
  int max_replication_streams = 2;
  int max_queued_replications = 1024;
  uint64_t replication_bandwidth_bytes_per_sec = 0;
  // The block scanner: bytes verified per second (0: no scanner) and how long before a
  // replica is verified again.
  uint64_t block_scan_bytes_per_sec = 1 << 20;
  std::chrono::milliseconds block_scan_period{std::chrono::hours(24 * 21)};
};

// Datanode-to-datanode copies (REPLICATE_BLOCKS), monotonic since Start, for metrics.
struct ReplicationCounters {
  uint64_t started = 0;
  uint64_t succeeded = 0;
  uint64_t failed = 0;
  uint64_t dropped = 0;  // duplicates of a copy already queued or running, or over the queue
  uint64_t bytes_sent = 0;
  int in_progress = 0;   // queued or running now
};

// The datanode daemon's parts wired together: the replica store, the data port, the
// DatanodeProtocol RPC server and one NamenodeLink per namenode. It hears every replica event
// of the data port and passes it on to each namenode.
class Datanode : public ReplicaEvents, public LinkOwner {
 public:
  // Opens the volumes (the scan is logged) and starts both servers; the namenode links wait
  // for StartNamenodeLinks (so an address file can be written between the two).
  static Result<std::unique_ptr<Datanode>> Start(const DatanodeOptions& options);
  ~Datanode() override;  // Stop()

  void StartNamenodeLinks();
  // Links first (no more commands), then the servers, then queued work. Idempotent.
  void Stop();

  std::string rpc_address() const;
  std::string data_address() const;
  // "host:port" of the web server, "" without one.
  std::string http_address() const;
  const DatanodeOptions& options() const { return options_; }
  const std::string& storage_id() const { return identity_.storage_id; }
  DataSet* data() const { return data_.get(); }
  const std::vector<std::unique_ptr<NamenodeLink>>& links() const { return links_; }

  // ReplicaEvents (from the data port and recoveries).
  void OnReceiving(const ReplicaInfo& replica) override;
  void OnReceived(const ReplicaInfo& replica) override;
  void OnBadReplica(uint64_t block_id, uint64_t genstamp) override;

  // LinkOwner.
  DatanodeIdentity Identity() const override { return identity_; }
  std::vector<VolumeState> Volumes() const override;
  std::vector<VolumeBlockReport> FullBlockReport() const override;
  int ActiveTransfers() const override;
  void DeleteBlocks(std::vector<BlockRef> blocks) override;
  void RecoverBlocks(std::vector<RecoveryCommand> commands, NamenodeLink* from) override;
  void ReplicateBlocks(std::vector<TransferCommand> commands) override;

  ReplicationCounters replication_counters() const;
  // The data port's counters (bytes, ops, checksum errors); monotonic since Start.
  TransferCounters transfer_counters() const;
  // Replicas received and finalized here (client writes and copies from peers) since Start.
  uint64_t replicas_received() const { return replicas_received_.load(); }
  // Null when the scanner is disabled.
  BlockScanner* scanner() const { return scanner_.get(); }
  BlockScannerCounters scanner_counters() const {
    return scanner_ ? scanner_->counters() : BlockScannerCounters{};
  }

 private:
  explicit Datanode(DatanodeOptions options) : options_(std::move(options)) {}
  void NotifyAll(const BlockRef& block, BlockEvent event);
  void DeleteNow(const std::vector<BlockRef>& blocks);
  void RecoverNow(const RecoveryCommand& command, NamenodeLink* from);
  void ReplicateNow(const TransferCommand& command);
  // The scanner found a replica whose data or meta file is gone.
  void DropMissingReplica(const ReplicaInfo& replica);

  const DatanodeOptions options_;
  DatanodeIdentity identity_;
  std::unique_ptr<DataSet> data_;
  std::vector<std::unique_ptr<NamenodeLink>> links_;
  std::unique_ptr<ReplicaRecovery> recovery_;
  // Deletes and recoveries (commands), and recovery RPCs from peers: never on a loop thread.
  std::unique_ptr<ThreadPool> command_pool_;
  std::unique_ptr<ThreadPool> rpc_pool_;
  std::unique_ptr<TransferServer> transfer_;
  std::unique_ptr<AsyncThriftServer> rpc_server_;
  // Re-replication copies: their own threads (a slow copy never holds up deletes), a shared
  // bandwidth cap, and a flag that cuts them short at Stop.
  std::unique_ptr<ThreadPool> replication_pool_;
  std::unique_ptr<Throttler> replication_throttle_;
  std::atomic<bool> stop_copies_{false};
  std::atomic<uint64_t> replicas_received_{0};
  std::unique_ptr<BlockScanner> scanner_;

  mutable std::mutex mu_;
  bool stopped_ = false;
  std::set<uint64_t> recovering_;  // blocks whose recovery this node leads now; mu_
  std::set<uint64_t> replicating_;  // blocks with a copy queued or running; mu_
  ReplicationCounters replication_;  // mu_
};

}  // namespace talus::datanode
