#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "namenode/blocks/block_map.h"
#include "namenode/blocks/datanode_manager.h"
#include "namenode/namesystem.h"

namespace talus {

// Lease recovery of files whose last block holds data only the datanodes know (HDFS's block
// recovery). Start journals a new generation stamp and takes the lease from the writer, then
// asks one datanode holding the block (the primary, in its next heartbeat reply) to agree with
// the others on the length they all hold and to finalize the replicas at that length under the
// new stamp. The primary reports through commitBlockSynchronization → Commit, which closes the
// file. A recovery that gets no answer within retry_after is started again with a new stamp.
// Thread-safe.
class BlockRecovery {
 public:
  struct Options {
    std::chrono::milliseconds retry_after{30000};
  };
  BlockRecovery(Namesystem* namesystem, blocks::BlockMap* block_map,
                blocks::DatanodeManager* datanodes, Options options);

  // For a file under construction whose holder's hard limit passed (or a recovery that timed
  // out). A recovery of the file already under way and younger than retry_after is left alone.
  Status Start(const Inode& file, const std::string& path);

  // The primary's report. Validated against the recovery under way for that block; the file is
  // then closed with the agreed last block (or without it when no replica had it).
  Status Commit(const blocks::Block& old_block, const blocks::Block& new_block,
                const std::vector<std::string>& storage_ids, bool close_file,
                bool delete_block);

  // Starts again, with a new stamp, every recovery that got no answer within retry_after (its
  // primary died, say), without waiting for the recovery lease's own hard limit. Returns how
  // many it restarted. Call periodically (the lease monitor does).
  int RetryStalled();

  size_t pending() const;

 private:
  struct Pending {
    uint64_t inode_id = 0;
    int64_t recovery_stamp = 0;
    std::chrono::steady_clock::time_point started;
  };
  Namesystem* const namesystem_;
  blocks::BlockMap* const block_map_;
  blocks::DatanodeManager* const datanodes_;
  const Options options_;
  mutable std::mutex mu_;
  std::unordered_map<int64_t, Pending> by_block_;  // guarded by mu_
};

}  // namespace talus
