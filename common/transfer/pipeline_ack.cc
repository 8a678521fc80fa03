#include "common/transfer/pipeline_ack.h"

#include "common/crc32c.h"
#include "common/transfer/byte_codec.h"

namespace talus::transfer {

bool PipelineAck::AllSucceeded() const { return FirstFailure() < 0; }

int PipelineAck::FirstFailure() const {
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i] != TransferStatus::kSuccess) return static_cast<int>(i);
  }
  return -1;
}

PipelineAck MakeUpstreamAck(int64_t seqno, TransferStatus own, const PipelineAck* downstream) {
  PipelineAck ack;
  ack.seqno = seqno;
  ack.replies.push_back(own);
  if (downstream != nullptr) {
    for (TransferStatus s : downstream->replies) {
      if (ack.replies.size() == kMaxPipelineNodes) break;
      ack.replies.push_back(s);
    }
  }
  return ack;
}

Status EncodePipelineAck(const PipelineAck& ack, std::string* out) {
  if (ack.replies.empty() || ack.replies.size() > kMaxPipelineNodes) {
    return Status::InvalidArgument("ack with " + std::to_string(ack.replies.size()) +
                                   " replies; must be 1 to " + std::to_string(kMaxPipelineNodes));
  }
  out->clear();
  ByteWriter w(out);
  w.U64(static_cast<uint64_t>(ack.seqno));
  w.U8(static_cast<uint8_t>(ack.replies.size()));
  w.U8(0);
  w.U16(0);
  for (TransferStatus s : ack.replies) w.U8(static_cast<uint8_t>(s));
  w.U32(crc32c::Value(out->data(), out->size()));
  return Status::OK();
}

Status DecodeAckPrefix(const uint8_t* p, size_t* rest) {
  uint8_t count = p[8];
  if (count == 0 || count > kMaxPipelineNodes) {
    return Status::Corruption("ack with " + std::to_string(count) + " replies; must be 1 to " +
                              std::to_string(kMaxPipelineNodes));
  }
  if (p[9] != 0 || p[10] != 0 || p[11] != 0) {
    return Status::Corruption("ack: reserved bytes are not zero");
  }
  *rest = count + 4;
  return Status::OK();
}

Status DecodePipelineAck(const uint8_t* p, size_t size, PipelineAck* ack) {
  if (size < kAckPrefixBytes) return Status::Corruption("ack truncated");
  size_t rest = 0;
  RETURN_NOT_OK(DecodeAckPrefix(p, &rest));
  if (size != kAckPrefixBytes + rest) {
    return Status::Corruption("ack is " + std::to_string(size) + " bytes, expected " +
                              std::to_string(kAckPrefixBytes + rest));
  }
  if (LoadLe32(p + size - 4) != crc32c::Value(p, size - 4)) {
    return Status::Corruption("ack checksum mismatch");
  }
  PipelineAck out;
  out.seqno = static_cast<int64_t>(LoadLe64(p));
  if (out.seqno < kHeartbeatSeqno) {
    return Status::Corruption("ack seqno " + std::to_string(out.seqno) + " is negative");
  }
  for (size_t i = kAckPrefixBytes; i < size - 4; ++i) {
    if (p[i] > kMaxTransferStatus) {
      return Status::Corruption("ack: unknown status " + std::to_string(p[i]));
    }
    out.replies.push_back(static_cast<TransferStatus>(p[i]));
  }
  *ack = std::move(out);
  return Status::OK();
}

}  // namespace talus::transfer
