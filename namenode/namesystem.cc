#include "namenode/namesystem.h"

#include <glog/logging.h>

#include <ctime>
#include <future>

#include "common/path.h"
#include "namenode/namespace/inode_codec.h"
#include "common/thrift_codec.h"
#include "namenode/namespace/keys.h"
#include "namenode/namespace/namespace_snapshot.h"
#include "namenode/namespace/namespace_txn.h"
#include "namenode/namespace/reserved_path.h"
#include "namenode/namespace/resolver.h"
#include "namenode/ops/edit_codec.h"
#include "namenode/ops/op_context.h"
#include "talus_rpc/edits_types.h"

namespace talus {

namespace {

NsTime Now() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return NsTime{ts.tv_sec, static_cast<int32_t>(ts.tv_nsec)};
}

// How many expired retry entries one apply may remove, so no single batch grows unbounded.
constexpr int kMaxRetryExpiriesPerApply = 4096;
constexpr uint64_t kRetryExpiryEveryApplies = 1024;
constexpr size_t kMaxTrackedClients = 100000;

// An op as it is applied: with its inode paths ("/.reserved/.inodes/...") rewritten to the real
// paths they name in ctx.txn at this point of the journal (the journal keeps them as sent).
struct RealOp {
  const EditOp* op = nullptr;
  std::optional<EditOp> rewritten;
};

Status ToRealOp(const NamespaceTxn& txn, const EditOp& op, RealOp* out) {
  out->op = &op;
  if (!HasReservedPath(op)) return Status::OK();
  out->rewritten = op;
  RETURN_NOT_OK(CanonicalizeOpPaths(txn, &*out->rewritten));
  out->op = &*out->rewritten;
  return Status::OK();
}

Result<OpOutcome> ApplyRealOp(OpContext& ctx, const EditOp& op, RealOp* real) {
  RETURN_NOT_OK(ToRealOp(ctx.txn, op, real));
  return ApplyEditOp(ctx, *real->op);
}

}  // namespace

Namesystem::Namesystem(NamespaceStore* store, NamesystemOptions options)
    : store_(store), options_(options) {
  applied_index_.store(store_->applied_index());
}

Result<std::optional<Namesystem::RetryAnswer>> Namesystem::LookupRetryCache(
    const std::string& client_id, int64_t call_id, const NamespaceTxn* txn) const {
  if (client_id.empty() || !MayBeInRetryCache(client_id, call_id)) {
    return std::optional<RetryAnswer>();
  }
  const std::string key = keys::RetryKey(client_id, call_id);
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, txn ? txn->Get(key) : store_->Get(key));
  if (!bytes) return std::optional<RetryAnswer>();
  rpc::RetryRecord record;
  RETURN_NOT_OK(ThriftDecode(*bytes, &record, "retry cache record"));
  RetryAnswer answer;
  if (record.code != 0) answer.status = Status(ErrorCodeFromInt(record.code), record.message);
  answer.value = record.value;
  return std::optional<RetryAnswer>(std::move(answer));
}

