#pragma once

// LocalJournal: the edit log of a single namenode, kept in local files.
//
// On disk, `directory` holds segment files named log-<first index, 20 digits> (plus a LOCK
// file that keeps a second process out). All integers are little-endian.
//
//   segment = header record*
//   header  = "TALUSJNL" | version u32 (=1) | crc u32 | first_index u64            (24 bytes)
//   record  = length u32 | crc u32 | term u64 (=1) | index u64 | payload[length]  (24 + length)
//
// The format and the file handling are common/wal's (record_codec.h, segment_file.h), shared
// with raft::DiskStorage. CRCs are CRC32C (common/crc32c.h). The header CRC covers magic,
// version and first index; a record CRC covers its length, term, index and payload. Records
// in a segment carry consecutive indexes starting at the header's first index, and each
// segment starts right after the previous one ends. A new segment is written under a
// temporary name and renamed into place once its header is durable, so every segment has a
// whole header. Only
// the last segment can end in a torn record (a crash during a write that was never
// acknowledged); Open cuts it off. Anything else that fails to verify is Corruption.
// A segment is closed (and a new one started) before a batch when it has reached
// segment_size_limit_bytes, so a segment may exceed the limit by at most one batch.
//
// Threads:
//   - Callers of Append take mutex_, get the next index and queue the entry.
//   - The writer thread takes the whole queue as one batch (under concurrency it first waits
//     up to group_commit_delay_us for the last batch's callers), encodes it, writes it with
//     one pwrite() to the current segment, fdatasync()s, and hands the batch to the apply
//     queue; a batch of at most a few entries, with the applier idle, it applies itself (a
//     lone caller then pays no thread handoff). It also rolls segments. It alone touches the
//     segment writer.
//   - The apply thread calls StateMachine::Apply for each entry in index order, then the
//     entry's callback; every checkpoint_every_entries entries and after a segment roll it
//     calls StateMachine::Checkpoint and deletes segments that are no longer needed.
//   So batch k+1 is being synced while batch k is applied, and nothing is applied or
//   acknowledged before its batch is durable. Batches are applied one at a time, in order
//   (applier_busy_); callbacks run on the apply thread or on the writer thread.
//
// Locks (never held together, never held while calling out to the state machine or a
// callback): mutex_ guards the append queue, the next index and the open/closed/failed state;
// apply_mutex_ guards the apply queue; segments_mutex_ guards the list of segment files,
// which the writer extends and the apply thread trims.
//
// A failed write or sync makes the journal fail: the batch and everything queued are
// called back with IoError and Append fails from then on. An entry failed that way may
// still be found in the log after a restart (its bytes may have reached the disk), as with
// any write whose outcome is unknown; the journal tries to cut the failed batch off.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "namenode/journal/journal.h"

namespace talus {

namespace wal {
class SegmentWriter;
}  // namespace wal

struct LocalJournalOptions {
  // Where the segment files live; created (with its parents) if missing.
  std::string directory;
  // A segment that has reached this size is closed and a new one started.
  uint64_t segment_size_limit_bytes = 64ull << 20;
  // The apply thread asks the state machine for a checkpoint after this many applied
  // entries (and after every segment roll); segments wholly below the checkpoint are deleted.
  uint64_t checkpoint_every_entries = 100000;
  // Group commit under concurrency: when the last batch carried more than one entry, the
  // writer waits up to this long for as many entries as that batch had before it syncs, so
  // each (expensive) sync carries more entries. A lone writer never waits. 0 disables (the
  // writer then syncs whatever is queued at once), like PostgreSQL's commit_delay.
  uint32_t group_commit_delay_us = 0;
  // A synced batch of at most this many entries is applied by the writer thread itself when
  // the apply thread is idle (no handoff for a lone caller); 0 always hands off.
  uint32_t inline_apply_max_entries = 4;
};

// Counters since Open, for monitoring. Read with LocalJournal::stats().
struct LocalJournalStats {
  uint64_t entries_appended = 0;   // accepted by Append
  uint64_t entries_applied = 0;    // applied and called back with OK (replay not included)
  uint64_t entries_replayed = 0;   // applied by Open from the log
  uint64_t entries_failed = 0;     // called back with an error
  uint64_t fsyncs = 0;             // data syncs, one per batch written
  uint64_t bytes_written = 0;      // record bytes written
  uint64_t max_batch_entries = 0;  // the largest batch written under one sync
  uint64_t segments_created = 0;
  uint64_t segments_deleted = 0;
  uint64_t checkpoints = 0;        // successful StateMachine::Checkpoint calls
};

class LocalJournal final : public Journal {
 public:
  explicit LocalJournal(LocalJournalOptions options);
  // Closes the journal (see Close).
  ~LocalJournal() override;
  LocalJournal(const LocalJournal&) = delete;
  LocalJournal& operator=(const LocalJournal&) = delete;

