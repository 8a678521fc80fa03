#include "common/transfer/protocol.h"

#include <string>

namespace talus::transfer {

const char* OpCodeName(OpCode op) {
  switch (op) {
    case OpCode::kWriteBlock: return "WRITE_BLOCK";
    case OpCode::kReadBlock: return "READ_BLOCK";
    case OpCode::kBlockChecksum: return "BLOCK_CHECKSUM";
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
