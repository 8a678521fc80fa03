#include "raft/core/storage.h"

#include <algorithm>

namespace talus::raft {

void MemoryStorage::Append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  Index first = entries.front().index;
  // entries_[i] holds index snapshot_.index + 1 + i.
  Index keep = first - 1 - snapshot_.index;
  if (keep < entries_.size()) entries_.resize(keep);
  entries_.insert(entries_.end(), entries.begin(), entries.end());
}

void MemoryStorage::Compact(const SnapshotMeta& meta) {
  if (meta.index <= snapshot_.index) return;
  size_t drop = std::min<size_t>(meta.index - snapshot_.index, entries_.size());
  entries_.erase(entries_.begin(), entries_.begin() + drop);
  snapshot_ = meta;
}

void MemoryStorage::ResetToSnapshot(const SnapshotMeta& meta) {
  entries_.clear();
  snapshot_ = meta;
}

}  // namespace talus::raft