void Namesystem::MutateAsync(Edit edit, MutateCallback done) {
  if (journal_ == nullptr) {
    done(Status::Unavailable("no journal"));
    return;
  }
  if (!journal_->IsLeader()) {
    Status serving = journal_->CheckServing();
    done(serving.code() == ErrorCode::kNotLeader
             ? serving
             : Status::NotLeader("this namenode is not the leader", ""));
    return;
  }
  if (edit.client_id.size() != 16 && !edit.client_id.empty()) {
    done(Status::InvalidArgument("client id must be 16 bytes"));
    return;
  }
  Result<std::optional<RetryAnswer>> cached = LookupRetryCache(edit.client_id, edit.call_id);
  if (!cached.ok()) {
    done(cached.status());
    return;
  }
  if (cached.value()) {
    if (!cached.value()->status.ok()) {
      done(cached.value()->status);
    } else {
      done(cached.value()->value);
    }
    return;
  }
  edit.time = Now();
  // Dry run against the current state: rejects bad requests without journaling them and
  // skips the journal for requests that would change nothing.
  {
    NamespaceTxn txn(store_);
    OpContext ctx{txn, edit.caller, edit.time};
    RealOp real;
    Result<OpOutcome> outcome = ApplyRealOp(ctx, edit.op, &real);
    if (!outcome.ok()) {
      // A retry whose original was applied after our first look (it was still in the
      // journal then) fails its dry run; it must get the original's answer instead.
      Result<std::optional<RetryAnswer>> late = LookupRetryCache(edit.client_id, edit.call_id);
      if (late.ok() && late.value()) {
        if (!late.value()->status.ok()) {
          done(late.value()->status);
        } else {
          done(late.value()->value);
        }
        return;
      }
      done(outcome.status());
      return;
    }
    if (!outcome->changed) {
      done(outcome->value);
      return;
    }
  }
  // The callback is shared between Append's failure path and the journal's completion, and
  // runs in exactly one of them.
  auto shared_done = std::make_shared<MutateCallback>(std::move(done));
  Result<LogPosition> appended = journal_->Append(
      EncodeEdit(edit), [shared_done](const Status& status, const ApplyResult& result) {
        if (!status.ok()) {
          (*shared_done)(status);
        } else if (!result.status.ok()) {
          (*shared_done)(result.status);
        } else {
          (*shared_done)(result.value);
        }
      });
  if (!appended.ok()) (*shared_done)(appended.status());
}

bool Namesystem::MayBeInRetryCache(const std::string& client_id, int64_t call_id) const {
  std::lock_guard<std::mutex> lock(retry_max_mu_);
  auto it = retry_max_call_id_.find(client_id);
  return it == retry_max_call_id_.end() || call_id <= it->second;
}

void Namesystem::NoteRetryRecord(const std::string& client_id, int64_t call_id) {
  std::lock_guard<std::mutex> lock(retry_max_mu_);
  auto it = retry_max_call_id_.find(client_id);
  if (it != retry_max_call_id_.end()) {
    it->second = std::max(it->second, call_id);
    return;
  }
  // Bounded: forgetting a client only costs its calls the LevelDB lookup.
  if (retry_max_call_id_.size() >= kMaxTrackedClients) retry_max_call_id_.clear();
  retry_max_call_id_.emplace(client_id, call_id);
}

Result<int64_t> Namesystem::Mutate(Edit edit) {
  std::promise<Result<int64_t>> promise;
  std::future<Result<int64_t>> future = promise.get_future();
  MutateAsync(std::move(edit), [&promise](Result<int64_t> result) {
    promise.set_value(std::move(result));
  });
  return future.get();
}

