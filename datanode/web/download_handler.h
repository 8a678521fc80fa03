#pragma once
// GET /api/v1/download?path=P&namenode=HOST:PORT: the file's bytes, read through the client
// library from that namenode as the web user, streamed to the browser a chunk at a time (a
// download of any size holds one chunk of memory). The namenode's download link redirects
// here, so the bytes come from a datanode and not through the namenode (as WebHDFS OPEN).
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <httplib.h>

#include "common/result.h"

namespace talus {
class FileSystem;
}

namespace talus::datanode {

struct DownloadHandlerOptions {
  // Hosts a download may name as its namenode: those of this datanode's namenodes.
  std::vector<std::string> namenode_hosts;
  std::string user = "dr.who";
  size_t chunk_bytes = 1 << 20;
  // Namenode clients kept (one per address asked for); a new address beyond this replaces
  // an old one.
  size_t max_clients = 8;
  // How long a download waits for a namenode that does not answer before giving up.
  int namenode_deadline_ms = 10000;
};

// Thread-safe: served by the HTTP server's threads.
class DownloadHandler {
 public:
  explicit DownloadHandler(DownloadHandlerOptions options);
  ~DownloadHandler();

  void Handle(const httplib::Request& req, httplib::Response& res);

 private:
  // The client of the namenode at `address` ("host:port"), made on first use.
  Result<std::shared_ptr<FileSystem>> ClientFor(const std::string& address);

  const DownloadHandlerOptions options_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<FileSystem>> clients_;  // guarded by mu_
};

}  // namespace talus::datanode
