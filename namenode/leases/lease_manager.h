#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace talus {

struct LeaseOptions {
  // After this long without a renewal another client may take the file over (HDFS: 60 s).
  std::chrono::milliseconds soft_limit{60 * 1000};
  // After this long the namenode recovers the file itself and closes it (HDFS: 20 min).
  std::chrono::milliseconds hard_limit{20 * 60 * 1000};
};

// Who writes which file, and since when they last said they are alive. Soft state: which
// files are under construction and by whom is in the namespace (the inode's lease holder and
// the 'U' index); the renewal times start afresh after a namenode restart, as in HDFS.
// Thread-safe (one mutex).
// The lease holder of files under recovery: the silent writer's lease passes to the namenode.
inline constexpr char kRecoveryLeaseHolder[] = "talus-namenode-recovery";

class LeaseManager {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  explicit LeaseManager(LeaseOptions options, Clock clock = std::chrono::steady_clock::now);

  // `holder` now writes inode `inode_id`; its lease counts as just renewed.
  void Add(const std::string& holder, uint64_t inode_id);
  void Remove(const std::string& holder, uint64_t inode_id);
  // Renews every lease of `holder`; false when it holds none.
  bool Renew(const std::string& holder);
  // Renews every lease: a namenode that becomes the Raft leader did not see the renewals its
  // predecessor took, so every writer gets a fresh lease (as after a restart).
  void RenewAll();
  bool SoftLimitPassed(const std::string& holder) const;
  // (holder, inode id) of files whose holder has not renewed within the hard limit, most
  // overdue first, at most `max`.
  std::vector<std::pair<std::string, uint64_t>> HardLimitPassed(size_t max) const;

  size_t holders() const;
  size_t files() const;
  const LeaseOptions& options() const { return options_; }

 private:
  struct Lease {
    std::chrono::steady_clock::time_point renewed;
    std::set<uint64_t> files;
  };
  void IndexRenewalLocked(const std::string& holder, std::chrono::steady_clock::time_point old,
                          std::chrono::steady_clock::time_point now);

  const LeaseOptions options_;
  const Clock clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Lease> leases_;  // guarded by mu_
  // Holders by last renewal, so expiry checks look only at the oldest. Guarded by mu_.
  std::multimap<std::chrono::steady_clock::time_point, std::string> by_renewal_;
};

}  // namespace talus