ApplyResult Namesystem::Apply(const LogPosition& pos, std::string_view entry) {
  Edit edit;
  Status decoded = DecodeEdit(entry, &edit);
  // A journal entry we cannot decode passed its CRC, so it is a bug or a version we do not
  // know: applying later entries on top of a skipped one would fork the namespace.
  CHECK(decoded.ok()) << "journal entry " << pos.index << ": " << decoded;
  if (!pending_) pending_ = std::make_unique<NamespaceTxn>(store_);

  ApplyResult result;
  Result<std::optional<RetryAnswer>> cached =
      LookupRetryCache(edit.client_id, edit.call_id, pending_.get());
  CHECK(cached.ok()) << cached.status();
  if (cached.value()) {
    // The same call was journaled twice (a retry raced the original): answer, change nothing.
    result.status = cached.value()->status;
    result.value = cached.value()->value;
  } else {
    // The op writes into its own layer so that a failure leaves the batch untouched.
    NamespaceTxn txn(store_, pending_.get());
    std::vector<uint64_t> removed_files;
    std::vector<int64_t> removed_blocks;
    OpContext ctx{txn, edit.caller, edit.time, &removed_files, &removed_blocks};
    RealOp real;
    Result<OpOutcome> outcome = ApplyRealOp(ctx, edit.op, &real);
    if (outcome.ok()) {
      const EditOp& op = *real.op;
      result.value = outcome->value;
      txn.MergeInto(pending_.get());
      if (block_map_ != nullptr) UpdateBlockMap(op, result, removed_files, removed_blocks);
      if (leases_ != nullptr) {
        if (const auto* create = std::get_if<CreateOp>(&op)) {
          leases_->Add(create->client_name, static_cast<uint64_t>(result.value));
        } else if (const auto* complete = std::get_if<CompleteOp>(&op)) {
          leases_->Remove(complete->client_name, static_cast<uint64_t>(result.value));
        } else if (const auto* append = std::get_if<AppendOp>(&op)) {
          if (std::shared_ptr<const Inode> file = FileAt(append->path)) {
            leases_->Add(append->client_name, file->id);
          }
        } else if (const auto* overwrite = std::get_if<OpenForOverwriteOp>(&op)) {
          leases_->Add(overwrite->client_name, static_cast<uint64_t>(result.value));
        } else if (const auto* commit = std::get_if<CommitBlocksOp>(&op)) {
          if (commit->release) {
            leases_->Remove(commit->client_name, static_cast<uint64_t>(result.value));
          }
        } else if (const auto* recover = std::get_if<RecoverBlockOp>(&op)) {
          leases_->Remove(recover->client_name, recover->file_id);
          leases_->Add(recover->recovery_holder, recover->file_id);
        }
      }
    } else {
      result.status = outcome.status();
    }
    if (!edit.client_id.empty()) {
      rpc::RetryRecord record;
      record.code = static_cast<int32_t>(result.status.code());
      record.message = result.status.message();
      record.value = result.value;
      record.journal_index = static_cast<int64_t>(pos.index);
      record.time_sec = edit.time.sec;
      pending_->Put(keys::RetryKey(edit.client_id, edit.call_id), ThriftEncode(record));
      NoteRetryRecord(edit.client_id, edit.call_id);
      std::string expiry_value;
      keys::AppendBigEndian64(&expiry_value, static_cast<uint64_t>(edit.time.sec));
      pending_->Put(keys::RetryExpiryKey(pos.index, edit.client_id, edit.call_id),
                    expiry_value);
    }
  }
  // Every member of a Raft group expires at the same log indexes (a per-process counter would
  // restart at 0 after a restart and drift apart).
  if (pos.index % kRetryExpiryEveryApplies == 0) {
    ExpireRetryEntries(pending_.get(), edit.time.sec);
  }
  pending_index_ = pos.index;
  VLOG(2) << "applied " << pos.index << " " << OpName(edit.op) << ": " << result.status;
  return result;
}

void Namesystem::FinishBatch() {
  if (!pending_ || pending_index_ == 0) return;
  pending_->SetCounter(keys::kMetaAppliedIndex, pending_index_);
  leveldb::WriteBatch batch;
  pending_->AppendTo(&batch);
  // Not synced: the journal is the durable copy, and replay from the applied index written in
  // this same batch is idempotent.
  Status written = store_->Write(&batch, /*sync=*/false);
  CHECK(written.ok()) << "cannot apply journal entries up to " << pending_index_ << ": "
                      << written;
  applied_index_.store(pending_index_);
  pending_->Clear();
  pending_index_ = 0;
}

void Namesystem::ExpireRetryEntries(NamespaceTxn* txn, int64_t now_sec) {
  const int64_t cutoff = now_sec - options_.retry_cache_expiry_sec;
  std::unique_ptr<leveldb::Iterator> it = store_->NewIterator();
  const std::string prefix(1, keys::kRetryExpiryPrefix);
  int removed = 0;
  for (it->Seek(prefix); it->Valid() && removed < kMaxRetryExpiriesPerApply; it->Next()) {
    leveldb::Slice key = it->key();
    if (key.size() < 1 + 8 + 16 + 8 || key[0] != keys::kRetryExpiryPrefix) break;
    if (it->value().size() != 8) break;
    int64_t time_sec = static_cast<int64_t>(
        keys::DecodeBigEndian64(std::string_view(it->value().data(), 8)));
    if (time_sec > cutoff) break;  // entries are in journal order, so roughly in time order
    std::string_view client_id(key.data() + 9, 16);
    int64_t call_id = static_cast<int64_t>(
        keys::DecodeBigEndian64(std::string_view(key.data() + 25, 8)));
    txn->Delete(keys::RetryKey(client_id, call_id));
    txn->Delete(std::string_view(key.data(), key.size()));
    ++removed;
  }
}

