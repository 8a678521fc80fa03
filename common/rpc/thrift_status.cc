#include "common/rpc/thrift_status.h"

namespace talus {

rpc::TalusError ToThriftError(const Status& status) {
  rpc::TalusError error;
  error.code = static_cast<rpc::ErrorCode::type>(status.code());
  error.message = status.message();
  if (status.code() == ErrorCode::kNotLeader) error.__set_leader_hint(status.detail());
  return error;
}

Status FromThriftError(const rpc::TalusError& error) {
  ErrorCode code = ErrorCodeFromInt(static_cast<int32_t>(error.code));
  if (code == ErrorCode::kOk) code = ErrorCode::kInternal;  // an error that claims success
  return Status(code, error.message, error.__isset.leader_hint ? error.leader_hint : "");
}

}  // namespace talus
