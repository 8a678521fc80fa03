#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/stream/data_namenode.h"
#include "client/stream/datanode_connection_cache.h"
#include "common/result.h"
#include "common/transfer/packet.h"
#include "common/transfer/socket_io.h"

namespace talus::client {

// Reads block bytes [offset, end) from one datanode (READ_BLOCK) and verifies every packet's
// checksums. A packet the caller's buffer can take whole goes straight into it (the only copy
// of those bytes); otherwise it is buffered and copied out. Errors: Unavailable / IoError /
// TimedOut for the connection, Corruption for a checksum mismatch, the datanode's refusal as
// TransferStatusToStatus maps it. Not thread-safe.
//
// With a connection cache, Open sends its op on an idle cached connection to the node when there
// is one (and, should that connection turn out dead, on a fresh one: a stale cached connection
// never surfaces as an error), and Finish returns the connection to the cache once the read
// ended cleanly at the last packet.
class BlockReader {
 public:
  static Result<std::unique_ptr<BlockReader>> Open(const DatanodeInfo& node,
                                                   const BlockRef& block, uint64_t offset,
                                                   uint64_t end, const std::string& client_name,
                                                   int timeout_ms,
                                                   DatanodeConnectionCache* cache = nullptr);

  // Reads up to n bytes at position(); 0 once position() == end().
  Result<size_t> Read(uint8_t* buf, size_t n);
  // Moves forward n bytes (reading and dropping them).
  Status Skip(uint64_t n);
  // Once position() == end(): reads the stream's last packet so the datanode sees a clean
  // end, then hands the connection, now at an op boundary, to the cache (or, without one,
  // closes it, freeing the datanode's transfer slot at once). Otherwise just closes it.
  void Finish();

  uint64_t position() const { return pos_; }
  uint64_t end() const { return end_; }
  const DatanodeInfo& node() const { return node_; }

 private:
  BlockReader(const DatanodeInfo& node, const BlockRef& block, transfer::UniqueFd fd,
              uint64_t offset, uint64_t end, int timeout_ms,
              const transfer::PacketValidator::Options& validator_options,
              DatanodeConnectionCache* cache);
  // The next packet's header (read already with the previous packet, or now); fails on a
  // protocol violation.
  Status NextHeader(transfer::PacketHeader* header);
  // Reads the packet's checksums into checksums_ and its data into `data`, and, unless it is the
  // last, the header of the packet after it: one system call for the lot in the common case.
  Status ReadBody(const transfer::PacketHeader& header, uint8_t* data);
  // Receives exactly the bytes the iovecs describe; the socket's receive timeout bounds each
  // wait for data.
  Status ReceiveAll(struct iovec* iov, int iovcnt);
  // Reads the rest of the stream up to the last packet, so the datanode sees a clean end.
  void DrainToLast();
  // Names the block and node in an error of the stream, and marks the connection unusable
  // for another op.
  Status Describe(const Status& s);

  const DatanodeInfo node_;
  const BlockRef block_;
  transfer::UniqueFd fd_;
  uint64_t pos_;
  const uint64_t end_;
  const int timeout_ms_;
  const uint32_t bytes_per_checksum_;
  transfer::PacketValidator validator_;
  DatanodeConnectionCache* const cache_;  // may be null
  bool broken_ = false;  // an error left the connection mid-stream
  bool saw_last_ = false;
  bool drained_ = false;
  transfer::EncodedPacketHeader next_header_;  // valid when have_next_header_
  bool have_next_header_ = false;
  std::vector<uint8_t> checksums_;
  std::vector<uint8_t> buffer_;  // a packet's data the caller could not take whole
  uint64_t buffer_offset_ = 0;   // block offset of buffer_[0]
  size_t buffer_begin_ = 0;      // unread bytes are buffer_[begin, end)
  size_t buffer_end_ = 0;
};

}  // namespace talus::client
