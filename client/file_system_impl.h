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
  // Data path. Streams borrow this FileSystem: close or destroy them before it.
  Result<std::unique_ptr<OutputStream>> Create(const std::string& path,
                                               const CreateOptions& options) override;
  Result<std::unique_ptr<OutputStream>> Append(const std::string& path) override;
  Result<std::unique_ptr<InputStream>> Open(const std::string& path) override;
  Result<std::vector<BlockLocation>> GetFileBlockLocations(const std::string& path,
                                                           int64_t offset,
                                                           int64_t length) override;
  Result<FileChecksum> GetFileChecksum(const std::string& path) override;

  NamenodeProxy& proxy() { return proxy_; }
  const std::string& client_name() const { return client_name_; }

 private:
  const std::string uri_;
  const ClientOptions options_;
  const std::string user_;
  const std::string working_dir_;
  const std::string client_name_;
  NamenodeProxy proxy_;
  // Declared after proxy_, which they use: destroyed before it.
  std::unique_ptr<client::ProxyDataNamenode> data_namenode_;
  std::unique_ptr<client::LeaseRenewer> leases_;  // renews client_name_'s leases
  client::StreamContext stream_context_;
};

}  // namespace talus
