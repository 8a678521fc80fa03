#include "datanode/transfer/socket_buffer.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace talus::datanode {

namespace {

Status WaitReadable(int fd, int wake_fd, transfer::Deadline deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                      transfer::Clock::now());
    if (left.count() < 0) return Status::TimedOut("timed out reading from socket");
    struct pollfd pfd[2] = {{fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    int rc = ::poll(pfd, wake_fd >= 0 ? 2 : 1,
                    static_cast<int>(std::min<int64_t>(left.count() + 1, INT32_MAX)));
    if (rc > 0 && wake_fd >= 0 && (pfd[1].revents & POLLIN) != 0) {
      return Status::IoError("reading stopped: the stream failed");
    }
    if (rc > 0) return Status::OK();
    if (rc < 0 && errno != EINTR) return Status::FromErrno(errno, "poll while reading");
  }
}

}  // namespace

Status SocketBuffer::Fill(int fd, size_t n, transfer::Deadline deadline) {
  if (size() >= n) return Status::OK();
  if (begin_ + n > buf_.size()) {
    // Move the partial message to the front; only its few bytes are copied.
    std::memmove(buf_.data(), buf_.data() + begin_, size());
    end_ -= begin_;
    begin_ = 0;
    if (n > buf_.size()) buf_.resize(std::max(n, 2 * buf_.size()));
  }
  while (size() < n) {
    ssize_t got = ::recv(fd, buf_.data() + end_, buf_.size() - end_, MSG_DONTWAIT);
    if (got > 0) {
      end_ += static_cast<size_t>(got);
      continue;
    }
    if (got == 0) {
      return Status::IoError("connection closed by peer after " + std::to_string(size()) +
                             " of " + std::to_string(n) + " bytes");
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return Status::FromErrno(errno, "recv");
    RETURN_NOT_OK(WaitReadable(fd, wake_fd_, deadline));
  }
  return Status::OK();
}

void SocketBuffer::Consume(size_t n) {
  begin_ += n;
  if (begin_ == end_) begin_ = end_ = 0;
}

Status ReadPacketBuffered(int fd, transfer::Deadline deadline,
                          transfer::PacketValidator* validator, SocketBuffer* buffer,
                          PacketView* packet) {
  RETURN_NOT_OK(buffer->Fill(fd, transfer::kPacketHeaderBytes, deadline));
  transfer::PacketHeader header;
  RETURN_NOT_OK(transfer::DecodePacketHeader(buffer->data(), &header));
  RETURN_NOT_OK(validator->Accept(header));
  const size_t total = transfer::kPacketHeaderBytes + header.checksum_len + header.data_len;
  RETURN_NOT_OK(buffer->Fill(fd, total, deadline));
  packet->header = header;
  packet->checksums = buffer->data() + transfer::kPacketHeaderBytes;
  packet->data = packet->checksums + header.checksum_len;
  buffer->Consume(total);
  return Status::OK();
}

Status ReadAckBuffered(int fd, transfer::Deadline deadline, SocketBuffer* buffer,
                       transfer::PipelineAck* ack) {
  RETURN_NOT_OK(buffer->Fill(fd, transfer::kAckPrefixBytes, deadline));
  size_t rest = 0;
  RETURN_NOT_OK(transfer::DecodeAckPrefix(buffer->data(), &rest));
  const size_t total = transfer::kAckPrefixBytes + rest;
  RETURN_NOT_OK(buffer->Fill(fd, total, deadline));
  RETURN_NOT_OK(transfer::DecodePipelineAck(buffer->data(), total, ack));
  buffer->Consume(total);
  return Status::OK();
}

}  // namespace talus::datanode
