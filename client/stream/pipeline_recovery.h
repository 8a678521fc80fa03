#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "client/stream/data_namenode.h"
#include "common/transfer/ops.h"
#include "common/transfer/pipeline_ack.h"
#include "talus/file_system.h"

// The decisions of write pipeline recovery (HDFS DataStreamer's setupPipelineForAppendOrRecovery)
// as pure functions, so they can be tested without a cluster: which node failed, whether a
// replacement node is wanted, and the op that resumes the block on the survivors.
namespace talus::client {

// When a pipeline that lost nodes gets new ones (talus/file_system.h).
using ReplaceDatanodePolicy = ::talus::ReplaceDatanodePolicy;

bool ShouldAddDatanode(ReplaceDatanodePolicy policy, int replication, size_t survivors,
                       bool hflushed_or_appended);

// The first node an ack says failed: the first non-success reply, else the first node the ack
// has no reply for (a node cut its downstream off without saying why). -1 when every node of
// the pipeline succeeded.
int BadNodeOfAck(const transfer::PipelineAck& ack, size_t pipeline_size);

// The node a failed pipeline setup's message names ("bad datanode HOST:PORT: ...", see
// kBadNodePrefix in datanode/transfer/transfer_server.h; the address is compared whole, so
// 127.0.0.1:3456 is never taken for 127.0.0.1:34567); else 0, the node that answered.
int BadNodeOfSetup(const std::string& message, const std::vector<DatanodeInfo>& nodes);

// What a recovery resumes from.
struct RecoveryPoint {
  uint64_t block_id = 0;
  // The oldest stamp a replica of the pipeline may hold (the block's stamp before this
  // recovery; for an append whose setup failed, the stamp before the append).
  uint64_t replica_genstamp = 0;
  uint64_t new_genstamp = 0;    // from updateBlockForPipeline
  uint64_t acked_bytes = 0;     // every node acknowledged [0, acked_bytes)
  uint64_t sent_bytes = 0;      // the most any node may hold
  uint32_t bytes_per_checksum = transfer::kDefaultBytesPerChecksum;
  std::string client_name;
};

// WRITE_BLOCK with stage recovery for the survivors: each cuts its replica to acked_bytes under
// the new stamp, and the unacknowledged packets are sent again from there.
transfer::WriteBlockOp RecoveryOp(const RecoveryPoint& point);

}  // namespace talus::client
