#pragma once
// The datanode's web side: its status page (volumes and their usage, replicas, active
// transfers, recent errors), /api/v1/datanode, /metrics and file downloads (the namenode's
// download link redirects here, as HDFS's WebHDFS OPEN does). See docs/web.md.
#include <cstdint>
#include <string>
#include <vector>

namespace talus::web {
class HttpServer;
}

namespace talus::datanode {

class Datanode;

struct DatanodeWebOptions {
  Datanode* datanode = nullptr;
  int64_t start_time_ms = 0;  // wall clock, ms since the epoch
  // Downloads read files as this user, with its permissions (HDFS's static web user).
  std::string web_user = "dr.who";
};

// Adds the page, /api/v1/* and /metrics to `server` before it starts.
void RegisterDatanodeWeb(web::HttpServer* server, const DatanodeWebOptions& options);

}  // namespace talus::datanode
