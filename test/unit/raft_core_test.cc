// Unit tests of the pure Raft core (raft/core): each Raft rule driven through an in-test message
// pump that persists every Ready before delivering its messages, as a real node must.
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "raft/core/raft_core.h"

namespace talus::raft {
namespace {

struct TestNode {
  MemoryStorage storage;
  std::unique_ptr<Core> core;
  std::vector<Entry> applied;
};

class Group {
 public:
  explicit Group(int n, bool check_quorum = true, size_t max_entries = 64) {
    for (int i = 1; i <= n; ++i) ids_.push_back(i);
    check_quorum_ = check_quorum;
    max_entries_ = max_entries;
  }

  Config MakeConfig(NodeId id) const {
    Config c = base_;
    c.id = id;
    c.peers = ids_;
    c.election_ticks = 10;
    c.heartbeat_ticks = 2;
    c.check_quorum = check_quorum_;
    c.max_entries_per_msg = max_entries_;
    c.max_inflight = 4;
    c.seed = 42;
    return c;
  }

  // Starts every node, from its given stored state if any.
  void Start(const std::map<NodeId, MemoryStorage>& stored = {}) {
    for (NodeId id : ids_) {
      TestNode& n = nodes_[id];
      auto it = stored.find(id);
      if (it != stored.end()) n.storage = it->second;
      Restart(id);
    }
  }

  // (Re)creates a node's core from what it persisted; its state machine survives as applied.
  void Restart(NodeId id) {
    TestNode& n = nodes_[id];
    Config c = MakeConfig(id);
    c.applied = n.applied.size();
    auto core = Core::Create(c, &n.storage);
    ASSERT_TRUE(core.ok()) << core.status();
    n.core = std::move(core).value();
  }

  Core& core(NodeId id) { return *nodes_.at(id).core; }
  TestNode& node(NodeId id) { return nodes_.at(id); }

  void Collect(NodeId id) {
    TestNode& n = nodes_.at(id);
    while (n.core->HasReady()) {
      Ready rd = n.core->TakeReady();
      if (rd.snapshot) {
        ASSERT_TRUE(staged_.count(id)) << "a snapshot was installed that was never sent";
        n.applied = staged_[id];
        ASSERT_EQ(n.applied.size(), rd.snapshot->index);
        n.storage.ResetToSnapshot(*rd.snapshot);
        ++snapshots_installed_;
      }
      n.storage.Append(rd.entries);
      if (rd.hard_state) n.storage.SetHardState(*rd.hard_state);
      for (Message& m : rd.messages) queue_.push_back(std::move(m));
      for (Entry& e : rd.committed) {
        ASSERT_EQ(e.index, n.applied.size() + 1) << "applied out of order on " << id;
        n.applied.push_back(std::move(e));
      }
    }
  }

  bool Blocked(const Message& m) const { return isolated_.count(m.from) || isolated_.count(m.to); }

  // Delivers one message; false when none is queued.
  bool DeliverOne() {
    for (NodeId id : ids_) Collect(id);
    if (queue_.empty()) return false;
    Message m = std::move(queue_.front());
    queue_.pop_front();
    if (m.type == MessageType::kInstallSnapshot && hold_snapshots_) {
      held_.push_back(std::move(m));
      return true;
    }
    if (m.type == MessageType::kInstallSnapshot) {
      // The owner's transfer: the sender's state machine up to (at least) the named index.
      ++snapshots_sent_;
      bool ok = !Blocked(m) && !fail_snapshots_;
      if (ok) {
        const auto& from = nodes_.at(m.from).applied;
        staged_[m.to].assign(from.begin(), from.begin() + m.snapshot.index);
        Status s = core(m.to).Step(m);
        EXPECT_TRUE(s.ok()) << s;
        Collect(m.to);
      }
      core(m.from).ReportSnapshot(m.to, ok);
      Collect(m.from);
      return true;
    }
    if (!Blocked(m)) {
      Status s = core(m.to).Step(m);
      EXPECT_TRUE(s.ok()) << s;
      Collect(m.to);
    }
    return true;
  }

  void Pump() {
    for (int i = 0; i < 100000 && DeliverOne(); ++i) {
    }
    ASSERT_TRUE(queue_.empty()) << "message storm";
  }

  void Tick(NodeId id) {
    core(id).Tick();
    Collect(id);
  }

