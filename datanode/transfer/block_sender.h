#pragma once

#include "common/transfer/ops.h"
#include "datanode/transfer/op_context.h"

// READ_BLOCK and BLOCK_CHECKSUM: the ops that send a replica's data (or its CRC) to a client.
namespace talus::datanode {

// Answers READ_BLOCK: RESPONSE, then packets of at most 64 KiB whose data goes by sendfile.
// Returns true when the whole range went out and the connection may carry another op.
bool ServeReadBlock(const OpContext& ctx, const transfer::ReadBlockOp& op);

// Answers BLOCK_CHECKSUM with the CRC32C of the replica's first `length` bytes, computed from
// the data with every chunk checksum verified (a mismatch reports the replica as bad).
bool ServeBlockChecksum(const OpContext& ctx, const transfer::BlockChecksumOp& op);

}  // namespace talus::datanode
