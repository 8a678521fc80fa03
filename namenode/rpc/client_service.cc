#include "namenode/rpc/client_service.h"

#include <thrift/TApplicationException.h>

#include <ctime>

#include "common/path.h"
#include "common/rpc/thrift_status.h"
#include "namenode/rpc/file_status_convert.h"

namespace talus {

namespace {

using apache::thrift::TDelayedException;

}  // namespace

void ClientService::Fail(const ExnCob& exn_cob, const Status& status) {
  exn_cob(TDelayedException::delayException(ToThriftError(status)));
}

namespace {

Status CheckMode(int32_t mode) {
  if (mode < 0 || mode > 07777) {
    return Status::InvalidArgument("mode " + std::to_string(mode) + " is out of range");
  }
  return Status::OK();
}

}  // namespace

namespace {

// What a create answers when the file it made is already gone again (see create).
Inode CreatedFileAnswer(uint64_t id, const std::string& path, int32_t mode,
                        const std::string& user, const std::string& client_name,
                        int16_t replication, int64_t block_size) {
  Inode inode;
  inode.id = id;
  inode.name = path.substr(path.rfind('/') + 1);
  inode.type = InodeType::kFile;
  inode.mode = static_cast<uint32_t>(mode) & 07777;
  inode.owner = user;
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  inode.mtime = inode.atime = inode.ctime = NsTime{now.tv_sec, static_cast<int32_t>(now.tv_nsec)};
  inode.replication = replication;
  inode.block_size = block_size;
  inode.lease_holder = client_name;
  return inode;
}

}  // namespace

Result<Caller> ClientService::CallerOf(const rpc::RequestHeader& h) {
  RETURN_NOT_OK(namesystem_->CheckServing());
  RETURN_NOT_OK(ValidateUserName(h.user));
  if (!h.client_id.empty() && h.client_id.size() != 16) {
    return Status::InvalidArgument("client_id must be 16 bytes");
  }
  return user_groups_->Resolve(h.user);
}

void ClientService::Mutate(const rpc::RequestHeader& h, EditOp op, ExnCob exn_cob,
                           std::function<void(int64_t)> then) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  if (h.client_id.size() != 16) {
    return Fail(exn_cob, Status::InvalidArgument("mutating calls need a 16-byte client_id"));
  }
  if (safe_mode_ != nullptr) {
    Status writable = safe_mode_->CheckWritable(OpName(op));
    if (!writable.ok()) return Fail(exn_cob, writable);
  }
  Edit edit;
  edit.caller = std::move(*caller);
  edit.client_id = h.client_id;
  edit.call_id = h.call_id;
  edit.op = std::move(op);
  namesystem_->MutateAsync(std::move(edit),
                           [exn_cob = std::move(exn_cob), then = std::move(then)](
                               Result<int64_t> result) {
                             if (!result.ok()) return Fail(exn_cob, result.status());
                             then(*result);
                           });
}

void ClientService::ping(Cob<rpc::Timespec> cob, ExnCob exn_cob, const rpc::RequestHeader& h) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  rpc::Timespec out;
  out.sec = now.tv_sec;
  out.nsec = static_cast<int32_t>(now.tv_nsec);
  cob(out);
}

void ClientService::getFileInfo(Cob<rpc::FileStatus> cob, ExnCob exn_cob,
                                const rpc::RequestHeader& h, const std::string& path) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  Result<Inode> inode = namesystem_->GetFileInfo(*caller, path);
  if (!inode.ok()) return Fail(exn_cob, inode.status());
  rpc::FileStatus out;
  ToFileStatus(*inode, &out);
  cob(out);
}

void ClientService::getListing(Cob<rpc::DirectoryListing> cob, ExnCob exn_cob,
                               const rpc::RequestHeader& h, const std::string& path,
                               const std::string& start_after, int32_t limit) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  if (!start_after.empty()) {
    Status valid = ValidateName(start_after);
    if (!valid.ok()) return Fail(exn_cob, valid.Prepend("start_after"));
  }
  Result<Listing> listing = namesystem_->GetListing(*caller, path, start_after, limit);
  if (!listing.ok()) return Fail(exn_cob, listing.status());
  rpc::DirectoryListing out;
  out.entries.resize(listing->entries.size());
  for (size_t i = 0; i < listing->entries.size(); ++i) {
    ToFileStatus(listing->entries[i], &out.entries[i]);
  }
  out.has_more = listing->has_more;
  cob(out);
}

