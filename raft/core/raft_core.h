#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "raft/core/messages.h"
#include "raft/core/progress.h"
#include "raft/core/storage.h"

namespace talus::raft {

// Tests only: deliberately breaks one Raft rule so the simulation can show that its invariant
// checker notices (test/unit/raft_simulation_test.cc). Never set outside tests.
enum class UnsafeTestingBreak {
  kNone,
  // Commit entries of earlier terms by counting replicas (Raft paper, Figure 8).
  kCommitPreviousTermByCount,
  // Followers grant votes right after hearing the leader, so a read lease is not protected.
  kNoLeaseStickiness,
};

struct Config {
  NodeId id = kNoNode;
  std::vector<NodeId> peers;  // every voter, this node included
  int election_ticks = 10;    // the election timeout is random in [election_ticks, 2*election_ticks)
  int heartbeat_ticks = 1;
  bool pre_vote = true;
  bool check_quorum = true;
  size_t max_inflight = 64;        // unacknowledged AppendEntries per follower in replicate state
  size_t max_entries_per_msg = 64;
  uint64_t seed = 1;               // seeds the election-timeout PRNG: same inputs, same outputs
  // What the state machine already holds at start: snapshot.index <= applied <= the last
  // stored index. Applied entries are committed, so applied may exceed the stored commit
  // (owners persist commit lazily); the start commit is max(stored commit, applied, snapshot).
  Index applied = 0;
  // A leader holds a read lease for lease_ticks after a quorum acknowledged an AppendEntries
  // it sent; must be < election_ticks (the difference covers clock drift). 0 disables leases.
  // With leases on, every node ignores vote requests for election_ticks after it last heard a
  // leader AND after it starts (a restarted follower may have acknowledged a lease just
  // before it crashed), which is what makes the lease safe.
  int lease_ticks = 0;
  UnsafeTestingBreak unsafe_testing_break = UnsafeTestingBreak::kNone;  // tests only
};

// What the owner must do, in this order: persist entries (replacing any at or after the first
// one's index), persist hard_state, send messages, apply committed entries.
struct Ready {
  std::vector<Entry> entries;
  std::optional<HardState> hard_state;
  std::vector<Message> messages;
  std::vector<Entry> committed;
  // Follower only: a received snapshot was accepted. Install it into the state machine and
  // reset the stored log to start after it BEFORE persisting `entries`/`hard_state` and sending.
  // No entry at or below snapshot->index is ever handed out in `committed` after this.
  std::optional<SnapshotMeta> snapshot;
  bool empty() const {
    return entries.empty() && !hard_state && messages.empty() && committed.empty() && !snapshot;
  }
};

enum class Role { kFollower, kPreCandidate, kCandidate, kLeader };
const char* RoleName(Role role);

// The Raft state machine: deterministic, single-threaded, no clock and no I/O. Inputs are Tick(),
// Step() and Propose(); outputs are collected by TakeReady().
class Core {
 public:
  // Validates the config and the stored state; storage may be null (empty state).
  static Result<std::unique_ptr<Core>> Create(const Config& config, const Storage* storage);

  // One unit of logical time.
  void Tick();
  // A message from a peer. Malformed or foreign messages are dropped with a Status saying why; no
  // state changes on rejection.
  Status Step(const Message& msg);
  // Appends data to the log if this node is the leader; returns its index.
  Result<Index> Propose(std::string data);

  // The state machine holds every entry up to `index` durably: entries up to it leave the
  // in-memory log (the owner compacts its storage the same way, with TermAt(index) read
  // BEFORE this call). InvalidArgument when index is above what TakeReady handed out as
  // committed; OK and nothing done when index < first_index(). A follower needing compacted
  // entries then gets a kInstallSnapshot message naming snapshot().
  Status Compact(Index index);
  // The owner finished (ok: the follower staged a snapshot holding at least the index the
  // kInstallSnapshot message named) or gave up (!ok) streaming a snapshot to `peer`. Ignored
  // unless this node leads and that peer waits for a snapshot. On ok the leader probes from
  // the named index + 1; on !ok it probes again at the next heartbeat (which sends a new
  // kInstallSnapshot if the peer still needs compacted entries: the owner should back off).
  void ReportSnapshot(NodeId peer, bool ok);
  // Leader only: counting itself as "now", a quorum acknowledged AppendEntries (heartbeats
  // included) stamped less than lease_ticks ticks ago. False when lease_ticks is 0.
  bool HasReadLease() const;
  // The index of the leader's no-op entry of its current term; 0 when not the leader.
  // Reads on a new leader must wait until it has applied this index.
  Index TermStartIndex() const;

  bool HasReady() const;
  // Hands out everything pending and marks it as handed out (no separate Advance()).
  Ready TakeReady();

