#pragma once
// The namenode's web side: the status page (static files compiled in), the JSON API under
// /api/v1 and the download redirect. Reads the same objects the RPC handlers read (through
// namenode/status/ for the cluster summary and the datanode report, the one source of what
// `talus dfsadmin -report` prints), never a copy of their state. See docs/web.md.
#include <cstdint>
#include <memory>
#include <string>

namespace talus {
class Namesystem;
class UserGroups;
namespace blocks {
class BlockManager;
class BlockMap;
class DatanodeManager;
class SafeMode;
}  // namespace blocks
namespace web {
class HttpServer;
}  // namespace web

struct NamenodeWebOptions {
  Namesystem* namesystem = nullptr;
  UserGroups* user_groups = nullptr;
  blocks::DatanodeManager* datanodes = nullptr;
  blocks::BlockMap* block_map = nullptr;
  blocks::BlockManager* block_manager = nullptr;
  blocks::SafeMode* safe_mode = nullptr;
  std::string rpc_address;       // "host:port" of the client RPC server (shown, and given to
                                 // datanodes serving downloads)
  int64_t start_time_ms = 0;     // wall clock, ms since the epoch
  // Browsing and downloads act as this user, with its permissions (HDFS's static web user).
  std::string web_user = "dr.who";
};

class NamenodeWeb {
 public:
  explicit NamenodeWeb(NamenodeWebOptions options);
  ~NamenodeWeb();  // stops the sampler
  NamenodeWeb(const NamenodeWeb&) = delete;
  NamenodeWeb& operator=(const NamenodeWeb&) = delete;

  // Adds the page, /api/v1/* and /metrics to `server` (before it starts), and starts sampling
  // operation rates for the charts.
  void Register(web::HttpServer* server);

 private:
  NamenodeWebOptions options_;
};

}  // namespace talus
