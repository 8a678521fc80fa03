#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include "common/result.h"
#include "namenode/namespace/inode.h"
#include "namenode/namespace/metadata_cache.h"

namespace talus {

struct NamespaceStoreOptions {
  // LevelDB block cache; the namespace itself is not held in RAM, only this cache.
  size_t block_cache_bytes = 64 << 20;
  size_t write_buffer_bytes = 16 << 20;
  // Owner and group of "/" when a new namespace is formatted.
  std::string root_owner = "root";
  std::string root_group = "supergroup";
  // Decoded inodes and directory entries kept in RAM (an LRU of this many records).
  size_t metadata_cache_entries = 200000;
  // The cluster id a new namespace gets ("CID-" + 32 hex digits); empty: a random one. The
  // members of a Raft group are formatted with the same id and, so that their namespaces are
  // identical from the start, with "/" dated at the epoch rather than at format time.
  std::string cluster_id;
};

// "CID-" followed by 32 lower-case hex digits.
bool IsValidClusterId(std::string_view id);

// The namespace's LevelDB database. Thread-safe: LevelDB allows concurrent reads and writes.
// Writes come only from the journal's apply thread (and Format), so they need no extra lock.
class NamespaceStore {
 public:
  // Opens `dir`, formatting a new namespace (root directory, counters) when it is empty.
  static Result<std::unique_ptr<NamespaceStore>> Open(const std::string& dir,
                                                      const NamespaceStoreOptions& options);
  ~NamespaceStore();

  // A read-only view of the whole database frozen at the moment it was taken (a LevelDB
  // snapshot): later writes are invisible through it, and taking or holding it does not block
  // writers. Since every journal batch and its applied index are one LevelDB write, a view
  // always holds the effects of exactly the entries up to the applied index it reads.
  // Must not outlive the store.
  class ReadView {
   public:
    ~ReadView();
    ReadView(const ReadView&) = delete;
    ReadView& operator=(const ReadView&) = delete;
    // nullopt when the key is absent.
    Result<std::optional<std::string>> Get(std::string_view key) const;
    // Bypasses the block cache, so a full scan does not evict the serving working set.
    std::unique_ptr<leveldb::Iterator> NewIterator() const;

   private:
    friend class NamespaceStore;
    ReadView(leveldb::DB* db, const leveldb::Snapshot* snapshot) : db_(db), snapshot_(snapshot) {}
    leveldb::DB* db_;
    const leveldb::Snapshot* snapshot_;
  };
  std::unique_ptr<ReadView> NewReadView() const;

  // nullopt when the key is absent.
  Result<std::optional<std::string>> Get(std::string_view key) const;
  std::unique_ptr<leveldb::Iterator> NewIterator() const;
  // `sync` makes this and every earlier write durable (a LevelDB log fsync). Keeps the
  // metadata cache coherent: every key the batch touches is dropped from it.
  Status Write(leveldb::WriteBatch* batch, bool sync);

  Result<std::optional<Inode>> GetInode(uint64_t id) const;
  // The same without a copy (shared with the cache): null when absent.
  Result<std::shared_ptr<const Inode>> GetInodeShared(uint64_t id) const;
  Result<std::optional<uint64_t>> Lookup(uint64_t parent_id, std::string_view name) const;
  // A counter stored under a meta key (0 when absent).
  Result<uint64_t> GetCounter(std::string_view meta_key) const;

  uint64_t applied_index() const;
  const MetadataCache& cache() const { return *metadata_cache_; }
  // "CID-" and 32 hex digits, drawn when the namespace was formatted (as HDFS's clusterID):
  // names this file system on status pages and in logs.
  const std::string& cluster_id() const { return cluster_id_; }
  // The directory the database lives in (as given to Open).
  const std::string& dir() const { return dir_; }

 private:
  NamespaceStore() = default;
  Status FormatIfEmpty(const NamespaceStoreOptions& options);
  // Reads the cluster id, drawing and storing one for a namespace formatted before ids existed.
  Status LoadClusterId();

  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<leveldb::DB> db_;
  std::unique_ptr<MetadataCache> metadata_cache_;
  std::string cluster_id_;
  std::string dir_;
};

}  // namespace talus
