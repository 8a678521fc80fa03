// Pipeline recovery calls of ClientNamenode (HDFS DataStreamer's side of the namenode): a new
// generation stamp for a block whose pipeline is being rebuilt, extra datanodes for it, and the
// rebuilt pipeline's commit. Every call checks that the caller holds the file's lease and that
// the block is the file's last one; a rejected call changes nothing.
#include <unordered_set>

#include <glog/logging.h>

#include "common/rpc/async_thrift_server.h"
#include "common/transfer/protocol.h"
#include "namenode/blocks/datanode_service.h"
#include "namenode/namespace/reserved_path.h"
#include "namenode/rpc/client_service.h"

namespace talus {

namespace {

constexpr size_t kMaxNodesNamed = 1024;

Status CheckBlock(const rpc::ExtendedBlock& block, const char* what) {
  if (block.block_id <= 0 || block.generation_stamp <= 0 || block.num_bytes < 0) {
    return Status::InvalidArgument(std::string(what) + ": block id " +
                                   std::to_string(block.block_id) + ", stamp " +
                                   std::to_string(block.generation_stamp) + " or length " +
                                   std::to_string(block.num_bytes) + " is invalid");
  }
  return Status::OK();
}

// Finds the file a block belongs to: its inode and a path naming it by inode id (so a rename
// between here and the op's apply cannot misdirect it). The ops check the rest (lease, last
// block) against the namespace when they run.
Result<std::pair<uint64_t, std::string>> FileOfBlock(blocks::BlockMap* block_map,
                                                            Namesystem* namesystem,
                                                            int64_t block_id) {
  Result<blocks::LocatedBlock> located = block_map->GetBlock(block_id);
  if (!located.ok()) {
    return Status::NotFound("block " + std::to_string(block_id) + " belongs to no file");
  }
  const uint64_t inode = static_cast<uint64_t>(located->inode_id);
  RETURN_NOT_OK(namesystem->GetInode(inode).status());
  return std::make_pair(inode, ReservedInodePath(inode));
}

}  // namespace

void ClientService::updateBlockForPipeline(Cob<rpc::LocatedBlock> cob, ExnCob exn_cob,
                                           const rpc::RequestHeader& h,
                                           const rpc::ExtendedBlock& block,
                                           const std::string& client_name) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  Status valid = CheckBlockManagement();
  if (valid.ok()) valid = CheckClientName(client_name);
  if (valid.ok()) valid = CheckBlock(block, "updateBlockForPipeline");
  if (!valid.ok()) return Fail(exn_cob, valid);
  auto file = FileOfBlock(block_map_, namesystem_, block.block_id);
  if (!file.ok()) return Fail(exn_cob, file.status());
  UpdateBlockForPipelineOp op;
  op.path = file->second;
  op.file_id = file->first;
  op.client_name = client_name;
  op.block_id = block.block_id;
  op.generation_stamp = block.generation_stamp;
  Mutate(h, std::move(op), std::move(exn_cob),
         [cob = std::move(cob), block](int64_t stamp) {
           rpc::LocatedBlock out;
           out.block = block;
           out.block.generation_stamp = stamp;
           out.offset = 0;
           cob(out);
         });
}

void ClientService::updatePipeline(std::function<void()> cob, ExnCob exn_cob,
                                   const rpc::RequestHeader& h, const std::string& client_name,
                                   const rpc::ExtendedBlock& old_block,
                                   const rpc::ExtendedBlock& new_block,
                                   const std::vector<rpc::DatanodeId>& new_nodes) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  Status valid = CheckBlockManagement();
  if (valid.ok()) valid = CheckClientName(client_name);
  if (valid.ok()) valid = CheckBlock(old_block, "updatePipeline");
  if (valid.ok()) valid = CheckBlock(new_block, "updatePipeline");
  if (valid.ok() && new_block.block_id != old_block.block_id) {
    valid = Status::InvalidArgument("updatePipeline: old and new block ids differ");
  }
  if (valid.ok() && new_block.generation_stamp <= old_block.generation_stamp) {
    valid = Status::InvalidArgument("updatePipeline: the new generation stamp must be newer");
  }
  if (valid.ok() && (new_nodes.empty() || new_nodes.size() > transfer::kMaxPipelineNodes)) {
    valid = Status::InvalidArgument("updatePipeline: a pipeline has 1 to " +
                                    std::to_string(transfer::kMaxPipelineNodes) + " datanodes");
  }
  if (!valid.ok()) return Fail(exn_cob, valid);
  std::vector<blocks::DatanodeIndex> nodes;
  std::unordered_set<blocks::DatanodeIndex> seen;
  for (const rpc::DatanodeId& id : new_nodes) {
    std::optional<blocks::DatanodeIndex> index = datanodes_->Find(id.storage_id);
    if (!index.has_value()) {
      return Fail(exn_cob, Status::InvalidArgument("updatePipeline: datanode " + id.storage_id +
                                                   " is not registered"));
    }
    if (!seen.insert(*index).second) {
      return Fail(exn_cob, Status::InvalidArgument("updatePipeline: datanode " + id.storage_id +
                                                   " is named twice"));
    }
    nodes.push_back(*index);
  }
  auto file = FileOfBlock(block_map_, namesystem_, old_block.block_id);
  if (!file.ok()) return Fail(exn_cob, file.status());
  UpdatePipelineOp op;
  op.path = file->second;
  op.file_id = file->first;
  op.client_name = client_name;
  op.old_block = BlockInfo{old_block.block_id, old_block.generation_stamp, old_block.num_bytes};
  op.new_block = BlockInfo{new_block.block_id, new_block.generation_stamp, new_block.num_bytes};
  const int64_t block_id = old_block.block_id;
  Mutate(h, std::move(op), std::move(exn_cob),
         [this, cob = std::move(cob), block_id, nodes = std::move(nodes)](int64_t) mutable {
           // Readers of the file being written and lease recovery look here until replicas
           // report under the new stamp.
           Status recorded = block_map_->SetExpectedLocations(block_id, std::move(nodes));
           if (!recorded.ok()) LOG(WARNING) << "updatePipeline: " << recorded;
           cob();
         });
}

