#include "client/stream/datanode_connection_cache.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <iterator>

namespace talus::client {

namespace {

// A connection at an op boundary has nothing to read; readable means the peer hung up (EOF or
// reset) or sent something unasked for. Either way it cannot carry a new op.
bool LooksOpen(int fd) {
  pollfd p{fd, POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, 0);
  } while (rc < 0 && errno == EINTR);
  return rc == 0;
}

}  // namespace

DatanodeConnectionCache::DatanodeConnectionCache(const Options& options) : options_(options) {}

DatanodeConnectionCache::~DatanodeConnectionCache() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
}

transfer::UniqueFd DatanodeConnectionCache::Take(const std::string& address) {
  std::deque<transfer::UniqueFd> dropped;  // closed after the lock is released
  transfer::UniqueFd found;
  {
    std::lock_guard<std::mutex> l(mu_);
    CollectExpiredLocked(Clock::now(), &dropped);
    auto it = idle_.find(address);
    while (it != idle_.end() && !it->second.empty() && !found.valid()) {
      transfer::UniqueFd fd = std::move(it->second.back().fd);
      it->second.pop_back();
      --total_;
      if (LooksOpen(fd.get())) {
        found = std::move(fd);
      } else {
        ++stats_.stale;
        dropped.push_back(std::move(fd));
      }
    }
    if (it != idle_.end() && it->second.empty()) idle_.erase(it);
    if (found.valid()) {
      ++stats_.hits;
    } else {
      ++stats_.misses;
    }
  }
  return found;
}

void DatanodeConnectionCache::Put(const std::string& address, transfer::UniqueFd fd) {
  if (!fd.valid() || options_.max_per_node == 0 || options_.max_total == 0) return;
  std::deque<transfer::UniqueFd> dropped;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) return;
    const Clock::time_point now = Clock::now();
    CollectExpiredLocked(now, &dropped);
    std::deque<Entry>& list = idle_[address];
    if (list.size() >= options_.max_per_node) {
      dropped.push_back(std::move(list.front().fd));
      list.pop_front();
      --total_;
    }
    if (total_ >= options_.max_total) EvictOldestLocked(&dropped);
    idle_[address].push_back(Entry{std::move(fd), now});
    ++total_;
    if (!reaper_.joinable()) reaper_ = std::thread([this] { ReapLoop(); });
  }
  cv_.notify_all();
}

void DatanodeConnectionCache::Clear() {
  std::map<std::string, std::deque<Entry>> dropped;
  std::lock_guard<std::mutex> l(mu_);
  dropped.swap(idle_);
  total_ = 0;
}

DatanodeConnectionCache::Stats DatanodeConnectionCache::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

size_t DatanodeConnectionCache::idle_count() const {
  std::lock_guard<std::mutex> l(mu_);
  return total_;
}

void DatanodeConnectionCache::CollectExpiredLocked(Clock::time_point now,
                                                   std::deque<transfer::UniqueFd>* out) {
  const auto expiry = std::chrono::milliseconds(options_.idle_expiry_ms);
  for (auto it = idle_.begin(); it != idle_.end();) {
    std::deque<Entry>& list = it->second;
    while (!list.empty() && now - list.front().returned >= expiry) {
      out->push_back(std::move(list.front().fd));
      list.pop_front();
      --total_;
      ++stats_.expired;
    }
    it = list.empty() ? idle_.erase(it) : std::next(it);
  }
}

void DatanodeConnectionCache::EvictOldestLocked(std::deque<transfer::UniqueFd>* out) {
  auto oldest = idle_.end();
  for (auto it = idle_.begin(); it != idle_.end(); ++it) {
    if (it->second.empty()) continue;
    if (oldest == idle_.end() || it->second.front().returned < oldest->second.front().returned) {
      oldest = it;
    }
  }
  if (oldest == idle_.end()) return;
  out->push_back(std::move(oldest->second.front().fd));
  oldest->second.pop_front();
  --total_;
  if (oldest->second.empty()) idle_.erase(oldest);
}

void DatanodeConnectionCache::ReapLoop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    // Wake when the oldest entry expires (entries are in return order per address).
    Clock::time_point next = Clock::time_point::max();
    for (const auto& [address, list] : idle_) {
      if (!list.empty()) next = std::min(next, list.front().returned);
    }
    if (next == Clock::time_point::max()) {
      cv_.wait(l);
      continue;
    }
    cv_.wait_until(l, next + std::chrono::milliseconds(options_.idle_expiry_ms));
    std::deque<transfer::UniqueFd> dropped;
    CollectExpiredLocked(Clock::now(), &dropped);
    l.unlock();
    dropped.clear();  // closes them
    l.lock();
  }
}

}  // namespace talus::client
