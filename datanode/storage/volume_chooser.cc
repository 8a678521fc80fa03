#include "datanode/storage/volume_chooser.h"

namespace talus::datanode {

Result<Volume*> RoundRobinVolumeChooser::Choose(const std::vector<Volume*>& volumes,
                                                uint64_t required_bytes) {
  if (volumes.empty()) return Status::NoSpace("no volumes configured");
  std::lock_guard<std::mutex> l(mu_);
  uint64_t best_remaining = 0;
  for (size_t tried = 0; tried < volumes.size(); ++tried) {
    size_t i = (next_ + tried) % volumes.size();
    Volume* v = volumes[i];
    if (v->failed()) continue;
    auto usage = v->Usage();
    if (!usage.ok()) continue;
    if (usage->remaining_bytes > best_remaining) best_remaining = usage->remaining_bytes;
    if (usage->remaining_bytes >= required_bytes) {
      next_ = (i + 1) % volumes.size();
      return v;
    }
  }
  return Status::NoSpace("no healthy volume has " + std::to_string(required_bytes) +
                         " bytes remaining (most is " + std::to_string(best_remaining) + ")");
}

}  // namespace talus::datanode
