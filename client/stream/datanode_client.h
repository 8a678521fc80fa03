#pragma once

#include <cstdint>

#include "client/stream/data_namenode.h"
#include "common/result.h"
#include "common/transfer/socket_io.h"

// Small exchanges of the client with one datanode: connecting to its data port, the
// BLOCK_CHECKSUM op, and the Thrift DatanodeProtocol on its RPC port.
namespace talus::client {

// A TCP connection to the node's data port; Unavailable naming the node on failure.
Result<transfer::UniqueFd> ConnectDataPort(const DatanodeInfo& node, int timeout_ms);

// Bytes of `block` the node's replica lets a reader see (acknowledged by its whole pipeline for a
// replica being written; the length of a finalized one).
Result<uint64_t> GetReplicaVisibleLength(const DatanodeInfo& node, const BlockRef& block,
                                         int timeout_ms);

struct BlockCrc {
  uint32_t crc = 0;       // CRC32C of the block's first `length` bytes
  uint64_t length = 0;
};

// Asks the node for the CRC32C of the block's bytes (BLOCK_CHECKSUM op).
Result<BlockCrc> GetBlockCrc(const DatanodeInfo& node, const BlockRef& block, int timeout_ms);

}  // namespace talus::client
