#pragma once

#include <array>
#include <cstdint>

#include "common/status.h"
#include "common/transfer/protocol.h"

// Packet headers and the checks a receiver applies to a stream of packets (protocol.h, part 2).
namespace talus::transfer {

struct PacketHeader {
  int64_t seqno = 0;
  uint64_t offset_in_block = 0;
  uint32_t data_len = 0;
  uint32_t checksum_len = 0;
  bool last = false;
  bool sync = false;

  bool heartbeat() const { return seqno == kHeartbeatSeqno; }
  bool operator==(const PacketHeader&) const = default;
};

using EncodedPacketHeader = std::array<uint8_t, kPacketHeaderBytes>;

EncodedPacketHeader EncodePacketHeader(const PacketHeader& header);

// Checks the header's own consistency: CRC, flags, reserved bytes, data_len <= kMaxPacketDataBytes,
// checksum_len a multiple of 4 and no larger than the data could need, offset + len no overflow.
// What depends on the stream (order, exact checksum count) is PacketValidator's job.
Status DecodePacketHeader(const uint8_t* bytes, PacketHeader* header);

// Applies the stream rules to each header a receiver decodes, before it reads the payload:
// seqnos consecutive from first_seqno, offsets contiguous from start_offset, checksum_len exactly
// what the data needs (or 0 when checksums are off), data within max_data_len, nothing after the
// last packet, heartbeats empty. Not thread-safe; one per stream.
class PacketValidator {
 public:
  struct Options {
    uint64_t start_offset = 0;
    int64_t first_seqno = 0;
    uint32_t bytes_per_checksum = kDefaultBytesPerChecksum;
    bool checksums = true;
    uint32_t max_data_len = kDefaultPacketDataBytes;
  };
  explicit PacketValidator(const Options& options) : options_(options) {
    next_offset_ = options.start_offset;
    next_seqno_ = options.first_seqno;
  }

  // Returns OK and advances past the packet if it may come next; otherwise InvalidArgument
  // naming the rule broken, and the validator is unchanged.
  Status Accept(const PacketHeader& header);

  uint64_t next_offset() const { return next_offset_; }
  int64_t next_seqno() const { return next_seqno_; }
  bool saw_last() const { return saw_last_; }

 private:
  Options options_;
  uint64_t next_offset_;
  int64_t next_seqno_;
  bool saw_last_ = false;
};

}  // namespace talus::transfer
