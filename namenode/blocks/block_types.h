#pragma once

#include <cstdint>
#include <string>
#include <vector>

// Core types of block management. They mirror thrift/datanode_namenode.thrift and common.thrift
// but carry no Thrift dependency: only the RPC handler converts between the two.
namespace talus::blocks {

// A datanode interned as a small integer, assigned at first registration and never reused while
// the namenode runs. The block map stores these instead of storage-id strings.
using DatanodeIndex = uint32_t;

// A block at one version of its data.
struct Block {
  int64_t id = 0;
  int64_t generation_stamp = 0;
  int64_t num_bytes = 0;

  friend bool operator==(const Block&, const Block&) = default;
};

enum class ReplicaState : uint8_t {
  kFinalized = 1,
  kRbw = 2,  // being written
};

struct ReportedReplica {
  Block block;
  ReplicaState state = ReplicaState::kFinalized;
};

enum class ReceivedDeletedStatus : uint8_t {
  kReceiving = 1,
  kReceived = 2,
  kDeleted = 3,
};

struct ReceivedDeletedBlock {
  Block block;
  ReceivedDeletedStatus status = ReceivedDeletedStatus::kReceived;
};

// Copy `block` from the node whose queue holds this work to `targets`.
struct ReplicationWork {
  Block block;
  std::vector<DatanodeIndex> targets;
};

// Lease recovery of a block under construction, led by the node whose queue holds this work:
// agree with `locations` on a length and finalize the replicas under new_generation_stamp.
struct RecoveryWork {
  Block block;
  int64_t new_generation_stamp = 0;
  std::vector<DatanodeIndex> locations;
};

// Work handed to a datanode in a heartbeat reply.
struct DatanodeCommands {
  std::vector<Block> delete_blocks;
  std::vector<ReplicationWork> replicate;
  std::vector<RecoveryWork> recover;

  bool empty() const { return delete_blocks.empty() && replicate.empty() && recover.empty(); }
};

}  // namespace talus::blocks
