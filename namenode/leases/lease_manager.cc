#include "namenode/leases/lease_manager.h"

namespace talus {

LeaseManager::LeaseManager(LeaseOptions options, Clock clock)
    : options_(options), clock_(std::move(clock)) {}

void LeaseManager::IndexRenewalLocked(const std::string& holder,
                                      std::chrono::steady_clock::time_point old,
                                      std::chrono::steady_clock::time_point now) {
  auto range = by_renewal_.equal_range(old);
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second == holder) {
      by_renewal_.erase(it);
      break;
    }
  }
  by_renewal_.emplace(now, holder);
}

void LeaseManager::Add(const std::string& holder, uint64_t inode_id) {
  const auto now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = leases_.try_emplace(holder);
  if (inserted) {
    it->second.renewed = now;
    by_renewal_.emplace(now, holder);
  } else {
    IndexRenewalLocked(holder, it->second.renewed, now);
    it->second.renewed = now;
  }
  it->second.files.insert(inode_id);
}

void LeaseManager::Remove(const std::string& holder, uint64_t inode_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(holder);
  if (it == leases_.end()) return;
  it->second.files.erase(inode_id);
  if (!it->second.files.empty()) return;
  auto range = by_renewal_.equal_range(it->second.renewed);
  for (auto r = range.first; r != range.second; ++r) {
    if (r->second == holder) {
      by_renewal_.erase(r);
      break;
    }
  }
  leases_.erase(it);
}

void LeaseManager::RenewAll() {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = clock_();
  by_renewal_.clear();
  for (auto& [holder, lease] : leases_) {
    lease.renewed = now;
    by_renewal_.emplace(now, holder);
  }
}

bool LeaseManager::Renew(const std::string& holder) {
  const auto now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(holder);
  if (it == leases_.end()) return false;
  IndexRenewalLocked(holder, it->second.renewed, now);
  it->second.renewed = now;
  return true;
}

bool LeaseManager::SoftLimitPassed(const std::string& holder) const {
  const auto now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(holder);
  return it != leases_.end() && now - it->second.renewed > options_.soft_limit;
}

std::vector<std::pair<std::string, uint64_t>> LeaseManager::HardLimitPassed(size_t max) const {
  const auto now = clock_();
  std::vector<std::pair<std::string, uint64_t>> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [renewed, holder] : by_renewal_) {
    if (now - renewed <= options_.hard_limit || out.size() >= max) break;
    for (uint64_t file : leases_.at(holder).files) {
      if (out.size() >= max) break;
      out.emplace_back(holder, file);
    }
  }
  return out;
}

size_t LeaseManager::holders() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leases_.size();
}

size_t LeaseManager::files() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [holder, lease] : leases_) n += lease.files.size();
  return n;
}

}  // namespace talus