Result<uint64_t> Namesystem::Checkpoint() {
  // A synced write makes every earlier unsynced batch durable with it.
  leveldb::WriteBatch empty;
  uint64_t index = applied_index_.load();
  RETURN_NOT_OK(store_->Write(&empty, /*sync=*/true));
  return index;
}

Result<uint64_t> Namesystem::WriteSnapshot(const std::string& path) {
  return WriteNamespaceSnapshot(*store_, path);
}

Status Namesystem::StageSnapshot(const std::string& path, uint64_t index, uint64_t term) {
  return StageNamespaceSnapshot(path, store_->dir(), index, term);
}

Result<Inode> Namesystem::GetFileInfo(const Caller& caller, const std::string& path) const {
  NamespaceTxn txn(store_);
  ASSIGN_OR_RETURN(ResolvedPath resolved, ResolvePath(txn, path, caller));
  if (!resolved.Exists()) return Status::NotFound("File does not exist: " + path);
  return resolved.Target();
}

Result<Inode> Namesystem::GetInode(uint64_t id) const {
  ASSIGN_OR_RETURN(std::optional<Inode> inode, store_->GetInode(id));
  if (!inode) return Status::NotFound("inode " + std::to_string(id) + " does not exist");
  return std::move(*inode);
}

Result<Listing> Namesystem::GetListing(const Caller& caller, const std::string& path,
                                       const std::string& start_after, int32_t limit) const {
  NamespaceTxn txn(store_);
  ASSIGN_OR_RETURN(ResolvedPath resolved, ResolvePath(txn, path, caller));
  if (!resolved.Exists()) return Status::NotFound("File " + path + " does not exist.");
  Listing listing;
  const Inode& target = resolved.Target();
  if (!target.IsDirectory()) {
    listing.entries.push_back(target);
    return listing;
  }
  RETURN_NOT_OK(CheckAccess(caller, target, kAccessRead | kAccessExecute, resolved.path));
  if (limit <= 0 || limit > options_.max_listing_entries) limit = options_.max_listing_entries;
  std::vector<uint64_t> ids;
  RETURN_NOT_OK(txn.ForEachChild(target.id, start_after, [&](std::string_view, uint64_t id) {
    if (static_cast<int32_t>(ids.size()) == limit) {
      listing.has_more = true;
      return false;
    }
    ids.push_back(id);
    return true;
  }));
  listing.entries.reserve(ids.size());
  for (uint64_t id : ids) {
    ASSIGN_OR_RETURN(std::optional<Inode> child, txn.GetInode(id));
    if (!child) return Status::Corruption("directory entry names missing inode " + std::to_string(id));
    listing.entries.push_back(std::move(*child));
  }
  return listing;
}

Result<NamespaceSummary> Namesystem::GetContentSummary(const Caller& caller,
                                                       const std::string& path) const {
  NamespaceTxn txn(store_);
  ASSIGN_OR_RETURN(ResolvedPath resolved, ResolvePath(txn, path, caller));
  if (!resolved.Exists()) return Status::NotFound("File does not exist: " + path);
  NamespaceSummary summary;
  std::vector<std::pair<Inode, std::string>> stack;
  stack.emplace_back(resolved.Target(), resolved.path);
  while (!stack.empty()) {
    auto [inode, inode_path] = std::move(stack.back());
    stack.pop_back();
    if (!inode.IsDirectory()) {
      ++summary.file_count;
      if (!inode.IsFile()) continue;  // a symlink's length is its target's, not data
      summary.length += inode.length;
      summary.space_consumed += inode.length * inode.replication;
      continue;
    }
    ++summary.directory_count;
    RETURN_NOT_OK(CheckAccess(caller, inode, kAccessRead | kAccessExecute, inode_path));
    std::vector<std::pair<std::string, uint64_t>> children;
    RETURN_NOT_OK(txn.ForEachChild(inode.id, "", [&](std::string_view name, uint64_t id) {
      children.emplace_back(std::string(name), id);
      return true;
    }));
    for (auto& [name, id] : children) {
      ASSIGN_OR_RETURN(std::optional<Inode> child, txn.GetInode(id));
      if (!child) continue;  // removed since the scan: a summary is not a snapshot
      std::string child_path = inode_path == "/" ? "/" + name : inode_path + "/" + name;
      stack.emplace_back(std::move(*child), std::move(child_path));
    }
  }
  return summary;
}

