#include "common/transfer/stream_io.h"

#include <sys/uio.h>

#include <string>

namespace talus::transfer {

Status ReadFrame(int fd, Deadline deadline, Frame* frame, bool* clean_eof) {
  FramePrefix prefix;
  RETURN_NOT_OK(ReadFully(fd, prefix.data(), prefix.size(), deadline, clean_eof));
  uint8_t kind = 0;
  ASSIGN_OR_RETURN(uint32_t body_len, DecodeFramePrefix(prefix.data(), &kind));
  frame->kind = kind;
  frame->body.resize(body_len);
  RETURN_NOT_OK(ReadFully(fd, frame->body.data(), body_len, deadline));
  return CheckFrameBody(prefix.data(), frame->body);
}

Status WriteOp(int fd, const TransferOp& op, Deadline deadline) {
  ASSIGN_OR_RETURN(std::string bytes, EncodeOp(op));
  return WriteFully(fd, bytes.data(), bytes.size(), deadline);
}

Result<TransferOp> ReadOp(int fd, Deadline deadline, bool* clean_eof) {
  Frame frame;
  RETURN_NOT_OK(ReadFrame(fd, deadline, &frame, clean_eof));
  return DecodeOp(frame);
}

Status WriteResponse(int fd, const OpResponse& response, Deadline deadline) {
  ASSIGN_OR_RETURN(std::string bytes, EncodeResponse(response));
  return WriteFully(fd, bytes.data(), bytes.size(), deadline);
}

Result<OpResponse> ReadResponse(int fd, Deadline deadline) {
  Frame frame;
  RETURN_NOT_OK(ReadFrame(fd, deadline, &frame));
  return DecodeResponse(frame);
}

Status WritePacket(int fd, const PacketHeader& header, const uint8_t* checksums,
                   const uint8_t* data, Deadline deadline) {
  EncodedPacketHeader encoded = EncodePacketHeader(header);
  struct iovec iov[3] = {
      {encoded.data(), encoded.size()},
      {const_cast<uint8_t*>(checksums), header.checksum_len},
      {const_cast<uint8_t*>(data), header.data_len},
  };
  return WritevFully(fd, iov, 3, deadline);
}

Status WritePacketFromFile(int fd, const PacketHeader& header, const uint8_t* checksums,
                           int file_fd, uint64_t file_offset, Deadline deadline) {
  EncodedPacketHeader encoded = EncodePacketHeader(header);
  struct iovec iov[2] = {
      {encoded.data(), encoded.size()},
      {const_cast<uint8_t*>(checksums), header.checksum_len},
  };
  RETURN_NOT_OK(WritevFully(fd, iov, 2, deadline, /*more=*/header.data_len > 0));
  return SendFileFully(fd, file_fd, file_offset, header.data_len, deadline);
}

Status ReadPacket(int fd, Deadline deadline, PacketValidator* validator, PacketBuffer* packet) {
  EncodedPacketHeader raw;
  RETURN_NOT_OK(ReadFully(fd, raw.data(), raw.size(), deadline));
  PacketHeader header;
  RETURN_NOT_OK(DecodePacketHeader(raw.data(), &header));
  RETURN_NOT_OK(validator->Accept(header));
  packet->header = header;
  if (packet->checksums.size() < header.checksum_len) packet->checksums.resize(header.checksum_len);
  if (packet->data.size() < header.data_len) packet->data.resize(header.data_len);
  RETURN_NOT_OK(ReadFully(fd, packet->checksums.data(), header.checksum_len, deadline));
  return ReadFully(fd, packet->data.data(), header.data_len, deadline);
}

Status WriteAck(int fd, const PipelineAck& ack, Deadline deadline) {
  std::string bytes;
  RETURN_NOT_OK(EncodePipelineAck(ack, &bytes));
  return WriteFully(fd, bytes.data(), bytes.size(), deadline);
}

Status ReadAck(int fd, Deadline deadline, PipelineAck* ack) {
  uint8_t buf[kAckPrefixBytes + kMaxPipelineNodes + 4];
  RETURN_NOT_OK(ReadFully(fd, buf, kAckPrefixBytes, deadline));
  size_t rest = 0;
  RETURN_NOT_OK(DecodeAckPrefix(buf, &rest));
  RETURN_NOT_OK(ReadFully(fd, buf + kAckPrefixBytes, rest, deadline));
  return DecodePipelineAck(buf, kAckPrefixBytes + rest, ack);
}

}  // namespace talus::transfer
