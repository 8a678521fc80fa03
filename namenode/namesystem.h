#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "namenode/blocks/block_map.h"
#include "namenode/journal/journal.h"
#include "namenode/leases/lease_manager.h"
#include "namenode/namespace/inode.h"
#include "namenode/namespace/namespace_store.h"
#include "namenode/namespace/namespace_txn.h"
#include "namenode/namespace/permission.h"
#include "namenode/ops/edit_ops.h"

namespace talus {

struct NamesystemOptions {
  // A retried call is answered from the retry cache for this long (HDFS: 10 minutes).
  int64_t retry_cache_expiry_sec = 600;
  // Entries per listing page, at most (HDFS dfs.ls.limit).
  int32_t max_listing_entries = 1000;
};

struct Listing {
  std::vector<Inode> entries;
  bool has_more = false;
};

struct NamespaceSummary {
  int64_t length = 0;
  int64_t file_count = 0;
  int64_t directory_count = 0;
  int64_t space_consumed = 0;
};

struct NamespaceCounts {
  int64_t files = 0;
  int64_t directories = 0;
};

// The namespace's state machine and its front door. Mutations are validated against the
// current state (a dry run), journaled, and answered with what their application produced;
// Apply runs on the journal's apply thread. Reads go straight to the store. Thread-safe.
class Namesystem : public StateMachine {
 public:
  Namesystem(NamespaceStore* store, NamesystemOptions options);

  // Must be called once, before Journal::Open (which replays through Apply).
  void SetJournal(Journal* journal) { journal_ = journal; }
  // Whether client calls may be served now (see Journal::CheckServing).
  Status CheckServing() const {
    return journal_ == nullptr ? Status::Unavailable("no journal") : journal_->CheckServing();
  }
  JournalInfo JournalStatus() const { return journal_ == nullptr ? JournalInfo{} : journal_->Info(); }
  // Optional; when set, creates and completes keep it current. Set before Journal::Open, then
  // call LoadLeases once the journal is open.
  void SetLeaseManager(LeaseManager* leases) { leases_ = leases; }
  // Fills the block map with every file's blocks (complete ones committed) and from then on
  // keeps it in step with the edits applied (added, committed, abandoned and removed blocks,
  // replication changes). Call once the journal is open and before serving, so that the first
  // block reports find every block the namespace has: a block missing from the map would be
  // answered with a delete.
  Status AttachBlockMap(blocks::BlockMap* block_map);
  // Starts block recovery of a file whose lease expired and whose last block only the datanodes
  // can finish (see leases/block_recovery.h). Optional; without it such files stay open.
  using BlockRecoveryStarter = std::function<Status(const Inode& file, const std::string& path)>;
  void SetBlockRecoveryStarter(BlockRecoveryStarter starter) { recovery_starter_ = std::move(starter); }
  // Gives every file under construction a fresh lease (after a restart, as HDFS does).
  Status LoadLeases();
  // Closes files whose writer has not renewed its lease within the hard limit. A file whose
  // last block still has to be recovered from the datanodes' replicas is left for block
  // recovery (reported in the log). Returns how many files it closed.
  Result<int> RecoverExpiredLeases();
  // Another writer (`new_writer`) wants a file that is under construction (append). As HDFS:
  // when the holder has not renewed within the soft limit its lease is recovered now — a file
  // without blocks is closed at once (OK: the caller may go on), one with blocks gets block
  // recovery started (LeaseConflict saying so: retry shortly). Otherwise LeaseConflict naming
  // the holder. Blocks on the journal: not for an event loop.
  Status RecoverLeaseForNewWriter(const Inode& file, const std::string& path,
                                  const std::string& new_writer);
  // Renews the leases of a client; false when it holds none.
  bool RenewLease(const std::string& client_name);

