#pragma once

// Conversions between raft::Message and its Thrift form (thrift/raft.thrift). Kept to the
// transport: the core and the node never see Thrift types.

#include <string>
#include <vector>

#include "common/result.h"
#include "raft/core/messages.h"
#include "talus_rpc/raft_types.h"

namespace talus::raft {

rpc::RaftMessage ToWire(const Message& msg);

// Validates what the core cannot know about a message off the network: a known type, ids and
// indices that fit, entries numbered contiguously after prev_log_index and not beyond the
// message's term. `from` is the envelope's sender (already checked by the caller).
Result<Message> FromWire(const rpc::RaftMessage& wire, NodeId from);

// Bytes a message takes on the wire, roughly (entry data dominates): for queue limits.
size_t ApproximateBytes(const Message& msg);

}  // namespace talus::raft
