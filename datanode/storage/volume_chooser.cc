#include "datanode/storage/volume_chooser.h"

namespace talus::datanode {

Result<Volume*> RoundRobinVolumeChooser::Choose(const std::vector<Volume*>& volumes,
                                                uint64_t required_bytes,
                                                uint64_t reserve_bytes) {
  if (volumes.empty()) return Status::NoSpace("no volumes configured");
  std::lock_guard<std::mutex> l(mu_);
  uint64_t best_remaining = 0;
  std::string best_root;
  size_t healthy = 0;
  for (size_t tried = 0; tried < volumes.size(); ++tried) {
    size_t i = (next_ + tried) % volumes.size();
    Volume* v = volumes[i];
    if (v->failed()) continue;
    auto usage = v->Usage();
    if (!usage.ok()) continue;
    ++healthy;
    if (best_root.empty() || usage->remaining_bytes > best_remaining) {
      best_remaining = usage->remaining_bytes;
      best_root = v->root();
    }
    if (usage->remaining_bytes >= required_bytes) {
      next_ = (i + 1) % volumes.size();
      if (reserve_bytes > 0) v->Reserve(reserve_bytes);
      return v;
    }
  }
  if (healthy == 0) return Status::NoSpace("no healthy volume left");
  return Status::NoSpace("no volume has " + std::to_string(required_bytes) +
                         " bytes remaining beyond its reserve (the most is " +
                         std::to_string(best_remaining) + " on " + best_root + ")");
}

}  // namespace talus::datanode
