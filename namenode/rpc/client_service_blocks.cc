// The data-path calls of ClientService: where blocks go (placement), where they are (locations
// for readers), and the lifecycle of a file's blocks under a writer's lease.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include <glog/logging.h>

#include "common/rpc/async_thrift_server.h"
#include "namenode/blocks/datanode_service.h"
#include "namenode/rpc/client_service.h"
#include "namenode/rpc/file_status_convert.h"

namespace talus {

namespace {

constexpr size_t kMaxExcludedNodes = 1024;
constexpr size_t kMaxReportedBadBlocks = 1024;

std::string DataAddress(const blocks::DatanodeRegistration& r) {
  return r.host + ":" + std::to_string(r.data_port);
}

}  // namespace

Status ClientService::CheckClientName(const std::string& client_name) {
  if (client_name.empty() || client_name.size() > 1024) {
    return Status::InvalidArgument("client name must be 1 to 1024 bytes");
  }
  return Status::OK();
}

Result<blocks::PlacementResult> ClientService::PlaceNewBlock(
    const Inode& file, const std::string& path, const std::vector<std::string>& excluded) const {
  if (excluded.size() > kMaxExcludedNodes) {
    return Status::InvalidArgument("too many excluded nodes");
  }
  // Nodes are excluded by storage id or by data address.
  const std::unordered_set<std::string> excluded_names(excluded.begin(), excluded.end());
  std::vector<blocks::DatanodeSnapshot> nodes = datanodes_->ListNodes();
  blocks::PlacementRequest request;
  request.replicas = file.replication;
  request.block_size = file.block_size;
  request.writer_host = AsyncThriftServer::CurrentPeerHost();
  request.path = path;
  for (const blocks::DatanodeSnapshot& node : nodes) {
    if (excluded_names.contains(node.registration.storage_id) ||
        excluded_names.contains(DataAddress(node.registration))) {
      request.excluded.push_back(node.index);
    }
  }
  return placement_->ChooseTargets(nodes, request);
}

Status ClientService::CheckBlockManagement() const {
  if (datanodes_ == nullptr || block_map_ == nullptr || placement_ == nullptr) {
    return Status::Unavailable("block management is not running on this namenode");
  }
  return Status::OK();
}

rpc::LocatedBlock ClientService::Locate(const blocks::LocatedBlock& block, int64_t offset,
                                        const std::string& reader_host) const {
  rpc::LocatedBlock out;
  out.block = blocks::DatanodeService::ToThrift(block.block);
  out.offset = offset;
  for (const blocks::DatanodeSnapshot& node :
       blocks::PlacementPolicy::LocationsForReader(*datanodes_, block, reader_host)) {
    out.locations.push_back(blocks::DatanodeService::ToThrift(node.registration));
  }
  // Every replica left is known corrupt: they are offered so that a reader fails with a
  // checksum error (EIO) rather than finding no location (HDFS does the same).
  if (block.corrupt) out.__set_corrupt(true);
  return out;
}

void ClientService::AnswerAddBlock(const Cob<rpc::LocatedBlock>& cob, const ExnCob& exn_cob,
                                   uint64_t file_id, int64_t block_id,
                                   std::vector<blocks::DatanodeIndex> targets) {
  Result<Inode> file = namesystem_->GetInode(file_id);
  if (!file.ok()) return Fail(exn_cob, file.status());
  int64_t offset = 0;
  const BlockInfo* found = nullptr;
  for (const BlockInfo& b : file->blocks) {
    if (b.block_id == block_id) {
      found = &b;
      break;
    }
    offset += b.num_bytes;
  }
  if (found == nullptr) {
    return Fail(exn_cob, Status::NotFound("block " + std::to_string(block_id) +
                                          " is no longer part of the file"));
  }
  // A retried addBlock gets the pipeline the first attempt was given.
  std::vector<blocks::DatanodeIndex> existing = block_map_->ExpectedLocations(block_id);
  if (!existing.empty()) {
    targets = std::move(existing);
  } else {
    Status recorded = block_map_->SetExpectedLocations(block_id, targets);
    if (!recorded.ok()) LOG(WARNING) << "addBlock: " << recorded;
  }
  rpc::LocatedBlock out;
  out.block.block_id = found->block_id;
  out.block.generation_stamp = found->generation_stamp;
  out.block.num_bytes = 0;
  out.offset = offset;
  for (const blocks::DatanodeSnapshot& node : datanodes_->Describe(targets)) {
    out.locations.push_back(blocks::DatanodeService::ToThrift(node.registration));
  }
  cob(out);
}

void ClientService::addBlock(Cob<rpc::LocatedBlock> cob, ExnCob exn_cob,
                             const rpc::RequestHeader& h, const std::string& path,
                             const std::string& client_name, const rpc::ExtendedBlock& previous,
                             const std::vector<std::string>& excluded_nodes, int64_t file_id) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  Status valid = CheckBlockManagement();
  if (valid.ok()) valid = CheckClientName(client_name);
  if (valid.ok() && file_id < 0) valid = Status::InvalidArgument("file id must not be negative");
  if (!valid.ok()) return Fail(exn_cob, valid);
  Result<Inode> file = namesystem_->GetFileInfo(*caller, path);
  if (!file.ok()) return Fail(exn_cob, file.status());
  if (!file->IsFile()) return Fail(exn_cob, Status::IsADirectory(path + " is not a file"));

