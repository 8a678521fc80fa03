#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "talus/file_system.h"

namespace talus::fuse {

// Puts one file's writes back in offset order before they reach its RandomWriteFile.
//
// The kernel's writeback cache sends a sequential file's pages as many WRITE requests at once,
// and the session's threads serve them in any order. To the writer, a write past the end of the
// file is a hole to zero-fill, and the late write before it a copy-on-write of a block already
// streamed: correct, but slow. So a write past the current end is held here (acknowledged: the
// kernel has already acknowledged it to the program) until the writes before it arrive, then
// they stream in order. Held writes go out in any case at Drain (flush, fsync, truncate, read
// through the writer, release) and when more than kMaxHeldBytes are held, so a real hole (a
// program seeking past the end) costs only a delay. Thread-safe.
class WriteSequencer {
 public:
  static constexpr size_t kMaxHeldBytes = 64 << 20;

  // Writes now or holds; an error may belong to an earlier held write.
  Status Write(RandomWriteFile& writer, int64_t offset, const char* data, size_t n);
  // Writes everything held, in offset order.
  Status Drain(RandomWriteFile& writer);
  // Forgets what is held (the writer is gone).
  void Clear();
  // The end of the furthest held write (0 if none): the file's length includes it.
  int64_t HeldEnd();

 private:
  Status WriteReadyLocked(RandomWriteFile& writer);
  Status DrainLocked(RandomWriteFile& writer);
  bool OverlapsHeldLocked(int64_t offset, size_t n) const;

  std::mutex mu_;
  std::map<int64_t, std::string> held_;  // offset -> data
  size_t held_bytes_ = 0;
};

}  // namespace talus::fuse
