#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/status.h"
#include "common/transfer/packet.h"
#include "common/transfer/pipeline_ack.h"
#include "common/transfer/socket_io.h"

// Buffered reading of a write stream's packets and acks. One recv takes whatever the socket
// holds (up to the buffer's size), so a stream of packets costs about one system call per
// packet or less instead of three, and acks one per several. Packets are handed out in place.
namespace talus::datanode {

class SocketBuffer {
 public:
  explicit SocketBuffer(size_t capacity) : buf_(capacity) {}

  // Makes at least n bytes available at data(), reading from fd (whatever it has, up to the
  // buffer's room) until they are. Pointers into earlier data are invalid afterwards. IoError
  // on end of stream, TimedOut at the deadline.
  Status Fill(int fd, size_t n, transfer::Deadline deadline);
  const uint8_t* data() const { return buf_.data() + begin_; }
  size_t size() const { return end_ - begin_; }
  // Drops n bytes from the front; they stay readable until the next Fill.
  void Consume(size_t n);
  // A descriptor (an eventfd) that, once readable, makes a Fill waiting for data give up
  // (IoError): how a stream that failed elsewhere stops its reader without shutting the
  // socket, whose peer still has to read what was sent last. -1: none.
  void set_wake_fd(int fd) { wake_fd_ = fd; }

 private:
  std::vector<uint8_t> buf_;
  int wake_fd_ = -1;
  size_t begin_ = 0;
  size_t end_ = 0;
};

// A packet read in place: checksums and data point into the SocketBuffer and stay valid until
// its next Fill.
struct PacketView {
  transfer::PacketHeader header;
  const uint8_t* checksums = nullptr;
  const uint8_t* data = nullptr;
};

// As transfer::ReadPacket: the header is decoded and accepted by the validator before the
// payload is waited for.
Status ReadPacketBuffered(int fd, transfer::Deadline deadline,
                          transfer::PacketValidator* validator, SocketBuffer* buffer,
                          PacketView* packet);

// As transfer::ReadAck.
Status ReadAckBuffered(int fd, transfer::Deadline deadline, SocketBuffer* buffer,
                       transfer::PipelineAck* ack);

}  // namespace talus::datanode
