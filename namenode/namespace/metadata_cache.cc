#include "namenode/namespace/metadata_cache.h"

#include <functional>

namespace talus {

MetadataCache::MetadataCache(size_t capacity)
    : per_shard_capacity_(capacity / kShards > 0 ? capacity / kShards : 1) {
  for (size_t i = 0; i < kShards; ++i) shards_.push_back(std::make_unique<Shard>());
}

MetadataCache::Shard& MetadataCache::ShardOf(std::string_view key) {
  return *shards_[std::hash<std::string_view>()(key) % kShards];
}

std::optional<CachedValue> MetadataCache::Get(std::string_view key) {
  Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.map.find(key);
  if (it == shard.map.end()) {
    ++shard.misses;
    return std::nullopt;
  }
  ++shard.hits;
  shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  return it->second->second;
}

uint64_t MetadataCache::Ticket(std::string_view key) {
  Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  return shard.erase_seq;
}

void MetadataCache::Insert(std::string_view key, uint64_t ticket, CachedValue value) {
  Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  if (shard.erase_seq != ticket) return;  // a write raced our read: what we read may be stale
  auto it = shard.map.find(key);
  if (it != shard.map.end()) {
    it->second->second = std::move(value);
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
    return;
  }
  shard.lru.emplace_front(std::string(key), std::move(value));
  shard.map.emplace(shard.lru.front().first, shard.lru.begin());
  while (shard.lru.size() > per_shard_capacity_) {
    shard.map.erase(shard.lru.back().first);
    shard.lru.pop_back();
  }
}

void MetadataCache::Erase(std::string_view key) {
  Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  ++shard.erase_seq;
  auto it = shard.map.find(key);
  if (it == shard.map.end()) return;
  auto node = it->second;
  shard.map.erase(it);
  shard.lru.erase(node);
}

size_t MetadataCache::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> lock(s->mu);
    n += s->lru.size();
  }
  return n;
}

uint64_t MetadataCache::hits() const {
  uint64_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> lock(s->mu);
    n += s->hits;
  }
  return n;
}

uint64_t MetadataCache::misses() const {
  uint64_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> lock(s->mu);
    n += s->misses;
  }
  return n;
}

}  // namespace talus