Result<std::string> Namesystem::PathOf(uint64_t id) const {
  std::vector<std::string> names;
  uint64_t current = id;
  // Bounded by the deepest possible path: a cycle would be corruption, not a long walk.
  for (size_t depth = 0; current != kRootInodeId; ++depth) {
    if (depth > kMaxNamespacePathBytes / 2) {
      return Status::Corruption("inode parent chain too long");
    }
    ASSIGN_OR_RETURN(std::shared_ptr<const Inode> inode, store_->GetInodeShared(current));
    if (!inode) return Status::NotFound("inode " + std::to_string(current) + " does not exist");
    names.push_back(inode->name);
    current = inode->parent_id;
  }
  std::string path;
  for (auto it = names.rbegin(); it != names.rend(); ++it) path += "/" + *it;
  return path.empty() ? std::string("/") : path;
}

namespace {
blocks::Block ToMapBlock(const BlockInfo& b) {
  return blocks::Block{b.block_id, b.generation_stamp, b.num_bytes};
}
}  // namespace

Status Namesystem::AttachBlockMap(blocks::BlockMap* block_map) {
  std::unique_ptr<leveldb::Iterator> it = store_->NewIterator();
  const std::string prefix(1, keys::kInodePrefix);
  size_t files = 0;
  size_t blocks = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    Inode inode;
    RETURN_NOT_OK(DecodeInode(std::string_view(it->value().data(), it->value().size()), &inode));
    if (!inode.IsFile()) continue;
    // Copy-on-write blocks not committed yet: under construction, so their replicas' reports
    // are accepted.
    for (const BlockInfo& pending : inode.pending_blocks) {
      RETURN_NOT_OK(block_map->AddBlock(static_cast<int64_t>(inode.id), ToMapBlock(pending),
                                        inode.replication));
      ++blocks;
    }
    if (inode.blocks.empty()) continue;
    ++files;
    for (size_t i = 0; i < inode.blocks.size(); ++i) {
      const blocks::Block block = ToMapBlock(inode.blocks[i]);
      RETURN_NOT_OK(block_map->AddBlock(static_cast<int64_t>(inode.id), block,
                                        inode.replication));
      // The last block of a file being streamed is still under construction.
      if (inode.BlocksAllComplete() || i + 1 < inode.blocks.size()) {
        RETURN_NOT_OK(block_map->CommitBlock(block));
      }
      ++blocks;
    }
  }
  if (!it->status().ok()) return Status::IoError(it->status().ToString());
  LOG(INFO) << "Block map: " << blocks << " blocks of " << files << " files";
  block_map_ = block_map;
  return Status::OK();
}

std::shared_ptr<const Inode> Namesystem::FileAt(const std::string& path) const {
  Caller system{"talus-namenode", {}, true};
  Result<ResolvedPath> resolved = ResolvePath(*pending_, path, system);
  if (!resolved.ok() || !resolved->Exists()) return nullptr;
  return resolved->inodes.back();
}