  Result<blocks::PlacementResult> placed = PlaceNewBlock(*file, path, excluded_nodes);
  if (!placed.ok()) return Fail(exn_cob, placed.status());
  if (placed->partial()) {
    VLOG(1) << "addBlock " << path << ": " << placed->targets.size() << " of "
            << placed->requested << " replicas placed";
  }

  AddBlockOp op;
  op.path = path;
  op.file_id = static_cast<uint64_t>(file_id);
  op.client_name = client_name;
  if (previous.block_id != 0) {
    op.previous = BlockInfo{previous.block_id, previous.generation_stamp, previous.num_bytes};
  }
  const uint64_t inode_id = file->id;
  ExnCob on_error = exn_cob;
  Mutate(h, std::move(op), std::move(exn_cob),
         [this, cob = std::move(cob), on_error, inode_id,
          targets = std::move(placed->targets)](int64_t block_id) mutable {
           AnswerAddBlock(cob, on_error, inode_id, block_id, std::move(targets));
         });
}

void ClientService::abandonBlock(std::function<void()> cob, ExnCob exn_cob,
                                 const rpc::RequestHeader& h, const rpc::ExtendedBlock& block,
                                 const std::string& path, const std::string& client_name,
                                 int64_t file_id) {
  Status valid = CheckClientName(client_name);
  if (valid.ok() && file_id < 0) valid = Status::InvalidArgument("file id must not be negative");
  if (!valid.ok()) return Fail(exn_cob, valid);
  Mutate(h, AbandonBlockOp{path, static_cast<uint64_t>(file_id), client_name, block.block_id},
         std::move(exn_cob), [cob = std::move(cob)](int64_t) { cob(); });
}

void ClientService::complete(Cob<bool> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                             const std::string& path, const std::string& client_name,
                             const rpc::ExtendedBlock& last, int64_t file_id) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  Status valid = CheckClientName(client_name);
  if (valid.ok() && file_id < 0) valid = Status::InvalidArgument("file id must not be negative");
  if (!valid.ok()) return Fail(exn_cob, valid);
  // As HDFS, a file closes only once its last block has reached a datanode (minimum
  // replication 1): otherwise a reader right after close could find no replica. The datanodes
  // report finalized replicas at once, so the writer's retry comes soon.
  if (last.block_id != 0 && block_map_ != nullptr &&
      block_map_->CountFinalizedReplicas(last.block_id, last.generation_stamp) < 1) {
    Result<Inode> file = namesystem_->GetFileInfo(*caller, path);
    if (file.ok() && file->UnderConstruction() && file->lease_holder == client_name &&
        !file->blocks.empty() && file->blocks.back().block_id == last.block_id) {
      return cob(false);
    }
    // Anything else (closed already, other holder, bad block) is for the op to answer.
  }
  CompleteOp op;
  op.path = path;
  op.client_name = client_name;
  op.file_id = static_cast<uint64_t>(file_id);
  // A block id of 0 means "no last block" (the struct is required on the wire).
  if (last.block_id != 0) {
    op.last = BlockInfo{last.block_id, last.generation_stamp, last.num_bytes};
  }
  Mutate(h, std::move(op), std::move(exn_cob),
         [cob = std::move(cob)](int64_t closed) { cob(closed != 0); });
}

