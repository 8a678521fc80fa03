#pragma once

#include <fuse_lowlevel.h>

namespace talus::fuse {

// The low-level operation table: each entry hands the request to the TalusFuse given to
// fuse_session_new as user data. Extended attributes, locks, mknod of special files and
// fallocate are left out, so the kernel answers them (ENOSYS once, then EOPNOTSUPP or local
// locking) without asking again.
const fuse_lowlevel_ops& TalusFuseOps();

}  // namespace talus::fuse
