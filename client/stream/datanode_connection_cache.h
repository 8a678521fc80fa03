#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "common/transfer/socket_io.h"

namespace talus::client {

// Idle data-port connections to datanodes, so a reader can send its next READ_BLOCK on a
// connection an earlier read left clean instead of paying a TCP connect (and the datanode a new
// thread) per small read. The datanode serves op after op on one connection and waits for the
// next op for its socket timeout (60 s by default) before giving up on it; entries here expire
// long before that, and are closed by a background thread, so the datanode sees a clean hang-up.
// Only connections at an op boundary (the last packet of a read consumed) may be put back.
// Thread-safe.
class DatanodeConnectionCache {
 public:
  struct Options {
    size_t max_per_node = 16;
    size_t max_total = 64;
    int idle_expiry_ms = 3000;
  };
  struct Stats {
    uint64_t hits = 0;     // Take returned a connection
    uint64_t misses = 0;   // Take found none usable: the caller connects afresh
    uint64_t stale = 0;    // entries dropped at Take because the peer had hung up
    uint64_t expired = 0;  // entries closed after idle_expiry_ms
  };

  DatanodeConnectionCache() : DatanodeConnectionCache(Options{}) {}
  explicit DatanodeConnectionCache(const Options& options);
  ~DatanodeConnectionCache();
  DatanodeConnectionCache(const DatanodeConnectionCache&) = delete;
  DatanodeConnectionCache& operator=(const DatanodeConnectionCache&) = delete;

  // The most recently returned idle connection to `address` that still looks open, or an
  // invalid fd (counted as a miss). A connection the peer closed meanwhile can still slip
  // through: callers retry a failed first exchange on a fresh connection.
  transfer::UniqueFd Take(const std::string& address);
  // Keeps a connection at an op boundary for later Takes, evicting the oldest if full.
  void Put(const std::string& address, transfer::UniqueFd fd);
  // Closes every idle connection.
  void Clear();

  Stats stats() const;
  size_t idle_count() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    transfer::UniqueFd fd;
    Clock::time_point returned;
  };

  void ReapLoop();
  // Moves expired entries into `out` (closed by the caller outside the lock).
  void CollectExpiredLocked(Clock::time_point now, std::deque<transfer::UniqueFd>* out);
  void EvictOldestLocked(std::deque<transfer::UniqueFd>* out);

  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::deque<Entry>> idle_;  // per address, oldest first
  size_t total_ = 0;
  Stats stats_;
  bool stopping_ = false;
  // Started by the first Put, not at construction: a process that forks after creating its
  // FileSystem (a daemonizing mount) must not lose the thread.
  std::thread reaper_;
};

}  // namespace talus::client