void Namesystem::UpdateBlockMap(const EditOp& op, const ApplyResult& result,
                                const std::vector<uint64_t>& removed_files,
                                const std::vector<int64_t>& removed_blocks) {
  // Soft state: a failure here is logged, and a restart rebuilds the map from the namespace.
  auto check = [](const Status& s, const char* what) {
    if (!s.ok()) LOG(WARNING) << "block map, " << what << ": " << s;
  };
  auto file_at = [this](const std::string& path) { return FileAt(path); };
  for (uint64_t id : removed_files) block_map_->RemoveFile(static_cast<int64_t>(id));
  if (!removed_blocks.empty()) block_map_->RemoveBlocks(removed_blocks);
  if (const auto* add = std::get_if<AddBlockOp>(&op)) {
    std::shared_ptr<const Inode> file = file_at(add->path);
    if (file == nullptr || file->blocks.empty()) return;
    if (file->blocks.size() >= 2) {
      check(block_map_->CommitBlock(ToMapBlock(file->blocks[file->blocks.size() - 2])),
            "commit of the previous block");
    }
    check(block_map_->AddBlock(static_cast<int64_t>(file->id), ToMapBlock(file->blocks.back()),
                               file->replication),
          "new block");
  } else if (const auto* allocate = std::get_if<AllocateBlockOp>(&op)) {
    std::shared_ptr<const Inode> file = file_at(allocate->path);
    if (file == nullptr || file->pending_blocks.empty()) return;
    check(block_map_->AddBlock(static_cast<int64_t>(file->id),
                               ToMapBlock(file->pending_blocks.back()), file->replication),
          "allocated block");
  } else if (const auto* commit = std::get_if<CommitBlocksOp>(&op)) {
    // The writer's pipelines acknowledged these blocks: they are complete now, and the
    // replicas still reporting count as they arrive (the pipeline is awaited, not re-copied).
    for (const BlockReplacementOp& r : commit->replacements) {
      check(block_map_->CommitBlock(ToMapBlock(r.new_block)), "commit of a copy-on-write block");
    }
  } else if (const auto* complete = std::get_if<CompleteOp>(&op)) {
    std::shared_ptr<const Inode> file = file_at(complete->path);
    if (file != nullptr && !file->blocks.empty()) {
      check(block_map_->CommitBlock(ToMapBlock(file->blocks.back())), "commit on complete");
    }
  } else if (const auto* abandon = std::get_if<AbandonBlockOp>(&op)) {
    if (result.value != 0) {
      const int64_t id = abandon->block_id;
      block_map_->RemoveBlocks(std::span<const int64_t>(&id, 1));
    }
  } else if (const auto* append = std::get_if<AppendOp>(&op)) {
    // A partial last block reopened under a new stamp (value: the old stamp).
    std::shared_ptr<const Inode> file = file_at(append->path);
    if (result.value != 0 && file != nullptr && !file->blocks.empty()) {
      check(block_map_->ReopenBlock(ToMapBlock(file->blocks.back())), "reopen for append");
    }
  } else if (const auto* update = std::get_if<UpdatePipelineOp>(&op)) {
    // The rebuilt pipeline's stamp: replicas that report it count, older ones are deleted as
    // they report. (The RPC records the new pipeline as the expected locations.)
    std::shared_ptr<const Inode> file = file_at(update->path);
    if (file != nullptr && !file->blocks.empty()) {
      check(block_map_->ReopenBlock(ToMapBlock(file->blocks.back())), "pipeline update");
    }
  } else if (const auto* rep = std::get_if<SetReplicationOp>(&op)) {
    std::shared_ptr<const Inode> file = file_at(rep->path);
    if (file != nullptr && file->IsFile()) {
      check(block_map_->SetReplication(static_cast<int64_t>(file->id), rep->replication),
            "replication");
    }
  }
}

Status Namesystem::LoadLeases() {
  if (leases_ == nullptr) return Status::OK();
  std::unique_ptr<leveldb::Iterator> it = store_->NewIterator();
  const std::string prefix(1, keys::kUnderConstructionPrefix);
  size_t loaded = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != 9) return Status::Corruption("bad under-construction key");
    uint64_t id = keys::DecodeBigEndian64(std::string_view(it->key().data() + 1, 8));
    leases_->Add(it->value().ToString(), id);
    ++loaded;
  }
  if (!it->status().ok()) return Status::IoError(it->status().ToString());
  LOG(INFO) << "Leases: " << loaded << " files under construction";
  return Status::OK();
}

bool Namesystem::RenewLease(const std::string& client_name) {
  return leases_ != nullptr && leases_->Renew(client_name);
}

