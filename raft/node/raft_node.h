#pragma once

// RaftNode: one Raft group member with real time, real disks and a real network. It owns the
// deterministic raft::Core (raft/core), a DiskStorage (raft/storage) and a Transport
// (raft/transport), and runs them on its own thread:
//
//   loop: wait for a tick, an inbound message, a proposal or a finished snapshot transfer
//         → feed the core → TakeReady → install snapshot (if any) → persist entries + hard
//         state (fsync) → send messages → hand committed entries to the apply thread.
//
// Committed entries are applied on a separate apply thread (in index order) through
// RaftStateMachine, so applying batch k overlaps persisting batch k+1. Everything that arrives
// while an fsync runs is handled in the next round: proposals batch up by themselves.
//
// Snapshots: after RaftStateMachine::Checkpoint says the state holds index C durably, the
// log is compacted up to C minus a retention margin. A follower that needs compacted entries
// gets the state machine's snapshot file (RaftStateMachine::WriteSnapshot), streamed in chunks
// by the transport and installed with RaftStateMachine::InstallSnapshot.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "raft/core/messages.h"

namespace talus::raft {

// The replicated state, as the node sees it. All calls come from the node's apply thread,
// except LastAppliedIndex (any thread).
class RaftStateMachine {
 public:
  virtual ~RaftStateMachine() = default;
  // The last index whose effects are in the state (durably or not); 0 when empty.
  virtual Index LastAppliedIndex() const = 0;
  // Committed entries in index order, no gaps, each above LastAppliedIndex(). Entries with
  // empty data are the leaders' no-op entries: the state machine may skip them. A batch ends
  // with one call; the state machine may hold the batch's effects back until then.
  virtual void Apply(const std::vector<Entry>& committed) = 0;
  // Makes every applied entry durable; returns the index that is now durable (the log may be
  // compacted up to it).
  virtual Result<Index> Checkpoint() = 0;
  // Writes a consistent image of the state to `path` (a new file) and returns the index it
  // holds (its term is the node's business). May run concurrently with Apply on another
  // thread: the state machine must take a consistent view (e.g. a LevelDB snapshot).
  virtual Result<Index> WriteSnapshot(const std::string& path) = 0;
  // Replaces the whole state with the image in `path` (written by WriteSnapshot on another
  // node), durably, before returning. Returns false when done in place (LastAppliedIndex() ==
  // meta.index now); true when the image is staged durably and takes effect only when the
  // process starts again: the node then resets its log to `meta`, stops applying and calls
  // RaftNodeOptions::on_restart_required.
  virtual Result<bool> InstallSnapshot(const std::string& path, const SnapshotMeta& meta) = 0;
};

struct RaftPeer {
  NodeId id = kNoNode;
  std::string raft_address;  // host:port of its Raft transport
};

struct RaftNodeOptions {
  NodeId id = kNoNode;
  std::vector<RaftPeer> peers;  // every member, this node included
  std::string dir;              // log, hard state and snapshot files; created if missing
  // Advertised to the peers in every message, so a follower can name the leader's client
  // address in NOT_LEADER answers.
  std::string client_address;
  int tick_ms = 100;
  int election_ticks = 10;     // election timeout: random in [10, 20) ticks = 1-2 s
  int heartbeat_ticks = 1;
  // A leader serves reads for lease_ticks after a quorum acknowledged a heartbeat it sent;
  // followers ignore candidates for election_ticks after hearing from the leader, so this
  // must stay below election_ticks by the clock drift allowed (2 ticks = 20 % by default).
  int lease_ticks = 8;
  size_t max_inflight = 256;
  size_t max_entries_per_msg = 512;
  size_t max_bytes_per_msg = 4 << 20;
  // After a checkpoint, keep this many entries below it so slightly lagging followers need
  // no snapshot.
  uint64_t log_retention_entries = 10000;
  uint64_t checkpoint_every_entries = 100000;
  size_t snapshot_chunk_bytes = 1 << 20;
  uint64_t seed = 0;  // 0: from the clock
  // The state machine was replaced by this snapshot (staged before a restart) and the log
  // may not know yet (a crash between InstallSnapshot and the log reset): Start resets the
  // log to it unless the log already starts at or after it.
  SnapshotMeta installed_snapshot;
  // Called once (from the apply thread) after a staged snapshot install; the owner restarts
  // the process (the namenode re-executes itself).
  std::function<void()> on_restart_required;
  // Tests: lets the peers' fault-injection call (Transport::SetBlockedPeers) through.
  bool enable_fault_injection = false;
};

struct RaftPeerStatus {
  NodeId id = kNoNode;
  std::string raft_address;
  std::string client_address;  // as last advertised by the peer; empty if never heard
  Index match_index = 0;       // leader only
  Index next_index = 0;        // leader only
  std::string state;           // leader only: probe, replicate, snapshot
  int64_t last_contact_ms = -1;  // since the last message from the peer; -1 never
};

struct RaftStatus {
  NodeId id = kNoNode;
  std::string role;  // follower, pre-candidate, candidate, leader
  Term term = 0;
  NodeId leader = kNoNode;
  std::string leader_client_address;
  Index commit_index = 0;
  Index applied_index = 0;
  Index last_index = 0;
  Index first_index = 0;  // the first entry still in the log (after compaction)
  SnapshotMeta snapshot;
  std::vector<RaftPeerStatus> peers;
};

class RaftNode {
 public:
  // Opens storage, applies committed entries above sm->LastAppliedIndex() synchronously,
  // starts the transport server on this node's raft_address, and starts the threads.
  static Result<std::unique_ptr<RaftNode>> Start(RaftNodeOptions options, RaftStateMachine* sm);
  ~RaftNode();  // Stop()

  // Appends `data` if this node is the leader: returns (term, index) at once; NotLeader (with
  // the leader's client address as detail) otherwise.
  Result<std::pair<Term, Index>> Propose(std::string data);

  // OK when a read served now from the applied state is linearizable: this node is the leader,
  // holds a read lease, and has applied an entry of its own term. Otherwise NotLeader with the
  // leader's client address as detail (or Unavailable while a new leader catches up).
  Status CheckRead() const;
  bool IsLeader() const;
  std::string LeaderClientAddress() const;
  RaftStatus GetStatus() const;
  // Runs after every role or term change, on the node thread (must not block).
  void SetLeadershipListener(std::function<void(bool is_leader, Term term)> listener);

  // Stops the threads and the transport; pending proposals get Aborted. Idempotent.
  void Stop();

 private:
  class Impl;
  explicit RaftNode(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace talus::raft
