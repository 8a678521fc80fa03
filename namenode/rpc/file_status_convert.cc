#include "namenode/rpc/file_status_convert.h"

#include "namenode/namespace/wire_convert.h"

namespace talus {


void ToFileStatus(const Inode& inode, rpc::FileStatus* out) {
  out->inode_id = static_cast<int64_t>(inode.id);
  out->name = inode.name;
  out->type = static_cast<rpc::FileType::type>(inode.type);
  out->length = inode.length;
  out->replication = inode.IsFile() ? inode.replication : 0;
  out->block_size = inode.IsFile() ? inode.block_size : 0;
  out->mtime = ToWire(inode.mtime);
  out->atime = ToWire(inode.atime);
  out->ctime = ToWire(inode.ctime);
  out->mode = static_cast<int32_t>(inode.mode);
  out->owner = inode.owner;
  out->group = inode.group;
  if (inode.UnderConstruction()) out->__set_under_construction(true);
  if (!inode.symlink_target.empty()) out->__set_symlink_target(inode.symlink_target);
  out->__set_parent_id(static_cast<int64_t>(inode.parent_id));
}

}  // namespace talus
