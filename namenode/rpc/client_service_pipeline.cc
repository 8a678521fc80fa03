// Pipeline recovery calls of ClientNamenode: a new generation stamp for a block whose pipeline
// is being rebuilt, extra datanodes for it, and the rebuilt pipeline's commit.
#include <glog/logging.h>

#include "namenode/rpc/client_service.h"

namespace talus {

void ClientService::updateBlockForPipeline(Cob<rpc::LocatedBlock>, ExnCob exn_cob,
                                           const rpc::RequestHeader& h,
                                           const rpc::ExtendedBlock& block, const std::string&) {
  Result<Caller> caller = CallerOf(h);
  Fail(exn_cob, caller.ok() ? Status::InvalidArgument("updateBlockForPipeline: unknown block " +
                                                      std::to_string(block.block_id))
                            : caller.status());
}

void ClientService::updatePipeline(std::function<void()>, ExnCob exn_cob,
                                   const rpc::RequestHeader& h, const std::string&,
                                   const rpc::ExtendedBlock& old_block,
                                   const rpc::ExtendedBlock&,
                                   const std::vector<rpc::DatanodeId>&) {
  Result<Caller> caller = CallerOf(h);
  Fail(exn_cob, caller.ok() ? Status::InvalidArgument("updatePipeline: unknown block " +
                                                      std::to_string(old_block.block_id))
                            : caller.status());
}

void ClientService::getAdditionalDatanode(Cob<rpc::LocatedBlock>, ExnCob exn_cob,
                                          const rpc::RequestHeader& h, const std::string&,
                                          int64_t, const rpc::ExtendedBlock& block,
                                          const std::vector<rpc::DatanodeId>&,
                                          const std::vector<std::string>&, int32_t,
                                          const std::string&) {
  Result<Caller> caller = CallerOf(h);
  Fail(exn_cob, caller.ok() ? Status::NotSupported("getAdditionalDatanode: not yet (block " +
                                                   std::to_string(block.block_id) + ")")
                            : caller.status());
}

}  // namespace talus
