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
  Index applied = 0;               // what the state machine already holds at start
  // A leader holds a read lease for lease_ticks after a quorum acknowledged an AppendEntries
  // it sent; must be < election_ticks (the difference covers clock drift). 0 disables leases.
  int lease_ticks = 0;
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

  // The state machine holds every entry up to `index` (<= applied) durably: entries up to it
  // may leave the in-memory log (the owner compacts its storage the same way). A follower
  // needing them then gets a kInstallSnapshot message.
  Status Compact(Index index);
  // The owner finished (ok) or gave up (!ok) streaming a snapshot to `peer`.
  void ReportSnapshot(NodeId peer, bool ok);
  // Leader only: a quorum acknowledged an AppendEntries sent less than lease_ticks ago.
  bool HasReadLease() const;
  // The first index of the leader's current term (its no-op entry); 0 when not the leader.
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
  Index last_index() const { return log_.size() - 1; }
  Term TermAt(Index index) const { return index < log_.size() ? log_[index].term : 0; }
  // Index 1..last_index(); the leader's follower view for status pages.
  const Entry& EntryAt(Index index) const { return log_[index]; }
  const std::map<NodeId, Progress>& progress() const { return progress_; }

 private:
  Core(const Config& config, HardState hs, std::vector<Entry> entries);

  size_t Quorum() const { return peers_.size() / 2 + 1; }
  HardState CurrentHardState() const { return {term_, vote_, commit_}; }
  bool LogUpToDate(Index last_index, Term last_term) const;
  bool InLease() const;

  void ResetTimeouts();
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

  std::vector<Entry> log_;  // log_[0] is a sentinel {term 0, index 0}
  Index commit_ = 0;
  Index applied_ = 0;       // committed entries handed out up to here
  Index stable_ = 0;        // entries handed out for persisting up to here
  HardState persisted_hs_;

  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_timeout_ = 0;
  std::mt19937_64 rng_;

  std::map<NodeId, bool> votes_;
  std::map<NodeId, Progress> progress_;
  std::vector<Message> msgs_;
};

}  // namespace talus::raft
