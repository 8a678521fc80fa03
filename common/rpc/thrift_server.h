#pragma once

#include <memory>
#include <string>
#include <thread>

#include "common/result.h"

namespace apache::thrift {
class TProcessor;
namespace server {
class TThreadedServer;
}
}  // namespace apache::thrift

namespace talus {

struct ThriftServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: pick a free port
  // Frames above this are refused and their connection closed; the server keeps serving.
  int max_frame_bytes = 16 << 20;
  int max_concurrent_connections = 4096;
  // A connection idle this long is closed (0: never).
  int idle_timeout_ms = 0;
};

// A thread-per-connection Thrift server (framed transport, binary protocol) on its own thread.
// Every frame and string it reads is bounded, and a malformed request only costs its own
// connection.
class ThriftServer {
 public:
  // Binds and starts serving; returns once the socket listens.
  static Result<std::unique_ptr<ThriftServer>> Start(
      std::shared_ptr<apache::thrift::TProcessor> processor, const ThriftServerOptions& options);
  ~ThriftServer();

  int port() const { return port_; }
  const std::string& host() const { return host_; }
  // Stops accepting and closes connections; idempotent.
  void Stop();

 private:
  ThriftServer() = default;
  std::shared_ptr<apache::thrift::server::TThreadedServer> server_;
  std::thread thread_;
  std::string host_;
  int port_ = 0;
  bool stopped_ = false;
};

}  // namespace talus
