#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

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
};

// Called once an appended entry has been committed and applied (status OK, with what Apply
// returned), or when it never will be on this node (e.g. the journal closed or leadership was
// lost: a non-OK status, and the entry may or may not be committed elsewhere).
using AppliedCallback = std::function<void(const Status& status, const ApplyResult& result)>;

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

  // Stops accepting entries, finishes the durable ones already queued, fails the rest, and
  // stops the background threads. Idempotent.
  virtual void Close() = 0;
};

}  // namespace talus
