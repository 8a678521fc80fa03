#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <leveldb/write_batch.h>

#include "common/result.h"
#include "namenode/namespace/inode.h"
#include "namenode/namespace/namespace_store.h"

namespace talus {

// A view of the namespace plus a private overlay of writes, so that one edit can read what it
// has written (mkdir -p creating several levels) before it commits as one LevelDB batch.
// A txn with no writes is also how readers see the namespace. A txn may be layered on a
// `base` txn (whose writes it sees, and into which it can be merged), so the journal's apply
// thread can collect a whole batch of edits into one LevelDB write while each edit can still
// fail alone. Not thread-safe; one per call.
class NamespaceTxn {
 public:
  explicit NamespaceTxn(const NamespaceStore* store, const NamespaceTxn* base = nullptr)
      : store_(store), base_(base) {}

  Result<std::optional<Inode>> GetInode(uint64_t id) const;
  // The same without a copy: null when absent.
  Result<std::shared_ptr<const Inode>> GetInodeShared(uint64_t id) const;
  Result<std::optional<uint64_t>> Lookup(uint64_t parent_id, std::string_view name) const;
  // Calls `each(name, child_id)` for the entries of `parent_id` after `start_after`, in name
  // order, until it returns false. Sees this txn's own writes.
  Status ForEachChild(uint64_t parent_id, std::string_view start_after,
                      const std::function<bool(std::string_view, uint64_t)>& each) const;
  Result<bool> HasChildren(uint64_t parent_id) const;

  void PutInode(const Inode& inode);
  void DeleteInode(uint64_t id);
  void PutDirent(uint64_t parent_id, std::string_view name, uint64_t child_id);
  void DeleteDirent(uint64_t parent_id, std::string_view name);

  Result<uint64_t> GetCounter(std::string_view meta_key) const;
  void SetCounter(std::string_view meta_key, uint64_t value);
  Status AddToCounter(std::string_view meta_key, int64_t delta);
  // Takes the next inode id from the persistent counter.
  Result<uint64_t> AllocateInodeId();

  void Put(std::string_view key, std::string value);
  void Delete(std::string_view key);
  Result<std::optional<std::string>> Get(std::string_view key) const;

  bool empty() const { return writes_.empty(); }
  // Copies every write into `batch`.
  void AppendTo(leveldb::WriteBatch* batch) const;
  // Moves every write into `into` (typically this txn's base), leaving this txn empty.
  void MergeInto(NamespaceTxn* into);
  void Clear() { writes_.clear(); }
  const NamespaceStore* store() const { return store_; }

 private:
  const NamespaceStore* store_;
  const NamespaceTxn* base_;
  // key -> new value, or nullopt for a deletion. Ordered so directory scans can merge it.
  std::map<std::string, std::optional<std::string>, std::less<>> writes_;
};

}  // namespace talus
