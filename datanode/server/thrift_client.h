#pragma once

#include <memory>
#include <string>

#include <thrift/Thrift.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include "common/result.h"
#include "common/rpc/thrift_status.h"
#include "talus_rpc/common_types.h"

// A blocking Thrift client (framed, binary) with timeouts, for the datanode's outgoing calls:
// to the namenodes (DatanodeNamenodeClient) and to peer datanodes (DatanodeProtocolClient).
namespace talus::datanode {

template <typename Client>
class SyncThriftClient {
 public:
  // Connects; every later call fails after timeout_ms without progress.
  static Result<std::unique_ptr<SyncThriftClient>> Connect(const std::string& host, int port,
                                                           int timeout_ms) {
    auto socket = std::make_shared<apache::thrift::transport::TSocket>(host, port);
    socket->setConnTimeout(timeout_ms);
    socket->setRecvTimeout(timeout_ms);
    socket->setSendTimeout(timeout_ms);
    socket->setLinger(false, 0);
    auto transport = std::make_shared<apache::thrift::transport::TFramedTransport>(socket);
    auto protocol = std::make_shared<apache::thrift::protocol::TBinaryProtocol>(transport);
    std::unique_ptr<SyncThriftClient> client(new SyncThriftClient());
    client->transport_ = transport;
    client->client_ = std::make_unique<Client>(protocol);
    try {
      transport->open();
    } catch (const apache::thrift::TException& e) {
      return Status::Unavailable("cannot connect to " + host + ":" + std::to_string(port) +
                                 ": " + e.what());
    }
    return client;
  }
  ~SyncThriftClient() {
    try {
      transport_->close();
    } catch (...) {
    }
  }

  // Runs `fn(client)`; a TalusError becomes its Status, any other Thrift failure Unavailable
  // (after which this client must be dropped: the connection may be out of step).
  template <typename Fn>
  Status Call(const char* what, Fn&& fn) {
    try {
      fn(*client_);
      return Status::OK();
    } catch (const rpc::TalusError& e) {
      return FromThriftError(e).Prepend(what);
    } catch (const apache::thrift::TException& e) {
      broken_ = true;
      return Status::Unavailable(std::string(what) + ": " + e.what());
    }
  }
  bool broken() const { return broken_; }

 private:
  SyncThriftClient() = default;
  std::shared_ptr<apache::thrift::transport::TTransport> transport_;
  std::unique_ptr<Client> client_;
  bool broken_ = false;
};

}  // namespace talus::datanode
