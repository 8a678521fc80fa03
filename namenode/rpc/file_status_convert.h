#pragma once

#include "namenode/namespace/inode.h"
#include "talus_rpc/client_namenode_types.h"

namespace talus {

// Inode -> the wire's FileStatus.
void ToFileStatus(const Inode& inode, rpc::FileStatus* out);

}  // namespace talus