  void TickAll(int rounds, const std::set<NodeId>& only = {}) {
    for (int r = 0; r < rounds; ++r) {
      for (NodeId id : ids_) {
        if (only.empty() || only.count(id)) Tick(id);
      }
      Pump();
    }
  }

  std::vector<NodeId> Leaders(const std::set<NodeId>& among = {}) {
    std::vector<NodeId> out;
    for (NodeId id : ids_) {
      if ((among.empty() || among.count(id)) && core(id).role() == Role::kLeader) out.push_back(id);
    }
    return out;
  }

  // Ticks the given nodes (all by default) until exactly one of them leads.
  NodeId ElectLeader(const std::set<NodeId>& among = {}) {
    for (int r = 0; r < 1000; ++r) {
      auto leaders = Leaders(among);
      if (leaders.size() == 1) return leaders[0];
      TickAll(1, among);
    }
    ADD_FAILURE() << "no leader elected";
    return kNoNode;
  }

  std::vector<std::string> AppliedData(NodeId id) {
    std::vector<std::string> out;
    for (const Entry& e : nodes_.at(id).applied) {
      if (!e.data.empty()) out.push_back(e.data);
    }
    return out;
  }

  std::vector<NodeId> ids_;
  std::map<NodeId, TestNode> nodes_;
  std::deque<Message> queue_;
  std::set<NodeId> isolated_;
  std::map<NodeId, std::vector<Entry>> staged_;  // snapshot data in transfer, per receiver
  bool fail_snapshots_ = false;
  bool hold_snapshots_ = false;  // kInstallSnapshot messages wait in held_
  std::vector<Message> held_;
  int snapshots_sent_ = 0;
  int snapshots_installed_ = 0;
  Config base_;
  bool check_quorum_ = true;
  size_t max_entries_ = 64;
};

MemoryStorage Stored(Term term, std::vector<Term> log_terms, Index commit) {
  MemoryStorage s;
  std::vector<Entry> entries;
  for (size_t i = 0; i < log_terms.size(); ++i) {
    entries.push_back(Entry{log_terms[i], i + 1, "old" + std::to_string(i + 1)});
  }
  s.Append(entries);
  s.SetHardState(HardState{term, kNoNode, commit});
  return s;
}

TEST(RaftCoreTest, RejectsBadConfig) {
  Config c;
  c.id = 4;
  c.peers = {1, 2, 3};
  EXPECT_FALSE(Core::Create(c, nullptr).ok());
  c.id = 1;
  c.heartbeat_ticks = 10;
  c.election_ticks = 10;
  EXPECT_FALSE(Core::Create(c, nullptr).ok());
  MemoryStorage bad = Stored(1, {1, 2}, 0);  // log term beyond the stored term
  c.heartbeat_ticks = 1;
  EXPECT_EQ(Core::Create(c, &bad).status().code(), ErrorCode::kCorruption);
}

TEST(RaftCoreTest, ElectsOneLeaderAmongThree) {
  Group g(3);
  g.Start();
  NodeId leader = g.ElectLeader();
  ASSERT_NE(leader, kNoNode);
  g.TickAll(30);
  EXPECT_EQ(g.Leaders().size(), 1u);
  EXPECT_EQ(g.Leaders()[0], leader);
  for (NodeId id : g.ids_) {
    EXPECT_EQ(g.core(id).leader(), leader);
    EXPECT_EQ(g.core(id).term(), g.core(leader).term());
  }
  // Followers refuse proposals and name the leader.
  NodeId follower = leader == 1 ? 2 : 1;
  auto r = g.core(follower).Propose("x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kNotLeader);
  EXPECT_EQ(r.status().detail(), std::to_string(leader));
}

TEST(RaftCoreTest, SingleNodeGroupCommitsAlone) {
  Group g(1);
  g.Start();
  NodeId leader = g.ElectLeader();
  ASSERT_EQ(leader, 1u);
  ASSERT_TRUE(g.core(1).Propose("a").ok());
  g.Collect(1);
  EXPECT_EQ(g.AppliedData(1), std::vector<std::string>{"a"});
}

TEST(RaftCoreTest, PreVoteKeepsPartitionedNodeFromBumpingTerms) {
  Group g(3);
  g.Start();
  NodeId leader = g.ElectLeader();
  Term term = g.core(leader).term();
  NodeId lonely = leader == 3 ? 2 : 3;
  g.isolated_ = {lonely};
  g.TickAll(200);  // twenty election timeouts and more
  EXPECT_EQ(g.core(lonely).term(), term);
  EXPECT_NE(g.core(lonely).role(), Role::kLeader);
  g.isolated_.clear();
  g.TickAll(30);
  EXPECT_EQ(g.Leaders(), std::vector<NodeId>{leader});
  EXPECT_EQ(g.core(leader).term(), term) << "the rejoining node deposed a healthy leader";
}

TEST(RaftCoreTest, ReplicatesAndCommitsInOrderOnEveryNode) {
  Group g(3, true, /*max_entries=*/3);
  g.Start();
  NodeId leader = g.ElectLeader();
  std::vector<std::string> want;
  for (int i = 0; i < 50; ++i) {
    want.push_back("op" + std::to_string(i));
    auto r = g.core(leader).Propose(want.back());
    ASSERT_TRUE(r.ok()) << r.status();
    if (i % 7 == 0) g.Pump();  // some proposals pipelined, some batched
  }
  g.Pump();
  g.TickAll(5);
  for (NodeId id : g.ids_) {
    EXPECT_EQ(g.AppliedData(id), want) << "node " << id;
    EXPECT_EQ(g.core(id).commit(), g.core(leader).last_index());
  }
}

// Makes node 1 the leader by ticking only it until it wins.
NodeId ElectNode1(Group& g) {
  for (int i = 0; i < 100 && g.core(1).role() != Role::kLeader; ++i) {
    g.Tick(1);
    g.Pump();
  }
  return g.core(1).role() == Role::kLeader ? 1 : kNoNode;
}

TEST(RaftCoreTest, FollowerWithConflictingLogIsRepaired) {
  Group g(3);
  std::map<NodeId, MemoryStorage> stored;
  stored[1] = Stored(3, {1, 1, 2, 3}, 2);
  stored[2] = Stored(3, {1, 1, 2, 3}, 2);
  stored[3] = Stored(2, {1, 1, 1, 1, 1, 1, 1, 2, 2}, 2);  // longer, but diverged at index 3
  g.Start(stored);
  ASSERT_EQ(ElectNode1(g), 1u);
  ASSERT_TRUE(g.core(1).Propose("new").ok());
  g.Pump();
  g.TickAll(5);
  const Core& l = g.core(1);
  for (NodeId id : {2, 3}) {
    ASSERT_EQ(g.core(id).last_index(), l.last_index()) << "node " << id;
    for (Index i = 1; i <= l.last_index(); ++i) {
      EXPECT_EQ(g.core(id).EntryAt(i), l.EntryAt(i)) << "node " << id << " index " << i;
    }
    // What the node persisted is what it holds.
    auto persisted = g.node(id).storage.LoadEntries();
    ASSERT_EQ(persisted.size(), l.last_index());
    EXPECT_EQ(persisted.back(), l.EntryAt(l.last_index()));
  }
  EXPECT_EQ(g.AppliedData(3).back(), "new");
}

TEST(RaftCoreTest, StaleLeaderStepsDownOnHigherTerm) {
  Group g(3, /*check_quorum=*/false);
  g.Start();
  NodeId old_leader = g.ElectLeader();
  Term old_term = g.core(old_leader).term();
  g.isolated_ = {old_leader};
  ASSERT_TRUE(g.core(old_leader).Propose("lost").ok());  // never reaches a quorum
  std::set<NodeId> rest;
  for (NodeId id : g.ids_) {
    if (id != old_leader) rest.insert(id);
  }
  NodeId new_leader = g.ElectLeader(rest);
  ASSERT_NE(new_leader, kNoNode);
  EXPECT_GT(g.core(new_leader).term(), old_term);
  ASSERT_TRUE(g.core(new_leader).Propose("kept").ok());
  g.Pump();
  EXPECT_EQ(g.core(old_leader).role(), Role::kLeader) << "without check-quorum it cannot know yet";
  g.isolated_.clear();
  g.TickAll(10);
  EXPECT_EQ(g.Leaders(), std::vector<NodeId>{new_leader});
  EXPECT_EQ(g.core(old_leader).term(), g.core(new_leader).term());
  for (NodeId id : g.ids_) EXPECT_EQ(g.AppliedData(id), std::vector<std::string>{"kept"});
}

// Raft paper Figure 8: an entry of an earlier term stored on a majority is not committed by
// counting; it commits only once an entry of the leader's own term reaches a majority.
TEST(RaftCoreTest, PreviousTermEntryCommitsOnlyThroughCurrentTermEntry) {
  Group g(3, true, /*max_entries=*/1);
  std::map<NodeId, MemoryStorage> stored;
  stored[1] = Stored(2, {1, 2}, 1);
  stored[2] = Stored(2, {1}, 1);
  stored[3] = Stored(2, {1}, 1);
  g.Start(stored);
  for (int i = 0; i < 100 && g.core(1).role() != Role::kLeader; ++i) {
    g.Tick(1);
    for (int j = 0; j < 1000 && g.DeliverOne(); ++j) {
      if (g.core(1).role() == Role::kLeader) break;
    }
  }
  ASSERT_EQ(g.core(1).role(), Role::kLeader);
  Term term = g.core(1).term();
  ASSERT_EQ(g.core(1).EntryAt(3).term, term);  // the new leader's empty entry
  bool saw_majority_of_2 = false;
  for (int i = 0; i < 10000 && g.DeliverOne(); ++i) {
    const auto& pr = g.core(1).progress();
    int holding2 = 1;
    for (NodeId id : {2, 3}) holding2 += pr.at(id).match() >= 2 ? 1 : 0;
    if (holding2 >= 2 && g.core(1).TermAt(3) == term &&
        std::max(pr.at(2).match(), pr.at(3).match()) == 2) {
      saw_majority_of_2 = true;
      EXPECT_EQ(g.core(1).commit(), 1u) << "committed a previous-term entry by counting replicas";
    }
  }
  EXPECT_TRUE(saw_majority_of_2);
  EXPECT_EQ(g.core(1).commit(), 3u);
  for (NodeId id : g.ids_) EXPECT_EQ(g.AppliedData(id), (std::vector<std::string>{"old1", "old2"}));
}

TEST(RaftCoreTest, CheckQuorumLeaderStepsDownWhenIsolated) {
  Group g(3);
  g.Start();
  NodeId leader = g.ElectLeader();
  g.isolated_ = {leader};
  g.TickAll(25, {leader});  // more than two election timeouts
  EXPECT_EQ(g.core(leader).role(), Role::kFollower);
  auto r = g.core(leader).Propose("x");
  EXPECT_EQ(r.status().code(), ErrorCode::kNotLeader);
}

TEST(RaftCoreTest, DropsMalformedMessages) {
  Group g(3);
  g.Start();
  Message m;
  m.type = MessageType::kAppendEntries;
  m.from = 9;
  m.to = 1;
  m.term = 5;
  EXPECT_FALSE(g.core(1).Step(m).ok());
  m.from = 2;
  m.prev_log_index = 0;
  m.entries = {Entry{5, 2, "gap"}};
  EXPECT_FALSE(g.core(1).Step(m).ok());
  EXPECT_EQ(g.core(1).term(), 0u) << "state changed on a rejected message";
  EXPECT_EQ(g.core(1).last_index(), 0u);
}

// Compacts a node's core and storage up to index, as an owner does after a checkpoint.
void CompactNode(Group& g, NodeId id, Index index) {
  SnapshotMeta meta{index, g.core(id).TermAt(index)};
  ASSERT_TRUE(g.core(id).Compact(index).ok());
  g.node(id).storage.Compact(meta);
}

std::vector<std::string> Proposals(Group& g, NodeId leader, int n, const std::string& prefix) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(prefix + std::to_string(i));
    EXPECT_TRUE(g.core(leader).Propose(out.back()).ok());
  }
  g.Pump();
  return out;
}

TEST(RaftCoreTest, CompactionKeepsTheSnapshotPointsTerm) {
  Group g(3);
  g.Start();
  NodeId leader = g.ElectLeader();
  auto want = Proposals(g, leader, 10, "op");
  g.TickAll(2);
  Core& c = g.core(leader);
  ASSERT_EQ(c.applied(), 11u);  // the no-op and ten proposals
  Term term = c.term();
  Entry seventh = c.EntryAt(7);

  EXPECT_EQ(c.Compact(12).code(), ErrorCode::kInvalidArgument) << "beyond the applied index";
  EXPECT_EQ(c.first_index(), 1u);
  ASSERT_TRUE(c.Compact(6).ok());
  EXPECT_EQ(c.first_index(), 7u);
  EXPECT_EQ(c.snapshot(), (SnapshotMeta{6, term}));
  EXPECT_EQ(c.TermAt(6), term) << "the snapshot point's term must stay known";
  EXPECT_EQ(c.TermAt(5), 0u);
  EXPECT_EQ(c.EntryAt(7), seventh);
  EXPECT_EQ(c.last_index(), 11u);
  ASSERT_TRUE(c.Compact(3).ok()) << "below first_index: nothing to do";
  EXPECT_EQ(c.first_index(), 7u);

  // Replication goes on from the compacted log.
  want.push_back("after");
  ASSERT_TRUE(c.Propose("after").ok());
  g.Pump();
  g.TickAll(2);
  for (NodeId id : g.ids_) EXPECT_EQ(g.AppliedData(id), want) << "node " << id;
  EXPECT_EQ(g.snapshots_sent_, 0) << "every follower had the entries";
}

TEST(RaftCoreTest, LaggingFollowerCatchesUpBySnapshot) {
  Group g(3);
  g.Start();
  NodeId leader = g.ElectLeader();
  NodeId lagging = leader == 3 ? 2 : 3;
  g.isolated_ = {lagging};
  auto want = Proposals(g, leader, 20, "op");
  g.TickAll(2);
  for (NodeId id : g.ids_) {
    if (id != lagging) CompactNode(g, id, g.core(id).applied());
  }
  Index snap = g.core(leader).snapshot().index;
  ASSERT_EQ(snap, 21u);
  g.isolated_.clear();
  g.TickAll(3);
  EXPECT_EQ(g.snapshots_sent_, 1);
  EXPECT_EQ(g.snapshots_installed_, 1);
  const Core& f = g.core(lagging);
  EXPECT_EQ(f.first_index(), snap + 1);
  EXPECT_EQ(f.commit(), g.core(leader).commit());
  EXPECT_EQ(g.AppliedData(lagging), want);
  EXPECT_EQ(g.node(lagging).storage.LoadSnapshotMeta().index, snap);
  EXPECT_EQ(g.core(leader).progress().at(lagging).state(), Progress::State::kReplicate);
  // And it takes part in replication afterwards.
  ASSERT_TRUE(g.core(leader).Propose("more").ok());
  want.push_back("more");
  g.Pump();
  g.TickAll(2);
  EXPECT_EQ(g.AppliedData(lagging), want);
}

TEST(RaftCoreTest, SnapshotStateSendsNothingUntilReported) {
  Group g(3);
  g.Start();
  NodeId leader = g.ElectLeader();
  NodeId lagging = leader == 3 ? 2 : 3;
  g.isolated_ = {lagging};
  auto want = Proposals(g, leader, 5, "op");
  g.TickAll(2);
  CompactNode(g, leader, g.core(leader).applied());
  g.isolated_.clear();
  g.hold_snapshots_ = true;
  g.TickAll(4);
  ASSERT_EQ(g.held_.size(), 1u) << "one snapshot, not one per heartbeat";
  const Progress& pr = g.core(leader).progress().at(lagging);
  EXPECT_EQ(pr.state(), Progress::State::kSnapshot);
  EXPECT_EQ(pr.pending_snapshot(), 6u);
  EXPECT_EQ(g.held_[0].snapshot, g.core(leader).snapshot());
  // Heartbeats still reach it (it keeps its leader), entries do not.
  ASSERT_TRUE(g.core(leader).Propose("x").ok());
  g.Pump();
  g.TickAll(3);
  EXPECT_EQ(g.core(lagging).leader(), leader);
  EXPECT_EQ(g.core(lagging).last_index(), 1u) << "it has only the leader's no-op entry";

  // A failed transfer: back to probing, and the next heartbeat asks for a snapshot again.
  g.core(leader).ReportSnapshot(lagging, false);
  EXPECT_EQ(g.core(leader).progress().at(lagging).state(), Progress::State::kProbe);
  g.TickAll(2);
  ASSERT_EQ(g.held_.size(), 2u);
  EXPECT_EQ(g.core(leader).progress().at(lagging).state(), Progress::State::kSnapshot);

  // The transfer succeeds: the follower installs it and gets the rest from the log.
  g.hold_snapshots_ = false;
  g.queue_.push_back(g.held_.back());
  g.Pump();
  g.TickAll(2);
  want.push_back("x");
  EXPECT_EQ(g.AppliedData(lagging), want);
  EXPECT_EQ(g.core(lagging).first_index(), 7u);
  EXPECT_EQ(g.core(leader).progress().at(lagging).match(), g.core(leader).last_index());
  // A late report of the first (abandoned) transfer changes nothing.
  g.core(leader).ReportSnapshot(lagging, true);
  EXPECT_EQ(g.core(leader).progress().at(lagging).state(), Progress::State::kReplicate);
}

Message SnapshotMsg(Term term, SnapshotMeta meta) {
  Message m;
  m.type = MessageType::kInstallSnapshot;
  m.from = 1;
  m.to = 2;
  m.term = term;
  m.snapshot = meta;
  m.context = 77;
  return m;
}

std::unique_ptr<Core> Follower2(MemoryStorage& s, Index applied = 0) {
  Config c;
  c.id = 2;
  c.peers = {1, 2, 3};
  c.applied = applied;
  auto core = Core::Create(c, &s);
  EXPECT_TRUE(core.ok()) << core.status();
  return core.ok() ? std::move(core).value() : nullptr;
}

TEST(RaftCoreTest, FollowerIgnoresSnapshotItAlreadyHas) {
  MemoryStorage s = Stored(2, {1, 1, 2, 2}, 3);
  auto f = Follower2(s, 3);
  ASSERT_TRUE(f->Step(SnapshotMsg(2, {2, 1})).ok());
  Ready rd = f->TakeReady();
  EXPECT_FALSE(rd.snapshot);
  EXPECT_TRUE(rd.committed.empty());
  ASSERT_EQ(rd.messages.size(), 1u);
  const Message& reply = rd.messages[0];
  EXPECT_EQ(reply.type, MessageType::kAppendEntriesReply);
  EXPECT_FALSE(reply.reject);
  EXPECT_EQ(reply.match_index, 3u) << "what is known to match: the commit index";
  EXPECT_EQ(reply.context, 77u);
  EXPECT_EQ(f->last_index(), 4u);
  EXPECT_EQ(f->leader(), 1u) << "a snapshot counts as hearing from the leader";
}

TEST(RaftCoreTest, FollowerHoldingTheSnapshotEntryKeepsItsLog) {
  MemoryStorage s = Stored(2, {1, 1, 2, 2, 2}, 1);
  auto f = Follower2(s, 1);
  ASSERT_TRUE(f->Step(SnapshotMsg(2, {3, 2})).ok());
  Ready rd = f->TakeReady();
  EXPECT_FALSE(rd.snapshot);
  ASSERT_EQ(rd.committed.size(), 2u) << "entries 2..3 apply from the log";
  EXPECT_EQ(rd.committed[0].index, 2u);
  EXPECT_EQ(rd.committed[1].index, 3u);
  EXPECT_EQ(f->commit(), 3u);
  EXPECT_EQ(f->last_index(), 5u) << "entries after the snapshot are kept";
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_EQ(rd.messages[0].match_index, 3u);
}

TEST(RaftCoreTest, FollowerInstallsSnapshotReplacingItsLog) {
  // The entry at the snapshot index has another term: the whole log goes.
  MemoryStorage s = Stored(2, {1, 1, 1, 2}, 1);
  auto f = Follower2(s, 1);
  ASSERT_TRUE(f->Step(SnapshotMsg(3, {3, 2})).ok());
  Ready rd = f->TakeReady();
  ASSERT_TRUE(rd.snapshot);
  EXPECT_EQ(*rd.snapshot, (SnapshotMeta{3, 2}));
  EXPECT_TRUE(rd.committed.empty()) << "entries covered by the snapshot are never handed out";
  EXPECT_TRUE(rd.entries.empty());
  ASSERT_TRUE(rd.hard_state);
  EXPECT_EQ(rd.hard_state->term, 3u);
  EXPECT_EQ(rd.hard_state->commit, 3u);
  EXPECT_EQ(f->applied(), 3u);
  EXPECT_EQ(f->first_index(), 4u);
  EXPECT_EQ(f->last_index(), 3u);
  EXPECT_EQ(f->TermAt(3), 2u);
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_EQ(rd.messages[0].match_index, 3u);
  EXPECT_FALSE(f->HasReady());

  // The leader's next entries append after the snapshot.
  Message ae;
  ae.type = MessageType::kAppendEntries;
  ae.from = 1;
  ae.to = 2;
  ae.term = 3;
  ae.prev_log_index = 3;
  ae.prev_log_term = 2;
  ae.entries = {Entry{3, 4, "x"}};
  ae.commit = 4;
  ASSERT_TRUE(f->Step(ae).ok());
  rd = f->TakeReady();
  ASSERT_EQ(rd.committed.size(), 1u);
  EXPECT_EQ(rd.committed[0].data, "x");

  // A malformed one is dropped without a change.
  EXPECT_FALSE(f->Step(SnapshotMsg(3, {9, 4})).ok()) << "snapshot term above the message term";
  EXPECT_FALSE(f->Step(SnapshotMsg(3, {0, 0})).ok());
  EXPECT_EQ(f->commit(), 4u);
}

TEST(RaftCoreTest, StaleLeadersSnapshotIsRefused) {
  MemoryStorage s = Stored(5, {1, 1}, 1);
  auto f = Follower2(s, 1);
  ASSERT_TRUE(f->Step(SnapshotMsg(4, {2, 1})).ok());
  Ready rd = f->TakeReady();
  EXPECT_FALSE(rd.snapshot);
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_TRUE(rd.messages[0].reject);
  EXPECT_EQ(rd.messages[0].term, 5u) << "so the stale leader learns the newer term";
  EXPECT_EQ(f->commit(), 1u);
}

TEST(RaftCoreTest, RestartWithAppliedBeyondPersistedCommit) {
  // The owner persists commit lazily: the state machine may be ahead of the stored commit.
  MemoryStorage s = Stored(2, {1, 1, 2}, 1);
  auto f = Follower2(s, 3);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->commit(), 3u);
  Ready rd = f->TakeReady();
  EXPECT_TRUE(rd.committed.empty()) << "applied entries are not handed out again";
  ASSERT_TRUE(rd.hard_state);
  EXPECT_EQ(rd.hard_state->commit, 3u);

