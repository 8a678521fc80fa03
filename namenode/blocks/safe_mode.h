#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "common/status.h"
#include "namenode/blocks/clock.h"

namespace talus::blocks {

struct SafeModeOptions {
  // Fraction of complete blocks that must have reported min_replication good replicas before
  // the namenode leaves startup safe mode (flag --safemode_threshold_pct; HDFS 0.999).
  double threshold = 0.999;
  // How long the threshold must stay met before leaving (flag --safemode_extension_ms;
  // HDFS 30 s), so the last reports of a restarting cluster are in before replication starts.
  int64_t extension_ms = 30'000;
  // Live datanodes required as well (flag --safemode_min_datanodes; HDFS 0).
  int32_t min_datanodes = 0;

  Status Validate() const;
};

// The namenode's safe mode: read-only, no replication or deletion scheduled. On at start
// ("startup": left by itself once the block threshold has held for the extension) or entered by
// an operator ("manual": only an operator leaves it). Thread-safe.
class SafeMode {
 public:
  // Starts ON (startup safe mode). `clock` must outlive this.
  SafeMode(SafeModeOptions options, const Clock* clock);
  SafeMode(const SafeMode&) = delete;
  SafeMode& operator=(const SafeMode&) = delete;

  // Fed periodically (the block manager's monitor) with the block map's counts; leaves startup
  // safe mode when due. Never leaves manual safe mode.
  void Update(int64_t safe_blocks, int64_t total_complete_blocks, int32_t live_datanodes);

  bool IsOn() const;
  bool IsManual() const;
  // Operator's enter: manual safe mode (stays until Leave).
  void Enter();
  // Operator's leave: off now, whatever the counts.
  void Leave();

  // HDFS-style explanation of the current state, e.g. "Safe mode is ON. The reported blocks 10
  // needs additional 2 blocks to reach the threshold 0.9990 of total blocks 12. ..." or
  // "Safe mode is OFF."
  std::string Tip() const;
  // OK when off; otherwise SafeMode("Cannot <operation>. Name node is in safe mode.\n" + Tip()).
  Status CheckWritable(std::string_view operation) const;

 private:
  std::string TipUnlocked() const;

  const SafeModeOptions options_;
  const Clock* const clock_;
  mutable std::mutex mutex_;
  bool on_ = true;
  bool manual_ = false;
  int64_t safe_blocks_ = 0;
  int64_t total_blocks_ = 0;
  int32_t live_datanodes_ = 0;
  // When the threshold was first seen met (clock ms), -1 while not met.
  int64_t threshold_met_since_ms_ = -1;
};

}  // namespace talus::blocks
