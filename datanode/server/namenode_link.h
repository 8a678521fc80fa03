#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "datanode/server/replica_recovery.h"
#include "datanode/storage/replica.h"

namespace talus::metrics {
class Counter;
}

namespace talus::datanode {

// How this datanode is reached, as it registers.
struct DatanodeIdentity {
  std::string storage_id;
  std::string host;
  int data_port = 0;
  int rpc_port = 0;
  int http_port = 0;  // 0: no web server
};

// One volume as a heartbeat reports it.
struct VolumeState {
  std::string volume_id;
  uint64_t capacity = 0;
  uint64_t used = 0;
  uint64_t remaining = 0;
  bool failed = false;
};

struct ReportedBlock {
  BlockRef block;
  ReplicaState state = ReplicaState::kFinalized;
};

// The full report of one volume (every volume is reported, a failed one empty, so that the
// namenode forgets what it held).
struct VolumeBlockReport {
  std::string volume_id;
  std::vector<ReportedBlock> replicas;
};

// Another datanode as a namenode command names it.
struct PeerId {
  std::string storage_id;
  std::string host;
  int data_port = 0;
  int rpc_port = 0;
};

// RECOVER_BLOCKS: this node is the primary of the recovery of `block`.
struct RecoveryCommand {
  BlockRef block;
  uint64_t new_genstamp = 0;
  std::vector<PeerId> locations;
};

// REPLICATE_BLOCKS: copy this node's replica of `block` to `targets` (the first is sent to,
// the others follow it as a pipeline).
struct TransferCommand {
  BlockRef block;
  std::vector<PeerId> targets;
};

class NamenodeLink;

// What a link needs from its datanode. Called from the link's thread; must be thread-safe.
class LinkOwner {
 public:
  virtual ~LinkOwner() = default;
  virtual DatanodeIdentity Identity() const = 0;
  virtual std::vector<VolumeState> Volumes() const = 0;
  virtual std::vector<VolumeBlockReport> FullBlockReport() const = 0;
  virtual int ActiveTransfers() const = 0;
  // Commands from the leader. They must not block the link for long (queue the work).
  virtual void DeleteBlocks(std::vector<BlockRef> blocks) = 0;
  virtual void RecoverBlocks(std::vector<RecoveryCommand> commands, NamenodeLink* from) = 0;
  virtual void ReplicateBlocks(std::vector<TransferCommand> commands) = 0;
};

enum class BlockEvent { kReceiving, kReceived, kDeleted };

struct NamenodeLinkOptions {
  std::string host;
  int port = 0;  // the namenode's service RPC port
  int64_t heartbeat_interval_ms = 3000;
  int64_t block_report_interval_ms = 6 * 3600 * 1000;
  int rpc_timeout_ms = 30000;
  std::string cluster_id;
};

// The datanode's conversation with one namenode (HDFS BPServiceActor): register, a full block
// report, then heartbeats; incremental reports and bad replicas are sent as soon as they are
// queued (a client's `complete` waits for them). Commands are obeyed only from replies marked
// from_leader. Any failure drops the connection; the link then reconnects with backoff,
// registers again and sends a full report, which is also what a namenode restart (it answers
// REREGISTER or an error for a node it does not know) leads to. Thread-safe.
class NamenodeLink {
 public:
  NamenodeLink(NamenodeLinkOptions options, LinkOwner* owner);
  ~NamenodeLink();  // Stop()
  NamenodeLink(const NamenodeLink&) = delete;
  NamenodeLink& operator=(const NamenodeLink&) = delete;

  void Start();
  // Joins the link's thread; queued reports not yet sent are dropped.
  void Stop();

  void Notify(const BlockRef& block, BlockEvent event);
  void ReportBadReplica(const BlockRef& block);
  // The outcome of a recovery this link's namenode asked for (its own connection, any thread).
  Status CommitBlockSynchronization(const BlockRef& old_block, const BlockRef& new_block,
                                    const std::vector<std::string>& storage_ids, bool close_file,
                                    bool delete_block);

  bool registered() const { return registered_.load(); }
  std::string address() const { return options_.host + ":" + std::to_string(options_.port); }
  // When the namenode last answered a heartbeat (steady clock), or nullopt if it never has.
  // For the status page: any thread.
  std::optional<std::chrono::steady_clock::time_point> last_heartbeat() const;

 private:
  struct Session;
  struct PendingBlock {
    BlockRef block;
    BlockEvent event;
  };
  using Clock = std::chrono::steady_clock;

  void Run();
  Status RegisterAndReport(Session* session);
  Status SendFullReport(Session* session);
  Status Heartbeat(Session* session);
  Status SendPending(Session* session);
  // Waits until `until`, new pending work, a full report request, or Stop; false on Stop.
  bool WaitUntil(Clock::time_point until);

  const NamenodeLinkOptions options_;
  LinkOwner* const owner_;
  std::thread thread_;
  std::atomic<bool> registered_{false};
  // Steady-clock nanoseconds of the last answered heartbeat; 0: none yet.
  std::atomic<int64_t> last_heartbeat_ns_{0};
  metrics::Counter* const heartbeats_sent_;
  metrics::Counter* const heartbeat_failures_;
  bool reregister_ = false;  // the last heartbeat's reply said REREGISTER; link thread only
  bool report_now_ = false;  // a full report is due at once; link thread only
  int failed_volumes_seen_ = 0;  // link thread only

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                 // mu_
  bool started_ = false;                  // mu_
  std::vector<PendingBlock> pending_;     // mu_
  std::vector<BlockRef> bad_;             // mu_
};

}  // namespace talus::datanode