  Config c;
  c.id = 2;
  c.peers = {1, 2, 3};
  c.applied = 4;
  EXPECT_EQ(Core::Create(c, &s).status().code(), ErrorCode::kInvalidArgument)
      << "applied beyond the stored log";
}

TEST(RaftCoreTest, RestartFromCompactedStorage) {
  MemoryStorage s;
  s.ResetToSnapshot({5, 2});
  s.Append({Entry{2, 6, "six"}, Entry{3, 7, "seven"}});
  s.SetHardState({3, kNoNode, 6});
  auto f = Follower2(s, 5);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->first_index(), 6u);
  EXPECT_EQ(f->last_index(), 7u);
  EXPECT_EQ(f->snapshot(), (SnapshotMeta{5, 2}));
  EXPECT_EQ(f->TermAt(5), 2u);
  EXPECT_EQ(f->TermAt(4), 0u);
  Ready rd = f->TakeReady();
  ASSERT_EQ(rd.committed.size(), 1u);
  EXPECT_EQ(rd.committed[0].data, "six");

  Config c;
  c.id = 2;
  c.peers = {1, 2, 3};
  c.applied = 4;
  EXPECT_EQ(Core::Create(c, &s).status().code(), ErrorCode::kInvalidArgument)
      << "state machine behind the log's snapshot";
  MemoryStorage gap;
  gap.ResetToSnapshot({5, 2});
  gap.Append({Entry{2, 7, "seven"}});
  gap.SetHardState({3, kNoNode, 0});
  c.applied = 5;
  EXPECT_EQ(Core::Create(c, &gap).status().code(), ErrorCode::kCorruption);
}

