#include "datanode/transfer/op_context.h"

#include <glog/logging.h>

#include "common/transfer/stream_io.h"
#include "datanode/transfer/transfer_metrics.h"

namespace talus::datanode {

using transfer::TransferStatus;

TransferStatus TransferStatusFor(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kOk:
      return TransferStatus::kSuccess;
    case ErrorCode::kNotFound:
      return TransferStatus::kErrorUnknownBlock;
    case ErrorCode::kAlreadyExists:
      return TransferStatus::kErrorExists;
    case ErrorCode::kNoSpace:
    case ErrorCode::kQuotaExceeded:
      return TransferStatus::kErrorNoSpace;
    case ErrorCode::kCorruption:
      return TransferStatus::kErrorChecksum;
    case ErrorCode::kInvalidArgument:
      return TransferStatus::kErrorInvalid;
    default:
      return TransferStatus::kError;
  }
}

uint64_t ReplicaVisibleLength(const ReplicaInfo& info, const WriteTracker& tracker) {
  if (info.state == ReplicaState::kFinalized) return info.bytes_on_disk;
  auto acked = tracker.AckedLength(info.block_id, info.genstamp);
  if (acked.has_value() && *acked < info.bytes_on_disk) return *acked;
  return info.bytes_on_disk;
}

ReplicaLookup LookupForReader(const DataSet& data, uint64_t block_id, uint64_t genstamp) {
  ReplicaLookup out;
  auto info = data.GetReplica(block_id);
  if (!info.ok()) {
    out.status = info.status().IsNotFound() ? TransferStatus::kErrorUnknownBlock
                                            : TransferStatusFor(info.status());
    out.error = info.status();
    return out;
  }
  if (info->genstamp < genstamp) {
    out.status = TransferStatus::kErrorStaleGenstamp;
    out.error = Status::InvalidArgument(
        "block " + std::to_string(block_id) + ": replica has generation stamp " +
        std::to_string(info->genstamp) + ", older than the requested " +
        std::to_string(genstamp) + " (stale replica)");
    return out;
  }
  out.info = std::move(info).value();
  return out;
}

void RespondError(const OpContext& ctx, const char* op, TransferStatus status,
                  const std::string& message) {
  LOG(WARNING) << ctx.NodePrefix() << op << " from " << ctx.peer << " failed ("
               << transfer::TransferStatusName(status) << "): " << message;
  transfer::OpResponse response;
  response.status = status;
  response.message = ctx.NodePrefix() + message;
  if (response.message.size() > transfer::kMaxMessageBytes) {
    response.message.resize(transfer::kMaxMessageBytes);
  }
  Status s = transfer::WriteResponse(ctx.fd, response, ctx.IoDeadline());
  if (!s.ok()) VLOG(1) << "Could not send the error response to " << ctx.peer << ": " << s;
  ctx.counters->ops_failed.fetch_add(1, std::memory_order_relaxed);
  GetDatanodeMetrics().ops_failed->Increment();
}

}  // namespace talus::datanode
