#include "namenode/namespace/namespace_store.h"

#include <algorithm>
#include <glog/logging.h>
#include <leveldb/cache.h>
#include <leveldb/filter_policy.h>
#include <leveldb/options.h>

#include <ctime>
#include <filesystem>
#include <random>

#include "namenode/namespace/inode_codec.h"
#include "namenode/namespace/keys.h"

namespace talus {

namespace {

// Version of the key layout in keys.h; bump with a migration when it changes.
constexpr uint64_t kLayoutVersion = 1;
// First id handed to a new inode; ids below are reserved.
constexpr uint64_t kFirstInodeId = 16;

Status FromLevelDb(const leveldb::Status& s, std::string_view what) {
  if (s.ok()) return Status::OK();
  if (s.IsNotFound()) return Status::NotFound(std::string(what));
  if (s.IsCorruption()) return Status::Corruption(std::string(what) + ": " + s.ToString());
  return Status::IoError(std::string(what) + ": " + s.ToString());
}

std::string EncodeCounter(uint64_t v) {
  std::string out;
  keys::AppendBigEndian64(&out, v);
  return out;
}

const leveldb::FilterPolicy* BloomFilter() {
  static const leveldb::FilterPolicy* policy = leveldb::NewBloomFilterPolicy(10);
  return policy;
}

}  // namespace

NamespaceStore::~NamespaceStore() {
  db_.reset();  // before the cache it uses
}

Result<std::unique_ptr<NamespaceStore>> NamespaceStore::Open(
    const std::string& dir, const NamespaceStoreOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create " + dir + ": " + ec.message());
  std::unique_ptr<NamespaceStore> store(new NamespaceStore());
  store->cache_.reset(leveldb::NewLRUCache(options.block_cache_bytes));
  store->metadata_cache_ = std::make_unique<MetadataCache>(options.metadata_cache_entries);
  leveldb::Options opts;
  opts.create_if_missing = true;
  opts.paranoid_checks = true;
  opts.block_cache = store->cache_.get();
  opts.write_buffer_size = options.write_buffer_bytes;
  opts.filter_policy = BloomFilter();
  opts.max_open_files = 500;
  leveldb::DB* db = nullptr;
  leveldb::Status s = leveldb::DB::Open(opts, dir, &db);
  if (!s.ok()) return FromLevelDb(s, "opening namespace database " + dir);
  store->db_.reset(db);
  store->dir_ = dir;
  if (!options.cluster_id.empty() && !IsValidClusterId(options.cluster_id)) {
    return Status::InvalidArgument("cluster id '" + options.cluster_id +
                                   "' is not CID- followed by 32 hex digits");
  }
  RETURN_NOT_OK(store->FormatIfEmpty(options));
  RETURN_NOT_OK(store->LoadClusterId());
  return store;
}

namespace {

std::string NewClusterId() {
  std::random_device random;
  std::string id = "CID-";
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) id += kHex[random() & 15];
  return id;
}

}  // namespace