TEST(RaftCoreTest, LeaseHoldsWhileAQuorumAcknowledgesAndExpires) {
  Group g(3);
  g.base_.lease_ticks = 5;
  g.Start();
  NodeId leader = g.ElectLeader();
  EXPECT_EQ(g.core(leader).TermStartIndex(), 1u);
  g.TickAll(3);
  EXPECT_TRUE(g.core(leader).HasReadLease());
  for (NodeId id : g.ids_) {
    if (id == leader) continue;
    EXPECT_FALSE(g.core(id).HasReadLease());
    EXPECT_EQ(g.core(id).TermStartIndex(), 0u);
  }
  g.TickAll(20);
  EXPECT_TRUE(g.core(leader).HasReadLease()) << "heartbeats renew it";

  // Cut off from everyone: the lease ends within lease_ticks, before the leader steps down.
  g.isolated_ = {leader};
  int ticks = 0;
  while (g.core(leader).HasReadLease() && ticks < 100) {
    g.TickAll(1, {leader});
    ++ticks;
  }
  EXPECT_LE(ticks, 5);
  EXPECT_EQ(g.core(leader).role(), Role::kLeader);
}

TEST(RaftCoreTest, LeaseNeedsAQuorum) {
  Group g(5);
  g.base_.lease_ticks = 5;
  g.Start();
  NodeId leader = g.ElectLeader();
  g.TickAll(3);
  ASSERT_TRUE(g.core(leader).HasReadLease());
  // Two followers still answering: with the leader, a quorum of five.
  std::vector<NodeId> others;
  for (NodeId id : g.ids_) {
    if (id != leader) others.push_back(id);
  }
  g.isolated_ = {others[0], others[1]};
  g.TickAll(8);
  EXPECT_TRUE(g.core(leader).HasReadLease());
  // One follower answering is not enough.
  g.isolated_.insert(others[2]);
  g.TickAll(6);
  EXPECT_FALSE(g.core(leader).HasReadLease());
}

