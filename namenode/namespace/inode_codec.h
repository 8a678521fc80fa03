#pragma once
// Inode <-> the InodeRecord bytes stored in LevelDB.

#include <string>
#include <string_view>

#include "common/status.h"
#include "namenode/namespace/inode.h"

namespace talus {

std::string EncodeInode(const Inode& inode);
Status DecodeInode(std::string_view bytes, Inode* inode);

}  // namespace talus
