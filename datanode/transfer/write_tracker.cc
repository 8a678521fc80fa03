#include "datanode/transfer/write_tracker.h"

#include <string>
#include <vector>

namespace talus::datanode {

void WriteTracker::Writer::Abort() {
  aborted_.store(true);
  std::lock_guard<std::mutex> l(mu_);
  if (hook_) hook_();
}

void WriteTracker::Writer::SetAbortHook(std::function<void()> hook) {
  std::lock_guard<std::mutex> l(mu_);
  hook_ = std::move(hook);
  if (aborted() && hook_) hook_();
}

void WriteTracker::Writer::ClearAbortHook() {
  std::lock_guard<std::mutex> l(mu_);
  hook_ = nullptr;
}

Status WriteTracker::Begin(const std::shared_ptr<Writer>& writer) {
  std::lock_guard<std::mutex> l(mu_);
  auto [it, inserted] = active_.emplace(writer->block_id(), writer);
  if (!inserted) {
    return Status(ErrorCode::kBusy, "block " + std::to_string(writer->block_id()) +
                                        " is already being written on this datanode");
  }
  latest_[writer->block_id()] = writer;
  return Status::OK();
}

void WriteTracker::End(const std::shared_ptr<Writer>& writer) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = active_.find(writer->block_id());
  if (it != active_.end() && it->second == writer) active_.erase(it);
  ended_.notify_all();
}

void WriteTracker::Stop(uint64_t block_id) {
  std::unique_lock<std::mutex> l(mu_);
  auto it = active_.find(block_id);
  if (it == active_.end()) return;
  std::shared_ptr<Writer> writer = it->second;
  writer->Abort();
  ended_.wait(l, [&] {
    auto now = active_.find(block_id);
    return now == active_.end() || now->second != writer;
  });
}

void WriteTracker::StopAll() {
  std::unique_lock<std::mutex> l(mu_);
  for (auto& [id, writer] : active_) writer->Abort();
  ended_.wait(l, [&] { return active_.empty(); });
}

std::optional<uint64_t> WriteTracker::AckedLength(uint64_t block_id, uint64_t genstamp) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = latest_.find(block_id);
  if (it == latest_.end() || it->second->genstamp() != genstamp) return std::nullopt;
  return it->second->acked_length();
}

void WriteTracker::Forget(uint64_t block_id, uint64_t genstamp) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = latest_.find(block_id);
  if (it == latest_.end() || it->second->genstamp() != genstamp) return;
  if (active_.count(block_id) != 0 && active_[block_id] == it->second) return;
  latest_.erase(it);
}

void WriteTracker::Sweep(const std::function<bool(uint64_t, uint64_t)>& still_needed) {
  std::vector<std::shared_ptr<Writer>> idle;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [id, writer] : latest_) {
      if (active_.count(id) == 0) idle.push_back(writer);
    }
  }
  // The callback looks at the replica store; it runs without our lock.
  std::vector<std::shared_ptr<Writer>> stale;
  for (const auto& w : idle) {
    if (!still_needed(w->block_id(), w->genstamp())) stale.push_back(w);
  }
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& w : stale) {
    auto it = latest_.find(w->block_id());
    if (it != latest_.end() && it->second == w && active_.count(w->block_id()) == 0) {
      latest_.erase(it);
    }
  }
}

size_t WriteTracker::known_count() const {
  std::lock_guard<std::mutex> l(mu_);
  return latest_.size();
}

size_t WriteTracker::active_count() const {
  std::lock_guard<std::mutex> l(mu_);
  return active_.size();
}

}  // namespace talus::datanode
