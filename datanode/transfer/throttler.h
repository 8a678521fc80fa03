#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

// A token bucket shared by the threads of one kind of background I/O (re-replication copies,
// the block scanner), so that the kind as a whole stays under a byte rate and leaves the disk
// to client traffic. Thread-safe.
namespace talus::datanode {

class Throttler {
 public:
  // bytes_per_sec 0: unlimited (Acquire never waits). The bucket holds at most `burst_bytes`
  // (0: one second's worth), so an idle spell does not buy an unbounded burst later.
  explicit Throttler(uint64_t bytes_per_sec, uint64_t burst_bytes = 0);

  // Takes `bytes` from the bucket, waiting until they have accumulated. A request larger than
  // the burst is allowed once the bucket is full (it drives the balance negative, and later
  // callers wait it off). Returns false without taking anything if Cancel was called.
  bool Acquire(uint64_t bytes);
  // Wakes every waiter; later Acquire calls return false at once.
  void Cancel();
  uint64_t bytes_per_sec() const { return rate_; }

 private:
  using Clock = std::chrono::steady_clock;
  void RefillLocked(Clock::time_point now);

  const uint64_t rate_;
  const double burst_;
  std::mutex mu_;
  std::condition_variable cv_;
  double tokens_;                 // guarded by mu_; may be negative after a large request
  Clock::time_point last_;        // guarded by mu_
  bool cancelled_ = false;        // guarded by mu_
};

}  // namespace talus::datanode
