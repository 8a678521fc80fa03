#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "namenode/namespace/inode.h"

namespace talus {

// What a namespace key last held: a decoded inode, a directory entry's child id, or nothing.
struct CachedValue {
  std::shared_ptr<const Inode> inode;  // for inode keys; null when absent
  std::optional<uint64_t> child_id;    // for directory entry keys; nullopt when absent
};

// A bounded LRU cache of decoded namespace records (positive and negative), keyed by their
// LevelDB key. The namespace is not held in RAM: this keeps only the hot part, so that path
// resolution (a lookup and an inode per component, twice per mutation) rarely reaches LevelDB.
//
// Coherence: every write to the store erases the keys it touches (NamespaceStore::Write) after
// LevelDB has them. A reader that missed reads LevelDB and then inserts only if no erase hit
// its shard in between (Ticket), so a slow reader can never plant a stale value.
class MetadataCache {
 public:
  explicit MetadataCache(size_t capacity);

  // Returns the cached value, or nullopt on a miss (then read the store with a Ticket).
  std::optional<CachedValue> Get(std::string_view key);

  // Taken before reading the store after a miss; Insert is ignored if the shard saw an erase
  // since.
  uint64_t Ticket(std::string_view key);
  void Insert(std::string_view key, uint64_t ticket, CachedValue value);

  void Erase(std::string_view key);

  size_t size() const;
  uint64_t hits() const;
  uint64_t misses() const;

 private:
  struct Shard {
    std::mutex mu;
    using Lru = std::list<std::pair<std::string, CachedValue>>;
    Lru lru;  // front = most recently used
    std::unordered_map<std::string_view, Lru::iterator> map;
    uint64_t erase_seq = 0;
    uint64_t hits = 0;
    uint64_t misses = 0;
  };
  Shard& ShardOf(std::string_view key);

  static constexpr size_t kShards = 16;
  const size_t per_shard_capacity_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace talus
