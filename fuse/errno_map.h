#pragma once

#include "common/status.h"

namespace talus::fuse {

// The errno a FUSE reply carries for a failed Talus call. Follows common ToErrno, except where a
// mounted file system must answer differently: a peer that stayed unreachable or slow past the
// client's bounded retries is EIO (programs do not expect ETIMEDOUT or EHOSTUNREACH from
// read(2) or stat(2)), and a namenode that is not the leader after retries is EIO too.
int FuseErrno(const Status& status);

}  // namespace talus::fuse
