#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/transfer/ops.h"
#include "datanode/storage/dataset.h"
#include "datanode/transfer/throttler.h"
#include "datanode/transfer/transfer_server.h"

// Datanode-to-datanode copy of a local replica (HDFS DataTransfer): the re-replication the
// namenode asks for with REPLICATE_BLOCKS, and (with another stage) the transfer of a replica
// being written to a node that joins a pipeline.
//
// The copy is an ordinary WRITE_BLOCK to targets[0] with targets[1..] as its pipeline, so each
// target stores, finalizes and reports the replica to the namenode itself (RECEIVED) as for a
// client's write. Data is read from the local replica with its checksums verified (a replica
// that fails them is reported bad and never sent); the meta file's checksums go on the wire
// as they are, byte-swapped to the wire's little-endian, and a checksum is computed only for a
// piece that is not a whole stored chunk (a copy that stops inside a chunk).
namespace talus::datanode {

inline constexpr uint64_t kWholeReplica = UINT64_MAX;

struct CopyRequest {
  uint64_t block_id = 0;
  // The local replica's generation stamp, exactly; the op carries it too.
  uint64_t genstamp = 0;
  // Send replica bytes [0, length): kWholeReplica for all of them (a FINALIZED replica). A
  // replica being written may be sent up to any length it holds (pipeline recovery sends the
  // bytes every node acknowledged).
  uint64_t length = kWholeReplica;
  // The length the namenode records (0: unknown). A local replica shorter than this is corrupt:
  // it is reported bad and not sent.
  uint64_t expected_length = 0;
  // Refuse to copy a replica that is not FINALIZED (re-replication copies only complete ones).
  bool require_finalized = true;
  // How the targets take the replica. kCreate makes a new replica there (re-replication).
  transfer::WriteStage stage = transfer::WriteStage::kCreate;
  uint64_t latest_genstamp = 0;  // the op's latest_genstamp (0: genstamp)
  // false: no last packet is sent, so the targets keep a replica being written (RBW) of
  // `length` bytes once every packet is acknowledged, instead of finalizing it.
  bool finalize = true;
  // Where the copy goes: targets[0] is connected to, the rest follow it as a pipeline.
  std::vector<transfer::HostPort> targets;
  std::string client_name;  // "" marks a datanode-initiated transfer, as in HDFS
  uint32_t packet_data_bytes = 256 * 1024;  // a multiple of 512
  int timeout_ms = 60000;                    // per socket read or write
};

struct CopyStats {
  uint64_t bytes_sent = 0;
  uint64_t packets_sent = 0;
};

// Copies the replica as `request` says and returns once every target acknowledged every packet
// (the last one included). `throttle` (may be null) limits the data rate; `stop` (may be null)
// aborts the copy between packets when it becomes true. `events` (may be null) hears of a local
// replica found corrupt (OnBadReplica), which is then returned as Corruption; a target's failure
// is returned as IoError (or its own code) with a message naming the target. Nothing on this
// node is changed by a copy.
Status CopyReplica(DataSet* data, const CopyRequest& request, Throttler* throttle,
                   const std::atomic<bool>* stop, ReplicaEvents* events,
                   CopyStats* stats = nullptr);

}  // namespace talus::datanode
