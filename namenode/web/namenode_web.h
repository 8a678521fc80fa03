#pragma once
// The namenode's web side: the status page (static files compiled in), the JSON API under
// /api/v1 and the download redirect. Reads the same objects the RPC handlers read (through
// namenode/status/ for the cluster summary and the datanode report, the one source of what
// `talus dfsadmin -report` prints), never a copy of their state. See docs/web.md.
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"

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
  // How often operation rates are sampled for /api/v1/ops (10 minutes of samples are kept).
  int64_t ops_sample_interval_ms = 5000;
  // Shown on the page. The namenode does not record a cluster id yet (the namespace reserves a
  // key for one, keys::kMetaClusterId, that nothing writes), so this stays empty.
  std::string cluster_id;
};

class NamenodeWeb {
 public:
  // Every pointer of `options` must be set and outlive the web server; the web user must be a
  // valid user name. InvalidArgument otherwise.
  static Result<std::unique_ptr<NamenodeWeb>> Create(NamenodeWebOptions options);
  ~NamenodeWeb();  // stops the sampler
  NamenodeWeb(const NamenodeWeb&) = delete;
  NamenodeWeb& operator=(const NamenodeWeb&) = delete;

  // Adds the page, /api/v1/* and /metrics to `server` (before it starts), and starts sampling
  // operation rates for the charts. The handlers share ownership of what they use, so they stay
  // safe even if this object dies before the server stops.
  void Register(web::HttpServer* server);

  struct State;

 private:
  explicit NamenodeWeb(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace talus
