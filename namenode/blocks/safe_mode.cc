#include "namenode/blocks/safe_mode.h"

#include <cmath>
#include <cstdio>

#include <glog/logging.h>

namespace talus::blocks {

Status SafeModeOptions::Validate() const {
  if (!(threshold >= 0.0 && threshold <= 1.0)) {
    return Status::InvalidArgument("safe mode threshold must lie within 0..1");
  }
  if (extension_ms < 0) return Status::InvalidArgument("safe mode extension must be >= 0");
  if (min_datanodes < 0) return Status::InvalidArgument("safe mode min datanodes must be >= 0");
  return Status::OK();
}

SafeMode::SafeMode(SafeModeOptions options, const Clock* clock)
    : options_(options), clock_(clock) {}

namespace {

// Blocks needed for the threshold: ceil(threshold × total), as HDFS rounds.
int64_t BlocksNeeded(double threshold, int64_t total) {
  return static_cast<int64_t>(std::ceil(threshold * static_cast<double>(total)));
}

}  // namespace

void SafeMode::Update(int64_t safe_blocks, int64_t total_complete_blocks,
                      int32_t live_datanodes) {
  std::lock_guard lock(mutex_);
  safe_blocks_ = safe_blocks;
  total_blocks_ = total_complete_blocks;
  live_datanodes_ = live_datanodes;
  if (!on_ || manual_) return;
  const bool met = safe_blocks >= BlocksNeeded(options_.threshold, total_complete_blocks) &&
                   live_datanodes >= options_.min_datanodes;
  const int64_t now = clock_->NowMs();
  if (!met) {
    threshold_met_since_ms_ = -1;
    return;
  }
  if (threshold_met_since_ms_ < 0) {
    threshold_met_since_ms_ = now;
    LOG(INFO) << "safe mode threshold reached (" << safe_blocks << " of "
              << total_complete_blocks << " blocks); leaving in " << options_.extension_ms
              << " ms";
  }
  // An empty namespace has nothing to wait for (as HDFS: no extension without blocks).
  if (total_complete_blocks == 0 || now - threshold_met_since_ms_ >= options_.extension_ms) {
    on_ = false;
    LOG(INFO) << "leaving safe mode: " << safe_blocks << " of " << total_complete_blocks
              << " blocks reported, " << live_datanodes << " live datanodes";
  }
}

bool SafeMode::IsOn() const {
  std::lock_guard lock(mutex_);
  return on_;
}

bool SafeMode::IsManual() const {
  std::lock_guard lock(mutex_);
  return on_ && manual_;
}

void SafeMode::Enter() {
  std::lock_guard lock(mutex_);
  on_ = true;
  manual_ = true;
  LOG(INFO) << "safe mode entered by an operator";
}

void SafeMode::Leave() {
  std::lock_guard lock(mutex_);
  if (on_) LOG(INFO) << "safe mode left by an operator";
  on_ = false;
  manual_ = false;
  threshold_met_since_ms_ = -1;
}

std::string SafeMode::Tip() const {
  std::lock_guard lock(mutex_);
  return TipUnlocked();
}

std::string SafeMode::TipUnlocked() const {
  if (!on_) return "Safe mode is OFF.";
  if (manual_) {
    return "Safe mode is ON. It was turned on manually. Use \"talus dfsadmin -safemode leave\" "
           "to turn safe mode off.";
  }
  char threshold[32];
  std::snprintf(threshold, sizeof(threshold), "%.4f", options_.threshold);
  std::string tip = "Safe mode is ON. ";
  const int64_t needed = BlocksNeeded(options_.threshold, total_blocks_);
  if (safe_blocks_ < needed) {
    tip += "The reported blocks " + std::to_string(safe_blocks_) + " needs additional " +
           std::to_string(needed - safe_blocks_) + " blocks to reach the threshold " +
           threshold + " of total blocks " + std::to_string(total_blocks_) + ".";
  } else {
    tip += "The reported blocks " + std::to_string(safe_blocks_) +
           " has reached the threshold " + threshold + " of total blocks " +
           std::to_string(total_blocks_) + ".";
  }
  if (live_datanodes_ < options_.min_datanodes) {
    tip += " The number of live datanodes " + std::to_string(live_datanodes_) +
           " needs an additional " + std::to_string(options_.min_datanodes - live_datanodes_) +
           " live datanodes to reach the minimum number " +
           std::to_string(options_.min_datanodes) + ".";
  }
  if (threshold_met_since_ms_ >= 0) {
    const int64_t left = options_.extension_ms - (clock_->NowMs() - threshold_met_since_ms_);
    tip += " Safe mode will be turned off automatically in " +
           std::to_string(std::max<int64_t>(0, left) / 1000) + " seconds.";
  } else {
    tip += " Safe mode will be turned off automatically once the thresholds have been reached.";
  }
  return tip;
}

Status SafeMode::CheckWritable(std::string_view operation) const {
  std::lock_guard lock(mutex_);
  if (!on_) return Status::OK();
  return Status::SafeMode("Cannot " + std::string(operation) +
                          ". Name node is in safe mode.\n" + TipUnlocked());
}

}  // namespace talus::blocks