void ClientService::append(Cob<rpc::AppendResponse> cob, ExnCob exn_cob,
                           const rpc::RequestHeader& h, const std::string& path,
                           const std::string& client_name) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  Status valid = CheckBlockManagement();
  if (valid.ok()) valid = CheckClientName(client_name);
  if (!valid.ok()) return Fail(exn_cob, valid);
  Result<Inode> file = namesystem_->GetFileInfo(*caller, path);
  if (!file.ok()) return Fail(exn_cob, file.status());
  if (!file->IsFile()) return Fail(exn_cob, Status::IsADirectory(path + " is not a file"));
  if (file->UnderConstruction() && file->lease_holder != client_name) {
    // Someone else holds the file. If that writer went silent (soft limit), its lease is
    // recovered now, as HDFS does for append; that may journal, so it runs off the event loop.
    Status queued = slow_calls_->Submit([this, cob, exn_cob, h, path, client_name,
                                         held = std::move(*file)]() mutable {
      Status recovered = namesystem_->RecoverLeaseForNewWriter(held, path, client_name);
      if (!recovered.ok()) return Fail(exn_cob, recovered);
      append(std::move(cob), std::move(exn_cob), h, path, client_name);  // closed now
    });
    if (!queued.ok()) Fail(exn_cob, queued);
    return;
  }

  // A partial last block is appended to in place: its pipeline is the nodes holding a good
  // (finalized, current) replica now, before the op gives it a new stamp.
  std::vector<blocks::DatanodeIndex> pipeline;
  if (!file->blocks.empty() && file->blocks.back().num_bytes < file->block_size &&
      !file->UnderConstruction()) {
    Result<blocks::LocatedBlock> located = block_map_->GetBlock(file->blocks.back().block_id);
    if (located.ok()) {
      const std::vector<bool> live = datanodes_->LiveMask();
      for (const blocks::ReplicaLocation& r : located->replicas) {
        if (r.state == blocks::ReplicaState::kFinalized && r.node < live.size() && live[r.node]) {
          pipeline.push_back(r.node);
        }
      }
    }
    if (pipeline.empty() && block_map_->ExpectedLocations(file->blocks.back().block_id).empty()) {
      return Fail(exn_cob, Status::Unavailable(
                               "Failed to append to " + path + ": no live datanode holds its "
                               "last block " + std::to_string(file->blocks.back().block_id)));
    }
  }
  const uint64_t inode_id = file->id;
  ExnCob on_error = exn_cob;
  Mutate(h, AppendOp{path, client_name}, std::move(exn_cob),
         [this, cob = std::move(cob), on_error, inode_id,
          pipeline = std::move(pipeline)](int64_t previous_stamp) mutable {
           Result<Inode> reopened = namesystem_->GetInode(inode_id);
           if (!reopened.ok()) return Fail(on_error, reopened.status());
           rpc::AppendResponse out;
           ToFileStatus(*reopened, &out.status);
           if (previous_stamp != 0 && !reopened->blocks.empty()) {
             const BlockInfo& last = reopened->blocks.back();
             std::vector<blocks::DatanodeIndex> existing =
                 block_map_->ExpectedLocations(last.block_id);
             if (!existing.empty()) {
               pipeline = std::move(existing);  // a retried append
             } else {
               Status recorded = block_map_->SetExpectedLocations(last.block_id, pipeline);
               if (!recorded.ok()) LOG(WARNING) << "append: " << recorded;
             }
             rpc::LocatedBlock located;
             located.block.block_id = last.block_id;
             located.block.generation_stamp = last.generation_stamp;
             located.block.num_bytes = last.num_bytes;
             located.offset = reopened->length - last.num_bytes;
             for (const blocks::DatanodeSnapshot& node : datanodes_->Describe(pipeline)) {
               located.locations.push_back(blocks::DatanodeService::ToThrift(node.registration));
             }
             out.__set_last_block(std::move(located));
             out.__set_previous_generation_stamp(previous_stamp);
           }
           cob(out);
         });
}

