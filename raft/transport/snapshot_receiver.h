#pragma once

// SnapshotReceiver: the receiving end of installSnapshotChunk. Chunks are written to a staging
// file in `dir`, strictly in order; the last one's CRC-32C must match the whole file, which is
// then synced and renamed to a file of its own, handed to the node. Only one snapshot is
// received at a time: one from a later term, or the same term and a higher index, replaces a
// half-received one; chunks of an older one are refused. Thread-safe.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "common/result.h"
#include "raft/core/messages.h"

namespace talus::raft {

struct SnapshotChunkIn {
  NodeId from = kNoNode;
  Term term = 0;  // the sender's (leader's) term
  SnapshotMeta meta;
  uint64_t offset = 0;
  std::string data;
  bool last = false;
  uint32_t crc = 0;  // with last: CRC-32C of the whole file
};

struct ReceivedSnapshot {
  NodeId from = kNoNode;
  Term term = 0;
  SnapshotMeta meta;
  std::string path;  // the complete file; the node deletes it once installed
};

class SnapshotReceiver {
 public:
  // Creates `dir` if missing and removes what a previous run left half-received.
  static Result<std::unique_ptr<SnapshotReceiver>> Open(std::string dir);
  ~SnapshotReceiver();

  // Stores one chunk. Returns the bytes now held of this snapshot; sets *complete when it was
  // the last chunk and the file checked out. InvalidArgument for chunks out of order or of an
  // older snapshot, Corruption for a CRC mismatch (the staging file is dropped).
  Result<uint64_t> Receive(const SnapshotChunkIn& chunk, std::optional<ReceivedSnapshot>* complete);

 private:
  explicit SnapshotReceiver(std::string dir) : dir_(std::move(dir)) {}
  void DropCurrent();  // mu_ held

  const std::string dir_;
  std::mutex mu_;
  struct Current {
    NodeId from = kNoNode;
    Term term = 0;
    SnapshotMeta meta;
    uint64_t received = 0;
    uint32_t crc = 0;
    int fd = -1;
  };
  std::optional<Current> current_;  // guarded by mu_
  uint64_t serial_ = 0;             // guarded by mu_; names completed files uniquely
};

}  // namespace talus::raft
