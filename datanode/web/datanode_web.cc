#include "datanode/web/datanode_web.h"

#include "common/metrics/metrics.h"
#include "common/web/embedded_files.h"
#include "common/web/http_server.h"

namespace talus {
namespace web {
const std::vector<EmbeddedFile>& DatanodeUiFiles();
}  // namespace web

namespace datanode {

void RegisterDatanodeWeb(web::HttpServer* server, const DatanodeWebOptions& options) {
  server->ServeFiles(&web::DatanodeUiFiles());
  server->ServeMetrics(&metrics::DefaultRegistry());
}

}  // namespace datanode
}  // namespace talus
