#include "common/rpc/thrift_server.h"

#include <glog/logging.h>
#include <thrift/TConfiguration.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/server/TThreadedServer.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TServerSocket.h>

#include <condition_variable>
#include <mutex>

namespace talus {

namespace {

using apache::thrift::TConfiguration;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TTransport;

// Framed transports that refuse frames above the configured size.
class BoundedFramedTransportFactory : public apache::thrift::transport::TTransportFactory {
 public:
  static constexpr uint32_t kReadBufferBytes = 8192;

  explicit BoundedFramedTransportFactory(int max_frame_bytes)
      : config_(std::make_shared<TConfiguration>(max_frame_bytes, max_frame_bytes)) {}
  std::shared_ptr<TTransport> getTransport(std::shared_ptr<TTransport> trans) override {
    // The buffer below the framing lets one recv() bring in a frame's header and body.
    auto buffered = std::make_shared<apache::thrift::transport::TBufferedTransport>(
        trans, kReadBufferBytes, config_);
    return std::make_shared<TFramedTransport>(buffered, config_);
  }

 private:
  std::shared_ptr<TConfiguration> config_;
};

// Tells Start() when the server socket listens.
class ListenNotifier : public apache::thrift::server::TServerEventHandler {
 public:
  void preServe() override {
    std::lock_guard<std::mutex> lock(mu_);
    listening_ = true;
    cv_.notify_all();
  }
  void Fail() {
    std::lock_guard<std::mutex> lock(mu_);
    failed_ = true;
    cv_.notify_all();
  }
  bool Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return listening_ || failed_; });
    return listening_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool listening_ = false;
  bool failed_ = false;
};

}  // namespace

Result<std::unique_ptr<ThriftServer>> ThriftServer::Start(
    std::shared_ptr<apache::thrift::TProcessor> processor, const ThriftServerOptions& options) {
  if (options.port < 0 || options.port > 65535) {
    return Status::InvalidArgument("port out of range: " + std::to_string(options.port));
  }
  auto socket = std::make_shared<apache::thrift::transport::TServerSocket>(options.host,
                                                                           options.port);
  if (options.idle_timeout_ms > 0) socket->setRecvTimeout(options.idle_timeout_ms);
  socket->setKeepAlive(true);
  auto protocol_factory = std::make_shared<apache::thrift::protocol::TBinaryProtocolFactory>(
      /*string_size_limit=*/options.max_frame_bytes,
      /*container_size_limit=*/options.max_frame_bytes, /*strict_read=*/true,
      /*strict_write=*/true);
  auto server = std::make_shared<apache::thrift::server::TThreadedServer>(
      processor, socket, std::make_shared<BoundedFramedTransportFactory>(options.max_frame_bytes),
      protocol_factory);
  server->setConcurrentClientLimit(options.max_concurrent_connections);
  auto notifier = std::make_shared<ListenNotifier>();
  server->setServerEventHandler(notifier);

  std::unique_ptr<ThriftServer> out(new ThriftServer());
  out->server_ = server;
  out->host_ = options.host;
  auto error = std::make_shared<std::string>();
  out->thread_ = std::thread([server, notifier, error] {
    try {
      server->serve();
    } catch (const std::exception& e) {
      *error = e.what();
      LOG(ERROR) << "Thrift server stopped: " << e.what();
    }
    notifier->Fail();
  });
  if (!notifier->Wait()) {
    out->thread_.join();
    out->stopped_ = true;
    return Status::IoError("cannot listen on " + options.host + ":" +
                           std::to_string(options.port) + ": " + *error);
  }
  out->port_ = socket->getPort();
  return out;
}

void ThriftServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

ThriftServer::~ThriftServer() { Stop(); }

}  // namespace talus
