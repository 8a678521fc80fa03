#pragma once

#include <vector>

#include "raft/core/messages.h"

namespace talus::raft {

// The durable state a core restarts from. The core reads it once, at construction; afterwards the
// owner persists what each Ready hands out (entries, then hard state) before sending its messages.
class Storage {
 public:
  virtual ~Storage() = default;
  virtual HardState LoadHardState() const = 0;
  // Where the log starts: entries up to meta.index are in the state machine's snapshot.
  // {0, 0} for a log never compacted.
  virtual SnapshotMeta LoadSnapshotMeta() const { return {}; }
  // The log, indices meta.index+1..n contiguous.
  virtual std::vector<Entry> LoadEntries() const = 0;
};

// An in-memory Storage for tests and simulation.
class MemoryStorage : public Storage {
 public:
  HardState LoadHardState() const override { return hard_state_; }
  SnapshotMeta LoadSnapshotMeta() const override { return snapshot_; }
  std::vector<Entry> LoadEntries() const override { return entries_; }

  // Persists entries: everything at or after the first one's index is replaced. The first
  // index must be in snapshot index + 1 .. last index + 1.
  void Append(const std::vector<Entry>& entries);
  void SetHardState(const HardState& hs) { hard_state_ = hs; }
  // Forgets entries up to meta.index (the state machine holds them); meta.term is its term.
  void Compact(const SnapshotMeta& meta);
  // A snapshot was installed: the log becomes empty and starts after it.
  void ResetToSnapshot(const SnapshotMeta& meta);

 private:
  HardState hard_state_;
  SnapshotMeta snapshot_;
  std::vector<Entry> entries_;  // snapshot_.index + 1 ..
};

}  // namespace talus::raft
