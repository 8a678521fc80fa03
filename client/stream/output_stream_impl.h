#pragma once

#include <memory>
#include <optional>
#include <string>

#include "client/stream/data_streamer.h"
#include "client/stream/packet_pool.h"
#include "client/stream/stream_context.h"
#include "talus/file_system.h"

namespace talus::client {

// OutputStream: Write fills a packet buffer; a full packet gets its chunk checksums and goes to
// the block's DataStreamer, which sends it while the writer fills the next one. A block is
// allocated (addBlock) when its first packet is ready and ended (last packet, all acks) when
// full; Close ends the last one and completes the file.
class OutputStreamImpl : public OutputStream {
 public:
  static Result<std::unique_ptr<OutputStream>> Create(const StreamContext& ctx,
                                                      const std::string& path,
                                                      const CreateOptions& options);
  static Result<std::unique_ptr<OutputStream>> Append(const StreamContext& ctx,
                                                      const std::string& path);
  // A stream for a file `ctx.namenode->Create` has just created for this client (its lease is
  // ours), with the replication and block size asked for when the answer leaves them out.
  static std::unique_ptr<OutputStreamImpl> ForCreated(const StreamContext& ctx,
                                                      const std::string& path,
                                                      const OpenedFile& file,
                                                      int16_t replication, int64_t block_size);
  // Append, keeping the concrete type.
  static Result<std::unique_ptr<OutputStreamImpl>> OpenAppend(const StreamContext& ctx,
                                                              const std::string& path);
  ~OutputStreamImpl() override;

  Status Write(const void* data, size_t n) override;
  Status Hflush() override { return Flush(/*sync=*/false); }
  Status Hsync() override { return Flush(/*sync=*/true); }
  Status Close() override;
  int64_t Tell() const override { return file_pos_; }

  // The block being written with its pipeline's datanodes in order (none between blocks), and
  // how many times pipelines of this stream were rebuilt after a datanode failed. For tests.
  std::optional<LocatedBlock> CurrentBlock() const;
  int pipeline_recoveries() const;

 private:
  OutputStreamImpl(const StreamContext& ctx, std::string path, uint64_t file_id,
                   int64_t block_size, int64_t length, int replication);
  void RegisterLease();

  Status Flush(bool sync);
  // Computes the current packet's checksums and queues it on the block's pipeline (setting the
  // pipeline up first if needed).
  Status SealPacket(bool sync, bool last);
  // addBlock and a pipeline for it, leaving out datanodes that refuse (a few tries).
  Status StartBlock();
  Status OpenAppendPipeline(const LocatedBlock& block, uint64_t previous_genstamp);
  // Waits for every ack of the block and drops its pipeline; it becomes `previous_`.
  Status EndBlock();
  Status CompleteFile();
  // Records the first error: the stream is broken from then on.
  Status Broken(Status s);
  DataStreamer::Options StreamerOptions() const;
  DataStreamer::Recovery StreamerRecovery(bool appended) const;

  const StreamContext ctx_;
  const std::string path_;      // as the caller named the file (messages)
  const std::string rpc_path_;  // the file's inode path: every call after create/append
  const uint64_t file_id_;
  const int64_t block_size_;
  const int replication_;
  PacketPool pool_;

  int64_t file_pos_;                      // bytes in the file, including buffered ones
  uint64_t block_offset_ = 0;             // next byte's offset in the current block
  std::unique_ptr<Packet> packet_;        // being filled; null between packets
  std::unique_ptr<DataStreamer> streamer_;  // the current block's pipeline
  std::optional<BlockRef> previous_;      // the last block finished
  // Datanodes (storage ids) that refused a pipeline of this stream: not asked again.
  std::vector<std::string> excluded_;
  Status error_;
  bool closed_ = false;
  bool lease_registered_ = false;
  int finished_recoveries_ = 0;  // of the blocks already ended
};

}  // namespace talus::client
