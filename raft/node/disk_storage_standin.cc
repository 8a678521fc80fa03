// TEMPORARY stand-in for raft/storage/disk_storage.cc (R2), linked only while the real
// talus_raft_storage library does not exist, so that RaftNode builds and its tests run. The
// state lives in memory, in a process-wide table keyed by directory: it survives a RaftNode
// restart inside one process (the tests' restarts) but not the process. Delete once
// talus_raft_storage lands.

#include <filesystem>
#include <map>
#include <mutex>

#include "raft/storage/disk_storage.h"

namespace talus::raft {

namespace {
struct Table {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<MemoryStorage>> by_dir;
};
Table& Tables() {
  static Table* t = new Table;
  return *t;
}
}  // namespace

class DiskStorage::Impl {
 public:
  std::shared_ptr<MemoryStorage> mem;
};

Result<std::unique_ptr<DiskStorage>> DiskStorage::Open(DiskStorageOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  auto impl = std::make_unique<Impl>();
  Table& t = Tables();
  std::lock_guard<std::mutex> lock(t.mu);
  auto& slot = t.by_dir[std::filesystem::weakly_canonical(options.dir).string()];
  if (!slot) slot = std::make_shared<MemoryStorage>();
  impl->mem = slot;
  return std::unique_ptr<DiskStorage>(new DiskStorage(std::move(impl)));
}

DiskStorage::DiskStorage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DiskStorage::~DiskStorage() = default;
HardState DiskStorage::LoadHardState() const { return impl_->mem->LoadHardState(); }
SnapshotMeta DiskStorage::LoadSnapshotMeta() const { return impl_->mem->LoadSnapshotMeta(); }
std::vector<Entry> DiskStorage::LoadEntries() const { return impl_->mem->LoadEntries(); }
Status DiskStorage::Append(const std::vector<Entry>& entries) {
  impl_->mem->Append(entries);
  return Status::OK();
}
Status DiskStorage::SetHardState(const HardState& hs) {
  impl_->mem->SetHardState(hs);
  return Status::OK();
}
Status DiskStorage::Compact(const SnapshotMeta& meta) {
  impl_->mem->Compact(meta);
  return Status::OK();
}
Status DiskStorage::ResetToSnapshot(const SnapshotMeta& meta) {
  impl_->mem->ResetToSnapshot(meta);
  return Status::OK();
}
Index DiskStorage::FirstIndex() const { return impl_->mem->LoadSnapshotMeta().index + 1; }
Index DiskStorage::LastIndex() const {
  return impl_->mem->LoadSnapshotMeta().index + impl_->mem->LoadEntries().size();
}
Result<std::vector<Entry>> DiskStorage::Entries(Index lo, Index hi, size_t max_bytes) const {
  std::vector<Entry> all = impl_->mem->LoadEntries();
  Index first = FirstIndex();
  if (lo < first || hi > LastIndex() + 1 || lo > hi) {
    return Status::InvalidArgument("entries out of range");
  }
  std::vector<Entry> out;
  size_t bytes = 0;
  for (Index i = lo; i < hi; ++i) {
    const Entry& e = all[i - first];
    if (!out.empty() && bytes + e.data.size() > max_bytes) break;
    bytes += e.data.size();
    out.push_back(e);
  }
  return out;
}

}  // namespace talus::raft
