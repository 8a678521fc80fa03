#include "fuse/write_sequencer.h"

#include <algorithm>

namespace talus::fuse {

Status WriteSequencer::Write(RandomWriteFile& writer, int64_t offset, const char* data, size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool overlaps = OverlapsHeldLocked(offset, n);
  if (!overlaps && offset > writer.Length() && held_bytes_ + n <= kMaxHeldBytes) {
    held_.emplace(offset, std::string(data, n));
    held_bytes_ += n;
    return Status::OK();
  }
  // Overlapping a held write: the later write must land after it, so send what is held first.
  if (overlaps || offset > writer.Length()) RETURN_NOT_OK(DrainLocked(writer));
  RETURN_NOT_OK(writer.Write(offset, data, n));
  return WriteReadyLocked(writer);
}

Status WriteSequencer::Drain(RandomWriteFile& writer) {
  std::lock_guard<std::mutex> lock(mu_);
  return DrainLocked(writer);
}

void WriteSequencer::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  held_.clear();
  held_bytes_ = 0;
}

int64_t WriteSequencer::HeldEnd() {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t end = 0;
  for (const auto& [offset, data] : held_) {
    end = std::max(end, offset + static_cast<int64_t>(data.size()));
  }
  return end;
}

Status WriteSequencer::WriteReadyLocked(RandomWriteFile& writer) {
  while (!held_.empty() && held_.begin()->first <= writer.Length()) {
    auto it = held_.begin();
    Status s = writer.Write(it->first, it->second.data(), it->second.size());
    held_bytes_ -= it->second.size();
    held_.erase(it);
    RETURN_NOT_OK(s);
  }
  return Status::OK();
}

Status WriteSequencer::DrainLocked(RandomWriteFile& writer) {
  Status first_error;
  while (!held_.empty()) {
    auto it = held_.begin();
    Status s = writer.Write(it->first, it->second.data(), it->second.size());
    held_bytes_ -= it->second.size();
    held_.erase(it);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  return first_error;
}

bool WriteSequencer::OverlapsHeldLocked(int64_t offset, size_t n) const {
  if (held_.empty()) return false;
  const int64_t end = offset + static_cast<int64_t>(n);
  auto it = held_.lower_bound(offset);
  if (it != held_.end() && it->first < end) return true;
  if (it != held_.begin()) {
    --it;
    if (it->first + static_cast<int64_t>(it->second.size()) > offset) return true;
  }
  return false;
}

}  // namespace talus::fuse
