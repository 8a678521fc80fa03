#pragma once

#include "client/namenode_proxy.h"
#include "client/stream/data_namenode.h"

namespace talus::client {

// DataNamenode over the pooled, retrying NamenodeProxy: converts between the client's types and
// Thrift's. Mutations keep one call id across the proxy's retries (retry cache).
class ProxyDataNamenode : public DataNamenode {
 public:
  explicit ProxyDataNamenode(NamenodeProxy* proxy) : proxy_(proxy) {}

  Result<OpenedFile> Create(const std::string& path, uint32_t mode,
                            const std::string& client_name, bool overwrite, bool create_parent,
                            int16_t replication, int64_t block_size) override;
  Result<AppendedFile> Append(const std::string& path, const std::string& client_name) override;
  Result<LocatedBlock> AddBlock(const std::string& path, const std::string& client_name,
                                const std::optional<BlockRef>& previous,
                                const std::vector<std::string>& excluded_storage_ids,
                                uint64_t file_id) override;
  Status AbandonBlock(const std::string& path, const std::string& client_name,
                      const BlockRef& block, uint64_t file_id) override;
  Result<bool> Complete(const std::string& path, const std::string& client_name,
                        const std::optional<BlockRef>& last, uint64_t file_id) override;
  Result<LocatedBlocks> GetBlockLocations(const std::string& path, int64_t offset,
                                          int64_t length) override;
  Status RenewLease(const std::string& client_name) override;
  Status ReportBadBlocks(const std::vector<LocatedBlock>& blocks) override;
  Result<OpenedFile> OpenForOverwrite(const std::string& path,
                                      const std::string& client_name) override;
  Result<LocatedBlock> AllocateBlock(const std::string& path, uint64_t file_id,
                                     const std::string& client_name,
                                     const std::vector<std::string>& excluded_storage_ids) override;
  Result<OpenedFile> CommitBlocks(const std::string& path, uint64_t file_id,
                                  const std::string& client_name,
                                  const std::vector<BlockReplacement>& replacements,
                                  int64_t new_length, bool release) override;
  Result<uint64_t> UpdateBlockForPipeline(const BlockRef& block,
                                          const std::string& client_name) override;
  Status UpdatePipeline(const std::string& client_name, const BlockRef& old_block,
                        const BlockRef& new_block,
                        const std::vector<DatanodeInfo>& nodes) override;
  Result<std::vector<DatanodeInfo>> GetAdditionalDatanodes(
      const std::string& path, uint64_t file_id, const BlockRef& block,
      const std::vector<DatanodeInfo>& existing,
      const std::vector<std::string>& excluded_storage_ids, int count,
      const std::string& client_name) override;

 private:
  NamenodeProxy* const proxy_;
};

}  // namespace talus::client
