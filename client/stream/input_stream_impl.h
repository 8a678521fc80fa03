#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "client/stream/block_reader.h"
#include "client/stream/stream_context.h"
#include "talus/file_system.h"

namespace talus::client {

// InputStream: block locations fetched a window at a time and cached; sequential reads keep one
// BlockReader open for the rest of the current block; Pread opens its own short readers.
// Every failed replica (connect error, timeout, refusal, checksum mismatch) is skipped for the
// block in favour of the next location; a mismatch is also reported to the namenode.
class InputStreamImpl : public InputStream {
 public:
  static Result<std::unique_ptr<InputStream>> Open(const StreamContext& ctx,
                                                   const std::string& path);

  Result<size_t> Read(void* buf, size_t n) override;
  Result<size_t> Pread(int64_t offset, void* buf, size_t n) override;
  Status Seek(int64_t offset) override;
  int64_t Tell() const override { return pos_; }
  int64_t Length() const override;
  Result<int64_t> RefreshLength() override;
  Status Close() override;

 private:
  InputStreamImpl(const StreamContext& ctx, std::string path)
      : ctx_(ctx), path_(std::move(path)) {}

  // Refetches from offset 0 and recomputes the length (asking a datanode how much of an
  // under-construction last block is readable).
  Status LoadFromStart();
  // Caches the blocks of the window starting at `offset`.
  Status FetchWindow(int64_t offset);
  // The cached block holding file offset `pos` (fetched if needed); num_bytes is what may be
  // read of it.
  Result<LocatedBlock> BlockAt(int64_t pos);
  void CacheBlocks(const LocatedBlocks& located);  // requires mu_
  // A reader of block bytes [offset, end) from the first location not in *failed. *last_error
  // holds the latest replica failure (kept for the error when every replica has failed).
  // When every cached location fails, the block's locations are fetched again once and, if they
  // changed, *block is updated and tried.
  Result<std::unique_ptr<BlockReader>> OpenReader(LocatedBlock* block, uint64_t offset,
                                                  uint64_t end, std::set<std::string>* failed,
                                                  Status* last_error);
  // Records a failed replica; a checksum mismatch is reported to the namenode.
  void ReplicaFailed(const LocatedBlock& block, const DatanodeInfo& node, const Status& error,
                     std::set<std::string>* failed);
  Status AllReplicasFailed(const LocatedBlock& block, const Status& last_error) const;

  const StreamContext ctx_;
  const std::string path_;

  mutable std::mutex mu_;  // guards the cache and length; Pread runs concurrently
  std::map<int64_t, LocatedBlock> blocks_;  // by offset in the file
  int64_t length_ = 0;
  uint64_t under_construction_block_ = 0;  // its readable length came from a datanode

  // Sequential reading (one thread at a time, as the interface says).
  int64_t pos_ = 0;
  std::unique_ptr<BlockReader> reader_;
  LocatedBlock reader_block_;
  std::set<std::string> reader_failed_;  // replicas of reader_block_ that failed
  Status reader_error_;                  // the latest of those failures
  bool closed_ = false;
};

}  // namespace talus::client
