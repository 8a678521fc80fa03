#pragma once

#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/result.h"

// Blocking I/O with deadlines over connected stream sockets, shared by the client and the
// datanode. Calls use send/recv with MSG_DONTWAIT and poll, so they honour the deadline whether
// or not the descriptor is in non-blocking mode, and never raise SIGPIPE. Socket descriptors
// only (not pipes or files).
namespace talus::transfer {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

inline Deadline DeadlineAfterMs(int64_t ms) { return Clock::now() + std::chrono::milliseconds(ms); }
inline Deadline NoDeadline() { return Deadline::max(); }

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Reads exactly n bytes. TimedOut if the deadline passes first; IoError if the peer closes the
// connection first (then *clean_eof, if given, says whether no byte at all had been read, which
// a server treats as the client simply hanging up between ops).
Status ReadFully(int fd, void* buf, size_t n, Deadline deadline, bool* clean_eof = nullptr);

// Writes exactly n bytes, or TimedOut / IoError.
Status WriteFully(int fd, const void* buf, size_t n, Deadline deadline);

// Writes every byte of iov[0, iovcnt) in order, gathering without copying (sendmsg). The iovec
// array is modified as bytes go out. iovcnt must not exceed IOV_MAX. `more` sets MSG_MORE: more
// data follows at once, so TCP may hold a partial segment back.
Status WritevFully(int fd, struct iovec* iov, int iovcnt, Deadline deadline, bool more = false);

// Sends file bytes [offset, offset + n) with sendfile (no copy through user space), for the
// data of read packets. The deadline is honoured only if the socket is non-blocking (see
// SetNonBlocking); on a blocking socket sendfile waits for buffer space. A file shorter than
// offset + n is an IoError.
Status SendFileFully(int socket_fd, int file_fd, uint64_t offset, size_t n, Deadline deadline);

// Puts fd in non-blocking mode. The other calls here work in either mode.
Status SetNonBlocking(int fd);

// Connects a TCP socket to host:port (name or address) within the deadline, trying each address
// the name resolves to. Sets TCP_NODELAY, since packets and acks are small and latency-bound.
// Name resolution (getaddrinfo) is not bounded by the deadline; datanodes are normally given as
// addresses. The returned socket is in blocking mode (every call here works in either mode).
Result<UniqueFd> SocketConnect(const std::string& host, uint16_t port, Deadline deadline);

}  // namespace talus::transfer