Status Namesystem::RecoverLeaseForNewWriter(const Inode& file, const std::string& path,
                                            const std::string& new_writer) {
  const std::string& holder = file.lease_holder;
  if (holder == new_writer) {
    return Status::LeaseConflict("Failed to open " + path + " for writing: " + new_writer +
                                 " is already writing it");
  }
  if (holder == kRecoveryLeaseHolder) {
    return Status::LeaseConflict("Failed to open " + path +
                                 " for writing: lease recovery is in progress; try again shortly");
  }
  if (leases_ == nullptr || !leases_->SoftLimitPassed(holder)) {
    return Status::LeaseConflict("Failed to open " + path + " for writing: it is being written by " +
                                 holder);
  }
  LOG(INFO) << "lease of " << holder << " on " << path << " passed its soft limit and "
            << new_writer << " wants the file: recovering it";
  if (file.BlocksAllComplete()) {
    // Nothing for the datanodes to recover (no block, or copy-on-write): close it now.
    Edit edit;
    edit.caller = Caller{"talus-namenode", {}, true};
    edit.op = CompleteOp{ReservedInodePath(file.id), holder, std::nullopt, file.id};
    return Mutate(std::move(edit)).status();
  }
  if (!recovery_starter_) {
    return Status::LeaseConflict("Failed to open " + path + " for writing: the lease of " + holder +
                                 " expired but block recovery is not running");
  }
  RETURN_NOT_OK(recovery_starter_(file, path));
  return Status::LeaseConflict("Failed to open " + path + " for writing: the lease of " + holder +
                               " expired; recovery of its last block has started, try again "
                               "shortly");
}

Result<int> Namesystem::RecoverExpiredLeases() {
  if (leases_ == nullptr) return 0;
  int closed = 0;
  for (const auto& [holder, id] : leases_->HardLimitPassed(100)) {
    Result<Inode> inode = GetInode(id);
    if (!inode.ok() || inode->lease_holder != holder) {
      leases_->Remove(holder, id);  // deleted, replaced or closed since
      continue;
    }
    ASSIGN_OR_RETURN(std::string path, PathOf(id));
    if (!inode->BlocksAllComplete()) {
      // The last block's length is known only to the datanodes that hold it: closing the
      // file needs block recovery through them.
      if (!recovery_starter_) {
        LOG_EVERY_N(WARNING, 100) << "lease of " << holder << " on " << path
                                  << " expired; its last block needs recovery by the datanodes";
        continue;
      }
      Status started = recovery_starter_(*inode, path);
      if (!started.ok()) LOG(WARNING) << "lease recovery of " << path << ": " << started;
      continue;
    }
    Edit edit;
    edit.caller = Caller{"talus-namenode", {}, true};
    edit.op = CompleteOp{ReservedInodePath(id), holder, std::nullopt, id};
    Result<int64_t> done = Mutate(std::move(edit));
    if (done.ok()) {
      LOG(INFO) << "lease of " << holder << " expired: closed " << path;
      ++closed;
    } else {
      LOG(WARNING) << "lease recovery of " << path << ": " << done.status();
      if (done.status().code() == ErrorCode::kNotFound ||
          done.status().code() == ErrorCode::kLeaseConflict) {
        leases_->Remove(holder, id);
      }
    }
  }
  return closed;
}

Result<int64_t> Namesystem::CountChildren(uint64_t dir_id, int64_t limit) const {
  NamespaceTxn txn(store_);
  int64_t count = 0;
  RETURN_NOT_OK(txn.ForEachChild(dir_id, "", [&](std::string_view, uint64_t) {
    if (count >= limit) return false;
    ++count;
    return true;
  }));
  return count;
}

Result<NamespaceCounts> Namesystem::GetCounts() const {
  NamespaceCounts counts;
  ASSIGN_OR_RETURN(uint64_t files, store_->GetCounter(keys::kMetaNumFiles));
  ASSIGN_OR_RETURN(uint64_t dirs, store_->GetCounter(keys::kMetaNumDirectories));
  counts.files = static_cast<int64_t>(files);
  counts.directories = static_cast<int64_t>(dirs);
  return counts;
}

}  // namespace talus
