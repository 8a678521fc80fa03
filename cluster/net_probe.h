#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace talus::cluster {

struct HostPort {
  std::string host;
  int port = 0;
  std::string ToString() const { return host + ":" + std::to_string(port); }
};

// Parses "host:port" (port 1..65535). IPv6 literals are not used by the local cluster.
Result<HostPort> ParseHostPort(std::string_view text);

// Reads a daemon's address file: one "host:port" per line, in the order its role documents
// (the namenode writes one line, its RPC address). NotFound while the file does not exist yet;
// the daemon writes it atomically, so a file that exists is complete.
Result<std::vector<HostPort>> ReadAddressFile(const std::string& path);

// True if a TCP connection to `address` is accepted within `timeout`. The connection is closed
// at once: this only tells that something listens there.
bool TcpConnects(const HostPort& address, std::chrono::milliseconds timeout);

// True if a TCP listener could bind `host`:`port` now (IPv4 literal host), as a daemon's server
// would (SO_REUSEADDR, so a closed connection lingering in TIME_WAIT does not count as taken).
bool PortIsFree(const std::string& host, int port);

// `count` distinct ports that are free on `host` (IPv4 literal) now: the kernel picks them for
// sockets bound to port 0, all held open together so none is picked twice, then closed. For a
// daemon that must know its peers' ports before any of them starts (the namenodes' Raft
// transport). Another program may take one before the daemon binds it; the daemon then fails
// with a clear error rather than silently using another port.
Result<std::vector<int>> PickFreePorts(const std::string& host, int count);

}  // namespace talus::cluster
