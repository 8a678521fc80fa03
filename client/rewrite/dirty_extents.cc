#include "client/rewrite/dirty_extents.h"

#include <algorithm>
#include <cstring>
#include <iterator>

namespace talus::client {

void DirtyExtents::Reset(int64_t committed_length) {
  extents_.clear();
  dirty_bytes_ = 0;
  length_ = committed_length;
  committed_length_ = committed_length;
  low_water_ = committed_length;
}

void DirtyExtents::Write(int64_t offset, const void* data, size_t n) {
  if (n == 0) return;
  const int64_t end = offset + static_cast<int64_t>(n);
  // The extent the write lands in or extends (touching its end); appending to it in place keeps
  // a run of sequential writes one growing string.
  auto it = extents_.upper_bound(offset);
  std::map<int64_t, std::string>::iterator target;
  size_t before = 0;
  if (it != extents_.begin() &&
      std::prev(it)->first + static_cast<int64_t>(std::prev(it)->second.size()) >= offset) {
    target = std::prev(it);
    before = target->second.size();
  } else {
    target = extents_.emplace_hint(it, offset, std::string());
  }
  std::string& bytes = target->second;
  const int64_t start = target->first;
  if (end - start > static_cast<int64_t>(bytes.size())) bytes.resize(end - start);
  std::memcpy(bytes.data() + (offset - start), data, n);
  // Later extents the write overlaps are absorbed; their bytes past the write are kept.
  size_t absorbed = 0;
  for (auto next = std::next(target); next != extents_.end() && next->first < end;) {
    const int64_t next_end = next->first + static_cast<int64_t>(next->second.size());
    if (next_end > end) bytes.append(next->second, static_cast<size_t>(end - next->first));
    absorbed += next->second.size();
    next = extents_.erase(next);
  }
  dirty_bytes_ = dirty_bytes_ - before - absorbed + bytes.size();
  length_ = std::max(length_, end);
}

void DirtyExtents::Truncate(int64_t length) {
  if (length < length_) {
    for (auto it = extents_.lower_bound(length); it != extents_.end();) {
      dirty_bytes_ -= it->second.size();
      it = extents_.erase(it);
    }
    auto it = extents_.lower_bound(length);
    if (it != extents_.begin()) {
      std::string& bytes = std::prev(it)->second;
      const int64_t start = std::prev(it)->first;
      if (start + static_cast<int64_t>(bytes.size()) > length) {
        dirty_bytes_ -= bytes.size() - static_cast<size_t>(length - start);
        bytes.resize(static_cast<size_t>(length - start));
      }
    }
    low_water_ = std::min(low_water_, length);
  }
  length_ = length;
}

Status DirtyExtents::Fill(int64_t offset, size_t n, char* out,
                          const CommittedReader& read_committed) const {
  const int64_t end = offset + static_cast<int64_t>(n);
  const int64_t visible = committed_visible();
  // The bytes no write covers: committed below `visible`, zeros above.
  auto base = [&](int64_t from, int64_t to) -> Status {
    char* dst = out + (from - offset);
    const int64_t committed_end = std::min(to, visible);
    if (from < committed_end) {
      RETURN_NOT_OK(read_committed(from, static_cast<size_t>(committed_end - from), dst));
      dst += committed_end - from;
      from = committed_end;
    }
    if (from < to) std::memset(dst, 0, static_cast<size_t>(to - from));
    return Status::OK();
  };
  auto it = extents_.upper_bound(offset);
  if (it != extents_.begin() &&
      std::prev(it)->first + static_cast<int64_t>(std::prev(it)->second.size()) > offset) {
    --it;
  }
  int64_t pos = offset;
  while (pos < end) {
    if (it == extents_.end() || it->first >= end) return base(pos, end);
    if (it->first > pos) {
      RETURN_NOT_OK(base(pos, it->first));
      pos = it->first;
    }
    const int64_t copy_end = std::min(end, it->first + static_cast<int64_t>(it->second.size()));
    std::memcpy(out + (pos - offset), it->second.data() + (pos - it->first),
                static_cast<size_t>(copy_end - pos));
    pos = copy_end;
    ++it;
  }
  return Status::OK();
}

std::vector<DirtyExtents::BlockChange> DirtyExtents::ChangedBlocks(
    int64_t block_size, const std::vector<int64_t>& committed_block_lengths) const {
  std::vector<BlockChange> out;
  if (block_size <= 0) return out;
  const int64_t visible = committed_visible();
  const int64_t count = (length_ + block_size - 1) / block_size;
  auto written = [&](int64_t from, int64_t to) {
    auto it = extents_.upper_bound(from);
    if (it != extents_.begin() &&
        std::prev(it)->first + static_cast<int64_t>(std::prev(it)->second.size()) > from) {
      return true;
    }
    return it != extents_.end() && it->first < to;
  };
  for (int64_t i = 0; i < count; ++i) {
    const int64_t start = i * block_size;
    const int64_t length = std::min(block_size, length_ - start);
    const int64_t old_length = i < static_cast<int64_t>(committed_block_lengths.size())
                                   ? committed_block_lengths[static_cast<size_t>(i)]
                                   : -1;
    if (old_length != length || visible < start + length || written(start, start + length)) {
      out.push_back(BlockChange{static_cast<int32_t>(i), start, length});
    }
  }
  return out;
}

std::vector<std::pair<int64_t, int64_t>> DirtyExtents::Ranges() const {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& [start, bytes] : extents_) {
    out.emplace_back(start, static_cast<int64_t>(bytes.size()));
  }
  return out;
}

}  // namespace talus::client
