#include "fuse/inode_table.h"

#include <glog/logging.h>

namespace talus::fuse {

std::shared_ptr<InodeState> InodeTable::AddLookup(uint64_t id, uint64_t n, bool* was_known) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = inodes_[id];
  if (was_known != nullptr) *was_known = e.nlookup > 0;
  if (!e.state) e.state = std::make_shared<InodeState>(id);
  e.nlookup += n;
  return e.state;
}

void InodeTable::Forget(uint64_t id, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = inodes_.find(id);
  if (it == inodes_.end()) return;
  it->second.nlookup = n >= it->second.nlookup ? 0 : it->second.nlookup - n;
  EraseIfUnusedLocked(it);
}

std::shared_ptr<InodeState> InodeTable::Find(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = inodes_.find(id);
  return it == inodes_.end() ? nullptr : it->second.state;
}

std::shared_ptr<InodeState> InodeTable::Open(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = inodes_[id];
  if (!e.state) e.state = std::make_shared<InodeState>(id);
  ++e.open_handles;
  return e.state;
}

bool InodeTable::Release(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = inodes_.find(id);
  if (it == inodes_.end()) return true;
  if (it->second.open_handles > 0) --it->second.open_handles;
  bool last = it->second.open_handles == 0;
  EraseIfUnusedLocked(it);
  return last;
}

int InodeTable::OpenHandles(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = inodes_.find(id);
  return it == inodes_.end() ? 0 : it->second.open_handles;
}

std::vector<std::shared_ptr<InodeState>> InodeTable::WithWriters() {
  std::vector<std::shared_ptr<InodeState>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, e] : inodes_) all.push_back(e.state);
  }
  std::vector<std::shared_ptr<InodeState>> out;
  for (auto& state : all) {
    std::lock_guard<std::mutex> lock(state->mu);
    if (state->writer) out.push_back(state);
  }
  return out;
}

void InodeTable::EraseIfUnusedLocked(std::unordered_map<uint64_t, Entry>::iterator it) {
  // The root is never forgotten by the kernel in a way that matters; keep it simple and uniform.
  if (it->second.nlookup == 0 && it->second.open_handles == 0) inodes_.erase(it);
}

}  // namespace talus::fuse
