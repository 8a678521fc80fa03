#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "talus/file_system.h"

namespace talus::fuse {

// Closes, in the background, the writers of files created through the mount and closed with
// nothing written. Such a file is already durable (its create was journaled) and empty; its
// close (complete) only releases the lease. Done at flush, it would cost every `touch` a second
// journal sync; done here, the completes of several files go to the namenode together, so its
// journal syncs them as one group commit, alongside the creates that go on meanwhile.
// A pending close is done at once (Wait) before this mount changes the inode again, and all
// of them at unmount (Drain). Until then other clients see the file, empty, under
// construction: reads answer 0 bytes; a write, truncation or append from another client may
// be refused as a lease conflict for at most `max_delay` (plus one complete).
class DeferredCloser {
 public:
  // `threads` closes run at once; a batch starts when `batch` closes wait or the oldest has
  // waited `max_delay`.
  DeferredCloser(int threads, size_t batch, std::chrono::milliseconds max_delay);
  ~DeferredCloser();  // drains, then stops the threads
  DeferredCloser(const DeferredCloser&) = delete;
  DeferredCloser& operator=(const DeferredCloser&) = delete;

  // Takes over the writer of inode `ino`; `fs` is the client it belongs to (kept alive).
  void Add(uint64_t ino, std::shared_ptr<FileSystem> fs, std::shared_ptr<RandomWriteFile> writer);
  // Returns once inode `ino` has no pending close (closing it in this thread if still queued).
  void Wait(uint64_t ino);
  // Returns once every close added before the call is done.
  void Drain();

 private:
  struct Item {
    uint64_t ino = 0;
    std::shared_ptr<FileSystem> fs;
    std::shared_ptr<RandomWriteFile> writer;
    std::chrono::steady_clock::time_point added;
  };

  void Loop();
  static void CloseItem(Item& item);
  void Finish(uint64_t ino);  // mu_ held

  const size_t batch_;
  const std::chrono::milliseconds max_delay_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<Item> queue_;
  std::unordered_map<uint64_t, int> pending_;  // ino -> queued or closing
  size_t release_ = 0;   // items the workers may take now, without waiting for more
  int draining_ = 0;     // Drain calls in progress: take everything at once
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace talus::fuse
