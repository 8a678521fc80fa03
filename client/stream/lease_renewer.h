#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "common/status.h"

namespace talus::client {

// Renews a client's leases from one background thread while any of its output streams is open
// (HDFS's LeaseRenewer): every `interval_ms`, `renew()` is called if the count of open streams
// is above zero. The thread starts with the first stream and lives until the renewer dies.
// Thread-safe.
class LeaseRenewer {
 public:
  LeaseRenewer(std::function<Status()> renew, int interval_ms);
  ~LeaseRenewer();

  void StreamOpened();
  void StreamClosed();
  int open_streams() const;

 private:
  void Run();

  const std::function<Status()> renew_;
  const int interval_ms_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int open_ = 0;          // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;     // started by the first StreamOpened
};

}  // namespace talus::client