bool IsValidClusterId(std::string_view id) {
  if (id.size() != 36 || !id.starts_with("CID-")) return false;
  return std::all_of(id.begin() + 4, id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Status NamespaceStore::LoadClusterId() {
  ASSIGN_OR_RETURN(std::optional<std::string> stored, Get(keys::kMetaClusterId));
  if (stored.has_value()) {
    cluster_id_ = std::move(*stored);
    return Status::OK();
  }
  const std::string id = NewClusterId();
  leveldb::WriteBatch batch;
  batch.Put(std::string(keys::kMetaClusterId), id);
  RETURN_NOT_OK(Write(&batch, /*sync=*/true));
  LOG(INFO) << "Cluster id " << id;
  cluster_id_ = id;
  return Status::OK();
}

Status NamespaceStore::FormatIfEmpty(const NamespaceStoreOptions& options) {
  ASSIGN_OR_RETURN(std::optional<std::string> layout, Get(keys::kMetaLayoutVersion));
  if (layout.has_value()) {
    if (layout->size() != 8 || keys::DecodeBigEndian64(*layout) != kLayoutVersion) {
      return Status::Corruption("namespace layout version is not " +
                                std::to_string(kLayoutVersion));
    }
    return Status::OK();
  }
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  if (!options.cluster_id.empty()) now = timespec{0, 0};
  Inode root;
  root.id = kRootInodeId;
  root.parent_id = kRootInodeId;
  root.type = InodeType::kDirectory;
  root.mode = 0755;
  root.owner = options.root_owner;
  root.group = options.root_group;
  root.mtime = root.atime = root.ctime = NsTime{now.tv_sec, static_cast<int32_t>(now.tv_nsec)};
  leveldb::WriteBatch batch;
  batch.Put(keys::InodeKey(kRootInodeId), EncodeInode(root));
  batch.Put(std::string(keys::kMetaNextInodeId), EncodeCounter(kFirstInodeId));
  batch.Put(std::string(keys::kMetaNextBlockId), EncodeCounter(1ULL << 30));
  batch.Put(std::string(keys::kMetaNextGenerationStamp), EncodeCounter(1000));
  batch.Put(std::string(keys::kMetaNumFiles), EncodeCounter(0));
  batch.Put(std::string(keys::kMetaNumDirectories), EncodeCounter(1));
  batch.Put(std::string(keys::kMetaAppliedIndex), EncodeCounter(0));
  batch.Put(std::string(keys::kMetaLayoutVersion), EncodeCounter(kLayoutVersion));
  batch.Put(std::string(keys::kMetaClusterId),
            options.cluster_id.empty() ? NewClusterId() : options.cluster_id);
  LOG(INFO) << "Formatted a new namespace; / is owned by " << root.owner << ":" << root.group;
  return Write(&batch, /*sync=*/true);
}

Result<std::optional<std::string>> NamespaceStore::Get(std::string_view key) const {
  std::string value;
  leveldb::Status s = db_->Get(leveldb::ReadOptions(), leveldb::Slice(key.data(), key.size()),
                               &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromLevelDb(s, "reading the namespace");
  return std::optional<std::string>(std::move(value));
}

std::unique_ptr<leveldb::Iterator> NamespaceStore::NewIterator() const {
  return std::unique_ptr<leveldb::Iterator>(db_->NewIterator(leveldb::ReadOptions()));
}

NamespaceStore::ReadView::~ReadView() { db_->ReleaseSnapshot(snapshot_); }

Result<std::optional<std::string>> NamespaceStore::ReadView::Get(std::string_view key) const {
  leveldb::ReadOptions opts;
  opts.snapshot = snapshot_;
  std::string value;
  leveldb::Status s = db_->Get(opts, leveldb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromLevelDb(s, "reading the namespace");
  return std::optional<std::string>(std::move(value));
}

std::unique_ptr<leveldb::Iterator> NamespaceStore::ReadView::NewIterator() const {
  leveldb::ReadOptions opts;
  opts.snapshot = snapshot_;
  opts.fill_cache = false;
  opts.verify_checksums = true;
  return std::unique_ptr<leveldb::Iterator>(db_->NewIterator(opts));
}

std::unique_ptr<NamespaceStore::ReadView> NamespaceStore::NewReadView() const {
  return std::unique_ptr<ReadView>(new ReadView(db_.get(), db_->GetSnapshot()));
}

namespace {
// Drops every key a batch touches from the metadata cache.
class CacheInvalidator : public leveldb::WriteBatch::Handler {
 public:
  explicit CacheInvalidator(MetadataCache* cache) : cache_(cache) {}
  void Put(const leveldb::Slice& key, const leveldb::Slice&) override { Erase(key); }
  void Delete(const leveldb::Slice& key) override { Erase(key); }

 private:
  void Erase(const leveldb::Slice& key) {
    if (!key.empty() && (key[0] == keys::kInodePrefix || key[0] == keys::kDirentPrefix)) {
      cache_->Erase(std::string_view(key.data(), key.size()));
    }
  }
  MetadataCache* cache_;
};
}  // namespace

Status NamespaceStore::Write(leveldb::WriteBatch* batch, bool sync) {
  leveldb::WriteOptions opts;
  opts.sync = sync;
  Status s = FromLevelDb(db_->Write(opts, batch), "writing the namespace");
  // After the write, so a reader that misses from now on reads the new value. Erase even on
  // failure: what LevelDB holds is then uncertain.
  CacheInvalidator invalidator(metadata_cache_.get());
  leveldb::Status iterated = batch->Iterate(&invalidator);
  CHECK(iterated.ok()) << "a batch we built does not parse: " << iterated.ToString();
  return s;
}

Result<std::shared_ptr<const Inode>> NamespaceStore::GetInodeShared(uint64_t id) const {
  const std::string key = keys::InodeKey(id);
  if (std::optional<CachedValue> hit = metadata_cache_->Get(key)) return hit->inode;
  const uint64_t ticket = metadata_cache_->Ticket(key);
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, Get(key));
  CachedValue value;
  if (bytes) {
    auto inode = std::make_shared<Inode>();
    RETURN_NOT_OK(DecodeInode(*bytes, inode.get()));
    value.inode = std::move(inode);
  }
  metadata_cache_->Insert(key, ticket, value);
  return value.inode;
}

Result<std::optional<Inode>> NamespaceStore::GetInode(uint64_t id) const {
  ASSIGN_OR_RETURN(std::shared_ptr<const Inode> inode, GetInodeShared(id));
  if (!inode) return std::optional<Inode>();
  return std::optional<Inode>(*inode);
}

Result<std::optional<uint64_t>> NamespaceStore::Lookup(uint64_t parent_id,
                                                        std::string_view name) const {
  const std::string key = keys::DirentKey(parent_id, name);
  if (std::optional<CachedValue> hit = metadata_cache_->Get(key)) return hit->child_id;
  const uint64_t ticket = metadata_cache_->Ticket(key);
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, Get(key));
  CachedValue value;
  if (bytes) {
    if (bytes->size() != 8) return Status::Corruption("directory entry of bad size");
    value.child_id = keys::DecodeBigEndian64(*bytes);
  }
  metadata_cache_->Insert(key, ticket, value);
  return value.child_id;
}

Result<uint64_t> NamespaceStore::GetCounter(std::string_view meta_key) const {
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, Get(meta_key));
  if (!bytes) return uint64_t{0};
  if (bytes->size() != 8) return Status::Corruption("counter " + std::string(meta_key));
  return keys::DecodeBigEndian64(*bytes);
}

uint64_t NamespaceStore::applied_index() const {
  Result<uint64_t> index = GetCounter(keys::kMetaAppliedIndex);
  CHECK(index.ok()) << index.status();
  return *index;
}

}  // namespace talus
