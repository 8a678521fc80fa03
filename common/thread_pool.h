#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace talus {

// A fixed set of threads running queued tasks, for work too slow for an RPC event loop
// (a content summary of a large tree, the dry run of a large recursive delete). The queue is
// bounded: Submit refuses work beyond it instead of letting memory grow. Thread-safe.
class ThreadPool {
 public:
  ThreadPool(std::string name, size_t threads, size_t max_queued);
  // Runs what is queued, then joins.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // kBusy when the queue is full, kUnavailable after shutdown began.
  Status Submit(std::function<void()> task);

 private:
  void Run();

  const std::string name_;
  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace talus
