#pragma once

#include <string>
#include <vector>

#include "client/stream/data_namenode.h"
#include "talus/file_system.h"

namespace talus::client {

// The CRC32C of the whole file, folded from each block's CRC32C (BLOCK_CHECKSUM on one replica,
// failing over to the others) with crc32c::Combine, so it does not depend on the block size.
// Covers the completed blocks (for a file being written, what file_length counts).
Result<FileChecksum> ComputeFileChecksum(DataNamenode* namenode, const std::string& path,
                                         int timeout_ms);

// BlockLocation of each block overlapping file bytes [offset, offset + length).
Result<std::vector<BlockLocation>> ListBlockLocations(DataNamenode* namenode,
                                                      const std::string& path, int64_t offset,
                                                      int64_t length);

}  // namespace talus::client