Result<Inode> ClientService::ReadableFile(const Caller& caller, const std::string& path) const {
  ASSIGN_OR_RETURN(Inode file, namesystem_->GetFileInfo(caller, path));
  if (!file.IsFile()) return Status::IsADirectory(path + " is a directory");
  RETURN_NOT_OK(CheckAccess(caller, file, kAccessRead, path));
  return file;
}

void ClientService::getBlockLocations(Cob<rpc::LocatedBlocks> cob, ExnCob exn_cob,
                                      const rpc::RequestHeader& h, const std::string& path,
                                      int64_t offset, int64_t length) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  if (offset < 0 || length < 0) {
    return Fail(exn_cob, Status::InvalidArgument("offset and length must not be negative"));
  }
  Status valid = CheckBlockManagement();
  if (!valid.ok()) return Fail(exn_cob, valid);
  Result<Inode> file = ReadableFile(*caller, path);
  if (!file.ok()) return Fail(exn_cob, file.status());

  std::unordered_map<int64_t, blocks::LocatedBlock> located;
  for (blocks::LocatedBlock& b : block_map_->FileBlocks(static_cast<int64_t>(file->id))) {
    located.emplace(b.block.id, std::move(b));
  }
  const std::string& reader = AsyncThriftServer::CurrentPeerHost();
  auto locate = [&](const BlockInfo& b, int64_t block_offset) {
    auto it = located.find(b.block_id);
    if (it == located.end()) {
      // Not in the block map (no report yet after a restart): no locations to offer.
      rpc::LocatedBlock out;
      out.block.block_id = b.block_id;
      out.block.generation_stamp = b.generation_stamp;
      out.block.num_bytes = b.num_bytes;
      out.offset = block_offset;
      return out;
    }
    // The namespace's record of the block (its length) with the map's replicas; each block is
    // located once, so the map's copy is used in place.
    it->second.block = blocks::Block{b.block_id, b.generation_stamp, b.num_bytes};
    return Locate(it->second, block_offset, reader);
  };

  rpc::LocatedBlocks out;
  out.file_length = file->length;
  // A file held for copy-on-write reads as a closed one: all its blocks are complete.
  const bool streaming = !file->BlocksAllComplete();
  out.under_construction = streaming;
  out.last_block_complete = !streaming;
  // A file being written: its last block's length is known only to its pipeline; it is
  // reported apart (last_block), and file_length covers the blocks before it.
  const size_t complete_blocks = streaming ? file->blocks.size() - 1 : file->blocks.size();
  const int64_t end = length > INT64_MAX - offset ? INT64_MAX : offset + length;
  int64_t block_offset = 0;
  for (size_t i = 0; i < complete_blocks; ++i) {
    const BlockInfo& b = file->blocks[i];
    const int64_t block_end = block_offset + b.num_bytes;
    // Blocks overlapping [offset, end); a zero-length request still gets the block at offset.
    if (block_end > offset && (block_offset < end || (length == 0 && block_offset <= offset))) {
      out.blocks.push_back(locate(b, block_offset));
    }
    block_offset = block_end;
  }
  if (complete_blocks < file->blocks.size()) {
    out.__set_last_block(locate(file->blocks.back(), block_offset));
  }
  cob(out);
}

void ClientService::reportBadBlocks(std::function<void()> cob, ExnCob exn_cob,
                                    const rpc::RequestHeader& h,
                                    const std::vector<rpc::LocatedBlock>& blocks) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  Status valid = CheckBlockManagement();
  if (valid.ok() && blocks.size() > kMaxReportedBadBlocks) {
    valid = Status::InvalidArgument("too many blocks in one report");
  }
  if (!valid.ok()) return Fail(exn_cob, valid);
  for (const rpc::LocatedBlock& b : blocks) {
    for (const rpc::DatanodeId& node : b.locations) {
      Status s = block_map_->ReportBadReplica(node.storage_id,
                                              blocks::DatanodeService::FromThrift(b.block));
      // A block deleted meanwhile, or a node gone, is no error for the reader.
      if (!s.ok() && !s.IsNotFound()) return Fail(exn_cob, s);
      LOG(WARNING) << "client " << h.user << " reports block " << b.block.block_id
                   << " bad on datanode " << node.storage_id;
    }
  }
  cob();
}

}  // namespace talus
