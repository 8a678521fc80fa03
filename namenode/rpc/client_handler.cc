#include "namenode/rpc/client_handler.h"

#include <ctime>

#include "common/path.h"
#include "common/rpc/thrift_status.h"
#include "namenode/rpc/file_status_convert.h"

namespace talus {

namespace {

Status DataPathNotYet(const char* call) {
  // Blocks need datanodes, which join the cluster with the data-path work; until then a
  // cluster has no datanodes, and HDFS answers the same way when none is available.
  return Status(ErrorCode::kNoSpace,
                std::string(call) + ": no datanodes are available: could only be written to 0 "
                "of the required minimum of 1 nodes");
}

}  // namespace

Caller ClientHandler::CallerOf(const rpc::RequestHeader& h) {
  ThrowIfError(ValidateUserName(h.user));
  if (!h.client_id.empty() && h.client_id.size() != 16) {
    ThrowIfError(Status::InvalidArgument("client_id must be 16 bytes"));
  }
  return user_groups_->Resolve(h.user);
}

Edit ClientHandler::EditOf(const rpc::RequestHeader& h, EditOp op) {
  Edit edit;
  edit.caller = CallerOf(h);
  if (h.client_id.size() != 16) {
    ThrowIfError(Status::InvalidArgument("mutating calls need a 16-byte client_id"));
  }
  edit.client_id = h.client_id;
  edit.call_id = h.call_id;
  edit.op = std::move(op);
  return edit;
}

int64_t ClientHandler::Mutate(const rpc::RequestHeader& h, EditOp op) {
  Result<int64_t> result = namesystem_->Mutate(EditOf(h, std::move(op)));
  ThrowIfError(result.status());
  return *result;
}

void ClientHandler::ping(rpc::Timespec& _return, const rpc::RequestHeader& h) {
  CallerOf(h);
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  _return.sec = now.tv_sec;
  _return.nsec = static_cast<int32_t>(now.tv_nsec);
}

void ClientHandler::getFileInfo(rpc::FileStatus& _return, const rpc::RequestHeader& h,
                                const std::string& path) {
  Result<Inode> inode = namesystem_->GetFileInfo(CallerOf(h), path);
  ThrowIfError(inode.status());
  ToFileStatus(*inode, &_return);
}

void ClientHandler::getListing(rpc::DirectoryListing& _return, const rpc::RequestHeader& h,
                               const std::string& path, const std::string& start_after,
                               int32_t limit) {
  if (!start_after.empty()) ThrowIfError(ValidateName(start_after));
  Result<Listing> listing = namesystem_->GetListing(CallerOf(h), path, start_after, limit);
  ThrowIfError(listing.status());
  _return.entries.resize(listing->entries.size());
  for (size_t i = 0; i < listing->entries.size(); ++i) {
    ToFileStatus(listing->entries[i], &_return.entries[i]);
  }
  _return.has_more = listing->has_more;
}

void ClientHandler::getContentSummary(rpc::ContentSummary& _return, const rpc::RequestHeader& h,
                                      const std::string& path) {
  Result<NamespaceSummary> summary = namesystem_->GetContentSummary(CallerOf(h), path);
  ThrowIfError(summary.status());
  _return.length = summary->length;
  _return.file_count = summary->file_count;
  _return.directory_count = summary->directory_count;
  _return.space_consumed = summary->space_consumed;
  _return.quota = -1;
  _return.space_quota = -1;
}

void ClientHandler::getStats(rpc::FsStats& _return, const rpc::RequestHeader& h) {
  CallerOf(h);
  Result<NamespaceCounts> counts = namesystem_->GetCounts();
  ThrowIfError(counts.status());
  // Capacity comes from datanode heartbeats, which arrive with the data-path work.
  _return.capacity = 0;
  _return.used = 0;
  _return.remaining = 0;
  _return.under_replicated_blocks = 0;
  _return.corrupt_blocks = 0;
  _return.missing_blocks = 0;
  _return.files = counts->files;
  _return.directories = counts->directories;
}

bool ClientHandler::mkdirs(const rpc::RequestHeader& h, const std::string& path, int32_t mode,
                           bool create_parent) {
  if (mode < 0 || mode > 07777) ThrowIfError(Status::InvalidArgument("mode out of range"));
  Mutate(h, MkdirsOp{path, static_cast<uint32_t>(mode), create_parent});
  return true;
}

void ClientHandler::create(rpc::FileStatus& _return, const rpc::RequestHeader& h,
                           const std::string& path, int32_t mode, const std::string& client_name,
                           bool overwrite, bool create_parent, int16_t replication,
                           int64_t block_size) {
  if (mode < 0 || mode > 07777) ThrowIfError(Status::InvalidArgument("mode out of range"));
  if (client_name.empty() || client_name.size() > 1024) {
    ThrowIfError(Status::InvalidArgument("client name must be 1 to 1024 bytes"));
  }
  int64_t id = Mutate(h, CreateOp{path, static_cast<uint32_t>(mode), client_name, overwrite,
                                  create_parent, replication, block_size});
  Result<Inode> inode = namesystem_->GetInode(static_cast<uint64_t>(id));
  ThrowIfError(inode.status());
  ToFileStatus(*inode, &_return);
}

bool ClientHandler::deletePath(const rpc::RequestHeader& h, const std::string& path,
                               bool recursive) {
  return Mutate(h, DeleteOp{path, recursive}) != 0;
}

void ClientHandler::rename(const rpc::RequestHeader& h, const std::string& src,
                           const std::string& dst, const rpc::RenameOptions& options) {
  Mutate(h, RenameOp{src, dst, options.overwrite});
}

void ClientHandler::setPermission(const rpc::RequestHeader& h, const std::string& path,
                                  int32_t mode) {
  if (mode < 0 || mode > 07777) ThrowIfError(Status::InvalidArgument("mode out of range"));
  Mutate(h, SetPermissionOp{path, static_cast<uint32_t>(mode)});
}

void ClientHandler::setOwner(const rpc::RequestHeader& h, const std::string& path,
                             const std::string& owner, const std::string& group) {
  Mutate(h, SetOwnerOp{path, owner, group});
}

void ClientHandler::setTimes(const rpc::RequestHeader& h, const std::string& path,
                             const rpc::Timespec& mtime, const rpc::Timespec& atime) {
  Mutate(h, SetTimesOp{path, NsTime{mtime.sec, mtime.nsec}, NsTime{atime.sec, atime.nsec}});
}

bool ClientHandler::setReplication(const rpc::RequestHeader& h, const std::string& path,
                                   int16_t replication) {
  return Mutate(h, SetReplicationOp{path, replication}) != 0;
}

void ClientHandler::addBlock(rpc::LocatedBlock&, const rpc::RequestHeader& h, const std::string&,
                             const std::string&, const rpc::ExtendedBlock&,
                             const std::vector<std::string>&, int64_t) {
  CallerOf(h);
  ThrowIfError(DataPathNotYet("addBlock"));
}

void ClientHandler::abandonBlock(const rpc::RequestHeader& h, const rpc::ExtendedBlock&,
                                 const std::string&, const std::string&, int64_t) {
  CallerOf(h);
  ThrowIfError(Status::InvalidArgument("abandonBlock: no such block"));
}

bool ClientHandler::complete(const rpc::RequestHeader& h, const std::string& path,
                             const std::string& client_name, const rpc::ExtendedBlock& last,
                             int64_t file_id) {
  CompleteOp op;
  op.path = path;
  op.client_name = client_name;
  op.file_id = file_id < 0 ? 0 : static_cast<uint64_t>(file_id);
  // A block id of 0 means "no last block" (the struct is required on the wire).
  if (last.block_id != 0) op.last = BlockInfo{last.block_id, last.generation_stamp, last.num_bytes};
  return Mutate(h, std::move(op)) != 0;
}

void ClientHandler::getBlockLocations(rpc::LocatedBlocks& _return, const rpc::RequestHeader& h,
                                      const std::string& path, int64_t offset, int64_t length) {
  if (offset < 0 || length < 0) {
    ThrowIfError(Status::InvalidArgument("offset and length must not be negative"));
  }
  Result<Inode> inode = namesystem_->GetFileInfo(CallerOf(h), path);
  ThrowIfError(inode.status());
  if (!inode->IsFile()) ThrowIfError(Status::IsADirectory(path + " is a directory"));
  _return.file_length = inode->length;
  _return.under_construction = inode->UnderConstruction();
  _return.last_block_complete = !inode->UnderConstruction();
  _return.blocks.clear();  // files have no blocks until datanodes exist
}

void ClientHandler::renewLease(const rpc::RequestHeader& h, const std::string& client_name) {
  CallerOf(h);
  if (client_name.empty()) ThrowIfError(Status::InvalidArgument("empty client name"));
  // Leases are checked on create/complete; expiry and recovery come with the data path.
}

void ClientHandler::updateBlockForPipeline(rpc::LocatedBlock&, const rpc::RequestHeader& h,
                                           const rpc::ExtendedBlock& block, const std::string&) {
  CallerOf(h);
  ThrowIfError(Status::InvalidArgument("updateBlockForPipeline: unknown block " +
                                       std::to_string(block.block_id)));
}

void ClientHandler::updatePipeline(const rpc::RequestHeader& h, const std::string&,
                                   const rpc::ExtendedBlock& old_block, const rpc::ExtendedBlock&,
                                   const std::vector<rpc::DatanodeId>&) {
  CallerOf(h);
  ThrowIfError(Status::InvalidArgument("updatePipeline: unknown block " +
                                       std::to_string(old_block.block_id)));
}

void ClientHandler::reportBadBlocks(const rpc::RequestHeader& h,
                                    const std::vector<rpc::LocatedBlock>& blocks) {
  CallerOf(h);
  if (!blocks.empty()) ThrowIfError(Status::InvalidArgument("reportBadBlocks: unknown blocks"));
}

}  // namespace talus
