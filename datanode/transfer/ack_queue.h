#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "common/transfer/protocol.h"

// The packets of a WRITE_BLOCK between arrival and acknowledgement, in seqno order: the receiver
// appends each packet as it arrives and records its local outcome once written; the responder
// takes them from the front as downstream acks come back. A fixed ring: when it is full the
// receiver waits, which pushes back on the sender. Thread-safe (one receiver, one responder).
namespace talus::datanode {

class AckQueue {
 public:
  struct Entry {
    int64_t seqno = 0;
    uint64_t end_offset = 0;  // block offset just past the packet's data
    bool last = false;
    bool written = false;     // the local outcome is known
    transfer::TransferStatus status = transfer::TransferStatus::kSuccess;
  };

  explicit AckQueue(size_t capacity) : ring_(capacity) {}

  // Receiver: appends an entry, waiting for room. False once aborted.
  bool Push(const Entry& entry);
  // Receiver: records the local outcome of the newest entry.
  void MarkNewestWritten(transfer::TransferStatus status);
  // Responder: waits for a front entry and copies it out. False once aborted.
  bool WaitFront(Entry* entry);
  // Responder: waits until the front entry's outcome is known and copies it out.
  bool WaitFrontWritten(Entry* entry);
  void PopFront();
  // Wakes every waiter; later waits fail at once.
  void Abort();
  bool aborted() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;  // an entry was pushed or written, or abort
  std::condition_variable room_;     // an entry was popped, or abort
  std::vector<Entry> ring_;          // guarded by mu_
  size_t head_ = 0;                  // guarded by mu_
  size_t count_ = 0;                 // guarded by mu_
  bool aborted_ = false;             // guarded by mu_
};

}  // namespace talus::datanode
