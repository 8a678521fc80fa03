// Symlinks and the copy-on-write calls of ClientNamenode (random writes, truncation): a file is
// taken with openForOverwrite (its blocks stay complete and readable), new blocks are allocated
// (allocateBlock) and written through ordinary pipelines, then swapped into the file by one
// journaled commitBlocks. The ops (namenode/ops/*) check everything; these handlers validate
// what arrives, place blocks and wait for the replicas of committed blocks to report.
#include <chrono>
#include <thread>

#include <glog/logging.h>

#include "common/rpc/async_thrift_server.h"
#include "namenode/blocks/datanode_service.h"
#include "namenode/ops/op_context.h"
#include "namenode/rpc/client_service.h"
#include "namenode/rpc/file_status_convert.h"

namespace talus {

namespace {

// How long commitBlocks waits for a datanode to report each new block (the pipeline has
// acknowledged it, so the report is on its way) before committing anyway.
constexpr auto kReplicaReportWait = std::chrono::milliseconds(2000);
constexpr auto kReplicaReportPoll = std::chrono::milliseconds(2);

}  // namespace

void ClientService::createSymlink(Cob<rpc::FileStatus> cob, ExnCob exn_cob,
                                  const rpc::RequestHeader& h, const std::string& target,
                                  const std::string& link, bool create_parent) {
  Namesystem* ns = namesystem_;
  ExnCob on_error = exn_cob;
  Mutate(h, CreateSymlinkOp{link, target, create_parent}, std::move(exn_cob),
         [ns, cob = std::move(cob), on_error](int64_t id) {
           Result<Inode> inode = ns->GetInode(static_cast<uint64_t>(id));
           if (!inode.ok()) return Fail(on_error, inode.status());
           rpc::FileStatus out;
           ToFileStatus(*inode, &out);
           cob(out);
         });
}

void ClientService::openForOverwrite(Cob<rpc::FileStatus> cob, ExnCob exn_cob,
                                     const rpc::RequestHeader& h, const std::string& path,
                                     const std::string& client_name) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  Status valid = CheckClientName(client_name);
  if (valid.ok() && safe_mode_ != nullptr) valid = safe_mode_->CheckWritable("openForOverwrite");
  if (!valid.ok()) return Fail(exn_cob, valid);
  Result<Inode> file = namesystem_->GetFileInfo(*caller, path);
  if (!file.ok()) return Fail(exn_cob, file.status());
  if (file->IsDirectory()) return Fail(exn_cob, Status::IsADirectory(path + " is a directory"));
  if (file->UnderConstruction() && file->lease_holder != client_name) {
    // As append: a writer that went silent (soft limit) loses its lease now; that journals, so
    // it runs off the event loop.
    Status queued = slow_calls_->Submit([this, cob, exn_cob, h, path, client_name,
                                         held = std::move(*file)]() mutable {
      Status recovered = namesystem_->RecoverLeaseForNewWriter(held, path, client_name);
      if (!recovered.ok()) return Fail(exn_cob, recovered);
      openForOverwrite(std::move(cob), std::move(exn_cob), h, path, client_name);
    });
    if (!queued.ok()) Fail(exn_cob, queued);
    return;
  }
  Namesystem* ns = namesystem_;
  ExnCob on_error = exn_cob;
  Mutate(h, OpenForOverwriteOp{path, client_name}, std::move(exn_cob),
         [ns, cob = std::move(cob), on_error](int64_t id) {
           Result<Inode> inode = ns->GetInode(static_cast<uint64_t>(id));
           if (!inode.ok()) return Fail(on_error, inode.status());
           rpc::FileStatus out;
           ToFileStatus(*inode, &out);
           cob(out);
         });
}

