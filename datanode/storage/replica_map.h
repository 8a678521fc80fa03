#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "datanode/storage/replica.h"

namespace talus::datanode {

// block id -> replica. Thread-safe. Holds only the map's own lock: callers lock a replica's
// mutex after looking it up, never the other way round.
class ReplicaMap {
 public:
  std::shared_ptr<Replica> Get(uint64_t block_id) const;
  // Adds `r`; returns false (and adds nothing) if the id is already present.
  bool Insert(std::shared_ptr<Replica> r);
  // Removes the id if it maps to `r`.
  void Remove(uint64_t block_id, const Replica* r);
  size_t size() const;
  // A consistent-per-replica copy of every entry (for block reports), sorted by block id.
  std::vector<ReplicaInfo> Snapshot() const;
  std::vector<std::shared_ptr<Replica>> All() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<Replica>> map_;  // guarded by mu_
};

}  // namespace talus::datanode
