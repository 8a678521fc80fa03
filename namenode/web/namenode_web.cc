#include "namenode/web/namenode_web.h"

#include <vector>

#include "common/metrics/metrics.h"
#include "common/web/embedded_files.h"
#include "common/web/http_server.h"

namespace talus {

namespace web {
const std::vector<EmbeddedFile>& NamenodeUiFiles();
}  // namespace web

NamenodeWeb::NamenodeWeb(NamenodeWebOptions options) : options_(std::move(options)) {}

NamenodeWeb::~NamenodeWeb() = default;

void NamenodeWeb::Register(web::HttpServer* server) {
  server->ServeFiles(&web::NamenodeUiFiles());
  server->ServeMetrics(&metrics::DefaultRegistry());
}

}  // namespace talus
