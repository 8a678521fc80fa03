#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/thread_pool.h"
#include "namenode/blocks/block_manager.h"
#include "namenode/blocks/block_map.h"
#include "namenode/blocks/datanode_manager.h"
#include "namenode/blocks/placement_policy.h"
#include "namenode/blocks/safe_mode.h"
#include "namenode/namesystem.h"
#include "namenode/rpc/decommission_hosts.h"
#include "namenode/security/user_groups.h"
#include "namenode/status/cluster_status.h"
#include "talus_rpc/ClientNamenode.h"

namespace talus {

// The ClientNamenode Thrift service, asynchronous: reads answer at once on the RPC thread;
// mutations answer when the journal has made them durable and applied them (on the journal's
// apply thread), so no RPC thread waits on an fsync. Validates what arrives, resolves the
// caller, delegates to the Namesystem and converts the answer; no namespace logic lives here.
class ClientService : public rpc::ClientNamenodeCobSvIf {
 public:
  using ExnCob = std::function<void(apache::thrift::TDelayedException*)>;
  template <typename T>
  using Cob = std::function<void(const T&)>;

  // `slow_calls` runs what could hold an event loop too long (content summaries, recursive
  // deletes); it must outlive the server.
  ClientService(Namesystem* namesystem, UserGroups* user_groups, ThreadPool* slow_calls)
      : namesystem_(namesystem), user_groups_(user_groups), slow_calls_(slow_calls) {}

  // The cluster's soft state, for capacity and block counts in getStats. Optional; set before
  // the server starts; both must outlive it.
  void SetBlockManagement(blocks::DatanodeManager* datanodes, blocks::BlockMap* block_map,
                          blocks::PlacementPolicy* placement) {
    datanodes_ = datanodes;
    block_map_ = block_map;
    placement_ = placement;
  }
  // Safe mode (every mutation is refused while it is on) and the replication monitor (its
  // figures in getStats and dfsadmin). Optional; set before the server starts.
  void SetOperations(blocks::SafeMode* safe_mode, blocks::BlockManager* block_manager) {
    safe_mode_ = safe_mode;
    block_manager_ = block_manager;
  }
  // The hosts exclude file re-read by refreshNodes (HDFS dfs.hosts.exclude); empty for none.
  // Read at once (after SetBlockManagement): its nodes start decommissioning. A file that cannot
  // be read or parsed is an error, so the namenode refuses to start with it (as HDFS does).
  Status SetHostsExcludeFile(std::string path);

  void ping(Cob<rpc::Timespec> cob, ExnCob exn_cob, const rpc::RequestHeader& h) override;
  void getFileInfo(Cob<rpc::FileStatus> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                   const std::string& path) override;
  void getListing(Cob<rpc::DirectoryListing> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                  const std::string& path, const std::string& start_after,
                  int32_t limit) override;
  void getContentSummary(Cob<rpc::ContentSummary> cob, ExnCob exn_cob,
                         const rpc::RequestHeader& h, const std::string& path) override;
  void getStats(Cob<rpc::FsStats> cob, ExnCob exn_cob, const rpc::RequestHeader& h) override;
  void mkdirs(Cob<bool> cob, ExnCob exn_cob, const rpc::RequestHeader& h, const std::string& path,
              int32_t mode, bool create_parent) override;
  void create(Cob<rpc::FileStatus> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
              const std::string& path, int32_t mode, const std::string& client_name,
              bool overwrite, bool create_parent, int16_t replication,
              int64_t block_size) override;
  void deletePath(Cob<bool> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                  const std::string& path, bool recursive) override;
  void rename(std::function<void()> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
              const std::string& src, const std::string& dst,
              const rpc::RenameOptions& options) override;
  void setPermission(std::function<void()> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                     const std::string& path, int32_t mode) override;
  void setOwner(std::function<void()> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                const std::string& path, const std::string& owner,
                const std::string& group) override;
  void setTimes(std::function<void()> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                const std::string& path, const rpc::Timespec& mtime,
                const rpc::Timespec& atime) override;
  void setReplication(Cob<bool> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                      const std::string& path, int16_t replication) override;
  void append(Cob<rpc::AppendResponse> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
              const std::string& path, const std::string& client_name) override;
  void addBlock(Cob<rpc::LocatedBlock> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                const std::string& path, const std::string& client_name,
                const rpc::ExtendedBlock& previous,
                const std::vector<std::string>& excluded_nodes, int64_t file_id) override;
  void abandonBlock(std::function<void()> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                    const rpc::ExtendedBlock& block, const std::string& path,
                    const std::string& client_name, int64_t file_id) override;
  void complete(Cob<bool> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                const std::string& path, const std::string& client_name,
                const rpc::ExtendedBlock& last, int64_t file_id) override;
  void getBlockLocations(Cob<rpc::LocatedBlocks> cob, ExnCob exn_cob,
                         const rpc::RequestHeader& h, const std::string& path, int64_t offset,
                         int64_t length) override;
  void renewLease(std::function<void()> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                  const std::string& client_name) override;
  void updateBlockForPipeline(Cob<rpc::LocatedBlock> cob, ExnCob exn_cob,
                              const rpc::RequestHeader& h, const rpc::ExtendedBlock& block,
                              const std::string& client_name) override;
  void updatePipeline(std::function<void()> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                      const std::string& client_name, const rpc::ExtendedBlock& old_block,
                      const rpc::ExtendedBlock& new_block,
                      const std::vector<rpc::DatanodeId>& new_nodes) override;
  void reportBadBlocks(std::function<void()> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                       const std::vector<rpc::LocatedBlock>& blocks) override;
  void getAdditionalDatanode(Cob<rpc::LocatedBlock> cob, ExnCob exn_cob,
                             const rpc::RequestHeader& h, const std::string& path,
                             int64_t file_id, const rpc::ExtendedBlock& block,
                             const std::vector<rpc::DatanodeId>& existing,
                             const std::vector<std::string>& excluded, int32_t num_additional,
                             const std::string& client_name) override;