  // StateMachine.
  uint64_t LastAppliedIndex() const override { return applied_index_.load(); }
  ApplyResult Apply(const LogPosition& pos, std::string_view entry) override;
  void FinishBatch() override;
  Result<uint64_t> Checkpoint() override;
  // The namespace as one file (namespace/namespace_snapshot.h), from a LevelDB snapshot: safe
  // beside Apply. FinishBatch writes a batch's effects and its applied index in one LevelDB
  // write, so the image's applied index names exactly the entries it holds; a batch still
  // pending (applied, FinishBatch not yet called) is wholly absent, its index included.
  Result<uint64_t> WriteSnapshot(const std::string& path) override;
  // Builds the image into `<namespace dir>.staged`; the live namespace is untouched until
  // CompleteStagedNamespace swaps it in at the next start.
  Status StageSnapshot(const std::string& path, uint64_t index, uint64_t term) override;

  // Runs a mutation and calls `done` with its op-specific value (the new inode id for create,
  // 0/1 for delete's "existed", ...) once it is durable and applied, or with why it failed.
  // `done` runs exactly once: inline when the answer is known at once (a bad request, a retry
  // the retry cache answers, a no-op), otherwise on the journal's apply thread, so it must not
  // block. A (client_id, call_id) seen before gets the recorded answer.
  using MutateCallback = std::function<void(Result<int64_t>)>;
  void MutateAsync(Edit edit, MutateCallback done);
  // The same, waiting for the answer.
  Result<int64_t> Mutate(Edit edit);

  Result<Inode> GetFileInfo(const Caller& caller, const std::string& path) const;
  Result<Listing> GetListing(const Caller& caller, const std::string& path,
                             const std::string& start_after, int32_t limit) const;
  Result<NamespaceSummary> GetContentSummary(const Caller& caller, const std::string& path) const;
  Result<NamespaceCounts> GetCounts() const;
  // How many entries directory `dir_id` has, counted up to `limit` (a directory with more gives
  // `limit`), for the web page's listings. No permission check: like HDFS's childrenNum, shown
  // next to an entry the caller could already see.
  Result<int64_t> CountChildren(uint64_t dir_id, int64_t limit) const;
  Result<Inode> GetInode(uint64_t id) const;
  // The path of an inode, walked up from its parents.
  Result<std::string> PathOf(uint64_t id) const;

 private:
  struct RetryAnswer {
    Status status;
    int64_t value = 0;
  };
  // Looks in the store, or through `txn` (which sees the apply batch's pending writes).
  Result<std::optional<RetryAnswer>> LookupRetryCache(const std::string& client_id,
                                                      int64_t call_id,
                                                      const NamespaceTxn* txn = nullptr) const;
  void ExpireRetryEntries(NamespaceTxn* txn, int64_t now_sec);

  // The highest call id a retry record was written for, per client id: a call id above it
  // cannot be in the retry cache, which spares most mutations two LevelDB lookups (client
  // call ids only grow). A client not in the map (evicted, or before the namenode restarted)
  // is looked up in LevelDB as usual.
  bool MayBeInRetryCache(const std::string& client_id, int64_t call_id) const;
  void NoteRetryRecord(const std::string& client_id, int64_t call_id);
  mutable std::mutex retry_max_mu_;
  std::unordered_map<std::string, int64_t> retry_max_call_id_;  // guarded by retry_max_mu_

  NamespaceStore* const store_;
  const NamesystemOptions options_;
  Journal* journal_ = nullptr;
  LeaseManager* leases_ = nullptr;
  BlockRecoveryStarter recovery_starter_;
  // Apply thread only (set before serving).
  blocks::BlockMap* block_map_ = nullptr;
  // The file at `path` as the apply batch sees it (apply thread only), or null.
  std::shared_ptr<const Inode> FileAt(const std::string& path) const;
  void UpdateBlockMap(const EditOp& op, const ApplyResult& result,
                      const std::vector<uint64_t>& removed_files,
                      const std::vector<int64_t>& removed_blocks);
  std::atomic<uint64_t> applied_index_{0};
  // Apply thread only: the writes of the entries applied since the last FinishBatch, stored
  // there in one LevelDB batch together with the last applied index.
  std::unique_ptr<NamespaceTxn> pending_;
  uint64_t pending_index_ = 0;
};

}  // namespace talus