void ClientService::allocateBlock(Cob<rpc::LocatedBlock> cob, ExnCob exn_cob,
                                  const rpc::RequestHeader& h, const std::string& path,
                                  int64_t file_id, const std::string& client_name,
                                  const std::vector<std::string>& excluded_nodes) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  Status valid = CheckBlockManagement();
  if (valid.ok()) valid = CheckClientName(client_name);
  if (valid.ok() && file_id < 0) valid = Status::InvalidArgument("file id must not be negative");
  if (valid.ok() && safe_mode_ != nullptr) valid = safe_mode_->CheckWritable("allocateBlock");
  if (!valid.ok()) return Fail(exn_cob, valid);
  Result<Inode> file = namesystem_->GetFileInfo(*caller, path);
  if (!file.ok()) return Fail(exn_cob, file.status());
  if (!file->IsFile()) return Fail(exn_cob, Status::IsADirectory(path + " is not a file"));

  Result<blocks::PlacementResult> placed = PlaceNewBlock(*file, path, excluded_nodes);
  if (!placed.ok()) return Fail(exn_cob, placed.status());

  const uint64_t inode_id = file->id;
  ExnCob on_error = exn_cob;
  Mutate(h, AllocateBlockOp{path, static_cast<uint64_t>(file_id), client_name},
         std::move(exn_cob),
         [this, cob = std::move(cob), on_error, inode_id,
          targets = std::move(placed->targets)](int64_t block_id) mutable {
           Result<Inode> file = namesystem_->GetInode(inode_id);
           if (!file.ok()) return Fail(on_error, file.status());
           const BlockInfo* found = nullptr;
           for (const BlockInfo& b : file->pending_blocks) {
             if (b.block_id == block_id) found = &b;
           }
           if (found == nullptr) {
             return Fail(on_error, Status::NotFound("block " + std::to_string(block_id) +
                                                    " is no longer pending on the file"));
           }
           // A retried call gets the pipeline the first attempt was given.
           std::vector<blocks::DatanodeIndex> existing = block_map_->ExpectedLocations(block_id);
           if (!existing.empty()) {
             targets = std::move(existing);
           } else {
             Status recorded = block_map_->SetExpectedLocations(block_id, targets);
             if (!recorded.ok()) LOG(WARNING) << "allocateBlock: " << recorded;
           }
           rpc::LocatedBlock out;
           out.block.block_id = found->block_id;
           out.block.generation_stamp = found->generation_stamp;
           out.block.num_bytes = 0;
           out.offset = 0;  // not placed in the file until commitBlocks says where
           for (const blocks::DatanodeSnapshot& node : datanodes_->Describe(targets)) {
             out.locations.push_back(blocks::DatanodeService::ToThrift(node.registration));
           }
           cob(out);
         });
}

void ClientService::commitBlocks(Cob<rpc::FileStatus> cob, ExnCob exn_cob,
                                 const rpc::RequestHeader& h, const std::string& path,
                                 int64_t file_id, const std::string& client_name,
                                 const std::vector<rpc::BlockReplacement>& replacements,
                                 int64_t new_length, bool release) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  Status valid = CheckBlockManagement();
  if (valid.ok()) valid = CheckClientName(client_name);
  if (valid.ok() && file_id < 0) valid = Status::InvalidArgument("file id must not be negative");
  if (valid.ok() && new_length < 0) valid = Status::InvalidArgument("negative new length");
  if (valid.ok() && replacements.size() > kMaxPendingBlocks) {
    valid = Status::InvalidArgument("too many block replacements in one commit");
  }
  if (valid.ok() && safe_mode_ != nullptr) valid = safe_mode_->CheckWritable("commitBlocks");
  if (!valid.ok()) return Fail(exn_cob, valid);
  CommitBlocksOp op;
  op.path = path;
  op.file_id = static_cast<uint64_t>(file_id);
  op.client_name = client_name;
  op.new_length = new_length;
  op.release = release;
  op.replacements.reserve(replacements.size());
  for (const rpc::BlockReplacement& r : replacements) {
    op.replacements.push_back(BlockReplacementOp{
        r.index, r.old_block_id,
        BlockInfo{r.new_block.block_id, r.new_block.generation_stamp, r.new_block.num_bytes}});
  }
  auto all_reported = [block_map = block_map_](const CommitBlocksOp& commit) {
    for (const BlockReplacementOp& r : commit.replacements) {
      // A block the map does not know is nothing to wait for: the op will refuse it.
      if (!block_map->GetBlock(r.new_block.block_id).ok()) continue;
      if (block_map->CountFinalizedReplicas(r.new_block.block_id,
                                            r.new_block.generation_stamp) < 1) {
        return false;
      }
    }
    return true;
  };
  auto run = [this, h, cob = std::move(cob), exn_cob](CommitBlocksOp commit) mutable {
    Namesystem* ns = namesystem_;
    ExnCob on_error = exn_cob;
    Mutate(h, std::move(commit), std::move(exn_cob),
           [ns, cob = std::move(cob), on_error](int64_t id) {
             Result<Inode> inode = ns->GetInode(static_cast<uint64_t>(id));
             if (!inode.ok()) return Fail(on_error, inode.status());
             rpc::FileStatus out;
             ToFileStatus(*inode, &out);
             cob(out);
           });
  };
  // A reader right after the commit must find the new blocks' replicas: as complete() does,
  // wait (briefly, off the event loop) for each to be reported by a datanode; the writer's
  // pipeline acknowledged them, so the reports are on their way.
  if (all_reported(op)) return run(std::move(op));
  Status queued = slow_calls_->Submit(
      [run = std::move(run), all_reported, op = std::move(op)]() mutable {
        const auto deadline = std::chrono::steady_clock::now() + kReplicaReportWait;
        while (!all_reported(op) && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(kReplicaReportPoll);
        }
        if (!all_reported(op)) {
          LOG(WARNING) << "commitBlocks of " << op.path << ": a new block has no reported "
                       << "replica yet; committing anyway (the monitor awaits its pipeline)";
        }
        run(std::move(op));
      });
  if (!queued.ok()) Fail(exn_cob, queued);
}

}  // namespace talus
