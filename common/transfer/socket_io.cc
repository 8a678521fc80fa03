#include "common/transfer/socket_io.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace talus::transfer {
namespace {

// Waits until fd is ready for `events` or the deadline passes.
Status WaitFor(int fd, short events, Deadline deadline, const char* what) {
  while (true) {
    int timeout_ms = -1;
    if (deadline != Deadline::max()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      // Round up so a sub-millisecond remainder still waits rather than spinning.
      timeout_ms = static_cast<int>(std::clamp<int64_t>(left.count() + 1, 0, INT32_MAX));
      if (Clock::now() >= deadline) timeout_ms = 0;
    }
    struct pollfd pfd = {fd, events, 0};
    int rc = ::poll(&pfd, 1, timeout_ms);
    if (rc > 0) return Status::OK();  // readiness or an error: the next call reports which
    if (rc == 0) {
      if (Clock::now() >= deadline) return Status::TimedOut(std::string("timed out ") + what);
      continue;
    }
    if (errno != EINTR) return Status::FromErrno(errno, std::string("poll while ") + what);
  }
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) Reset(other.Release());
  return *this;
}

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Status ReadFully(int fd, void* buf, size_t n, Deadline deadline, bool* clean_eof) {
  auto* p = static_cast<uint8_t*>(buf);
  size_t done = 0;
  if (clean_eof != nullptr) *clean_eof = false;
  while (done < n) {
    ssize_t got = ::recv(fd, p + done, n - done, MSG_DONTWAIT);
    if (got > 0) {
      done += static_cast<size_t>(got);
      continue;
    }
    if (got == 0) {
      if (clean_eof != nullptr) *clean_eof = done == 0;
      return Status::IoError("connection closed by peer after " + std::to_string(done) + " of " +
                             std::to_string(n) + " bytes");
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return Status::FromErrno(errno, "recv");
    RETURN_NOT_OK(WaitFor(fd, POLLIN, deadline, "reading from socket"));
  }
  return Status::OK();
}

Status WriteFully(int fd, const void* buf, size_t n, Deadline deadline) {
  struct iovec iov = {const_cast<void*>(buf), n};
  return WritevFully(fd, &iov, 1, deadline);
}

Status WritevFully(int fd, struct iovec* iov, int iovcnt, Deadline deadline, bool more) {
  const int flags = MSG_DONTWAIT | MSG_NOSIGNAL | (more ? MSG_MORE : 0);
  // Skip empty entries up front so the loop's "all sent" test is simply iovcnt == 0.
  while (iovcnt > 0 && iov->iov_len == 0) {
    ++iov;
    --iovcnt;
  }
  while (iovcnt > 0) {
    struct msghdr msg = {};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(iovcnt);
    ssize_t sent = ::sendmsg(fd, &msg, flags);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return Status::FromErrno(errno, "sendmsg");
      RETURN_NOT_OK(WaitFor(fd, POLLOUT, deadline, "writing to socket"));
      continue;
    }
    auto left = static_cast<size_t>(sent);
    while (iovcnt > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --iovcnt;
    }
    if (iovcnt > 0) {
      iov->iov_base = static_cast<uint8_t*>(iov->iov_base) + left;
      iov->iov_len -= left;
      while (iovcnt > 0 && iov->iov_len == 0) {
        ++iov;
        --iovcnt;
      }
    }
  }
  return Status::OK();
}

Status SendFileFully(int socket_fd, int file_fd, uint64_t offset, size_t n, Deadline deadline) {
  auto pos = static_cast<off_t>(offset);
  size_t done = 0;
  while (done < n) {
    ssize_t sent = ::sendfile(socket_fd, file_fd, &pos, n - done);
    if (sent > 0) {
      done += static_cast<size_t>(sent);
      continue;
    }
    if (sent == 0) {
      return Status::IoError("file ended at offset " + std::to_string(pos) + " with " +
                             std::to_string(n - done) + " bytes still to send");
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return Status::FromErrno(errno, "sendfile");
    RETURN_NOT_OK(WaitFor(socket_fd, POLLOUT, deadline, "sending file data to socket"));
  }
  return Status::OK();
}

Status SetNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return Status::FromErrno(errno, "fcntl O_NONBLOCK");
  }
  return Status::OK();
}

Result<UniqueFd> SocketConnect(const std::string& host, uint16_t port, Deadline deadline) {
  struct addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* addrs = nullptr;
  std::string port_str = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), port_str.c_str(), &hints, &addrs);
  if (rc != 0) {
    return Status::Unavailable("cannot resolve " + host + ": " + ::gai_strerror(rc));
  }
  Status last = Status::Unavailable("no address for " + host);
  for (struct addrinfo* a = addrs; a != nullptr; a = a->ai_next) {
    UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                         a->ai_protocol));
    if (!fd.valid()) {
      last = Status::FromErrno(errno, "socket");
      continue;
    }
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last = Status::FromErrno(errno, "connect to " + host + ":" + port_str);
        continue;
      }
      Status wait = WaitFor(fd.get(), POLLOUT, deadline, ("connecting to " + host + ":" +
                                                           port_str).c_str());
      if (!wait.ok()) {
        last = std::move(wait);
        if (last.code() == ErrorCode::kTimedOut) break;
        continue;
      }
      int err = 0;
      socklen_t len = sizeof(err);
      if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err != 0) {
        last = Status::FromErrno(err, "connect to " + host + ":" + port_str);
        continue;
      }
    }
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    // Back to blocking mode: our calls pass MSG_DONTWAIT, and callers may use sendfile.
    int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
    ::freeaddrinfo(addrs);
    return fd;
  }
  ::freeaddrinfo(addrs);
  if (last.code() == ErrorCode::kTimedOut) return last;
  return Status(ErrorCode::kUnavailable, last.message());
}

}  // namespace talus::transfer
