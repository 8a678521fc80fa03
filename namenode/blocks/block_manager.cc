#include "namenode/blocks/block_manager.h"

#include <chrono>

#include <glog/logging.h>

namespace talus::blocks {

Status BlockManagerOptions::Validate() const {
  if (monitor_interval_ms <= 0) return Status::InvalidArgument("monitor interval must be > 0");
  if (pending_replication_timeout_ms <= 0) {
    return Status::InvalidArgument("replication timeout must be > 0");
  }
  if (max_replication_streams < 1 ||
      max_replication_streams_hard_limit < max_replication_streams) {
    return Status::InvalidArgument(
        "max replication streams must be >= 1 and at most the hard limit");
  }
  return Status::OK();
}

BlockManager::BlockManager(BlockManagerOptions options, BlockMap* block_map,
                           DatanodeManager* datanodes, PlacementPolicy* placement,
                           SafeMode* safe_mode, const Clock* clock)
    : options_(options),
      block_map_(block_map),
      datanodes_(datanodes),
      placement_(placement),
      safe_mode_(safe_mode),
      clock_(clock) {}

BlockManager::~BlockManager() { Stop(); }

void BlockManager::Start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void BlockManager::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BlockManager::Loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    RunOnce();
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds(options_.monitor_interval_ms),
                   [this] { return stopping_; });
  }
}

// First version: dead nodes and safe mode only; replication work comes with the monitor proper.
void BlockManager::RunOnce() {
  block_map_->HandleDeadDatanodes();
  const BlockMapStats stats = block_map_->Stats();
  safe_mode_->Update(stats.safe_blocks, stats.complete_blocks,
                     static_cast<int32_t>(datanodes_->ListLiveNodes().size()));
  std::lock_guard lock(mutex_);
  stats_.under_replicated = stats.under_replicated;
}

ReplicationStats BlockManager::Stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace talus::blocks
