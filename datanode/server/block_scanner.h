#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "datanode/storage/dataset.h"
#include "datanode/transfer/throttler.h"

// The background block scanner (HDFS VolumeScanner): one thread re-reads every FINALIZED
// replica and verifies its data against the checksums in its meta file, at a bounded byte rate,
// each replica again once `period` has passed since its last scan. Replicas being written are
// skipped, and nothing is concluded from a replica that changed or vanished from the replica
// map while it was read (deleted, appended to, recovered): a failure counts only if it repeats
// on the same replica (same generation stamp, length and files).
//
// Findings go to callbacks (the datanode reports them to every namenode):
// - corrupt: data or meta do not match (or the data file is shorter than the replica) —
//   reported once per replica and stamp, not again on later passes;
// - missing: the replica is still in the map but its data or meta file is gone from disk —
//   HDFS's directory scanner then drops it from the replica map and tells the namenode it was
//   deleted, and so does the datanode.
// Last-scan times are kept in memory only: after a restart every replica is due again.
namespace talus::datanode {

struct BlockScannerOptions {
  uint64_t bytes_per_sec = 1 << 20;  // 0: unthrottled
  std::chrono::milliseconds period{std::chrono::hours(24 * 21)};
  // Bytes read and verified per step (and per throttle request).
  uint64_t read_bytes = 256 * 1024;
  // With nothing due, the replica list is read again at least this often (new replicas).
  std::chrono::milliseconds max_idle{std::chrono::seconds(30)};
};

// Monotonic since Start, for metrics.
struct BlockScannerCounters {
  uint64_t bytes_scanned = 0;
  uint64_t replicas_scanned = 0;  // replicas verified to the end (good or corrupt)
  uint64_t corrupt_found = 0;
  uint64_t missing_found = 0;
  uint64_t passes = 0;            // times the replica list was gone through
};

class BlockScanner {
 public:
  struct Callbacks {
    std::function<void(const ReplicaInfo& replica, const std::string& why)> on_corrupt;
    std::function<void(const ReplicaInfo& replica, const std::string& why)> on_missing;
  };
  enum class Verdict {
    kGood,
    kCorrupt,
    kMissing,
    kSkipped,  // changed, deleted or not finalized meanwhile; or an I/O error of the volume
  };

  BlockScanner(DataSet* data, BlockScannerOptions options, Callbacks callbacks);
  ~BlockScanner();  // Stop()
  BlockScanner(const BlockScanner&) = delete;
  BlockScanner& operator=(const BlockScanner&) = delete;

  void Start();
  // Joins the thread; a scan in progress stops between reads. Idempotent.
  void Stop();

  BlockScannerCounters counters() const;
  // Verifies one replica now on the caller's thread, unthrottled, without calling back or
  // counting; *why says what was wrong.
  Verdict VerifyNow(uint64_t block_id, std::string* why);
  // Has the thread verify `block_id` before anything else (a reader saw it fail).
  void MarkSuspect(uint64_t block_id);

 private:
  using Clock = std::chrono::steady_clock;
  struct LastScan {
    uint64_t genstamp = 0;
    Clock::time_point when;
  };

  void Run();
  // Verifies `replica`; throttled when `throttle` is set. Returns kSkipped on Stop.
  Verdict Verify(const ReplicaInfo& replica, Throttler* throttle, std::string* why);
  bool Unchanged(const ReplicaInfo& replica) const;
  void ScanOne(const ReplicaInfo& replica);
  bool Stopping();

  DataSet* const data_;
  const BlockScannerOptions options_;
  const Callbacks callbacks_;
  Throttler throttle_;
  std::thread thread_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;   // mu_
  bool stopping_ = false;  // mu_
  std::set<uint64_t> suspects_;  // mu_

  // Scanner thread only.
  std::map<uint64_t, LastScan> last_scan_;
  std::set<std::pair<uint64_t, uint64_t>> reported_;  // (block id, stamp) found bad

  std::atomic<uint64_t> bytes_scanned_{0};
  std::atomic<uint64_t> replicas_scanned_{0};
  std::atomic<uint64_t> corrupt_found_{0};
  std::atomic<uint64_t> missing_found_{0};
  std::atomic<uint64_t> passes_{0};
};

}  // namespace talus::datanode
