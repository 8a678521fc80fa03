#include "client/file_system_impl.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include "client/file_info_convert.h"
#include "client/rewrite/random_write_file_impl.h"
#include "client/stream/file_checksum.h"
#include "client/stream/input_stream_impl.h"
#include "client/stream/output_stream_impl.h"
#include "common/path.h"
#include "common/transfer/checksum.h"

namespace talus {

namespace {

using client::FileInfoFromWire;

std::string OsUser() {
  passwd* pw = getpwuid(geteuid());
  return pw != nullptr ? pw->pw_name : std::to_string(geteuid());
}

std::string NewClientName() {
  std::random_device rd;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "TalusClient_%d_%08x%08x", static_cast<int>(getpid()), rd(),
                rd());
  return buf;
}

// Reads fs.defaultFS from a "key=value" file; comments start with '#'.
Result<std::string> ReadDefaultFs(const std::string& file) {
  std::ifstream in(file);
  if (!in) return Status::NotFound("no client config at " + file);
  std::string line;
  while (std::getline(in, line)) {
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    auto trim = [](std::string s) {
      size_t b = s.find_first_not_of(" \t\r");
      size_t e = s.find_last_not_of(" \t\r");
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    if (trim(line.substr(0, eq)) == "fs.defaultFS") return trim(line.substr(eq + 1));
  }
  return Status::NotFound("fs.defaultFS is not set in " + file);
}

}  // namespace

Result<std::unique_ptr<FileSystem>> FileSystem::Connect(const std::string& uri,
                                                         const ClientOptions& options) {
  ASSIGN_OR_RETURN(std::vector<NamenodeAddress> namenodes, ParseTalusUri(uri));
  std::string user = options.user;
  if (user.empty()) {
    const char* env = std::getenv("TALUS_USER_NAME");
    user = (env != nullptr && *env != '\0') ? env : OsUser();
  }
  if (options.umask > 0777) return Status::InvalidArgument("umask out of range");
  return std::unique_ptr<FileSystem>(
      new FileSystemImpl(uri, std::move(namenodes), options, std::move(user)));
}

Result<std::string> FileSystem::DefaultUri() {
  const char* env = std::getenv("TALUS_FS");
  if (env != nullptr && *env != '\0') return std::string(env);
  const char* conf_dir = std::getenv("TALUS_CONF_DIR");
  std::string file = std::string(conf_dir != nullptr && *conf_dir ? conf_dir : "/etc/talus") +
                     "/client.conf";
  Result<std::string> from_file = ReadDefaultFs(file);
  if (from_file.ok()) return from_file;
  return Status::NotFound(
      "no file system given: use -fs talus://host:port, set TALUS_FS, or set fs.defaultFS in " +
      file);
}

FileSystemImpl::Core::Core(std::vector<NamenodeAddress> namenodes, const ClientOptions& options,
                           std::string user, std::string name)
    : client_name(std::move(name)),
      proxy(std::move(namenodes), options, std::move(user)),
      data_namenode(&proxy),
      leases([this] { return data_namenode.RenewLease(client_name); },
             options.lease_renew_interval_ms) {}

FileSystemImpl::FileSystemImpl(std::string uri, std::vector<NamenodeAddress> namenodes,
                               ClientOptions options, std::string user)
    : uri_(std::move(uri)),
      options_(options),
      user_(user),
      working_dir_("/user/" + user),
      client_name_(NewClientName()),
      core_(std::make_shared<Core>(std::move(namenodes), options, std::move(user), client_name_)),
      proxy_(core_->proxy) {
  stream_context_.namenode = &core_->data_namenode;
  stream_context_.client_name = client_name_;
  stream_context_.options = options_;
  stream_context_.leases = &core_->leases;
  stream_context_.connections = &core_->connections;
  stream_context_.address_by_inode = true;
  stream_context_.keep_alive = core_;
}

Result<std::string> FileSystemImpl::MakeAbsolute(const std::string& path) const {
  return NormalizeUserPath(path, working_dir_);
}

Result<FileInfo> FileSystemImpl::GetFileInfo(const std::string& path) {
  ASSIGN_OR_RETURN(std::string abs, MakeAbsolute(path));
  rpc::FileStatus st;
  RETURN_NOT_OK(proxy_.Call("getFileInfo", [&](rpc::ClientNamenodeClient& c) {
    c.getFileInfo(st, proxy_.NewHeader(false), abs);
  }));
  return FileInfoFromWire(st, abs);
}

Status FileSystemImpl::ListDirectoryPaged(const std::string& path,
                                          const std::function<bool(const FileInfo&)>& each) {
  ASSIGN_OR_RETURN(std::string abs, MakeAbsolute(path));
  std::string start_after;
  while (true) {
    rpc::DirectoryListing page;
    RETURN_NOT_OK(proxy_.Call("getListing", [&](rpc::ClientNamenodeClient& c) {
      c.getListing(page, proxy_.NewHeader(false), abs, start_after, 1000);
    }));
    for (const rpc::FileStatus& st : page.entries) {
      // Listing a file returns the file itself, under its own path.
      std::string child_path =
          (page.entries.size() == 1 && st.type != rpc::FileType::DIRECTORY &&
           BaseName(abs) == st.name && start_after.empty() && !page.has_more)
              ? abs
              : JoinPath(abs, st.name);
      if (!each(FileInfoFromWire(st, std::move(child_path)))) return Status::OK();
    }
    if (!page.has_more || page.entries.empty()) return Status::OK();
    start_after = page.entries.back().name;
  }
}

Result<std::vector<FileInfo>> FileSystemImpl::ListDirectory(const std::string& path) {
  std::vector<FileInfo> out;
  RETURN_NOT_OK(ListDirectoryPaged(path, [&](const FileInfo& info) {
    out.push_back(info);
    return true;
  }));
  return out;
}

Result<ContentSummary> FileSystemImpl::GetContentSummary(const std::string& path) {
  ASSIGN_OR_RETURN(std::string abs, MakeAbsolute(path));
  rpc::ContentSummary cs;
  RETURN_NOT_OK(proxy_.Call("getContentSummary", [&](rpc::ClientNamenodeClient& c) {
    c.getContentSummary(cs, proxy_.NewHeader(false), abs);
  }));
  ContentSummary out;
  out.length = cs.length;
  out.file_count = cs.file_count;
  out.directory_count = cs.directory_count;
  out.space_consumed = cs.space_consumed;
  out.quota = cs.quota;
  out.space_quota = cs.space_quota;
  return out;
}

Result<FsStats> FileSystemImpl::GetStats() {
  rpc::FsStats st;
  RETURN_NOT_OK(proxy_.Call("getStats", [&](rpc::ClientNamenodeClient& c) {
    c.getStats(st, proxy_.NewHeader(false));
  }));
  FsStats out;
  out.capacity = st.capacity;
  out.used = st.used;
  out.remaining = st.remaining;
  out.under_replicated_blocks = st.under_replicated_blocks;
  out.corrupt_blocks = st.corrupt_blocks;
  out.missing_blocks = st.missing_blocks;
  out.files = st.files;
  out.directories = st.directories;
  out.total_blocks = st.total_blocks;
  out.pending_replication_blocks = st.pending_replication_blocks;
  out.pending_deletion_blocks = st.pending_deletion_blocks;
  out.in_safe_mode = st.in_safe_mode;
  return out;
}

Status FileSystemImpl::Mkdirs(const std::string& path, uint32_t mode, bool create_parent) {
  ASSIGN_OR_RETURN(std::string abs, MakeAbsolute(path));
  rpc::RequestHeader h = proxy_.NewHeader(true);
  const int32_t masked = static_cast<int32_t>(mode & ~options_.umask & 07777);
  return proxy_.Call("mkdirs", [&](rpc::ClientNamenodeClient& c) {
    c.mkdirs(h, abs, masked, create_parent);
  });
}

Result<bool> FileSystemImpl::Delete(const std::string& path, bool recursive) {
  ASSIGN_OR_RETURN(std::string abs, MakeAbsolute(path));
  rpc::RequestHeader h = proxy_.NewHeader(true);
  bool existed = false;
  RETURN_NOT_OK(proxy_.Call("delete", [&](rpc::ClientNamenodeClient& c) {
    existed = c.deletePath(h, abs, recursive);
  }));
  return existed;
}

Status FileSystemImpl::Rename(const std::string& src, const std::string& dst, bool overwrite) {
  ASSIGN_OR_RETURN(std::string abs_src, MakeAbsolute(src));
  ASSIGN_OR_RETURN(std::string abs_dst, MakeAbsolute(dst));
  rpc::RequestHeader h = proxy_.NewHeader(true);
  rpc::RenameOptions opts;
  opts.overwrite = overwrite;
  return proxy_.Call("rename", [&](rpc::ClientNamenodeClient& c) {
    c.rename(h, abs_src, abs_dst, opts);
  });
}

Status FileSystemImpl::SetPermission(const std::string& path, uint32_t mode) {
  ASSIGN_OR_RETURN(std::string abs, MakeAbsolute(path));
  if (mode > 07777) return Status::InvalidArgument("mode out of range");
  rpc::RequestHeader h = proxy_.NewHeader(true);
  return proxy_.Call("setPermission", [&](rpc::ClientNamenodeClient& c) {
    c.setPermission(h, abs, static_cast<int32_t>(mode));
  });
}

Status FileSystemImpl::SetOwner(const std::string& path, const std::string& owner,
                                const std::string& group) {
  ASSIGN_OR_RETURN(std::string abs, MakeAbsolute(path));
  rpc::RequestHeader h = proxy_.NewHeader(true);
  return proxy_.Call("setOwner", [&](rpc::ClientNamenodeClient& c) {
    c.setOwner(h, abs, owner, group);
  });
}

Status FileSystemImpl::SetTimes(const std::string& path, Timestamp mtime, Timestamp atime) {
  ASSIGN_OR_RETURN(std::string abs, MakeAbsolute(path));
  rpc::RequestHeader h = proxy_.NewHeader(true);
  rpc::Timespec m, a;
  m.sec = mtime.sec;
  m.nsec = mtime.nsec;
  a.sec = atime.sec;
  a.nsec = atime.nsec;
  return proxy_.Call("setTimes", [&](rpc::ClientNamenodeClient& c) { c.setTimes(h, abs, m, a); });
}

Result<bool> FileSystemImpl::SetReplication(const std::string& path, int16_t replication) {
  ASSIGN_OR_RETURN(std::string abs, MakeAbsolute(path));
  rpc::RequestHeader h = proxy_.NewHeader(true);
  bool done = false;
  RETURN_NOT_OK(proxy_.Call("setReplication", [&](rpc::ClientNamenodeClient& c) {
    done = c.setReplication(h, abs, replication);
  }));
  return done;
}

Status FileSystemImpl::CreateEmptyFile(const std::string& path, bool overwrite, uint32_t mode) {
  ASSIGN_OR_RETURN(std::string abs, MakeAbsolute(path));
  rpc::RequestHeader create_header = proxy_.NewHeader(true);
  rpc::FileStatus st;
  const int32_t masked = static_cast<int32_t>(mode & ~options_.umask & 07777);
  RETURN_NOT_OK(proxy_.Call("create", [&](rpc::ClientNamenodeClient& c) {
    c.create(st, create_header, abs, masked, client_name_, overwrite, /*create_parent=*/false,
             options_.default_replication, options_.default_block_size);
  }));
  rpc::RequestHeader complete_header = proxy_.NewHeader(true);
  rpc::ExtendedBlock none;
  none.block_id = 0;
  none.generation_stamp = 0;
  none.num_bytes = 0;
  bool closed = false;
  RETURN_NOT_OK(proxy_.Call("complete", [&](rpc::ClientNamenodeClient& c) {
    closed = c.complete(complete_header, abs, client_name_, none, st.inode_id);
  }));
  if (!closed) return Status::IoError("could not close " + abs);
  return Status::OK();
}

Result<std::unique_ptr<OutputStream>> FileSystemImpl::Create(const std::string& path,
                                                             const CreateOptions& options) {
  ASSIGN_OR_RETURN(std::string abs, MakeAbsolute(path));
  return client::OutputStreamImpl::Create(stream_context_, abs, options);
}

Result<std::unique_ptr<OutputStream>> FileSystemImpl::Append(const std::string& path) {
  ASSIGN_OR_RETURN(std::string abs, MakeAbsolute(path));
  return client::OutputStreamImpl::Append(stream_context_, abs);
}

Result<std::unique_ptr<InputStream>> FileSystemImpl::Open(const std::string& path) {
  ASSIGN_OR_RETURN(std::string abs, MakeAbsolute(path));
  return client::InputStreamImpl::Open(stream_context_, abs);
}

Result<std::vector<BlockLocation>> FileSystemImpl::GetFileBlockLocations(const std::string& path,
                                                                         int64_t offset,
                                                                         int64_t length) {
  ASSIGN_OR_RETURN(std::string abs, MakeAbsolute(path));
  return client::ListBlockLocations(&core_->data_namenode, abs, offset, length);
}

Result<std::unique_ptr<RandomWriteFile>> FileSystemImpl::CreateRandomWrite(
    const std::string& path, const CreateOptions& options) {
  ASSIGN_OR_RETURN(std::string abs, MakeAbsolute(path));
  const int16_t replication =
      options.replication > 0 ? options.replication : options_.default_replication;
  const int64_t block_size =
      options.block_size > 0 ? options.block_size : options_.default_block_size;
  if (block_size <= 0 || block_size % transfer::kDefaultBytesPerChecksum != 0) {
    return Status::InvalidArgument("block size " + std::to_string(block_size) +
                                   " is not a positive multiple of " +
                                   std::to_string(transfer::kDefaultBytesPerChecksum) + " bytes");
  }
  const uint32_t mode = options.mode & ~options_.umask & 07777;
  ASSIGN_OR_RETURN(client::OpenedFile file,
                   core_->data_namenode.Create(abs, mode, client_name_, options.overwrite,
                                               options.create_parent, replication, block_size));
  return std::unique_ptr<RandomWriteFile>(client::RandomWriteFileImpl::ForCreated(
      stream_context_, abs, file, replication, block_size));
}

Result<std::unique_ptr<RandomWriteFile>> FileSystemImpl::OpenRandomWrite(const std::string& path) {
  ASSIGN_OR_RETURN(FileInfo info, GetFileInfo(path));
  if (info.IsDirectory()) return Status::IsADirectory(info.path + " is a directory");
  if (!info.IsFile()) return Status::InvalidArgument(info.path + " is not a regular file");
  const std::string abs = info.path;
  return std::unique_ptr<RandomWriteFile>(
      client::RandomWriteFileImpl::ForExisting(stream_context_, abs, info));
}

Status FileSystemImpl::Truncate(const std::string& path, int64_t length) {
  if (length < 0) return Status::InvalidArgument("truncate of " + path + " to a negative length");
  ASSIGN_OR_RETURN(std::unique_ptr<RandomWriteFile> file, OpenRandomWrite(path));
  RETURN_NOT_OK(file->Truncate(length));
  return file->Close();
}

Status FileSystemImpl::CreateSymlink(const std::string& target, const std::string& link,
                                     bool create_parent) {
  ASSIGN_OR_RETURN(std::string abs, MakeAbsolute(link));
  if (target.empty()) return Status::InvalidArgument("symlink " + abs + ": empty target");
  rpc::RequestHeader h = proxy_.NewHeader(true);
  rpc::FileStatus st;
  return proxy_.Call("createSymlink", [&](rpc::ClientNamenodeClient& c) {
    c.createSymlink(st, h, target, abs, create_parent);
  });
}

Status FileSystemImpl::RenameExchange(const std::string& a, const std::string& b) {
  ASSIGN_OR_RETURN(std::string abs_a, MakeAbsolute(a));
  ASSIGN_OR_RETURN(std::string abs_b, MakeAbsolute(b));
  rpc::RequestHeader h = proxy_.NewHeader(true);
  rpc::RenameOptions opts;
  opts.overwrite = false;
  opts.__set_exchange(true);
  return proxy_.Call("rename", [&](rpc::ClientNamenodeClient& c) {
    c.rename(h, abs_a, abs_b, opts);
  });
}

Result<FileChecksum> FileSystemImpl::GetFileChecksum(const std::string& path) {
  ASSIGN_OR_RETURN(std::string abs, MakeAbsolute(path));
  return client::ComputeFileChecksum(&core_->data_namenode, abs,
                                     options_.datanode_timeout_ms);
}

// --- operators ---

Result<SafeModeState> FileSystemImpl::SetSafeMode(SafeModeAction action) {
  rpc::SafeModeStatus st;
  RETURN_NOT_OK(proxy_.Call("setSafeMode", [&](rpc::ClientNamenodeClient& c) {
    c.setSafeMode(st, proxy_.NewHeader(false), static_cast<rpc::SafeModeAction::type>(action));
  }));
  SafeModeState out;
  out.on = st.on;
  out.manual = st.manual;
  out.tip = st.tip;
  return out;
}

Result<std::vector<DatanodeReport>> FileSystemImpl::GetDatanodeReport(DatanodeReportType type) {
  std::vector<rpc::DatanodeInfo> nodes;
  RETURN_NOT_OK(proxy_.Call("getDatanodeReport", [&](rpc::ClientNamenodeClient& c) {
    c.getDatanodeReport(nodes, proxy_.NewHeader(false),
                        static_cast<rpc::DatanodeReportType::type>(type));
  }));
  std::vector<DatanodeReport> out;
  out.reserve(nodes.size());
  for (const rpc::DatanodeInfo& n : nodes) {
    DatanodeReport r;
    r.storage_id = n.id.storage_id;
    r.host = n.id.host;
    r.data_port = n.id.data_port;
    r.rpc_port = n.id.rpc_port;
    r.rack = n.id.__isset.rack ? n.id.rack : "";
    r.liveness = n.liveness;
    r.admin_state = n.admin_state;
    r.capacity = n.capacity;
    r.used = n.used;
    r.remaining = n.remaining;
    r.num_blocks = n.num_blocks;
    r.last_contact_ms_ago = n.last_contact_ms_ago;
    r.active_transfers = n.active_transfers;
    r.failed_volumes = n.failed_volumes;
    r.volumes = n.volumes;
    out.push_back(std::move(r));
  }
  return out;
}

Status FileSystemImpl::RefreshNodes() {
  return proxy_.Call("refreshNodes", [&](rpc::ClientNamenodeClient& c) {
    c.refreshNodes(proxy_.NewHeader(false));
  });
}

Status FileSystemImpl::SetDatanodeAdminState(const std::string& host_port, bool decommission) {
  return proxy_.Call("setDatanodeAdminState", [&](rpc::ClientNamenodeClient& c) {
    c.setDatanodeAdminState(proxy_.NewHeader(false), host_port, decommission);
  });
}

Result<FileHealthInfo> FileSystemImpl::GetFileHealth(const std::string& path) {
  ASSIGN_OR_RETURN(std::string abs, MakeAbsolute(path));
  rpc::FileHealth st;
  RETURN_NOT_OK(proxy_.Call("getFileHealth", [&](rpc::ClientNamenodeClient& c) {
    c.getFileHealth(st, proxy_.NewHeader(false), abs);
  }));
  FileHealthInfo out;
  out.inode_id = static_cast<uint64_t>(st.inode_id);
  out.length = st.length;
  out.replication = st.replication;
  out.under_construction = st.under_construction;
  out.blocks.reserve(st.blocks.size());
  for (const rpc::BlockHealth& b : st.blocks) {
    BlockHealthInfo info;
    info.block_id = static_cast<uint64_t>(b.block.block_id);
    info.generation_stamp = b.block.generation_stamp;
    info.length = b.block.num_bytes;
    info.expected_replication = b.expected_replication;
    info.complete = b.complete;
    info.live = b.live;
    info.decommissioning = b.decommissioning;
    info.corrupt = b.corrupt;
    info.stale = b.stale;
    out.blocks.push_back(std::move(info));
  }
  return out;
}

Result<std::vector<CorruptFileBlock>> FileSystemImpl::ListCorruptFileBlocks(
    const std::string& path, int32_t limit) {
  ASSIGN_OR_RETURN(std::string abs, MakeAbsolute(path));
  std::vector<rpc::CorruptFileBlock> blocks;
  RETURN_NOT_OK(proxy_.Call("listCorruptFileBlocks", [&](rpc::ClientNamenodeClient& c) {
    c.listCorruptFileBlocks(blocks, proxy_.NewHeader(false), abs, limit);
  }));
  std::vector<CorruptFileBlock> out;
  out.reserve(blocks.size());
  for (const rpc::CorruptFileBlock& b : blocks) {
    out.push_back(CorruptFileBlock{b.path, static_cast<uint64_t>(b.block.block_id),
                                   b.block.generation_stamp, b.block.num_bytes});
  }
  return out;
}

}  // namespace talus