void ClientService::getContentSummary(Cob<rpc::ContentSummary> cob, ExnCob exn_cob,
                                      const rpc::RequestHeader& h, const std::string& path) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  // A walk of a whole subtree: off the event loop.
  Namesystem* ns = namesystem_;
  Status queued = slow_calls_->Submit([ns, cob, exn_cob, caller = std::move(*caller), path] {
    // Queued work may start after this namenode lost its lease: ask again, so the walk never
    // reads a view a newer leader has moved past.
    if (Status serving = ns->CheckServing(); !serving.ok()) return Fail(exn_cob, serving);
    Result<NamespaceSummary> summary = ns->GetContentSummary(caller, path);
    if (!summary.ok()) return Fail(exn_cob, summary.status());
    rpc::ContentSummary out;
    out.length = summary->length;
    out.file_count = summary->file_count;
    out.directory_count = summary->directory_count;
    out.space_consumed = summary->space_consumed;
    out.quota = -1;
    out.space_quota = -1;
    cob(out);
  });
  if (!queued.ok()) Fail(exn_cob, queued);
}

void ClientService::getStats(Cob<rpc::FsStats> cob, ExnCob exn_cob, const rpc::RequestHeader& h) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  // The same summary the web page shows (namenode/status).
  Result<status::ClusterSummary> summary = status::ComputeClusterSummary(StatusInputs());
  if (!summary.ok()) return Fail(exn_cob, summary.status());
  rpc::FsStats out;
  out.capacity = summary->capacity_bytes;
  out.used = summary->used_bytes;
  out.remaining = summary->remaining_bytes;
  out.under_replicated_blocks = summary->under_replicated_blocks;
  out.corrupt_blocks = summary->corrupt_blocks;
  out.missing_blocks = summary->missing_blocks;
  out.files = summary->files;
  out.directories = summary->directories;
  if (block_map_ != nullptr) out.__set_total_blocks(summary->blocks);
  if (block_manager_ != nullptr) {
    out.__set_pending_replication_blocks(summary->pending_replication_blocks);
    out.__set_pending_deletion_blocks(summary->pending_deletion_blocks);
  }
  if (safe_mode_ != nullptr) out.__set_in_safe_mode(summary->safe_mode_on);
  cob(out);
}

status::StatusSources ClientService::StatusInputs() const {
  status::StatusSources sources;
  sources.namesystem = namesystem_;
  sources.datanodes = datanodes_;
  sources.block_map = block_map_;
  sources.block_manager = block_manager_;
  sources.safe_mode = safe_mode_;
  return sources;
}

void ClientService::mkdirs(Cob<bool> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                           const std::string& path, int32_t mode, bool create_parent) {
  Status valid = CheckMode(mode);
  if (!valid.ok()) return Fail(exn_cob, valid);
  Mutate(h, MkdirsOp{path, static_cast<uint32_t>(mode), create_parent}, std::move(exn_cob),
         [cob = std::move(cob)](int64_t) { cob(true); });
}

