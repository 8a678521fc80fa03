#include "fuse/errno_map.h"

#include <cerrno>

namespace talus::fuse {

int FuseErrno(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kOk:
      return 0;
    case ErrorCode::kTimedOut:
    case ErrorCode::kUnavailable:
    case ErrorCode::kNotLeader:
    case ErrorCode::kInternal:
      return EIO;
    default:
      break;
  }
  int err = ToErrno(status.code());
  return err > 0 ? err : EIO;
}

}  // namespace talus::fuse