void ClientService::getAdditionalDatanode(Cob<rpc::LocatedBlock> cob, ExnCob exn_cob,
                                          const rpc::RequestHeader& h, const std::string& path,
                                          int64_t file_id, const rpc::ExtendedBlock& block,
                                          const std::vector<rpc::DatanodeId>& existing,
                                          const std::vector<std::string>& excluded,
                                          int32_t num_additional,
                                          const std::string& client_name) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  Status valid = CheckBlockManagement();
  if (valid.ok()) valid = CheckClientName(client_name);
  if (valid.ok()) valid = CheckBlock(block, "getAdditionalDatanode");
  if (valid.ok() && file_id < 0) valid = Status::InvalidArgument("file id must not be negative");
  if (valid.ok() && (num_additional < 1 ||
                     num_additional > static_cast<int32_t>(transfer::kMaxPipelineNodes))) {
    valid = Status::InvalidArgument("getAdditionalDatanode: asks for 1 to " +
                                    std::to_string(transfer::kMaxPipelineNodes) + " datanodes");
  }
  if (valid.ok() && (existing.size() > kMaxNodesNamed || excluded.size() > kMaxNodesNamed)) {
    valid = Status::InvalidArgument("getAdditionalDatanode: too many nodes named");
  }
  if (!valid.ok()) return Fail(exn_cob, valid);
  Result<Inode> file = namesystem_->GetFileInfo(*caller, path);
  if (!file.ok()) return Fail(exn_cob, file.status());
  if (!file->IsFile()) return Fail(exn_cob, Status::IsADirectory(path + " is not a file"));
  if (file_id != 0 && static_cast<uint64_t>(file_id) != file->id) {
    return Fail(exn_cob, Status::NotFound("File " + path + " was replaced"));
  }
  if (!file->UnderConstruction() || file->lease_holder != client_name) {
    return Fail(exn_cob, Status::LeaseConflict("No lease on " + path + " held by " +
                                               client_name));
  }
  if (file->blocks.empty() || file->blocks.back().block_id != block.block_id) {
    return Fail(exn_cob, Status::InvalidArgument("getAdditionalDatanode: block " +
                                                 std::to_string(block.block_id) +
                                                 " is not the last block of " + path));
  }
  std::unordered_set<std::string> skip(excluded.begin(), excluded.end());
  for (const rpc::DatanodeId& id : existing) skip.insert(id.storage_id);
  std::vector<blocks::DatanodeSnapshot> nodes = datanodes_->ListNodes();
  blocks::PlacementRequest request;
  request.replicas = num_additional;
  request.block_size = file->block_size;
  // The writer's own node is already in the pipeline if it is a datanode; never put it first.
  request.writer_host.clear();
  request.path = path;
  for (const blocks::DatanodeSnapshot& node : nodes) {
    const std::string address =
        node.registration.host + ":" + std::to_string(node.registration.data_port);
    if (skip.contains(node.registration.storage_id) || skip.contains(address)) {
      request.excluded.push_back(node.index);
    }
  }
  Result<blocks::PlacementResult> placed = placement_->ChooseTargets(nodes, request);
  if (!placed.ok()) return Fail(exn_cob, placed.status());
  if (placed->targets.empty()) {
    return Fail(exn_cob, Status::Unavailable("getAdditionalDatanode: no datanode left for " +
                                             path));
  }
  rpc::LocatedBlock out;
  out.block = block;
  out.offset = 0;
  for (const blocks::DatanodeSnapshot& node : datanodes_->Describe(placed->targets)) {
    out.locations.push_back(blocks::DatanodeService::ToThrift(node.registration));
  }
  cob(out);
}

}  // namespace talus