  // Symlinks and writes at any offset (client_service_overwrite.cc).
  void createSymlink(Cob<rpc::FileStatus> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                     const std::string& target, const std::string& link,
                     bool create_parent) override;
  void openForOverwrite(Cob<rpc::FileStatus> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                        const std::string& path, const std::string& client_name) override;
  void allocateBlock(Cob<rpc::LocatedBlock> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                     const std::string& path, int64_t file_id, const std::string& client_name,
                     const std::vector<std::string>& excluded_nodes) override;
  void commitBlocks(Cob<rpc::FileStatus> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                    const std::string& path, int64_t file_id, const std::string& client_name,
                    const std::vector<rpc::BlockReplacement>& replacements, int64_t new_length,
                    bool release) override;

  // Operators' calls (client_service_admin.cc).
  void setSafeMode(Cob<rpc::SafeModeStatus> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                   rpc::SafeModeAction::type action) override;
  void getDatanodeReport(Cob<std::vector<rpc::DatanodeInfo>> cob, ExnCob exn_cob,
                         const rpc::RequestHeader& h,
                         rpc::DatanodeReportType::type type) override;
  void refreshNodes(std::function<void()> cob, ExnCob exn_cob,
                    const rpc::RequestHeader& h) override;
  void setDatanodeAdminState(std::function<void()> cob, ExnCob exn_cob,
                             const rpc::RequestHeader& h, const std::string& host_port,
                             bool decommission) override;
  void getFileHealth(Cob<rpc::FileHealth> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                     const std::string& path) override;
  void listCorruptFileBlocks(Cob<std::vector<rpc::CorruptFileBlock>> cob, ExnCob exn_cob,
                             const rpc::RequestHeader& h, const std::string& path,
                             int32_t limit) override;
  void getJournalStatus(Cob<rpc::JournalStatus> cob, ExnCob exn_cob,
                        const rpc::RequestHeader& h) override;

 private:
  static void Fail(const ExnCob& exn_cob, const Status& status);
  // The client name every write call carries: 1 to 1024 bytes.
  static Status CheckClientName(const std::string& client_name);
  // Validates the excluded-node list of addBlock/allocateBlock (storage ids or data
  // addresses) and chooses the datanodes of a new block of `file` before the block exists, so
  // that a cluster without room refuses the call without journaling anything.
  Result<blocks::PlacementResult> PlaceNewBlock(const Inode& file, const std::string& path,
                                                const std::vector<std::string>& excluded) const;
  // What the cluster summary and datanode report are computed from (namenode/status).
  status::StatusSources StatusInputs() const;
  // Block management must be attached before data-path calls are served.
  Status CheckBlockManagement() const;
  // A block's located form for a client: live locations sorted for `reader_host`.
  rpc::LocatedBlock Locate(const blocks::LocatedBlock& block, int64_t offset,
                           const std::string& reader_host) const;
  // addBlock's answer once the block exists: records the pipeline as its expected locations
  // (unless a retried call already did) and returns it.
  void AnswerAddBlock(const Cob<rpc::LocatedBlock>& cob, const ExnCob& exn_cob, uint64_t file_id,
                      int64_t block_id, std::vector<blocks::DatanodeIndex> targets);

  // The file at `path` if the caller may read its blocks (a directory: IsADirectory).
  Result<Inode> ReadableFile(const Caller& caller, const std::string& path) const;
  // Checks the header and resolves the caller; NotLeader (with the leader's address) when this
  // namenode may not serve clients now (a Raft follower, or a leader without a read lease).
  Result<Caller> CallerOf(const rpc::RequestHeader& h);
  // Runs a mutation; `then` turns its value into the reply (on whatever thread completes it).
  void Mutate(const rpc::RequestHeader& h, EditOp op, ExnCob exn_cob,
              std::function<void(int64_t)> then);

  Namesystem* const namesystem_;
  UserGroups* const user_groups_;
  ThreadPool* const slow_calls_;
  blocks::DatanodeManager* datanodes_ = nullptr;
  blocks::BlockMap* block_map_ = nullptr;
  blocks::PlacementPolicy* placement_ = nullptr;
  blocks::SafeMode* safe_mode_ = nullptr;
  blocks::BlockManager* block_manager_ = nullptr;
  std::string hosts_exclude_file_;
  // The exclude file's entries and the nodes decommissioned by command (client_service_admin.cc).
  DecommissionHosts decommission_hosts_;
};

}  // namespace talus
