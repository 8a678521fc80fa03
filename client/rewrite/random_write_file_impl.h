#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "client/rewrite/dirty_extents.h"
#include "client/stream/data_namenode.h"
#include "client/stream/output_stream_impl.h"
#include "client/stream/packet_pool.h"
#include "client/stream/stream_context.h"
#include "talus/file_system.h"

namespace talus::client {

// RandomWriteFile (see talus/file_system.h for the contract). Three modes:
//  - idle: no lease; the committed file is the content.
//  - streaming: writes at the end go to an OutputStreamImpl (create or append), exactly the
//    sequential data path; Flush closes the stream (complete).
//  - rewriting: after openForOverwrite, writes anywhere and truncations are kept in memory
//    (DirtyExtents); Flush writes every changed block whole as a new block (allocateBlock, one
//    pipeline per block) and swaps them in with one commitBlocks that also sets the length and
//    releases the lease.
// A write elsewhere than the end, or a truncation down, moves streaming to rewriting (closing
// the stream first); a write at the end when idle starts streaming (append).
class RandomWriteFileImpl : public RandomWriteFile {
 public:
  // A file ctx.namenode->Create has just created for this client (the lease is ours): writes
  // stream from offset 0. `info` is the create answer.
  static std::unique_ptr<RandomWriteFileImpl> ForCreated(const StreamContext& ctx,
                                                         const std::string& path,
                                                         const OpenedFile& file,
                                                         int16_t replication, int64_t block_size);
  // An existing closed file as getFileInfo answered; no lease is taken until the first change.
  static std::unique_ptr<RandomWriteFileImpl> ForExisting(const StreamContext& ctx,
                                                          const std::string& path,
                                                          const FileInfo& info);
  ~RandomWriteFileImpl() override;

  uint64_t file_id() const override { return file_id_; }
  const FileInfo& opened_info() const override { return info_; }
  Status Write(int64_t offset, const void* data, size_t n) override;
  Result<size_t> Read(int64_t offset, void* buf, size_t n) override;
  Status Truncate(int64_t length) override;
  int64_t Length() const override;
  bool Dirty() const override;
  Status Flush() override;
  Status Sync() override;
  Status Close() override;

  // What the file did so far (tests, logs).
  struct Stats {
    int streams = 0;         // output streams opened (create or append)
    int overwrites = 0;      // openForOverwrite calls
    int commits = 0;         // commitBlocks calls
    int blocks_written = 0;  // copy-on-write blocks written
  };
  Stats stats() const;

 private:
  enum class Mode { kIdle, kStreaming, kRewriting };

  RandomWriteFileImpl(const StreamContext& ctx, const std::string& path, const FileInfo& info,
                      int16_t replication, int64_t block_size);

  int64_t LengthLocked() const;
  Status WriteLocked(int64_t offset, const char* data, size_t n);
  Status TruncateLocked(int64_t length);
  Status FlushLocked(bool sync);
  // Idle -> streaming by append; the file's length is what the namenode answers.
  Status StartStreaming();
  // Streaming -> idle: completes the file.
  Status EndStreaming();
  // Streaming or idle -> rewriting (openForOverwrite).
  Status StartRewriting();
  // Appends `n` zero bytes to the stream.
  Status StreamZeros(int64_t n);
  // Writes to the stream, keeping its last bytes in tail_.
  Status StreamWrite(const char* data, size_t n);
  // A write that starts before the end and runs past it: how many of its first bytes repeat
  // what the file already holds there (all of [offset, end) or 0). The kernel's writeback
  // cache sends a file's last partial page again with the bytes after it; such a write still
  // takes the streaming path.
  Result<size_t> RepeatedPrefix(int64_t offset, const char* data, size_t n);
  // Rewriting -> idle: writes the changed blocks and commits them.
  Status CommitRewrite(bool sync);
  // Writes block `change` whole through a new pipeline; its bytes come from dirty_.Fill.
  Result<BlockRef> WriteBlock(const DirtyExtents::BlockChange& change, bool sync,
                              const DirtyExtents::CommittedReader& read_committed);
  // Rewriting without success: releases the lease, dropping the unflushed changes.
  void AbandonRewrite();
  // Reads committed bytes through reader_ (opened on demand); all `n` or an error.
  Status ReadCommitted(int64_t offset, size_t n, char* out);
  void HoldLease();
  void DropLease();

  const StreamContext ctx_;
  const std::string path_;      // for messages
  const std::string rpc_path_;  // what namenode calls name (the inode path)
  const FileInfo info_;
  const uint64_t file_id_;
  const int16_t replication_;

  mutable std::mutex mu_;  // guards everything below
  int64_t block_size_;
  Mode mode_ = Mode::kIdle;
  std::unique_ptr<OutputStreamImpl> stream_;
  int64_t stream_visible_ = 0;  // bytes of the stream readers can see (hflushed)
  std::string tail_;  // the stream's last bytes written (at most kTailBytes), ending at Tell()
  // The committed length and, when rewriting, the changes over it.
  DirtyExtents dirty_;
  std::unique_ptr<InputStream> reader_;  // the committed file (or the hflushed stream)
  int64_t next_sequential_ = -1;         // where the last committed read ended
  PacketPool pool_;
  std::vector<std::string> excluded_;  // datanodes that refused a block pipeline
  bool lease_held_ = false;            // registered with the renewer while rewriting
  Status broken_;                      // a failed stream: every later call returns it
  bool closed_ = false;
  Stats stats_;
};

}  // namespace talus::client
