#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "namenode/ops/op_context.h"

namespace talus {

namespace {

std::string Num(int64_t n) { return std::to_string(n); }

}  // namespace

// Copy-on-write commit: swaps pending blocks into the file's block list, cuts the list to
// new_length, and, with `release`, closes the file. Everything is checked before anything
// changes, so a rejected commit leaves the file exactly as it was. Replaced and cut blocks,
// and with `release` the pending blocks left unused, are listed in ctx.removed_blocks for the
// block map to forget (their replicas are deleted). The op's value is the file's inode id.
Result<OpOutcome> ApplyCommitBlocks(OpContext& ctx, const CommitBlocksOp& op) {
  ASSIGN_OR_RETURN(Inode file,
                   op_util::FileUnderConstruction(ctx, op.path, op.file_id, op.client_name));
  RETURN_NOT_OK(op_util::CheckCopyOnWrite(file, op.path));
  if (op.new_length < 0) return Status::InvalidArgument("new length must not be negative");
  if (op.replacements.size() > kMaxPendingBlocks) {
    return Status::InvalidArgument("too many block replacements in one commit");
  }

  std::unordered_map<int64_t, const BlockInfo*> pending;
  for (const BlockInfo& b : file.pending_blocks) pending.emplace(b.block_id, &b);
  std::vector<const BlockReplacementOp*> order;
  order.reserve(op.replacements.size());
  for (const BlockReplacementOp& r : op.replacements) order.push_back(&r);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto* a, const auto* b) { return a->index < b->index; });

  std::vector<BlockInfo> blocks = file.blocks;
  std::unordered_set<int64_t> used;
  std::vector<int64_t> dropped;
  for (size_t k = 0; k < order.size(); ++k) {
    const BlockReplacementOp& r = *order[k];
    if (k > 0 && order[k - 1]->index == r.index) {
      return Status::InvalidArgument("block index " + Num(r.index) + " is replaced twice");
    }
    auto it = pending.find(r.new_block.block_id);
    if (it == pending.end()) {
      return Status::InvalidArgument("block " + Num(r.new_block.block_id) +
                                     " was not allocated for " + op.path + " by " +
                                     op.client_name + " (or is already committed)");
    }
    if (!used.insert(r.new_block.block_id).second) {
      return Status::InvalidArgument("block " + Num(r.new_block.block_id) + " is used twice");
    }
    if (r.new_block.generation_stamp != it->second->generation_stamp) {
      return Status::InvalidArgument("block " + Num(r.new_block.block_id) +
                                     " has generation stamp " +
                                     Num(it->second->generation_stamp) + ", not " +
                                     Num(r.new_block.generation_stamp));
    }
    if (r.new_block.num_bytes <= 0 || r.new_block.num_bytes > file.block_size) {
      return Status::InvalidArgument("block " + Num(r.new_block.block_id) + " length " +
                                     Num(r.new_block.num_bytes) + " is outside 1.." +
                                     Num(file.block_size));
    }
    if (r.index < 0) return Status::InvalidArgument("negative block index");
    const size_t index = static_cast<size_t>(r.index);
    if (index < blocks.size()) {
      if (r.old_block_id != blocks[index].block_id) {
        return Status::InvalidArgument("block " + Num(r.index) + " of " + op.path + " is " +
                                       Num(blocks[index].block_id) + ", not " +
                                       Num(r.old_block_id));
      }
      dropped.push_back(blocks[index].block_id);
      blocks[index] = r.new_block;
    } else if (index == blocks.size()) {
      if (r.old_block_id != 0) {
        return Status::InvalidArgument("block " + Num(r.index) + " of " + op.path +
                                       " is past the end: old block id must be 0");
      }
      blocks.push_back(r.new_block);
    } else {
      return Status::InvalidArgument("block index " + Num(r.index) + " leaves a gap after the " +
                                     Num(static_cast<int64_t>(blocks.size())) + " blocks of " +
                                     op.path);
    }
  }

  // The blocks covering new_length, which must end exactly at a block's end.
  size_t keep = 0;
  int64_t covered = 0;
  while (covered < op.new_length && keep < blocks.size()) covered += blocks[keep++].num_bytes;
  if (covered != op.new_length) {
    return Status::InvalidArgument("new length " + Num(op.new_length) + " of " + op.path +
                                   " is not the end of a block (the blocks cover " +
                                   Num(covered) + " bytes there)");
  }
  for (const BlockReplacementOp* r : order) {
    if (static_cast<size_t>(r->index) >= keep) {
      return Status::InvalidArgument("block index " + Num(r->index) +
                                     " lies past the new length " + Num(op.new_length));
    }
  }
  for (size_t i = 0; i + 1 < keep; ++i) {
    if (blocks[i].num_bytes != file.block_size) {
      return Status::InvalidArgument("block " + Num(static_cast<int64_t>(i)) + " of " + op.path +
                                     " would hold " + Num(blocks[i].num_bytes) +
                                     " bytes: every block but the last must be full (" +
                                     Num(file.block_size) + ")");
    }
  }

  // Valid: apply.
  for (size_t i = keep; i < blocks.size(); ++i) dropped.push_back(blocks[i].block_id);
  blocks.resize(keep);
  std::vector<BlockInfo> still_pending;
  for (const BlockInfo& b : file.pending_blocks) {
    if (used.contains(b.block_id)) continue;
    if (op.release) {
      dropped.push_back(b.block_id);
    } else {
      still_pending.push_back(b);
    }
  }
  const bool changes_contents = !op.replacements.empty() || file.length != op.new_length ||
                                file.blocks.size() != blocks.size();
  file.blocks = std::move(blocks);
  file.pending_blocks = std::move(still_pending);
  file.length = op.new_length;
  if (changes_contents) {
    file.mtime = ctx.now;
    file.ctime = ctx.now;
  }
  if (op.release) {
    op_util::ReleaseLease(ctx, &file);
  } else {
    file.overwriting = true;
  }
  ctx.txn.PutInode(file);
  if (ctx.removed_blocks != nullptr) {
    ctx.removed_blocks->insert(ctx.removed_blocks->end(), dropped.begin(), dropped.end());
  }
  return OpOutcome{static_cast<int64_t>(file.id), true};
}

}  // namespace talus
