#include "client/stream/file_checksum.h"

#include <glog/logging.h>

#include "client/stream/datanode_client.h"
#include "common/crc32c.h"

namespace talus::client {

namespace {

Result<BlockCrc> BlockCrcFromAnyReplica(const LocatedBlock& lb, const std::string& path,
                                        int timeout_ms) {
  Status last_error;
  for (const DatanodeInfo& node : lb.locations) {
    Result<BlockCrc> crc = GetBlockCrc(node, lb.block, timeout_ms);
    if (crc.ok()) return crc;
    last_error = crc.status();
    LOG(WARNING) << "checksum of " << path << ": " << last_error << "; trying another replica";
  }
  return Status::IoError("checksum of " + path + ": no replica of " + lb.block.Name() +
                         " answered" +
                         (last_error.ok() ? " (no locations)" : "; last error: " +
                                                                    last_error.message()));
}

}  // namespace

Result<FileChecksum> ComputeFileChecksum(DataNamenode* namenode, const std::string& path,
                                         int timeout_ms) {
  ASSIGN_OR_RETURN(LocatedBlocks first, namenode->GetBlockLocations(path, 0, INT64_MAX));
  const int64_t length = first.file_length;
  FileChecksum out;
  out.length = length;
  int64_t covered = 0;
  LocatedBlocks located = std::move(first);
  while (covered < length) {
    bool progressed = false;
    for (const LocatedBlock& lb : located.blocks) {
      if (lb.offset != covered || lb.block.num_bytes == 0) continue;
      if (covered + static_cast<int64_t>(lb.block.num_bytes) > length) break;
      ASSIGN_OR_RETURN(BlockCrc crc, BlockCrcFromAnyReplica(lb, path, timeout_ms));
      out.crc = crc32c::Combine(out.crc, crc.crc, crc.length);
      covered += static_cast<int64_t>(lb.block.num_bytes);
      progressed = true;
    }
    if (covered >= length) break;
    if (!progressed) {
      return Status::IoError("checksum of " + path + ": the namenode lists no block at offset " +
                             std::to_string(covered) + " of " + std::to_string(length));
    }
    // The namenode may answer a long range in pieces.
    ASSIGN_OR_RETURN(located, namenode->GetBlockLocations(path, covered, length - covered));
  }
  return out;
}

Result<std::vector<BlockLocation>> ListBlockLocations(DataNamenode* namenode,
                                                      const std::string& path, int64_t offset,
                                                      int64_t length) {
  if (offset < 0 || length < 0) {
    return Status::InvalidArgument("negative offset or length for block locations of " + path);
  }
  ASSIGN_OR_RETURN(LocatedBlocks located, namenode->GetBlockLocations(path, offset, length));
  std::vector<LocatedBlock> blocks = located.blocks;
  if (located.last_block &&
      (blocks.empty() || blocks.back().block.block_id != located.last_block->block.block_id)) {
    blocks.push_back(*located.last_block);
  }
  std::vector<BlockLocation> out;
  for (const LocatedBlock& lb : blocks) {
    const int64_t end = lb.offset + static_cast<int64_t>(lb.block.num_bytes);
    // Written so that offset + length cannot overflow.
    const bool overlaps = lb.offset < offset ? end > offset : lb.offset - offset < length;
    if (!overlaps) continue;
    BlockLocation loc;
    loc.offset = lb.offset;
    loc.length = static_cast<int64_t>(lb.block.num_bytes);
    loc.block_id = lb.block.block_id;
    loc.corrupt = lb.corrupt;
    for (const DatanodeInfo& node : lb.locations) loc.hosts.push_back(node.DataAddress());
    out.push_back(std::move(loc));
  }
  return out;
}

}  // namespace talus::client
