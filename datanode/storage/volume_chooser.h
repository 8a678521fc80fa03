#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "common/result.h"
#include "datanode/storage/volume.h"

namespace talus::datanode {

// Picks the volume for a new replica: round robin over the healthy volumes that have at least
// the requested bytes remaining. Thread-safe.
class RoundRobinVolumeChooser {
 public:
  // Returns kNoSpace when no healthy volume has `required_bytes` remaining. Reserves
  // `reserve_bytes` on the volume chosen (Volume::Reserve) before another caller can choose.
  Result<Volume*> Choose(const std::vector<Volume*>& volumes, uint64_t required_bytes,
                         uint64_t reserve_bytes = 0);

 private:
  std::mutex mu_;
  size_t next_ = 0;  // guarded by mu_
};

}  // namespace talus::datanode