  // Verifies the segments, cuts a torn tail off the last one, replays into `sm` every entry
  // above sm->LastAppliedIndex(), and starts the writer and apply threads. Returns
  // Corruption for damage other than a torn tail, for a missing range of indexes, or when
  // the log starts above sm->LastAppliedIndex() + 1; Busy when another process has the
  // directory open. May be called once per object (again only after a failed Open).
  Status Open(StateMachine* sm) override;

  // Fails with Unavailable before Open and after Close, with IoError after a write or sync
  // failure, and with InvalidArgument for an entry over 16 MiB. Thread-safe.
  Result<LogPosition> Append(std::string entry, AppliedCallback done) override;

  uint64_t AppliedIndex() const override;
  bool IsLeader() const override;

  // Stops accepting entries, writes, syncs, applies and calls back everything already
  // queued, then stops the threads. Idempotent. Must not be called from an AppliedCallback.
  void Close() override;

  LocalJournalStats stats() const;

 private:
  enum class State { kNew, kOpen, kClosed };

  struct PendingEntry {
    uint64_t index;
    std::string data;
    AppliedCallback done;
    std::chrono::steady_clock::time_point appended;  // for the commit latency metric
  };

  struct Batch {
    std::vector<PendingEntry> entries;
    Status status;                // OK when durable; otherwise why the entries failed
    bool segment_rolled = false;  // the batch is the first one of a new segment
  };

  Status OpenSegments();
  void WriterLoop();
  // Writes and syncs one batch, rolling to a new segment first when the current one is full.
  Status WriteBatch(Batch* batch);
  void ApplyLoop();
  void ApplyBatch(Batch* batch);
  void CheckpointAndCompact();
  void PushToApplier(Batch batch);

  const LocalJournalOptions options_;
  StateMachine* sm_ = nullptr;
  int lock_fd_ = -1;
  // Serialises Close so a second caller returns only once the first has finished.
  std::mutex close_mutex_;

  // Guards the fields up to writer_cv_.
  mutable std::mutex mutex_;
  State state_ = State::kNew;
  bool accepting_ = false;
  Status failure_;  // set when a write or sync failed
  uint64_t next_index_ = 1;
  std::vector<PendingEntry> queue_;
  // Append wakes the writer only once the queue holds this many entries (1 unless the writer
  // is gathering a batch), so gathering costs no wakeup per entry.
  size_t writer_wakeup_at_ = 1;
  size_t last_batch_entries_ = 0;  // writer thread only (read under mutex_)
  std::condition_variable writer_cv_;

  std::mutex apply_mutex_;
  std::deque<Batch> apply_queue_;
  bool writer_done_ = false;
  // A batch is being applied (by the apply thread, or inline by the writer): batches are
  // applied one at a time, in order.
  bool applier_busy_ = false;
  std::condition_variable apply_cv_;

  std::mutex segments_mutex_;
  // First index of every live segment, oldest first; the last one is being written.
  std::deque<uint64_t> segment_first_indexes_;

  // Owned by the writer thread once the threads run.
  std::unique_ptr<wal::SegmentWriter> segment_;
  std::string encode_buffer_;

  // Touched only by whoever holds applier_busy_ (the apply thread or the writer).
  uint64_t applied_since_checkpoint_ = 0;

  std::atomic<uint64_t> applied_index_{0};
  std::thread writer_thread_;
  std::thread apply_thread_;

  struct AtomicStats {
    std::atomic<uint64_t> entries_appended{0};
    std::atomic<uint64_t> entries_applied{0};
    std::atomic<uint64_t> entries_replayed{0};
    std::atomic<uint64_t> entries_failed{0};
    std::atomic<uint64_t> fsyncs{0};
    std::atomic<uint64_t> bytes_written{0};
    std::atomic<uint64_t> max_batch_entries{0};
    std::atomic<uint64_t> segments_created{0};
    std::atomic<uint64_t> segments_deleted{0};
    std::atomic<uint64_t> checkpoints{0};
  };
  AtomicStats stats_;
};

}  // namespace talus
