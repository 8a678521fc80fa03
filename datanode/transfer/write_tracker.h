#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "common/status.h"

// The replicas a transfer server is writing: who writes each (so lease or pipeline recovery can
// stop that writer) and how many bytes the whole pipeline has acknowledged (what a reader may see
// of a replica still being written). Thread-safe.
namespace talus::datanode {

class WriteTracker {
 public:
  // One WRITE_BLOCK in progress, shared by its receiving and responding threads.
  class Writer {
   public:
    Writer(uint64_t block_id, uint64_t genstamp, uint64_t acked_length)
        : block_id_(block_id), genstamp_(genstamp), acked_(acked_length) {}

    uint64_t block_id() const { return block_id_; }
    uint64_t genstamp() const { return genstamp_; }
    uint64_t acked_length() const { return acked_.load(std::memory_order_acquire); }
    void SetAckedLength(uint64_t length) { acked_.store(length, std::memory_order_release); }
    // Sequentially consistent with the hook's reads: a thread that publishes a descriptor and
    // then sees aborted() false can rely on a later Abort's hook seeing the descriptor.
    bool aborted() const { return aborted_.load(); }

    // Makes the writer give up: sets aborted() and runs the hook (which shuts its sockets so
    // blocked I/O returns). Safe from any thread, any number of times.
    void Abort();
    // The hook Abort runs; if Abort already happened it runs at once. Cleared before the
    // resources it touches go away.
    void SetAbortHook(std::function<void()> hook);
    void ClearAbortHook();

   private:
    const uint64_t block_id_;
    const uint64_t genstamp_;
    std::atomic<uint64_t> acked_;
    std::atomic<bool> aborted_{false};
    std::mutex mu_;
    std::function<void()> hook_;  // guarded by mu_
  };

  // Registers an active writer. Busy if another writer is active on the same block.
  Status Begin(const std::shared_ptr<Writer>& writer);
  // Unregisters it (its acked length stays known for readers) and wakes Stop callers.
  void End(const std::shared_ptr<Writer>& writer);
  // Aborts the writer active on block_id, if any, and waits until it has ended.
  void Stop(uint64_t block_id);
  void StopAll();

  // The acked length last recorded by a writer of the replica at `genstamp`, if any.
  std::optional<uint64_t> AckedLength(uint64_t block_id, uint64_t genstamp) const;
  // Drops what is known of a replica once nothing needs it (finalized, or its stamp moved on).
  void Forget(uint64_t block_id, uint64_t genstamp);
  // Drops what is known of replicas no longer written for which still_needed(block_id,
  // genstamp) is false (deleted, finalized, recovered under another stamp). The callback runs
  // without the tracker's lock held.
  void Sweep(const std::function<bool(uint64_t, uint64_t)>& still_needed);
  size_t known_count() const;
  size_t active_count() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable ended_;
  std::unordered_map<uint64_t, std::shared_ptr<Writer>> active_;  // guarded by mu_
  std::unordered_map<uint64_t, std::shared_ptr<Writer>> latest_;  // guarded by mu_
};

}  // namespace talus::datanode
