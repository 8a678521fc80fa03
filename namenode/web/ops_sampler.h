#pragma once
// Operations per second for the status page's chart: every interval a thread reads the client
// RPC server's request counters (talus_rpc_requests_total{server="client", method=...}), splits
// them into reads and writes by method name and keeps the rates of the last minutes. The
// counters are the source; nothing is counted twice.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/metrics/metrics.h"

namespace talus::web {

enum class OpKind { kRead, kWrite, kOther };

// What a ClientNamenode method does to the namespace: reads look (getFileInfo, getListing,
// getBlockLocations, ...), writes change it (create, addBlock, rename, ...); keep-alives and
// unknown names (ping, renewLease) are neither.
OpKind ClassifyClientMethod(std::string_view method);

struct OpsSample {
  int64_t time_ms = 0;  // wall clock at the end of the interval
  double reads_per_s = 0;
  double writes_per_s = 0;
};

class OpsSampler {
 public:
  // The counters of talus_rpc_requests_total, as Registry::CounterValues returns them.
  using Source = std::function<std::vector<std::pair<metrics::Labels, int64_t>>()>;

  // Keeps the samples of the last `window_ms`, one per `interval_ms` (both > 0).
  OpsSampler(int64_t interval_ms, int64_t window_ms, Source source);
  ~OpsSampler();  // Stop()
  OpsSampler(const OpsSampler&) = delete;
  OpsSampler& operator=(const OpsSampler&) = delete;

  // Takes the baseline and samples on a thread of its own until Stop(). Idempotent.
  void Start();
  void Stop();

  // One sample now: the rates since the previous call (the first call only sets the baseline).
  // Called by the thread; public for tests.
  void SampleOnce(int64_t wall_ms, int64_t steady_ms);

  // Oldest first.
  std::vector<OpsSample> Samples() const;
  int64_t interval_ms() const { return interval_ms_; }

 private:
  const int64_t interval_ms_;
  const size_t capacity_;
  const Source source_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;          // guarded by mu_
  std::deque<OpsSample> samples_;  // guarded by mu_
  bool have_baseline_ = false;     // the sampling thread's own state below
  int64_t last_reads_ = 0;
  int64_t last_writes_ = 0;
  int64_t last_steady_ms_ = 0;
  std::thread thread_;
};

}  // namespace talus::web
