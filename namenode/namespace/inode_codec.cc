#include "namenode/namespace/inode_codec.h"

#include "common/thrift_codec.h"
#include "namenode/namespace/wire_convert.h"
#include "talus_rpc/edits_types.h"

namespace talus {


std::string EncodeInode(const Inode& inode) {
  rpc::InodeRecord rec;
  rec.id = static_cast<int64_t>(inode.id);
  rec.parent_id = static_cast<int64_t>(inode.parent_id);
  rec.name = inode.name;
  rec.type = static_cast<rpc::FileType::type>(inode.type);
  rec.mode = static_cast<int32_t>(inode.mode);
  rec.owner = inode.owner;
  rec.group = inode.group;
  rec.mtime = ToWire(inode.mtime);
  rec.atime = ToWire(inode.atime);
  rec.ctime = ToWire(inode.ctime);
  rec.replication = inode.replication;
  rec.block_size = inode.block_size;
  rec.length = inode.length;
  rec.blocks.reserve(inode.blocks.size());
  for (const BlockInfo& b : inode.blocks) {
    rpc::BlockRecord br;
    br.block_id = b.block_id;
    br.generation_stamp = b.generation_stamp;
    br.num_bytes = b.num_bytes;
    rec.blocks.push_back(std::move(br));
  }
  if (!inode.lease_holder.empty()) rec.__set_lease_holder(inode.lease_holder);
  if (!inode.symlink_target.empty()) rec.__set_symlink_target(inode.symlink_target);
  if (!inode.pending_blocks.empty()) {
    std::vector<rpc::BlockRecord> pending;
    pending.reserve(inode.pending_blocks.size());
    for (const BlockInfo& b : inode.pending_blocks) {
      rpc::BlockRecord br;
      br.block_id = b.block_id;
      br.generation_stamp = b.generation_stamp;
      br.num_bytes = b.num_bytes;
      pending.push_back(std::move(br));
    }
    rec.__set_pending_blocks(std::move(pending));
  }
  if (inode.overwriting) rec.__set_overwriting(true);
  return ThriftEncode(rec);
}

Status DecodeInode(std::string_view bytes, Inode* inode) {
  rpc::InodeRecord rec;
  RETURN_NOT_OK(ThriftDecode(bytes, &rec, "inode record"));
  if (rec.type < rpc::FileType::FILE || rec.type > rpc::FileType::SYMLINK) {
    return Status::Corruption("inode record " + std::to_string(rec.id) + " has an unknown type");
  }
  inode->id = static_cast<uint64_t>(rec.id);
  inode->parent_id = static_cast<uint64_t>(rec.parent_id);
  inode->name = std::move(rec.name);
  inode->type = static_cast<InodeType>(rec.type);
  inode->mode = static_cast<uint32_t>(rec.mode) & 07777;
  inode->owner = std::move(rec.owner);
  inode->group = std::move(rec.group);
  inode->mtime = FromWire(rec.mtime);
  inode->atime = FromWire(rec.atime);
  inode->ctime = FromWire(rec.ctime);
  inode->replication = rec.replication;
  inode->block_size = rec.block_size;
  inode->length = rec.length;
  inode->blocks.clear();
  inode->blocks.reserve(rec.blocks.size());
  for (const rpc::BlockRecord& br : rec.blocks) {
    inode->blocks.push_back(BlockInfo{br.block_id, br.generation_stamp, br.num_bytes});
  }
  inode->lease_holder = rec.__isset.lease_holder ? std::move(rec.lease_holder) : std::string();
  inode->symlink_target =
      rec.__isset.symlink_target ? std::move(rec.symlink_target) : std::string();
  inode->pending_blocks.clear();
  if (rec.__isset.pending_blocks) {
    inode->pending_blocks.reserve(rec.pending_blocks.size());
    for (const rpc::BlockRecord& br : rec.pending_blocks) {
      inode->pending_blocks.push_back(BlockInfo{br.block_id, br.generation_stamp, br.num_bytes});
    }
  }
  inode->overwriting = rec.__isset.overwriting && rec.overwriting;
  return Status::OK();
}

}  // namespace talus
