// The Raft transport between the namenodes of a group (raft/transport). Carries raft/core
// messages and streams state machine snapshots; nothing here is seen by clients.
// Field ids are on the wire: never renumber or reuse one.
namespace cpp talus.rpc

include "common.thrift"

enum RaftMessageType {
  REQUEST_VOTE = 1,
  REQUEST_VOTE_REPLY = 2,
  APPEND_ENTRIES = 3,
  APPEND_ENTRIES_REPLY = 4,
  // Never sent as a message: snapshots travel by installSnapshotChunk.
  INSTALL_SNAPSHOT = 5,
}

struct RaftEntry {
  1: required i64 term,
  2: required i64 index,
  3: required binary data,
}

// One raft::Message (raft/core/messages.h); which fields matter depends on the type.
struct RaftMessage {
  1: required RaftMessageType type,
  2: required i64 to,
  3: required i64 term,
  4: optional bool pre_vote,
  5: optional i64 last_log_index,
  6: optional i64 last_log_term,
  7: optional bool granted,
  8: optional i64 prev_log_index,
  9: optional i64 prev_log_term,
  10: optional list<RaftEntry> entries,
  11: optional i64 commit,
  12: optional bool reject,
  13: optional i64 match_index,
  14: optional i64 rejected_index,
  15: optional i64 hint_index,
  16: optional i64 context,
}

// A batch of messages from one member. client_address is the sender's client RPC address, so
// that a follower can name the leader's in NOT_LEADER answers.
struct RaftEnvelope {
  1: required i64 sender,
  2: required string client_address,
  3: required list<RaftMessage> messages,
}

// One piece of a snapshot file. Chunks of one snapshot come in order (offset = bytes already
// sent); the last one carries the CRC-32C of the whole file.
struct SnapshotChunk {
  1: required i64 sender,
  2: required string client_address,
  3: required i64 to,
  4: required i64 term,             // the leader's term
  5: required i64 snapshot_index,
  6: required i64 snapshot_term,
  7: required i64 offset,
  8: required binary data,
  9: required bool last,
  10: optional i32 crc32c,          // with last
}

struct SnapshotChunkAck {
  // Bytes of this snapshot the receiver holds (the next chunk's offset).
  1: required i64 received_bytes,
  // The whole file arrived, matched its CRC and is handed to Raft.
  2: required bool complete,
}

service RaftService {
  // Delivers messages; returns once they are queued for the receiving node (not processed).
  // Bad input (unknown sender, message for another node, malformed fields) is dropped.
  void step(1: RaftEnvelope envelope) throws (1: common.TalusError e),

  // A chunk at an unexpected offset, or of an older snapshot than the one being received, is
  // refused with INVALID_ARGUMENT; the sender starts over.
  SnapshotChunkAck installSnapshotChunk(1: SnapshotChunk chunk)
      throws (1: common.TalusError e),

  // Tests only (refused with NOT_PERMITTED unless the node runs with fault injection enabled):
  // drops every message to and from these members in this process; an empty list heals.
  void setBlockedPeers(1: list<i64> peers) throws (1: common.TalusError e),
}