  NodeId id() const { return id_; }
  Role role() const { return role_; }
  Term term() const { return term_; }
  NodeId leader() const { return leader_; }
  Index commit() const { return commit_; }
  // Committed entries handed out by TakeReady up to here (or applied before start).
  Index applied() const { return applied_; }
  // The log holds first_index()..last_index(); last_index() == snapshot().index when empty.
  Index first_index() const { return snapshot_index() + 1; }
  Index last_index() const { return snapshot_index() + log_.size() - 1; }
  // Where the log starts: the entries up to it are in the state machine's snapshot.
  SnapshotMeta snapshot() const { return {log_[0].index, log_[0].term}; }
  // The term of the entry at index, for snapshot().index..last_index(); 0 outside (compacted
  // or not yet there).
  Term TermAt(Index index) const {
    return index >= snapshot_index() && index <= last_index() ? At(index).term : 0;
  }
  // Precondition: first_index() <= index <= last_index().
  const Entry& EntryAt(Index index) const { return At(index); }
  // The leader's follower view for status pages (empty unless leader).
  const std::map<NodeId, Progress>& progress() const { return progress_; }

 private:
  Core(const Config& config, HardState hs, SnapshotMeta snap, std::vector<Entry> entries);

  Index snapshot_index() const { return log_[0].index; }
  const Entry& At(Index index) const { return log_[index - snapshot_index()]; }
  bool Broken(UnsafeTestingBreak rule) const { return config_.unsafe_testing_break == rule; }

  size_t Quorum() const { return peers_.size() / 2 + 1; }
  HardState CurrentHardState() const { return {term_, vote_, commit_}; }
  bool LogUpToDate(Index last_index, Term last_term) const;
  bool InLease() const;

  void ResetTimeouts();
  // What every non-leader role starts from: no votes, no followers' progress, new timeouts.
  void ClearLeadership();
  void BecomeFollower(Term term, NodeId leader);
  void BecomePreCandidate();
  void BecomeCandidate();
  void BecomeLeader();
  void Campaign(bool pre_vote);
  void Send(Message msg);

  void HandleVoteRequest(const Message& msg);
  void HandleVoteReply(const Message& msg);
  void HandleAppendEntries(const Message& msg);
  void HandleAppendReply(const Message& msg);
  void HandleInstallSnapshot(const Message& msg);
  Message ReplyTo(const Message& msg) const;

  void AppendLocal(std::string data);
  void SendAppend(NodeId to, bool heartbeat);
  void BroadcastAppend(bool heartbeat);
  bool MaybeCommit();

  const Config config_;
  const NodeId id_;
  std::vector<NodeId> peers_;

  Term term_ = 0;
  NodeId vote_ = kNoNode;
  NodeId leader_ = kNoNode;
  Role role_ = Role::kFollower;

  // log_[0] is a sentinel for the snapshot point {snapshot term, snapshot index}; log_[i]
  // holds index snapshot index + i.
  std::vector<Entry> log_;
  Index commit_ = 0;
  Index applied_ = 0;       // committed entries handed out up to here
  Index stable_ = 0;        // entries handed out for persisting up to here
  HardState persisted_hs_;
  std::optional<SnapshotMeta> pending_snapshot_;  // accepted, not yet handed out

  uint64_t ticks_ = 0;               // Tick() calls since start: stamps AppendEntries (leases)
  int since_leader_ = 0;             // ticks since this node last heard a leader (stickiness)
  Index term_start_ = 0;             // the leader's no-op entry of its term
  std::map<NodeId, uint64_t> acks_;  // leader: highest stamp each peer echoed this term
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_timeout_ = 0;
  std::mt19937_64 rng_;

  std::map<NodeId, bool> votes_;
  std::map<NodeId, Progress> progress_;
  std::vector<Message> msgs_;
  // Followers owed an AppendEntries: new entries or a new commit index. Sent once per Ready
  // (TakeReady), carrying everything new, however many proposals and acknowledgements
  // arrived in between: one message per follower per round, not one per entry.
  std::set<NodeId> owed_;
  void Owe(NodeId to) { owed_.insert(to); }
  void OweAll();
  void FlushOwed();
  // Per follower in replicate state: its match index and the ticks it has not moved while
  // entries were outstanding although the follower kept answering (a slow follower, busy
  // syncing, does not answer and is left alone). One stuck that long lost an AppendEntries;
  // probing again finds the gap (instead of answering every acknowledgement with an empty
  // AppendEntries, which under load made each entry cost dozens of messages).
  struct Stall {
    Index match = 0;
    int ticks = 0;       // ticks with answers heard but match unchanged
    bool heard = false;  // an answer came since the last tick
  };
  std::map<NodeId, Stall> stall_;
  void CheckStalls();
};

}  // namespace talus::raft
