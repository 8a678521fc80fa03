#include "client/namenode_proxy.h"

#include <glog/logging.h>
#include <thrift/TApplicationException.h>
#include <thrift/TOutput.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>
#include <thrift/transport/TTransportException.h>

#include <fstream>
#include <random>
#include <thread>

#include "common/rpc/thrift_status.h"

namespace talus {

namespace {

std::string RandomClientId() {
  std::string id(16, '\0');
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  if (!urandom.read(id.data(), 16)) {
    std::random_device rd;
    for (char& c : id) c = static_cast<char>(rd());
  }
  return id;
}

}  // namespace

Result<std::vector<NamenodeAddress>> ParseTalusUri(const std::string& uri) {
  std::string rest = uri;
  const std::string scheme = "talus://";
  if (rest.rfind(scheme, 0) == 0) {
    rest = rest.substr(scheme.size());
  } else if (rest.find("://") != std::string::npos) {
    return Status::InvalidArgument("Wrong FS: " + uri + ", expected: talus://host:port");
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  std::vector<NamenodeAddress> out;
  size_t start = 0;
  while (start <= rest.size()) {
    size_t end = rest.find(',', start);
    if (end == std::string::npos) end = rest.size();
    std::string item = rest.substr(start, end - start);
    start = end + 1;
    size_t colon = item.rfind(':');
    if (item.empty() || colon == std::string::npos || colon == 0 || colon + 1 == item.size()) {
      return Status::InvalidArgument("bad namenode address \"" + item + "\" in " + uri +
                                     " (expected host:port)");
    }
    NamenodeAddress addr;
    addr.host = item.substr(0, colon);
    const std::string port = item.substr(colon + 1);
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) < 1 || std::stoi(port) > 65535) {
      return Status::InvalidArgument("bad port \"" + port + "\" in " + uri);
    }
    addr.port = std::stoi(port);
    out.push_back(std::move(addr));
    if (end == rest.size()) break;
  }
  if (out.empty()) return Status::InvalidArgument("no namenode address in " + uri);
  return out;
}

struct NamenodeProxy::Connection {
  std::shared_ptr<apache::thrift::transport::TTransport> transport;
  std::unique_ptr<rpc::ClientNamenodeClient> client;
};

namespace {
// Thrift prints connection errors to stderr by default; they reach the caller as a Status.
void QuietThriftOutput(const char* message) { VLOG(1) << "thrift: " << message; }
}  // namespace

NamenodeProxy::NamenodeProxy(std::vector<NamenodeAddress> namenodes, const ClientOptions& options,
                             std::string user)
    : namenodes_(std::move(namenodes)),
      options_(options),
      user_(std::move(user)),
      client_id_(RandomClientId()),
      idle_(namenodes_.size()) {
  static std::once_flag quiet;
  std::call_once(quiet, [] { apache::thrift::GlobalOutput.setOutputFunction(QuietThriftOutput); });
}

NamenodeProxy::~NamenodeProxy() {
  for (auto& pool : idle_) {
    for (auto& conn : pool) {
      try {
        conn->transport->close();
      } catch (...) {
      }
    }
  }
}

rpc::RequestHeader NamenodeProxy::NewHeader(bool mutation) {
  rpc::RequestHeader h;
  h.user = user_;
  h.client_id = client_id_;
  h.call_id = mutation ? next_call_id_.fetch_add(1) : 0;
  return h;
}

Result<std::unique_ptr<NamenodeProxy::Connection>> NamenodeProxy::Acquire(size_t namenode) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& pool = idle_[namenode];
    if (!pool.empty()) {
      std::unique_ptr<Connection> conn = std::move(pool.back());
      pool.pop_back();
      return conn;
    }
  }
  const NamenodeAddress& addr = namenodes_[namenode];
  auto socket = std::make_shared<apache::thrift::transport::TSocket>(addr.host, addr.port);
  socket->setConnTimeout(options_.connect_timeout_ms);
  socket->setRecvTimeout(options_.rpc_timeout_ms);
  socket->setSendTimeout(options_.rpc_timeout_ms);
  socket->setNoDelay(true);
  auto conn = std::make_unique<Connection>();
  // Buffered below the framing: one recv() usually brings a whole reply.
  conn->transport = std::make_shared<apache::thrift::transport::TFramedTransport>(
      std::make_shared<apache::thrift::transport::TBufferedTransport>(socket, 8192));
  try {
    conn->transport->open();
  } catch (const apache::thrift::transport::TTransportException& e) {
    return Status::Unavailable("cannot connect to namenode " + addr.ToString() + ": " + e.what());
  }
  conn->client = std::make_unique<rpc::ClientNamenodeClient>(
      std::make_shared<apache::thrift::protocol::TBinaryProtocol>(conn->transport));
  return conn;
}

void NamenodeProxy::Release(size_t namenode, std::unique_ptr<Connection> conn) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_[namenode].push_back(std::move(conn));
}

Status NamenodeProxy::Call(const char* what,
                           const std::function<void(rpc::ClientNamenodeClient&)>& fn) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.retry_deadline_ms);
  auto backoff = std::chrono::milliseconds(10);
  Status last_error;
  for (int attempt = 0;; ++attempt) {
    const size_t namenode = leader_.load() % namenodes_.size();
    Result<std::unique_ptr<Connection>> conn = Acquire(namenode);
    if (conn.ok()) {
      try {
        fn(*(*conn)->client);
        Release(namenode, std::move(*conn));
        return Status::OK();
      } catch (const rpc::TalusError& e) {
        Release(namenode, std::move(*conn));  // an answered error leaves the connection usable
        Status s = FromThriftError(e);
        if (s.code() != ErrorCode::kNotLeader) return s;
        last_error = s;
        size_t next = (namenode + 1) % namenodes_.size();
        for (size_t i = 0; i < namenodes_.size(); ++i) {
          if (!s.detail().empty() && namenodes_[i].ToString() == s.detail()) next = i;
        }
        leader_.store(next);
      } catch (const apache::thrift::transport::TTransportException& e) {
        // Dropped connection or timeout: the call may or may not have run. Retrying is safe:
        // reads are idempotent and mutations carry the same call id.
        last_error = Status::Unavailable(std::string(what) + ": namenode " +
                                         namenodes_[namenode].ToString() + ": " + e.what());
        leader_.store((namenode + 1) % namenodes_.size());
      } catch (const apache::thrift::TApplicationException& e) {
        return Status::Internal(std::string(what) + ": namenode " +
                                namenodes_[namenode].ToString() + " failed: " + e.what());
      } catch (const apache::thrift::TException& e) {
        last_error = Status::IoError(std::string(what) + ": " + e.what());
        leader_.store((namenode + 1) % namenodes_.size());
      }
    } else {
      last_error = conn.status();
      leader_.store((namenode + 1) % namenodes_.size());
    }
    if (std::chrono::steady_clock::now() + backoff >= deadline) break;
    // Back off only after a full round over the namenodes failed.
    if ((attempt + 1) % namenodes_.size() == 0) {
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
    }
  }
  VLOG(1) << what << " gave up: " << last_error;
  return last_error;
}

}  // namespace talus
