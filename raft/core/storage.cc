#include "raft/core/storage.h"

namespace talus::raft {

void MemoryStorage::Append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  Index first = entries.front().index;
  // Indices start at 1; entries_[i] holds index i + 1.
  if (first - 1 < entries_.size()) entries_.resize(first - 1);
  entries_.insert(entries_.end(), entries.begin(), entries.end());
}

}  // namespace talus::raft