TEST(RaftCoreTest, LeaseConfig) {
  Config c;
  c.id = 1;
  c.peers = {1, 2, 3};
  c.election_ticks = 10;
  c.lease_ticks = 10;
  EXPECT_EQ(Core::Create(c, nullptr).status().code(), ErrorCode::kInvalidArgument);
  // Disabled: never a lease, even alone.
  c.peers = {1};
  c.lease_ticks = 0;
  auto core = Core::Create(c, nullptr);
  ASSERT_TRUE(core.ok());
  for (int i = 0; i < 30; ++i) (*core)->Tick();
  ASSERT_EQ((*core)->role(), Role::kLeader);
  EXPECT_FALSE((*core)->HasReadLease());
  EXPECT_EQ((*core)->TermStartIndex(), 1u);
}

Message VoteRequest(Term term) {
  Message m;
  m.type = MessageType::kRequestVote;
  m.from = 3;
  m.to = 2;
  m.term = term;
  m.last_log_index = 10;
  m.last_log_term = 1;
  return m;
}

bool Granted(Core& core) {
  for (const Message& m : core.TakeReady().messages) {
    if (m.type == MessageType::kRequestVoteReply && m.granted) return true;
  }
  return false;
}

TEST(RaftCoreTest, LeaseStickinessFromLastHeardLeaderAndFromStart) {
  // With leases, a (re)started node ignores votes for election_ticks: it may have acknowledged
  // a lease just before it went down.
  MemoryStorage s = Stored(1, {1}, 1);
  Config c;
  c.id = 2;
  c.peers = {1, 2, 3};
  c.election_ticks = 10;
  c.lease_ticks = 8;
  c.applied = 1;
  auto f = std::move(Core::Create(c, &s)).value();
  for (int i = 0; i < 9; ++i) f->Tick();
  ASSERT_TRUE(f->Step(VoteRequest(2)).ok());
  EXPECT_FALSE(Granted(*f));
  EXPECT_EQ(f->term(), 1u);
  f->Tick();
  ASSERT_TRUE(f->Step(VoteRequest(2)).ok());
  EXPECT_TRUE(Granted(*f));

  // Hearing the leader (here by a snapshot) makes it sticky again, even once a later message
  // moved its term on and forgot the leader.
  ASSERT_TRUE(f->Step(SnapshotMsg(2, {1, 1})).ok());
  f->TakeReady();
  Message reply;
  reply.type = MessageType::kAppendEntriesReply;
  reply.from = 3;
  reply.to = 2;
  reply.term = 3;
  ASSERT_TRUE(f->Step(reply).ok());
  EXPECT_EQ(f->term(), 3u);
  EXPECT_EQ(f->leader(), kNoNode);
  ASSERT_TRUE(f->Step(VoteRequest(3)).ok());
  EXPECT_FALSE(Granted(*f)) << "a candidate of our own term, while we are sticky";
  ASSERT_TRUE(f->Step(VoteRequest(4)).ok());
  EXPECT_FALSE(Granted(*f));
  EXPECT_EQ(f->term(), 3u);

  // Without leases a fresh node votes at once.
  c.lease_ticks = 0;
  auto g = std::move(Core::Create(c, &s)).value();
  ASSERT_TRUE(g->Step(VoteRequest(2)).ok());
  EXPECT_TRUE(Granted(*g));
}

}  // namespace
}  // namespace talus::raft
