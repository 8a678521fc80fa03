#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "common/result.h"
#include "common/transfer/protocol.h"

// Op frames and response frames of the data transfer protocol (format: protocol.h, part 1).
namespace talus::transfer {

struct HostPort {
  std::string host;
  uint16_t port = 0;
  bool operator==(const HostPort&) const = default;
};

struct WriteBlockOp {
  uint64_t block_id = 0;
  uint64_t genstamp = 0;
  // The generation stamp the replica takes on (recovery and append bump it); 0 = genstamp.
  uint64_t latest_genstamp = 0;
  WriteStage stage = WriteStage::kCreate;
  ChecksumType checksum_type = ChecksumType::kCrc32c;
  uint32_t bytes_per_checksum = kDefaultBytesPerChecksum;
  // For append and recovery, the replica's current length must lie in [min, max].
  uint64_t min_bytes_rcvd = 0;
  uint64_t max_bytes_rcvd = 0;
  std::string client_name;
  // The nodes after the one receiving this op, in pipeline order.
  std::vector<HostPort> targets;
  bool operator==(const WriteBlockOp&) const = default;
};

struct ReadBlockOp {
  uint64_t block_id = 0;
  uint64_t genstamp = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
  bool send_checksums = true;
  std::string client_name;
  bool operator==(const ReadBlockOp&) const = default;
};

struct BlockChecksumOp {
  uint64_t block_id = 0;
  uint64_t genstamp = 0;
  uint64_t length = kWholeBlock;  // checksum the first `length` bytes of the block
  bool operator==(const BlockChecksumOp&) const = default;
};

// Pipeline recovery: the receiving datanode copies the first `length` bytes of its replica (at
// exactly `genstamp`) to `targets`, unfinalized, so a node joining the pipeline holds what
// the others acknowledged.
struct TransferBlockOp {
  uint64_t block_id = 0;
  uint64_t genstamp = 0;
  uint64_t length = 0;
  std::string client_name;
  std::vector<HostPort> targets;  // 1..kMaxPipelineNodes - 1
  bool operator==(const TransferBlockOp&) const = default;
};

using TransferOp = std::variant<WriteBlockOp, ReadBlockOp, BlockChecksumOp, TransferBlockOp>;

// The answer to any op. Fields that do not apply to the op are zero.
struct OpResponse {
  TransferStatus status = TransferStatus::kSuccess;
  std::string message;  // why it failed; for a failed pipeline setup, the first bad node
  // READ_BLOCK: how the packets that follow are checksummed and where the first one starts.
  ChecksumType checksum_type = ChecksumType::kNone;
  uint32_t bytes_per_checksum = 0;
  uint64_t first_chunk_offset = 0;
  // BLOCK_CHECKSUM: CRC32C of the covered bytes, and how many bytes it covers.
  uint32_t block_crc = 0;
  uint64_t block_crc_length = 0;
  bool operator==(const OpResponse&) const = default;
};

// A frame whose prefix has been validated and whose body has been read but not decoded.
struct Frame {
  uint8_t kind = 0;
  std::string body;
};

using FramePrefix = std::array<uint8_t, kFramePrefixBytes>;

// Validates a frame prefix: magic, version, known kind, reserved byte, body length within
// kMaxFrameBodyBytes. On success returns the body length and sets *kind.
Result<uint32_t> DecodeFramePrefix(const uint8_t* prefix, uint8_t* kind);
// Checks the body's CRC against the prefix's.
Status CheckFrameBody(const uint8_t* prefix, const std::string& body);

// Encodes a whole frame (prefix + body). Fails only if a field is over its bound (a caller bug
// or bad input on the sending side, reported rather than truncated).
Result<std::string> EncodeOp(const TransferOp& op);
Result<std::string> EncodeResponse(const OpResponse& response);

// Decodes a frame read by ReadFrame. Every field is validated; trailing bytes are an error.
Result<TransferOp> DecodeOp(const Frame& frame);
Result<OpResponse> DecodeResponse(const Frame& frame);

// The op a datanode forwards to the next node of a write pipeline: the same op with its own
// entry (targets[0], the node being connected to) removed from the targets. Requires a target.
WriteBlockOp DownstreamOp(const WriteBlockOp& op);

// Decoders of bodies alone, exposed for tests.
Result<WriteBlockOp> DecodeWriteBlockBody(const std::string& body);
Result<ReadBlockOp> DecodeReadBlockBody(const std::string& body);
Result<BlockChecksumOp> DecodeBlockChecksumBody(const std::string& body);
Result<TransferBlockOp> DecodeTransferBlockBody(const std::string& body);

}  // namespace talus::transfer
