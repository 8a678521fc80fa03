#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/transfer/protocol.h"

// Acks flowing up a write pipeline (protocol.h, part 3).
namespace talus::transfer {

struct PipelineAck {
  int64_t seqno = 0;
  // replies[0] is the sending node's own status, then each node further down, in order.
  std::vector<TransferStatus> replies;

  bool AllSucceeded() const;
  // Index of the first node that did not succeed, or -1.
  int FirstFailure() const;
  bool operator==(const PipelineAck&) const = default;
};

// The ack a datanode sends upstream: its own status first, then the replies of the ack it got
// from downstream (none for the last node, or when downstream failed before acking; then `own`
// should say so). Downstream replies beyond kMaxPipelineNodes - 1 are dropped.
PipelineAck MakeUpstreamAck(int64_t seqno, TransferStatus own, const PipelineAck* downstream);

inline constexpr size_t kAckPrefixBytes = 12;

// Fails (InvalidArgument) on 0 or more than kMaxPipelineNodes replies.
Status EncodePipelineAck(const PipelineAck& ack, std::string* out);
// Validates the fixed prefix; returns in *rest the bytes still to read (statuses + CRC).
Status DecodeAckPrefix(const uint8_t* prefix, size_t* rest);
// Decodes a whole ack of `size` bytes (prefix + rest).
Status DecodePipelineAck(const uint8_t* bytes, size_t size, PipelineAck* ack);

}  // namespace talus::transfer
