// The operators' calls of ClientNamenode: safe mode, datanode reports, decommissioning, and the
// block health fsck reads.
#include <glog/logging.h>

#include "namenode/rpc/client_service.h"

namespace talus {

namespace {
Status NotYet(const char* call) { return Status::NotSupported(std::string(call) + ": not yet"); }
}  // namespace

void ClientService::setSafeMode(Cob<rpc::SafeModeStatus>, ExnCob exn_cob,
                                const rpc::RequestHeader&, rpc::SafeModeAction::type) {
  Fail(exn_cob, NotYet("setSafeMode"));
}

void ClientService::getDatanodeReport(Cob<std::vector<rpc::DatanodeInfo>>, ExnCob exn_cob,
                                      const rpc::RequestHeader&, rpc::DatanodeReportType::type) {
  Fail(exn_cob, NotYet("getDatanodeReport"));
}

void ClientService::refreshNodes(std::function<void()>, ExnCob exn_cob,
                                 const rpc::RequestHeader&) {
  Fail(exn_cob, NotYet("refreshNodes"));
}

void ClientService::setDatanodeAdminState(std::function<void()>, ExnCob exn_cob,
                                          const rpc::RequestHeader&, const std::string&, bool) {
  Fail(exn_cob, NotYet("setDatanodeAdminState"));
}

void ClientService::getFileHealth(Cob<rpc::FileHealth>, ExnCob exn_cob, const rpc::RequestHeader&,
                                  const std::string&) {
  Fail(exn_cob, NotYet("getFileHealth"));
}

void ClientService::listCorruptFileBlocks(Cob<std::vector<rpc::CorruptFileBlock>>, ExnCob exn_cob,
                                          const rpc::RequestHeader&, const std::string&,
                                          int32_t) {
  Fail(exn_cob, NotYet("listCorruptFileBlocks"));
}

}  // namespace talus
