#pragma once

#include "common/transfer/ops.h"
#include "datanode/transfer/op_context.h"

// WRITE_BLOCK: prepares the replica (create, append or recovery), connects the rest of the
// pipeline, then receives packets on the connection's thread while a responder thread sends the
// acks upstream (see transfer_server.h for the semantics a client relies on).
namespace talus::datanode {

// Returns true when the whole block arrived and was acknowledged (the connection may carry
// another op); false when the connection must close.
bool ServeWriteBlock(const OpContext& ctx, const transfer::WriteBlockOp& op);

}  // namespace talus::datanode
