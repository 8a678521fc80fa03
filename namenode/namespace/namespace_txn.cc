#include "namenode/namespace/namespace_txn.h"

#include <vector>

#include "namenode/namespace/inode_codec.h"
#include "namenode/namespace/keys.h"

namespace talus {

Result<std::optional<std::string>> NamespaceTxn::Get(std::string_view key) const {
  auto it = writes_.find(key);
  if (it != writes_.end()) return it->second;
  if (base_ != nullptr) return base_->Get(key);
  return store_->Get(key);
}

void NamespaceTxn::Put(std::string_view key, std::string value) {
  writes_.insert_or_assign(std::string(key), std::optional<std::string>(std::move(value)));
}

void NamespaceTxn::Delete(std::string_view key) {
  writes_.insert_or_assign(std::string(key), std::optional<std::string>());
}

Result<std::shared_ptr<const Inode>> NamespaceTxn::GetInodeShared(uint64_t id) const {
  const std::string key = keys::InodeKey(id);
  auto written = writes_.find(key);
  if (written == writes_.end()) {
    return base_ != nullptr ? base_->GetInodeShared(id) : store_->GetInodeShared(id);
  }
  if (!written->second) return std::shared_ptr<const Inode>();
  auto inode = std::make_shared<Inode>();
  RETURN_NOT_OK(DecodeInode(*written->second, inode.get()));
  return std::shared_ptr<const Inode>(std::move(inode));
}

Result<std::optional<Inode>> NamespaceTxn::GetInode(uint64_t id) const {
  const std::string key = keys::InodeKey(id);
  auto written = writes_.find(key);
  if (written == writes_.end()) {
    return base_ != nullptr ? base_->GetInode(id) : store_->GetInode(id);  // cached
  }
  const std::optional<std::string>& bytes = written->second;
  if (!bytes) return std::optional<Inode>();
  Inode inode;
  RETURN_NOT_OK(DecodeInode(*bytes, &inode));
  return std::optional<Inode>(std::move(inode));
}

Result<std::optional<uint64_t>> NamespaceTxn::Lookup(uint64_t parent_id,
                                                      std::string_view name) const {
  const std::string key = keys::DirentKey(parent_id, name);
  auto written = writes_.find(key);
  if (written == writes_.end()) {
    return base_ != nullptr ? base_->Lookup(parent_id, name)
                            : store_->Lookup(parent_id, name);  // cached
  }
  const std::optional<std::string>& bytes = written->second;
  if (!bytes) return std::optional<uint64_t>();
  if (bytes->size() != 8) return Status::Corruption("directory entry of bad size");
  return std::optional<uint64_t>(keys::DecodeBigEndian64(*bytes));
}

Status NamespaceTxn::ForEachChild(
    uint64_t parent_id, std::string_view start_after,
    const std::function<bool(std::string_view, uint64_t)>& each) const {
  const std::string prefix = keys::DirentPrefix(parent_id);
  const std::string start = prefix + std::string(start_after);
  auto in_prefix = [&](std::string_view key) {
    return key.size() >= prefix.size() && key.substr(0, prefix.size()) == prefix;
  };
  // A merge of the store's entries with the overlay of every txn in the chain; on equal keys
  // the innermost txn (this one) wins, and a deletion hides the entry.
  using Overlay = std::map<std::string, std::optional<std::string>, std::less<>>;
  struct Cursor {
    Overlay::const_iterator it;
    Overlay::const_iterator end;
  };
  std::vector<Cursor> overlays;  // innermost first
  for (const NamespaceTxn* t = this; t != nullptr; t = t->base_) {
    overlays.push_back({t->writes_.lower_bound(start), t->writes_.end()});
  }
  std::unique_ptr<leveldb::Iterator> it = store_->NewIterator();
  it->Seek(leveldb::Slice(start));
  while (true) {
    std::optional<std::string_view> key;
    if (it->Valid() && in_prefix(std::string_view(it->key().data(), it->key().size()))) {
      key = std::string_view(it->key().data(), it->key().size());
    }
    for (const Cursor& c : overlays) {
      if (c.it != c.end && in_prefix(c.it->first) && (!key || c.it->first < *key)) {
        key = c.it->first;
      }
    }
    if (!key) break;
    const std::string current(*key);
    std::optional<std::string> value;
    bool decided = false;
    for (Cursor& c : overlays) {
      if (c.it != c.end && c.it->first == current) {
        if (!decided) {
          value = c.it->second;
          decided = true;
        }
        ++c.it;
      }
    }
    if (it->Valid() && std::string_view(it->key().data(), it->key().size()) == current) {
      if (!decided) value = it->value().ToString();
      it->Next();
    }
    if (current == start) continue;  // strictly after start_after
    if (!value) continue;            // deleted in a txn
    if (value->size() != 8) return Status::Corruption("directory entry of bad size");
    if (!each(std::string_view(current).substr(prefix.size()), keys::DecodeBigEndian64(*value))) {
      break;
    }
  }
  if (!it->status().ok()) return Status::IoError("scanning a directory: " + it->status().ToString());
  return Status::OK();
}

Result<bool> NamespaceTxn::HasChildren(uint64_t parent_id) const {
  bool any = false;
  RETURN_NOT_OK(ForEachChild(parent_id, "", [&](std::string_view, uint64_t) {
    any = true;
    return false;
  }));
  return any;
}

void NamespaceTxn::PutInode(const Inode& inode) { Put(keys::InodeKey(inode.id), EncodeInode(inode)); }
void NamespaceTxn::DeleteInode(uint64_t id) { Delete(keys::InodeKey(id)); }

void NamespaceTxn::PutDirent(uint64_t parent_id, std::string_view name, uint64_t child_id) {
  std::string value;
  keys::AppendBigEndian64(&value, child_id);
  Put(keys::DirentKey(parent_id, name), std::move(value));
}

void NamespaceTxn::DeleteDirent(uint64_t parent_id, std::string_view name) {
  Delete(keys::DirentKey(parent_id, name));
}

Result<uint64_t> NamespaceTxn::GetCounter(std::string_view meta_key) const {
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, Get(meta_key));
  if (!bytes) return uint64_t{0};
  if (bytes->size() != 8) return Status::Corruption("counter " + std::string(meta_key));
  return keys::DecodeBigEndian64(*bytes);
}

void NamespaceTxn::SetCounter(std::string_view meta_key, uint64_t value) {
  std::string bytes;
  keys::AppendBigEndian64(&bytes, value);
  Put(meta_key, std::move(bytes));
}

Status NamespaceTxn::AddToCounter(std::string_view meta_key, int64_t delta) {
  ASSIGN_OR_RETURN(uint64_t value, GetCounter(meta_key));
  SetCounter(meta_key, static_cast<uint64_t>(static_cast<int64_t>(value) + delta));
  return Status::OK();
}

Result<uint64_t> NamespaceTxn::AllocateInodeId() {
  ASSIGN_OR_RETURN(uint64_t id, GetCounter(keys::kMetaNextInodeId));
  if (id == 0) return Status::Corruption("inode id counter missing");
  SetCounter(keys::kMetaNextInodeId, id + 1);
  return id;
}

void NamespaceTxn::MergeInto(NamespaceTxn* into) {
  for (auto& [key, value] : writes_) into->writes_.insert_or_assign(key, std::move(value));
  writes_.clear();
}

void NamespaceTxn::AppendTo(leveldb::WriteBatch* batch) const {
  for (const auto& [key, value] : writes_) {
    if (value) {
      batch->Put(key, *value);
    } else {
      batch->Delete(key);
    }
  }
}

}  // namespace talus
