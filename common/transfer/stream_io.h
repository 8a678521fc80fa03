#pragma once

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "common/transfer/ops.h"
#include "common/transfer/packet.h"
#include "common/transfer/pipeline_ack.h"
#include "common/transfer/socket_io.h"

// Sending and receiving whole protocol messages over a socket: what the client, the datanode's
// transfer server and a datanode forwarding down the pipeline all call.
namespace talus::transfer {

// Reads one frame: validates the prefix before allocating the body (never more than
// kMaxFrameBodyBytes), then checks the body CRC. *clean_eof as in ReadFully.
Status ReadFrame(int fd, Deadline deadline, Frame* frame, bool* clean_eof = nullptr);

Status WriteOp(int fd, const TransferOp& op, Deadline deadline);
Result<TransferOp> ReadOp(int fd, Deadline deadline, bool* clean_eof = nullptr);
Status WriteResponse(int fd, const OpResponse& response, Deadline deadline);
Result<OpResponse> ReadResponse(int fd, Deadline deadline);

// Sends header, checksums and data with one gathering write, without copying them. The header's
// checksum_len and data_len must equal the spans' sizes (InvalidArgument otherwise).
Status WritePacket(int fd, const PacketHeader& header, const uint8_t* checksums,
                   const uint8_t* data, Deadline deadline);

// As WritePacket, but the data comes from file_fd at file_offset via sendfile (a datanode
// serving READ_BLOCK). Header and checksums go first in one write, flagged MSG_MORE so TCP
// sends them with the data rather than as a small segment of their own.
Status WritePacketFromFile(int fd, const PacketHeader& header, const uint8_t* checksums,
                           int file_fd, uint64_t file_offset, Deadline deadline);

// A packet read off the wire. The buffers grow to the largest packet seen and are reused.
struct PacketBuffer {
  PacketHeader header;
  std::vector<uint8_t> checksums;  // first header.checksum_len bytes are valid
  std::vector<uint8_t> data;       // first header.data_len bytes are valid
};

// Reads a packet header, has `validator` accept it (so nothing is allocated for a packet the
// stream does not allow), then reads its checksums and data into *packet. Checksums are NOT
// verified here: the caller does it (VerifyChunkChecksums) where it decides what a mismatch means.
Status ReadPacket(int fd, Deadline deadline, PacketValidator* validator, PacketBuffer* packet);

Status WriteAck(int fd, const PipelineAck& ack, Deadline deadline);
Status ReadAck(int fd, Deadline deadline, PipelineAck* ack);

}  // namespace talus::transfer
