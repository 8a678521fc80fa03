#pragma once
// The one place Status and the wire's TalusError meet.

#include "common/status.h"
#include "talus_rpc/common_types.h"

namespace talus {

rpc::TalusError ToThriftError(const Status& status);
Status FromThriftError(const rpc::TalusError& error);

// Throws the TalusError for a non-OK status (for use in Thrift handlers only).
inline void ThrowIfError(const Status& status) {
  if (!status.ok()) throw ToThriftError(status);
}

}  // namespace talus
