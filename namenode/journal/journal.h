#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace talus {

// Where an entry sits in the journal. The local journal always uses term 1; the Raft journal
// uses the term of the leader that appended the entry.
struct LogPosition {
  uint64_t term = 0;
  uint64_t index = 0;  // 1-based; 0 means "nothing"
};

// What applying one entry produced: the status the caller of the mutation should see and one
// op-specific value (e.g. the id of the inode created). The journal passes it back untouched.
struct ApplyResult {
  Status status;
  int64_t value = 0;
};

// The state the journal feeds. The journal calls Apply for every committed entry, in index
// order, from a single thread; Apply must be deterministic (same entries, same state) and must
// make `pos.index` its last applied index atomically with the entry's effects.
class StateMachine {
 public:
  virtual ~StateMachine() = default;

  // The index of the last entry whose effects are in the state (0 for a new state). After a
  // crash the journal replays every committed entry above it.
  virtual uint64_t LastAppliedIndex() const = 0;

  virtual ApplyResult Apply(const LogPosition& pos, std::string_view entry) = 0;

  // Called after a run of Apply calls and before their callbacks run, Checkpoint is called
  // or LastAppliedIndex is asked again: a state machine may hold the effects of the run back
  // and store them here in one write. Until it returns, the run's effects need not be visible
  // to readers. Failing here is fatal to the process (the state would be unknown).
  virtual void FinishBatch() {}

  // Makes every applied entry durable on its own, so the journal may discard entries up to
  // the returned index. Called from the apply thread between Apply calls.
  virtual Result<uint64_t> Checkpoint() = 0;

  // Replicated journals only (the Raft journal's snapshots for followers that fell behind).
  // Writes a consistent image of the state to the new file `path` and returns the applied
  // index it holds. Safe to call from any thread, concurrently with Apply.
  virtual Result<uint64_t> WriteSnapshot(const std::string& path) {
    (void)path;
    return Status::NotSupported("this state machine has no snapshots");
  }
  // Stages the image in `path` (from WriteSnapshot on another member) durably, with the term
  // of its last entry, so that it replaces the state when the process next starts; the caller
  // then restarts the process. Nothing else changes until then.
  virtual Status StageSnapshot(const std::string& path, uint64_t index, uint64_t term) {
    (void)path;
    (void)index;
    (void)term;
    return Status::NotSupported("this state machine has no snapshots");
  }
};

// Called once an appended entry has been committed and applied (status OK, with what Apply
// returned), or when it never will be on this node (e.g. the journal closed or leadership was
// lost: a non-OK status, and the entry may or may not be committed elsewhere).
using AppliedCallback = std::function<void(const Status& status, const ApplyResult& result)>;

// One member of a replicated journal, for `dfsadmin -journal` and the status page.
struct JournalPeerInfo {
  uint64_t id = 0;
  std::string raft_address;
  std::string client_address;
  uint64_t match_index = 0;
  uint64_t next_index = 0;
  std::string state;
  int64_t last_contact_ms = -1;
};

struct JournalInfo {
  std::string kind = "local";  // "local" or "raft"
  uint64_t id = 1;
  std::string role = "leader";
  uint64_t term = 1;
  uint64_t leader_id = 1;
  std::string leader_address;  // client address of the leader; "" unknown
  uint64_t commit_index = 0;
  uint64_t applied_index = 0;
  uint64_t last_index = 0;
  uint64_t first_index = 0;
  uint64_t snapshot_index = 0;
  std::vector<JournalPeerInfo> peers;
};

// The edit log: entries are appended, made durable (and, for Raft, replicated to a majority),
// which commits them, and then handed to the StateMachine in order.
class Journal {
 public:
  virtual ~Journal() = default;

  // Opens the log and replays into `sm` every committed entry above sm->LastAppliedIndex(),
  // synchronously, before returning. `sm` must outlive the journal.
  virtual Status Open(StateMachine* sm) = 0;

  // Queues an entry. Returns its position at once; `done` runs later on the apply thread (or
  // with an error on close). Many concurrent appends share one fsync (group commit).
  // Fails at once when this node cannot accept entries (closed, not the leader).
  virtual Result<LogPosition> Append(std::string entry, AppliedCallback done) = 0;

  // The index of the last entry applied to the state machine.
  virtual uint64_t AppliedIndex() const = 0;

  // Whether this node may append now; for the local journal always true once open.
  virtual bool IsLeader() const = 0;

  // OK when this node may serve a client call now, reads included, with linearizable results:
  // always for the local journal; for Raft only on the leader holding a read lease that has
  // applied an entry of its term. Otherwise NotLeader with the leader's client address as
  // detail ("" when unknown), or Unavailable while a new leader catches up.
  virtual Status CheckServing() const { return Status::OK(); }

  // This member's view of the journal.
  virtual JournalInfo Info() const {
    JournalInfo info;
    info.applied_index = info.commit_index = info.last_index = AppliedIndex();
    return info;
  }

  // Stops accepting entries, finishes the durable ones already queued, fails the rest, and
  // stops the background threads. Idempotent.
  virtual void Close() = 0;
};

}  // namespace talus
