#include "datanode/storage/replica_map.h"

#include <algorithm>

namespace talus::datanode {

const char* ReplicaStateName(ReplicaState s) {
  switch (s) {
    case ReplicaState::kFinalized: return "FINALIZED";
    case ReplicaState::kRbw: return "RBW";
    case ReplicaState::kRwr: return "RWR";
  }
  return "UNKNOWN";
}

std::shared_ptr<Replica> ReplicaMap::Get(uint64_t block_id) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = map_.find(block_id);
  return it == map_.end() ? nullptr : it->second;
}

bool ReplicaMap::Insert(std::shared_ptr<Replica> r) {
  std::lock_guard<std::mutex> l(mu_);
  return map_.emplace(r->block_id, std::move(r)).second;
}

void ReplicaMap::Remove(uint64_t block_id, const Replica* r) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = map_.find(block_id);
  if (it != map_.end() && it->second.get() == r) map_.erase(it);
}

size_t ReplicaMap::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return map_.size();
}

std::vector<std::shared_ptr<Replica>> ReplicaMap::All() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::shared_ptr<Replica>> out;
  out.reserve(map_.size());
  for (const auto& [id, r] : map_) out.push_back(r);
  return out;
}

std::vector<ReplicaInfo> ReplicaMap::Snapshot() const {
  std::vector<ReplicaInfo> out;
  for (const auto& r : All()) {
    std::shared_lock<std::shared_mutex> l(r->mu);
    if (!r->deleted) out.push_back(r->info);
  }
  std::sort(out.begin(), out.end(),
            [](const ReplicaInfo& a, const ReplicaInfo& b) { return a.block_id < b.block_id; });
  return out;
}

}  // namespace talus::datanode
