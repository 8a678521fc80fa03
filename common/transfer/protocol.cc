#include "common/transfer/protocol.h"

#include <algorithm>
#include <cstdint>
#include <string>

namespace talus::transfer {

int PipelineTimeoutMs(int base_timeout_ms, size_t nodes_after) {
  if (base_timeout_ms <= 0) return base_timeout_ms;
  const int64_t extension = std::min<int64_t>(5000, base_timeout_ms / 4);
  const int64_t total = base_timeout_ms + extension * static_cast<int64_t>(
                                                          std::min<size_t>(nodes_after, 64));
  return static_cast<int>(std::min<int64_t>(total, INT32_MAX));
}

const char* OpCodeName(OpCode op) {
  switch (op) {
    case OpCode::kWriteBlock: return "WRITE_BLOCK";
    case OpCode::kReadBlock: return "READ_BLOCK";
    case OpCode::kBlockChecksum: return "BLOCK_CHECKSUM";
    case OpCode::kTransferBlock: return "TRANSFER_BLOCK";
  }
  return "UNKNOWN_OP";
}

const char* TransferStatusName(TransferStatus status) {
  switch (status) {
    case TransferStatus::kSuccess: return "SUCCESS";
    case TransferStatus::kError: return "ERROR";
    case TransferStatus::kErrorChecksum: return "ERROR_CHECKSUM";
    case TransferStatus::kErrorInvalid: return "ERROR_INVALID";
    case TransferStatus::kErrorUnknownBlock: return "ERROR_UNKNOWN_BLOCK";
    case TransferStatus::kErrorStaleGenstamp: return "ERROR_STALE_GENSTAMP";
    case TransferStatus::kErrorExists: return "ERROR_EXISTS";
    case TransferStatus::kErrorNoSpace: return "ERROR_NO_SPACE";
  }
  return "UNKNOWN_STATUS";
}

Status TransferStatusToStatus(TransferStatus status, std::string_view message) {
  if (status == TransferStatus::kSuccess) return Status::OK();
  std::string text = std::string(TransferStatusName(status));
  if (!message.empty()) {
    text += ": ";
    text += message;
  }
  switch (status) {
    case TransferStatus::kErrorChecksum: return Status::Corruption(text);
    case TransferStatus::kErrorInvalid: return Status::InvalidArgument(text);
    case TransferStatus::kErrorUnknownBlock: return Status::NotFound(text);
    case TransferStatus::kErrorStaleGenstamp: return Status::InvalidArgument(text);
    case TransferStatus::kErrorExists: return Status::AlreadyExists(text);
    case TransferStatus::kErrorNoSpace: return Status(ErrorCode::kNoSpace, text);
    default: return Status::IoError(text);
  }
}

}  // namespace talus::transfer
