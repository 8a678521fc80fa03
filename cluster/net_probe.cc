#include "cluster/net_probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "cluster/files.h"

namespace talus::cluster {

Result<HostPort> ParseHostPort(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return Status::InvalidArgument("expected host:port, got '" + std::string(text) + "'");
  }
  HostPort result;
  result.host = std::string(text.substr(0, colon));
  std::string_view port_text = text.substr(colon + 1);
  auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), result.port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || result.port < 1 ||
      result.port > 65535) {
    return Status::InvalidArgument("bad port in '" + std::string(text) + "'");
  }
  return result;
}

Result<std::vector<HostPort>> ReadAddressFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  std::vector<HostPort> addresses;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    if (!line.empty()) {
      ASSIGN_OR_RETURN(HostPort address, ParseHostPort(line));
      addresses.push_back(std::move(address));
    }
    start = end + 1;
  }
  if (addresses.empty()) return Status::Corruption("address file " + path + " is empty");
  return addresses;
}

bool TcpConnects(const HostPort& address, std::chrono::milliseconds timeout) {
  struct addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  struct addrinfo* found = nullptr;
  std::string port = std::to_string(address.port);
  if (::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found) != 0) return false;
  bool connected = false;
  for (struct addrinfo* ai = found; ai != nullptr && !connected; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      connected = true;
    } else if (errno == EINPROGRESS) {
      struct pollfd pfd = {fd, POLLOUT, 0};
      if (::poll(&pfd, 1, static_cast<int>(timeout.count())) == 1) {
        int error = 0;
        socklen_t len = sizeof(error);
        connected = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error == 0;
      }
    }
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return connected;
}

bool PortIsFree(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool free = ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) == 1 &&
              ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return free;
}

Result<std::vector<int>> PickFreePorts(const std::string& host, int count) {
  std::vector<int> fds;
  std::vector<int> ports;
  Status error;
  for (int i = 0; i < count && error.ok(); ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      error = Status::FromErrno(errno, "socket");
      break;
    }
    fds.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
      error = Status::InvalidArgument("'" + host + "' is not an IPv4 address");
    } else if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      error = Status::FromErrno(errno, "bind " + host + ":0");
    } else if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      error = Status::FromErrno(errno, "getsockname");
    } else {
      ports.push_back(ntohs(addr.sin_port));
    }
  }
  for (int fd : fds) ::close(fd);
  if (!error.ok()) return error;
  return ports;
}

}  // namespace talus::cluster
