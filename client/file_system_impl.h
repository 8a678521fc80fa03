#pragma once

#include <memory>
#include <string>

#include "client/namenode_proxy.h"
#include "client/stream/lease_renewer.h"
#include "client/stream/proxy_data_namenode.h"
#include "client/stream/stream_context.h"
#include "talus/file_system.h"

namespace talus {

class FileSystemImpl : public FileSystem {
 public:
  FileSystemImpl(std::string uri, std::vector<NamenodeAddress> namenodes, ClientOptions options,
                 std::string user);

  const std::string& uri() const override { return uri_; }
  const std::string& user() const override { return user_; }
  const std::string& working_directory() const override { return working_dir_; }
  Result<std::string> MakeAbsolute(const std::string& path) const override;

  Result<FileInfo> GetFileInfo(const std::string& path) override;
  Result<std::vector<FileInfo>> ListDirectory(const std::string& path) override;
  Status ListDirectoryPaged(const std::string& path,
                            const std::function<bool(const FileInfo&)>& each) override;
  Result<ContentSummary> GetContentSummary(const std::string& path) override;
  Result<FsStats> GetStats() override;

  Status Mkdirs(const std::string& path, uint32_t mode, bool create_parent) override;
  Result<bool> Delete(const std::string& path, bool recursive) override;
  Status Rename(const std::string& src, const std::string& dst, bool overwrite) override;
  Status SetPermission(const std::string& path, uint32_t mode) override;
  Status SetOwner(const std::string& path, const std::string& owner,
                  const std::string& group) override;
  Status SetTimes(const std::string& path, Timestamp mtime, Timestamp atime) override;
  Result<bool> SetReplication(const std::string& path, int16_t replication) override;
  Status CreateEmptyFile(const std::string& path, bool overwrite, uint32_t mode) override;
  // Data path. A stream may outlive this FileSystem (it shares the connections and leases).
  Result<std::unique_ptr<OutputStream>> Create(const std::string& path,
                                               const CreateOptions& options) override;
  Result<std::unique_ptr<OutputStream>> Append(const std::string& path) override;
  Result<std::unique_ptr<InputStream>> Open(const std::string& path) override;
  Result<std::unique_ptr<RandomWriteFile>> CreateRandomWrite(const std::string& path,
                                                             const CreateOptions& options) override;
  Result<std::unique_ptr<RandomWriteFile>> OpenRandomWrite(const std::string& path) override;
  Status Truncate(const std::string& path, int64_t length) override;
  Status CreateSymlink(const std::string& target, const std::string& link,
                       bool create_parent) override;
  Status RenameExchange(const std::string& a, const std::string& b) override;
  Result<std::vector<BlockLocation>> GetFileBlockLocations(const std::string& path,
                                                           int64_t offset,
                                                           int64_t length) override;
  Result<FileChecksum> GetFileChecksum(const std::string& path) override;

  Result<SafeModeState> SetSafeMode(SafeModeAction action) override;
  Result<std::vector<DatanodeReport>> GetDatanodeReport(DatanodeReportType type) override;
  Status RefreshNodes() override;
  Status SetDatanodeAdminState(const std::string& host_port, bool decommission) override;
  Result<FileHealthInfo> GetFileHealth(const std::string& path) override;
  Result<std::vector<CorruptFileBlock>> ListCorruptFileBlocks(const std::string& path,
                                                              int32_t limit) override;

  NamenodeProxy& proxy() { return proxy_; }
  const std::string& client_name() const { return client_name_; }
  // The idle datanode connections every reader of this FileSystem shares (tests read its stats).
  client::DatanodeConnectionCache& connection_cache() { return core_->connections; }

 private:
  // What streams share with the FileSystem. Each stream holds a reference, so a stream that
  // outlives its FileSystem still works (and its lease is still renewed).
  struct Core {
    Core(std::vector<NamenodeAddress> namenodes, const ClientOptions& options, std::string user,
         std::string client_name);
    const std::string client_name;
    NamenodeProxy proxy;
    client::ProxyDataNamenode data_namenode;
    client::DatanodeConnectionCache connections;
    client::LeaseRenewer leases;  // declared last: its thread stops before the rest goes
  };

  const std::string uri_;
  const ClientOptions options_;
  const std::string user_;
  const std::string working_dir_;
  const std::string client_name_;
  const std::shared_ptr<Core> core_;
  NamenodeProxy& proxy_;  // core_->proxy
  client::StreamContext stream_context_;
};

}  // namespace talus
