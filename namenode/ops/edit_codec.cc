#include "namenode/ops/edit_codec.h"

#include "common/thrift_codec.h"
#include "namenode/namespace/wire_convert.h"
#include "talus_rpc/edits_types.h"

namespace talus {

namespace {

struct OpEncoder {
  rpc::EditOp* out;
  void operator()(const MkdirsOp& op) {
    rpc::MkdirsEdit e;
    e.path = op.path;
    e.mode = static_cast<int32_t>(op.mode);
    e.create_parent = op.create_parent;
    out->__set_mkdirs(e);
  }
  void operator()(const CreateOp& op) {
    rpc::CreateEdit e;
    e.path = op.path;
    e.mode = static_cast<int32_t>(op.mode);
    e.client_name = op.client_name;
    e.overwrite = op.overwrite;
    e.create_parent = op.create_parent;
    e.replication = op.replication;
    e.block_size = op.block_size;
    out->__set_create(e);
  }
  void operator()(const DeleteOp& op) {
    rpc::DeleteEdit e;
    e.path = op.path;
    e.recursive = op.recursive;
    out->__set_delete_path(e);
  }
  void operator()(const RenameOp& op) {
    rpc::RenameEdit e;
    e.src = op.src;
    e.dst = op.dst;
    e.overwrite = op.overwrite;
    if (op.exchange) e.__set_exchange(true);
    out->__set_rename(e);
  }
  void operator()(const SetPermissionOp& op) {
    rpc::SetPermissionEdit e;
    e.path = op.path;
    e.mode = static_cast<int32_t>(op.mode);
    out->__set_set_permission(e);
  }
  void operator()(const SetOwnerOp& op) {
    rpc::SetOwnerEdit e;
    e.path = op.path;
    e.owner = op.owner;
    e.group = op.group;
    out->__set_set_owner(e);
  }
  void operator()(const SetTimesOp& op) {
    rpc::SetTimesEdit e;
    e.path = op.path;
    e.mtime = ToWire(op.mtime);
    e.atime = ToWire(op.atime);
    out->__set_set_times(e);
  }
  void operator()(const SetReplicationOp& op) {
    rpc::SetReplicationEdit e;
    e.path = op.path;
    e.replication = op.replication;
    out->__set_set_replication(e);
  }
  void operator()(const CompleteOp& op) {
    rpc::CompleteEdit e;
    e.path = op.path;
    e.client_name = op.client_name;
    e.file_id = static_cast<int64_t>(op.file_id);
    if (op.last) e.__set_last(ToWire(*op.last));
    out->__set_complete(e);
  }
  void operator()(const AddBlockOp& op) {
    rpc::AddBlockEdit e;
    e.path = op.path;
    e.file_id = static_cast<int64_t>(op.file_id);
    e.client_name = op.client_name;
    if (op.previous) e.__set_previous(ToWire(*op.previous));
    out->__set_add_block(e);
  }
  void operator()(const AbandonBlockOp& op) {
    rpc::AbandonBlockEdit e;
    e.path = op.path;
    e.file_id = static_cast<int64_t>(op.file_id);
    e.client_name = op.client_name;
    e.block_id = op.block_id;
    out->__set_abandon_block(e);
  }
  void operator()(const AppendOp& op) {
    rpc::AppendEdit e;
    e.path = op.path;
    e.client_name = op.client_name;
    out->__set_append(e);
  }
  void operator()(const RecoverBlockOp& op) {
    rpc::RecoverBlockEdit e;
    e.path = op.path;
    e.file_id = static_cast<int64_t>(op.file_id);
    e.client_name = op.client_name;
    e.recovery_holder = op.recovery_holder;
    out->__set_recover_block(e);
  }
  void operator()(const UpdateBlockForPipelineOp& op) {
    rpc::UpdateBlockForPipelineEdit e;
    e.path = op.path;
    e.file_id = static_cast<int64_t>(op.file_id);
    e.client_name = op.client_name;
    e.block_id = op.block_id;
    e.generation_stamp = op.generation_stamp;
    out->__set_update_block_for_pipeline(e);
  }
  void operator()(const UpdatePipelineOp& op) {
    rpc::UpdatePipelineEdit e;
    e.path = op.path;
    e.file_id = static_cast<int64_t>(op.file_id);
    e.client_name = op.client_name;
    e.old_block = ToWire(op.old_block);
    e.new_block = ToWire(op.new_block);
    out->__set_update_pipeline(e);
  }
  void operator()(const CreateSymlinkOp& op) {
    rpc::CreateSymlinkEdit e;
    e.path = op.path;
    e.target = op.target;
    e.create_parent = op.create_parent;
    out->__set_create_symlink(e);
  }
  void operator()(const OpenForOverwriteOp& op) {
    rpc::OpenForOverwriteEdit e;
    e.path = op.path;
    e.client_name = op.client_name;
    out->__set_open_for_overwrite(e);
  }
  void operator()(const AllocateBlockOp& op) {
    rpc::AllocateBlockEdit e;
    e.path = op.path;
    e.file_id = static_cast<int64_t>(op.file_id);
    e.client_name = op.client_name;
    out->__set_allocate_block(e);
  }
  void operator()(const CommitBlocksOp& op) {
    rpc::CommitBlocksEdit e;
    e.path = op.path;
    e.file_id = static_cast<int64_t>(op.file_id);
    e.client_name = op.client_name;
    e.replacements.reserve(op.replacements.size());
    for (const BlockReplacementOp& r : op.replacements) {
      rpc::BlockReplacementRecord rec;
      rec.index = r.index;
      rec.old_block_id = r.old_block_id;
      rec.new_block = ToWire(r.new_block);
      e.replacements.push_back(std::move(rec));
    }
    e.new_length = op.new_length;
    e.release = op.release;
    out->__set_commit_blocks(e);
  }
};

}  // namespace

std::string EncodeEdit(const Edit& edit) {
  rpc::Edit wire;
  wire.version = kEditVersion;
  wire.header.client_id = edit.client_id;
  wire.header.call_id = edit.call_id;
  wire.header.caller.user = edit.caller.user;
  wire.header.caller.groups = edit.caller.groups;
  wire.header.caller.superuser = edit.caller.superuser;
  wire.header.time = ToWire(edit.time);
  std::visit(OpEncoder{&wire.op}, edit.op);
  return ThriftEncode(wire);
}

Status DecodeEdit(std::string_view bytes, Edit* edit) {
  rpc::Edit wire;
  RETURN_NOT_OK(ThriftDecode(bytes, &wire, "journal edit"));
  if (wire.version != kEditVersion) {
    return Status::Corruption("journal edit of unknown version " + std::to_string(wire.version));
  }
  edit->client_id = std::move(wire.header.client_id);
  edit->call_id = wire.header.call_id;
  edit->caller.user = std::move(wire.header.caller.user);
  edit->caller.groups = std::move(wire.header.caller.groups);
  edit->caller.superuser = wire.header.caller.superuser;
  edit->time = FromWire(wire.header.time);
  const rpc::EditOp& op = wire.op;
  if (op.__isset.mkdirs) {
    edit->op = MkdirsOp{op.mkdirs.path, static_cast<uint32_t>(op.mkdirs.mode),
                        op.mkdirs.create_parent};
  } else if (op.__isset.create) {
    const auto& c = op.create;
    edit->op = CreateOp{c.path, static_cast<uint32_t>(c.mode), c.client_name, c.overwrite,
                        c.create_parent, c.replication, c.block_size};
  } else if (op.__isset.delete_path) {
    edit->op = DeleteOp{op.delete_path.path, op.delete_path.recursive};
  } else if (op.__isset.rename) {
    edit->op = RenameOp{op.rename.src, op.rename.dst, op.rename.overwrite,
                        op.rename.__isset.exchange && op.rename.exchange};
  } else if (op.__isset.set_permission) {
    edit->op = SetPermissionOp{op.set_permission.path,
                               static_cast<uint32_t>(op.set_permission.mode)};
  } else if (op.__isset.set_owner) {
    edit->op = SetOwnerOp{op.set_owner.path, op.set_owner.owner, op.set_owner.group};
  } else if (op.__isset.set_times) {
    edit->op = SetTimesOp{op.set_times.path, FromWire(op.set_times.mtime),
                          FromWire(op.set_times.atime)};
  } else if (op.__isset.set_replication) {
    edit->op = SetReplicationOp{op.set_replication.path, op.set_replication.replication};
  } else if (op.__isset.complete) {
    CompleteOp c;
    c.path = op.complete.path;
    c.client_name = op.complete.client_name;
    c.file_id = static_cast<uint64_t>(op.complete.file_id);
    if (op.complete.__isset.last) c.last = FromWire(op.complete.last);
    edit->op = std::move(c);
  } else if (op.__isset.add_block) {
    AddBlockOp a;
    a.path = op.add_block.path;
    a.file_id = static_cast<uint64_t>(op.add_block.file_id);
    a.client_name = op.add_block.client_name;
    if (op.add_block.__isset.previous) a.previous = FromWire(op.add_block.previous);
    edit->op = std::move(a);
  } else if (op.__isset.abandon_block) {
    edit->op = AbandonBlockOp{op.abandon_block.path,
                              static_cast<uint64_t>(op.abandon_block.file_id),
                              op.abandon_block.client_name, op.abandon_block.block_id};
  } else if (op.__isset.append) {
    edit->op = AppendOp{op.append.path, op.append.client_name};
  } else if (op.__isset.recover_block) {
    edit->op = RecoverBlockOp{op.recover_block.path,
                              static_cast<uint64_t>(op.recover_block.file_id),
                              op.recover_block.client_name, op.recover_block.recovery_holder};
  } else if (op.__isset.update_block_for_pipeline) {
    const auto& u = op.update_block_for_pipeline;
    edit->op = UpdateBlockForPipelineOp{u.path, static_cast<uint64_t>(u.file_id), u.client_name,
                                        u.block_id, u.generation_stamp};
  } else if (op.__isset.update_pipeline) {
    const auto& u = op.update_pipeline;
    edit->op = UpdatePipelineOp{u.path, static_cast<uint64_t>(u.file_id), u.client_name,
                                FromWire(u.old_block), FromWire(u.new_block)};
  } else if (op.__isset.create_symlink) {
    const auto& c = op.create_symlink;
    edit->op = CreateSymlinkOp{c.path, c.target, c.create_parent};
  } else if (op.__isset.open_for_overwrite) {
    edit->op = OpenForOverwriteOp{op.open_for_overwrite.path, op.open_for_overwrite.client_name};
  } else if (op.__isset.allocate_block) {
    const auto& a = op.allocate_block;
    edit->op = AllocateBlockOp{a.path, static_cast<uint64_t>(a.file_id), a.client_name};
  } else if (op.__isset.commit_blocks) {
    const auto& c = op.commit_blocks;
    CommitBlocksOp commit;
    commit.path = c.path;
    commit.file_id = static_cast<uint64_t>(c.file_id);
    commit.client_name = c.client_name;
    commit.replacements.reserve(c.replacements.size());
    for (const rpc::BlockReplacementRecord& r : c.replacements) {
      commit.replacements.push_back(BlockReplacementOp{r.index, r.old_block_id,
                                                       FromWire(r.new_block)});
    }
    commit.new_length = c.new_length;
    commit.release = c.release;
    edit->op = std::move(commit);
  } else {
    return Status::Corruption("journal edit names no known operation");
  }
  return Status::OK();
}

}  // namespace talus
