#include "datanode/web/datanode_web.h"

#include <memory>

#include "common/metrics/metrics.h"
#include "common/web/embedded_files.h"
#include "common/web/http_server.h"
#include "datanode/server/datanode.h"
#include "datanode/web/datanode_status_json.h"
#include "datanode/web/download_handler.h"

namespace talus {
namespace web {
const std::vector<EmbeddedFile>& DatanodeUiFiles();
}  // namespace web

namespace datanode {

void RegisterDatanodeWeb(web::HttpServer* server, const DatanodeWebOptions& options) {
  server->ServeFiles(&web::DatanodeUiFiles());
  server->ServeMetrics(&metrics::DefaultRegistry());

  const Datanode* dn = options.datanode;
  const int64_t start_time_ms = options.start_time_ms;
  server->Get("/api/v1/datanode", [dn, start_time_ms](const httplib::Request&,
                                                      httplib::Response& res) {
    web::SendJson(res, DatanodeStatusJson(*dn, start_time_ms));
  });

  DownloadHandlerOptions download;
  for (const HostPort& nn : dn->options().namenodes) download.namenode_hosts.push_back(nn.host);
  download.user = options.web_user;
  // Shared by the route's copies; lives as long as the server's routes.
  auto handler = std::make_shared<DownloadHandler>(std::move(download));
  server->Get("/api/v1/download", [handler](const httplib::Request& req,
                                            httplib::Response& res) {
    handler->Handle(req, res);
  });
}

}  // namespace datanode
}  // namespace talus
