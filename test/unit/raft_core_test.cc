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
    Config c;
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
      auto core = Core::Create(MakeConfig(id), &n.storage);
      ASSERT_TRUE(core.ok()) << core.status();
      n.core = std::move(core).value();
    }
  }

  Core& core(NodeId id) { return *nodes_.at(id).core; }
  TestNode& node(NodeId id) { return nodes_.at(id); }

  void Collect(NodeId id) {
    TestNode& n = nodes_.at(id);
    while (n.core->HasReady()) {
      Ready rd = n.core->TakeReady();
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

}  // namespace
}  // namespace talus::raft
