#pragma once

// RaftJournal: the namenode's edit log replicated by Raft among the namenodes of a group
// (raft/node). The leader appends; an entry is acknowledged once a majority has it durably and
// this namenode has applied it. Followers apply the same entries in the same order (a warm
// namespace) and refuse client calls with NOT_LEADER naming the leader's client address.
//
// Callbacks: an entry appended here is called back with OK and its ApplyResult when it is
// applied at the term it was appended in; with NotLeader when leadership is lost first, or
// when its index turns out to hold another leader's entry. A NotLeader entry may still commit
// under the next leader — the client retries with the same call id, and the replicated retry
// cache answers instead of applying it twice.
//
// Snapshots: a follower that fell behind the leader's compacted log gets the leader's namespace
// (StateMachine::WriteSnapshot), stages it (StateMachine::StageSnapshot) and the process
// restarts (options.on_restart_required) to swap it in.

#include <atomic>
#include <condition_variable>
#include <thread>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "namenode/journal/journal.h"
#include "raft/node/raft_node.h"

namespace talus {

struct RaftJournalOptions {
  raft::RaftNodeOptions node;
  // Runs on the journal's role thread (it may take locks; it delays only later role
  // reports): with false as soon as this member stops leading, and with true only once a
  // newly elected leader may serve — it holds its read lease and has applied every entry of
  // earlier terms — so what it then decides (datanode commands, re-replication) rests on the
  // whole committed history, never on a view still catching up.
  std::function<void(bool is_leader, uint64_t term)> on_leadership_change;
  // TESTS ONLY, deliberately broken: every member serves reads from whatever it has applied,
  // leader or not, lease or not. The linearizability test turns it on to show its checker
  // catches the stale reads that follow.
  bool unsafe_stale_reads = false;
};

// "1=host:port,2=host:port,3=host:port" → peers; ids positive and distinct, addresses host:port.
Result<std::vector<raft::RaftPeer>> ParseRaftPeers(const std::string& spec);

class RaftJournal final : public Journal, private raft::RaftStateMachine {
 public:
  explicit RaftJournal(RaftJournalOptions options);
  ~RaftJournal() override;
  RaftJournal(const RaftJournal&) = delete;
  RaftJournal& operator=(const RaftJournal&) = delete;

  // Starts the Raft node: committed entries in the local log above sm->LastAppliedIndex() are
  // applied before it returns; the rest arrives from the leader.
  Status Open(StateMachine* sm) override;
  Result<LogPosition> Append(std::string entry, AppliedCallback done) override;
  uint64_t AppliedIndex() const override;
  bool IsLeader() const override;
  Status CheckServing() const override;
  JournalInfo Info() const override;
  void Close() override;

 private:
  // raft::RaftStateMachine (the node's apply thread).
  raft::Index LastAppliedIndex() const override;
  void Apply(const std::vector<raft::Entry>& committed) override;
  Result<raft::Index> Checkpoint() override;
  Result<raft::Index> WriteSnapshot(const std::string& path) override;
  Result<bool> InstallSnapshot(const std::string& path, const raft::SnapshotMeta& meta) override;

  void OnLeadership(bool is_leader, raft::Term term);
  void FailPending(const Status& status);
  void RoleLoop();

  RaftJournalOptions options_;
  StateMachine* sm_ = nullptr;
  std::unique_ptr<raft::RaftNode> node_;
  std::atomic<uint64_t> applied_index_{0};
  std::atomic<bool> closed_{false};

  struct Pending {
    uint64_t term;
    AppliedCallback done;
  };
  // Appended here and not yet called back, by index. Append holds mu_ across Propose so the
  // apply thread cannot look for an entry before it is registered.
  std::mutex mu_;
  std::map<uint64_t, Pending> pending_;

  // Role changes, from the node thread to the role thread.
  std::mutex role_mu_;
  std::condition_variable role_cv_;
  bool role_stop_ = false;
  bool role_changed_ = false;
  bool node_leads_ = false;     // as the node last said
  uint64_t node_term_ = 0;
  std::thread role_thread_;
};

}  // namespace talus
