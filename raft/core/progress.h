#pragma once

#include <cstddef>
#include <deque>

#include "raft/core/messages.h"

namespace talus::raft {

// The leader's view of one follower.
// Probe: one AppendEntries at a time until a reply shows where the logs match.
// Replicate: entries are pipelined, at most max_inflight unacknowledged messages.
// Snapshot: the follower needs compacted entries; nothing but heartbeats is sent until the
// owner reports the snapshot transfer's outcome (or a reply shows the follower caught up).
class Progress {
 public:
  enum class State { kProbe, kReplicate, kSnapshot };
  static const char* StateName(State state);

  Progress() = default;
  Progress(Index next, size_t max_inflight) : next_(next), max_inflight_(max_inflight) {}

  Index match() const { return match_; }
  Index next() const { return next_; }
  State state() const { return state_; }
  Index pending_snapshot() const { return pending_snapshot_; }
  bool recent_active() const { return recent_active_; }
  void set_recent_active(bool active) { recent_active_ = active; }

  // True when no AppendEntries carrying entries may be sent now.
  bool Paused() const;
  // Records an AppendEntries carrying entries up to last.
  void SentEntries(Index last);
  // A success reply: returns true if match advanced.
  bool MaybeUpdate(Index match);
  // A rejection of prev index rejected with hint; returns false if the reply is stale.
  bool MaybeDecrease(Index rejected, Index hint);
  // A heartbeat was answered: a probe may go again, a full window gives up its oldest slot
  // (the message was probably lost; the follower's rejection of the next one repairs next_).
  void HeartbeatAnswered();
  void ResumeProbe() { probe_sent_ = false; }
  // Replicating, but match has not moved for a while with entries outstanding: something sent
  // was lost. Probe again from match + 1.
  void Stalled() {
    BecomeProbe();
    next_ = match_ + 1;
  }
  // A kInstallSnapshot naming `index` was sent.
  void SentSnapshot(Index index);
  // The snapshot transfer ended: ok means the follower now holds at least pending_snapshot().
  // Back to probing (at once on ok, at the next heartbeat otherwise).
  void SnapshotDone(bool ok);

 private:
  void BecomeProbe();
  void BecomeReplicate();

  Index match_ = 0;
  Index next_ = 1;
  State state_ = State::kProbe;
  bool probe_sent_ = false;
  Index pending_snapshot_ = 0;
  bool recent_active_ = false;
  size_t max_inflight_ = 1;
  std::deque<Index> inflight_;  // last index of each unacknowledged message, ascending
};

}  // namespace talus::raft
