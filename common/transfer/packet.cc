#include "common/transfer/packet.h"

#include <string>

#include "common/crc32c.h"
#include "common/transfer/byte_codec.h"
#include "common/transfer/checksum.h"

namespace talus::transfer {
namespace {

constexpr uint8_t kFlagLast = 1;
constexpr uint8_t kFlagSync = 2;
constexpr size_t kCrcOffset = kPacketHeaderBytes - 4;

std::string Describe(const PacketHeader& h) {
  return "packet seqno " + std::to_string(h.seqno) + " at offset " +
         std::to_string(h.offset_in_block) + " with " + std::to_string(h.data_len) + " bytes";
}

}  // namespace

EncodedPacketHeader EncodePacketHeader(const PacketHeader& h) {
  EncodedPacketHeader out{};
  uint8_t* p = out.data();
  StoreLe64(p, static_cast<uint64_t>(h.seqno));
  StoreLe64(p + 8, h.offset_in_block);
  StoreLe32(p + 16, h.data_len);
  StoreLe32(p + 20, h.checksum_len);
  p[24] = static_cast<uint8_t>((h.last ? kFlagLast : 0) | (h.sync ? kFlagSync : 0));
  StoreLe32(p + kCrcOffset, crc32c::Value(p, kCrcOffset));
  return out;
}

Status DecodePacketHeader(const uint8_t* p, PacketHeader* header) {
  if (LoadLe32(p + kCrcOffset) != crc32c::Value(p, kCrcOffset)) {
    return Status::Corruption("packet header checksum mismatch");
  }
  PacketHeader h;
  h.seqno = static_cast<int64_t>(LoadLe64(p));
  h.offset_in_block = LoadLe64(p + 8);
  h.data_len = LoadLe32(p + 16);
  h.checksum_len = LoadLe32(p + 20);
  uint8_t flags = p[24];
  if ((flags & ~(kFlagLast | kFlagSync)) != 0 || p[25] != 0 || p[26] != 0 || p[27] != 0) {
    return Status::Corruption("packet header has unknown flags or non-zero reserved bytes");
  }
  h.last = (flags & kFlagLast) != 0;
  h.sync = (flags & kFlagSync) != 0;
  if (h.seqno < kHeartbeatSeqno) {
    return Status::Corruption("packet seqno " + std::to_string(h.seqno) + " is negative");
  }
  if (h.data_len > kMaxPacketDataBytes) {
    return Status::InvalidArgument(Describe(h) + ": data exceeds the limit of " +
                                   std::to_string(kMaxPacketDataBytes) + " bytes");
  }
  // Every piece holds at least one byte, so more checksums than data bytes is never valid.
  if (h.checksum_len % kChecksumBytes != 0 ||
      h.checksum_len / kChecksumBytes > h.data_len) {
    return Status::InvalidArgument(Describe(h) + ": bad checksum length " +
                                   std::to_string(h.checksum_len));
  }
  if (h.offset_in_block + h.data_len < h.offset_in_block) {
    return Status::InvalidArgument(Describe(h) + ": end offset overflows");
  }
  *header = h;
  return Status::OK();
}

Status PacketValidator::Accept(const PacketHeader& h) {
  if (saw_last_) {
    return Status::InvalidArgument(Describe(h) + " after the last packet");
  }
  if (h.heartbeat()) {
    if (h.data_len != 0 || h.checksum_len != 0 || h.last || h.sync) {
      return Status::InvalidArgument("heartbeat packet must be empty and carry no flags");
    }
    return Status::OK();
  }
  if (h.seqno != next_seqno_) {
    return Status::InvalidArgument(Describe(h) + ": expected seqno " +
                                   std::to_string(next_seqno_));
  }
  if (h.offset_in_block != next_offset_) {
    return Status::InvalidArgument(Describe(h) + ": not contiguous, expected offset " +
                                   std::to_string(next_offset_));
  }
  if (h.data_len > options_.max_data_len) {
    return Status::InvalidArgument(Describe(h) + ": exceeds this stream's limit of " +
                                   std::to_string(options_.max_data_len) + " bytes");
  }
  size_t expected = options_.checksums ? ChecksumCount(h.offset_in_block, h.data_len,
                                                       options_.bytes_per_checksum) *
                                             kChecksumBytes
                                       : 0;
  if (h.checksum_len != expected) {
    return Status::InvalidArgument(Describe(h) + ": " + std::to_string(h.checksum_len) +
                                   " bytes of checksums, expected " + std::to_string(expected));
  }
  next_offset_ += h.data_len;
  ++next_seqno_;
  saw_last_ = h.last;
  return Status::OK();
}

}  // namespace talus::transfer
