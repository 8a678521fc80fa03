#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace talus::raft {

using NodeId = uint64_t;  // 0 means "nobody"
using Term = uint64_t;
using Index = uint64_t;

inline constexpr NodeId kNoNode = 0;

struct Entry {
  Term term = 0;
  Index index = 0;
  std::string data;  // empty for the leader's no-op entry of a new term
  bool operator==(const Entry&) const = default;
};

// What must be durable before any message that depends on it is sent.
struct HardState {
  Term term = 0;
  NodeId vote = kNoNode;
  Index commit = 0;
  bool operator==(const HardState&) const = default;
};

// What a snapshot holds: the state after applying every entry up to index (of term). The log
// of a node that compacted or installed a snapshot starts right after it.
struct SnapshotMeta {
  Index index = 0;
  Term term = 0;
  bool operator==(const SnapshotMeta&) const = default;
};

enum class MessageType {
  kRequestVote,
  kRequestVoteReply,
  kAppendEntries,
  kAppendEntriesReply,
  // Leader → follower whose next entry was compacted away. The core only names the snapshot
  // (snapshot.index/term: at least what the follower needs); the owner streams the state
  // machine's snapshot file and, on the receiving side, steps this message into the follower's
  // core once the whole file is staged, with `snapshot` set to what the file holds (an index
  // at least the named one, its term <= the message's term); the sender's owner then calls
  // Core::ReportSnapshot. The follower answers with an AppendEntriesReply: match_index =
  // snapshot.index when it took it (Ready.snapshot, or its log already held that entry), its
  // commit index when the snapshot held nothing new. Counts as hearing from the leader, and
  // carries `context` like an AppendEntries.
  kInstallSnapshot,
};

const char* MessageTypeName(MessageType type);

// One flat message; which fields matter depends on the type. Transports serialize it as they like.
struct Message {
  MessageType type = MessageType::kAppendEntries;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  // For a pre-vote request: the term the sender would campaign in (its term + 1); its real term
  // does not change until a quorum would vote for it.
  Term term = 0;

  // RequestVote / RequestVoteReply.
  bool pre_vote = false;
  Index last_log_index = 0;
  Term last_log_term = 0;
  bool granted = false;

  // AppendEntries: entries follow (prev_log_index, prev_log_term); commit is the leader's.
  Index prev_log_index = 0;
  Term prev_log_term = 0;
  std::vector<Entry> entries;
  Index commit = 0;

  // AppendEntriesReply. On success match_index is the last index known to match the leader's log
  // (prev_log_index + entries, never the follower's whole log). On rejection rejected_index is the
  // prev_log_index that did not match and hint_index the last index that may match (fast
  // backtracking: the follower's last index, or the index before the conflicting term).
  bool reject = false;
  Index match_index = 0;
  Index rejected_index = 0;
  Index hint_index = 0;

  // InstallSnapshot.
  SnapshotMeta snapshot;

  // Set by a leader on AppendEntries (its tick count when sent) and echoed in the reply, so the
  // leader knows how recent a quorum's acknowledgement is (read leases).
  uint64_t context = 0;
};

}  // namespace talus::raft
