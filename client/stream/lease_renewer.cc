#include "client/stream/lease_renewer.h"

#include <glog/logging.h>

namespace talus::client {

LeaseRenewer::LeaseRenewer(std::function<Status()> renew, int interval_ms)
    : renew_(std::move(renew)), interval_ms_(std::max(interval_ms, 1)) {}

LeaseRenewer::~LeaseRenewer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LeaseRenewer::StreamOpened() {
  std::lock_guard<std::mutex> lock(mu_);
  ++open_;
  if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
}

void LeaseRenewer::StreamClosed() {
  std::lock_guard<std::mutex> lock(mu_);
  if (open_ > 0) --open_;
}

int LeaseRenewer::open_streams() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

void LeaseRenewer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [&] { return stopping_; });
    if (stopping_) return;
    if (open_ == 0) continue;
    lock.unlock();
    // A failed renewal is retried at the next interval; the lease's soft limit is far longer.
    Status s = renew_();
    if (!s.ok()) LOG(WARNING) << "renewing leases failed: " << s;
    lock.lock();
  }
}

}  // namespace talus::client
