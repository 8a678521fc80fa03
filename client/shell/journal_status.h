#pragma once
// Each namenode's own view of the journal (ClientNamenode.getJournalStatus), asked of every
// member of a group rather than of the leader only: `talus dfsadmin -journal` prints it, `talus
// cluster up|status` and the test fixture use it to find the leader. Plain values, no Thrift.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace talus::shell {

// One member of the group as the answering namenode sees it. Match/next index and state are
// known by the leader only.
struct JournalPeerView {
  int64_t id = 0;
  std::string raft_address;
  std::string client_address;  // empty until the peer was heard from
  int64_t match_index = 0;
  int64_t next_index = 0;
  std::string state;            // probe, replicate, snapshot ("" on followers)
  int64_t last_contact_ms = -1;  // since the last message from it; -1 never
};

struct JournalView {
  std::string kind;  // "local" (one namenode) or "raft"
  int64_t id = 0;
  std::string role;  // leader, follower, candidate, pre-candidate
  int64_t term = 0;
  int64_t leader_id = 0;       // 0: unknown
  std::string leader_address;  // the leader's client address; "" unknown
  int64_t commit_index = 0;
  int64_t applied_index = 0;
  int64_t last_index = 0;
  int64_t first_index = 0;
  int64_t snapshot_index = 0;
  std::vector<JournalPeerView> peers;

  bool IsLeader() const { return role == "leader"; }
};

// One namenode's answer: `view` when `status` is OK.
struct NamenodeJournal {
  std::string address;  // its client RPC address, "host:port"
  Status status;
  JournalView view;
};

// Asks the namenode at `address` ("host:port") once, as `user` (the OS user when empty),
// waiting at most `timeout` for it to connect and answer.
Result<JournalView> FetchJournalStatus(const std::string& address, const std::string& user,
                                       std::chrono::milliseconds timeout);

// OK when the namenode at `address` serves client calls now (ClientNamenode.ping, which a
// follower refuses with NotLeader and a new leader not caught up yet with Unavailable).
Status PingNamenode(const std::string& address, const std::string& user,
                    std::chrono::milliseconds timeout);

// Asks every address at once (a namenode that hangs costs `timeout`, not one per member) and
// returns the answers in the order of `addresses`.
std::vector<NamenodeJournal> FetchGroupJournal(const std::vector<std::string>& addresses,
                                               const std::string& user,
                                               std::chrono::milliseconds timeout);

// The position in `answers` of the namenode that says it leads with the highest term, or -1
// when none does (an election under way, or no quorum).
int FindLeader(const std::vector<NamenodeJournal>& answers);

// The addresses of a talus://h:p1,h:p2 URI (the scheme may be left out).
Result<std::vector<std::string>> NamenodeAddresses(const std::string& uri);

// `dfsadmin -journal`'s text: a summary line naming the leader, then one paragraph per
// namenode (unreachable ones say why), and for a leader a table of its peers with their match
// index and lag behind its last index.
std::string FormatJournalReport(const std::string& uri,
                                const std::vector<NamenodeJournal>& answers);

}  // namespace talus::shell
