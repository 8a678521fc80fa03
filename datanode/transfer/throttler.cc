#include "datanode/transfer/throttler.h"

#include <algorithm>

namespace talus::datanode {

Throttler::Throttler(uint64_t bytes_per_sec, uint64_t burst_bytes)
    : rate_(bytes_per_sec),
      burst_(static_cast<double>(burst_bytes != 0 ? burst_bytes : bytes_per_sec)),
      tokens_(burst_),
      last_(Clock::now()) {}

void Throttler::RefillLocked(Clock::time_point now) {
  if (now <= last_) return;
  const double seconds = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + seconds * static_cast<double>(rate_));
  last_ = now;
}

bool Throttler::Acquire(uint64_t bytes) {
  std::unique_lock<std::mutex> lock(mu_);
  if (cancelled_) return false;
  if (rate_ == 0) return true;
  // Wait for the whole request, or for a full bucket when the request is larger than it.
  const double need = std::min(static_cast<double>(bytes), burst_);
  while (true) {
    RefillLocked(Clock::now());
    if (tokens_ >= need) break;
    const double missing = need - tokens_;
    auto wait = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(missing / static_cast<double>(rate_)));
    cv_.wait_for(lock, std::max<Clock::duration>(wait, std::chrono::microseconds(100)));
    if (cancelled_) return false;
  }
  tokens_ -= static_cast<double>(bytes);
  return true;
}

void Throttler::Cancel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
  }
  cv_.notify_all();
}

}  // namespace talus::datanode