void ClientService::create(Cob<rpc::FileStatus> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                           const std::string& path, int32_t mode, const std::string& client_name,
                           bool overwrite, bool create_parent, int16_t replication,
                           int64_t block_size) {
  Status valid = CheckMode(mode);
  if (valid.ok() && (client_name.empty() || client_name.size() > 1024)) {
    valid = Status::InvalidArgument("client name must be 1 to 1024 bytes");
  }
  if (!valid.ok()) return Fail(exn_cob, valid);
  Namesystem* ns = namesystem_;
  ExnCob on_error = exn_cob;
  Mutate(h,
         CreateOp{path, static_cast<uint32_t>(mode), client_name, overwrite, create_parent,
                  replication, block_size},
         std::move(exn_cob),
         [ns, cob = std::move(cob), on_error, path, mode, user = h.user, client_name, replication,
          block_size](int64_t id) {
           Result<Inode> inode = ns->GetInode(static_cast<uint64_t>(id));
           if (!inode.ok() && inode.status().code() == ErrorCode::kNotFound) {
             // The create took effect, but a delete of the file (or of a parent) committed
             // before this answer was built: the answer is still "created", with what the
             // request set (the file is gone for whatever the caller does next).
             inode = CreatedFileAnswer(static_cast<uint64_t>(id), path, mode, user, client_name,
                                       replication, block_size);
           }
           if (!inode.ok()) return Fail(on_error, inode.status());
           rpc::FileStatus out;
           ToFileStatus(*inode, &out);
           cob(out);
         });
}

void ClientService::deletePath(Cob<bool> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                               const std::string& path, bool recursive) {
  auto run = [this, cob = std::move(cob), exn_cob, h, path, recursive]() mutable {
    Mutate(h, DeleteOp{path, recursive}, exn_cob,
           [cob = std::move(cob)](int64_t existed) { cob(existed != 0); });
  };
  if (!recursive) return run();
  // The dry run of a recursive delete walks the whole subtree: off the event loop.
  Status queued = slow_calls_->Submit(std::move(run));
  if (!queued.ok()) Fail(exn_cob, queued);
}

void ClientService::rename(std::function<void()> cob, ExnCob exn_cob,
                           const rpc::RequestHeader& h, const std::string& src,
                           const std::string& dst, const rpc::RenameOptions& options) {
  Mutate(h, RenameOp{src, dst, options.overwrite, options.__isset.exchange && options.exchange},
         std::move(exn_cob),
         [cob = std::move(cob)](int64_t) { cob(); });
}

void ClientService::setPermission(std::function<void()> cob, ExnCob exn_cob,
                                  const rpc::RequestHeader& h, const std::string& path,
                                  int32_t mode) {
  Status valid = CheckMode(mode);
  if (!valid.ok()) return Fail(exn_cob, valid);
  Mutate(h, SetPermissionOp{path, static_cast<uint32_t>(mode)}, std::move(exn_cob),
         [cob = std::move(cob)](int64_t) { cob(); });
}

void ClientService::setOwner(std::function<void()> cob, ExnCob exn_cob,
                             const rpc::RequestHeader& h, const std::string& path,
                             const std::string& owner, const std::string& group) {
  Mutate(h, SetOwnerOp{path, owner, group}, std::move(exn_cob),
         [cob = std::move(cob)](int64_t) { cob(); });
}

void ClientService::setTimes(std::function<void()> cob, ExnCob exn_cob,
                             const rpc::RequestHeader& h, const std::string& path,
                             const rpc::Timespec& mtime, const rpc::Timespec& atime) {
  Mutate(h, SetTimesOp{path, NsTime{mtime.sec, mtime.nsec}, NsTime{atime.sec, atime.nsec}},
         std::move(exn_cob), [cob = std::move(cob)](int64_t) { cob(); });
}

void ClientService::setReplication(Cob<bool> cob, ExnCob exn_cob, const rpc::RequestHeader& h,
                                   const std::string& path, int16_t replication) {
  Mutate(h, SetReplicationOp{path, replication}, std::move(exn_cob),
         [cob = std::move(cob)](int64_t done) { cob(done != 0); });
}

void ClientService::renewLease(std::function<void()> cob, ExnCob exn_cob,
                               const rpc::RequestHeader& h, const std::string& client_name) {
  Result<Caller> caller = CallerOf(h);
  if (!caller.ok()) return Fail(exn_cob, caller.status());
  if (client_name.empty() || client_name.size() > 1024) {
    return Fail(exn_cob, Status::InvalidArgument("client name must be 1 to 1024 bytes"));
  }
  // A client holding no lease (all its files closed) may renew harmlessly, as in HDFS.
  namesystem_->RenewLease(client_name);
  cob();
}

}  // namespace talus
