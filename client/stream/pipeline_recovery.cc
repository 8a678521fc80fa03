#include "client/stream/pipeline_recovery.h"

#include <algorithm>
#include <string_view>

namespace talus::client {

bool ShouldAddDatanode(ReplaceDatanodePolicy policy, int replication, size_t survivors,
                       bool hflushed_or_appended) {
  if (replication <= 0 || survivors >= static_cast<size_t>(replication)) return false;
  switch (policy) {
    case ReplaceDatanodePolicy::kNever:
      return false;
    case ReplaceDatanodePolicy::kAlways:
      return true;
    case ReplaceDatanodePolicy::kDefault:
      return replication >= 3 &&
             (survivors <= static_cast<size_t>(replication / 2) || hflushed_or_appended);
  }
  return false;
}

int BadNodeOfAck(const transfer::PipelineAck& ack, size_t pipeline_size) {
  const int failed = ack.FirstFailure();
  if (failed >= 0) {
    return std::min(failed, static_cast<int>(pipeline_size) - 1);
  }
  if (ack.replies.size() < pipeline_size) return static_cast<int>(ack.replies.size());
  return -1;
}

int BadNodeOfSetup(const std::string& message, const std::vector<DatanodeInfo>& nodes) {
  static constexpr std::string_view kPrefix = "bad datanode ";
  if (message.compare(0, kPrefix.size(), kPrefix) != 0) return 0;
  const size_t end = message.find(": ", kPrefix.size());
  const std::string named = message.substr(kPrefix.size(), end == std::string::npos
                                                               ? std::string::npos
                                                               : end - kPrefix.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (named == nodes[i].DataAddress()) return static_cast<int>(i);
  }
  return 0;
}

transfer::WriteBlockOp RecoveryOp(const RecoveryPoint& point) {
  transfer::WriteBlockOp op;
  op.block_id = point.block_id;
  op.genstamp = point.replica_genstamp;
  op.latest_genstamp = point.new_genstamp;
  op.stage = transfer::WriteStage::kRecovery;
  op.bytes_per_checksum = point.bytes_per_checksum;
  op.min_bytes_rcvd = point.acked_bytes;
  op.max_bytes_rcvd = std::max(point.acked_bytes, point.sent_bytes);
  op.client_name = point.client_name;
  return op;
}

}  // namespace talus::client
