// Symlinks and the copy-on-write calls of ClientNamenode (random writes, truncation).
// TODO(issue 5): stubs until the namenode side lands.
#include "common/rpc/async_thrift_server.h"
#include "namenode/rpc/client_service.h"

namespace talus {

void ClientService::createSymlink(Cob<rpc::FileStatus> cob, ExnCob exn_cob,
                                  const rpc::RequestHeader& h, const std::string& target,
                                  const std::string& link, bool create_parent) {
  Fail(exn_cob, Status::NotSupported("createSymlink"));
}

void ClientService::openForOverwrite(Cob<rpc::FileStatus> cob, ExnCob exn_cob,
                                     const rpc::RequestHeader& h, const std::string& path,
                                     const std::string& client_name) {
  Fail(exn_cob, Status::NotSupported("openForOverwrite"));
}

void ClientService::allocateBlock(Cob<rpc::LocatedBlock> cob, ExnCob exn_cob,
                                  const rpc::RequestHeader& h, const std::string& path,
                                  int64_t file_id, const std::string& client_name,
                                  const std::vector<std::string>& excluded_nodes) {
  Fail(exn_cob, Status::NotSupported("allocateBlock"));
}

void ClientService::commitBlocks(Cob<rpc::FileStatus> cob, ExnCob exn_cob,
                                 const rpc::RequestHeader& h, const std::string& path,
                                 int64_t file_id, const std::string& client_name,
                                 const std::vector<rpc::BlockReplacement>& replacements,
                                 int64_t new_length, bool release) {
  Fail(exn_cob, Status::NotSupported("commitBlocks"));
}

}  // namespace talus
