#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "talus/file_system.h"

// What the data path needs from the namenode, in the client's own types (no Thrift types
// outside the proxy that implements it), so streams can be tested against a fake namenode.
namespace talus::client {

struct DatanodeInfo {
  std::string storage_id;
  std::string host;
  int data_port = 0;
  int rpc_port = 0;
  std::string rack;
  // "host:data_port": how errors and BlockLocation name a node.
  std::string DataAddress() const { return host + ":" + std::to_string(data_port); }
  bool operator==(const DatanodeInfo&) const = default;
};

// A block and the version (generation stamp) and length of its data.
struct BlockRef {
  uint64_t block_id = 0;
  uint64_t genstamp = 0;
  uint64_t num_bytes = 0;
  std::string Name() const {
    return "blk_" + std::to_string(block_id) + "_" + std::to_string(genstamp);
  }
};

struct LocatedBlock {
  BlockRef block;
  int64_t offset = 0;                   // of the block's first byte in the file
  std::vector<DatanodeInfo> locations;  // nearest first; for a new block, the write pipeline
  bool corrupt = false;
};

struct LocatedBlocks {
  // Excludes an under-construction last block, whose readable length only its replicas know.
  int64_t file_length = 0;
  std::vector<LocatedBlock> blocks;
  bool under_construction = false;
  std::optional<LocatedBlock> last_block;
  bool last_block_complete = true;
};

struct OpenedFile {
  OpenedFile() = default;
  OpenedFile(uint64_t id, int64_t len, int64_t block, int16_t rep)
      : file_id(id), length(len), block_size(block), replication(rep) {}

  uint64_t file_id = 0;
  int64_t length = 0;
  int64_t block_size = 0;
  int16_t replication = 0;
  // Everything the namenode answered (mode, owner, times...); `path` is left empty.
  FileInfo info;
};

// Copy-on-write: block `index` of the file, currently `old_block_id` (0 when the list grows),
// becomes `new_block` (allocated by AllocateBlock, written, its num_bytes its length).
struct BlockReplacement {
  int32_t index = 0;
  uint64_t old_block_id = 0;
  BlockRef new_block;
};

struct AppendedFile {
  OpenedFile file;
  // Present when the last block is partial: it carries its NEW generation stamp, and
  // previous_genstamp is what its replicas hold now.
  std::optional<LocatedBlock> last_block;
  uint64_t previous_genstamp = 0;
};

class DataNamenode {
 public:
  virtual ~DataNamenode() = default;
  virtual Result<OpenedFile> Create(const std::string& path, uint32_t mode,
                                    const std::string& client_name, bool overwrite,
                                    bool create_parent, int16_t replication,
                                    int64_t block_size) = 0;
  virtual Result<AppendedFile> Append(const std::string& path, const std::string& client_name) = 0;
  // `previous` is the file's last block as written (absent for the first block).
  virtual Result<LocatedBlock> AddBlock(const std::string& path, const std::string& client_name,
                                        const std::optional<BlockRef>& previous,
                                        const std::vector<std::string>& excluded_storage_ids,
                                        uint64_t file_id) = 0;
  virtual Status AbandonBlock(const std::string& path, const std::string& client_name,
                              const BlockRef& block, uint64_t file_id) = 0;
  // False: replicas are still reporting; call again.
  virtual Result<bool> Complete(const std::string& path, const std::string& client_name,
                                const std::optional<BlockRef>& last, uint64_t file_id) = 0;
  virtual Result<LocatedBlocks> GetBlockLocations(const std::string& path, int64_t offset,
                                                  int64_t length) = 0;
  virtual Status RenewLease(const std::string& client_name) = 0;
  // Each block with the locations whose replicas are bad.
  virtual Status ReportBadBlocks(const std::vector<LocatedBlock>& blocks) = 0;

  // Writes at any offset (copy-on-write blocks). Defaults refuse, for fakes without them.
  // Takes the write lease on a closed file without reopening its last block.
  virtual Result<OpenedFile> OpenForOverwrite(const std::string& path,
                                              const std::string& client_name) {
    return Status::NotSupported("openForOverwrite of " + path);
  }
  // A new block and its pipeline, part of the file only once committed.
  virtual Result<LocatedBlock> AllocateBlock(const std::string& path, uint64_t file_id,
                                             const std::string& client_name,
                                             const std::vector<std::string>& excluded_storage_ids) {
    return Status::NotSupported("allocateBlock for " + path);
  }
  // One journaled swap of blocks, the list cut to `new_length`; `release` closes the file.
  // Answers the file as it is after the commit.
  virtual Result<OpenedFile> CommitBlocks(const std::string& path, uint64_t file_id,
                                          const std::string& client_name,
                                          const std::vector<BlockReplacement>& replacements,
                                          int64_t new_length, bool release) {
    return Status::NotSupported("commitBlocks of " + path);
  }

  // Pipeline recovery (HDFS ClientProtocol). Defaults refuse, for fakes that do not recover.
  // A new generation stamp for the file's last block (`block` as the namenode knows it).
  virtual Result<uint64_t> UpdateBlockForPipeline(const BlockRef& block,
                                                  const std::string& client_name) {
    return Status::NotSupported("updateBlockForPipeline of " + block.Name());
  }
  // Commits a rebuilt pipeline: the block's new stamp and acknowledged length, and its nodes.
  virtual Status UpdatePipeline(const std::string& client_name, const BlockRef& old_block,
                                const BlockRef& new_block,
                                const std::vector<DatanodeInfo>& nodes) {
    return Status::NotSupported("updatePipeline of " + old_block.Name());
  }
  // Up to `count` datanodes to add to the pipeline of the file's last block, none of `existing`
  // nor `excluded_storage_ids`.
  virtual Result<std::vector<DatanodeInfo>> GetAdditionalDatanodes(
      const std::string& path, uint64_t file_id, const BlockRef& block,
      const std::vector<DatanodeInfo>& existing,
      const std::vector<std::string>& excluded_storage_ids, int count,
      const std::string& client_name) {
    return Status::NotSupported("getAdditionalDatanode for " + block.Name());
  }
};

}  // namespace talus::client
