#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "talus/file_system.h"
#include "talus_rpc/ClientNamenode.h"

namespace talus {

struct NamenodeAddress {
  std::string host;
  int port = 0;
  std::string ToString() const { return host + ":" + std::to_string(port); }
};

// Parses talus://host:port[,host:port...] (the scheme may be left out).
Result<std::vector<NamenodeAddress>> ParseTalusUri(const std::string& uri);

// Talks to the namenode group for the client library: a pool of connections per namenode,
// failover to the leader (following NOT_LEADER hints), reconnects and retries with backoff
// until the options' deadline. Mutations keep their call id across retries, so the namenode's
// retry cache makes a retried mutation safe. Thread-safe.
class NamenodeProxy {
 public:
  NamenodeProxy(std::vector<NamenodeAddress> namenodes, const ClientOptions& options,
                std::string user);
  ~NamenodeProxy();

  // A header for one logical call; a mutation gets a fresh call id.
  rpc::RequestHeader NewHeader(bool mutation);

  // Runs `fn` on a pooled client until it succeeds, fails with an error the namenode
  // answered, or the retry deadline passes. `fn` may throw Thrift exceptions; they become a
  // Status here and nowhere else.
  Status Call(const char* what, const std::function<void(rpc::ClientNamenodeClient&)>& fn);

  const std::string& client_id() const { return client_id_; }

 private:
  struct Connection;
  Result<std::unique_ptr<Connection>> Acquire(size_t namenode);
  void Release(size_t namenode, std::unique_ptr<Connection> conn);

  const std::vector<NamenodeAddress> namenodes_;
  const ClientOptions options_;
  const std::string user_;
  const std::string client_id_;  // 16 random bytes
  std::atomic<int64_t> next_call_id_{1};
  std::atomic<size_t> leader_{0};
  std::mutex mu_;
  std::vector<std::vector<std::unique_ptr<Connection>>> idle_;  // per namenode; guarded by mu_
};

}  // namespace talus
