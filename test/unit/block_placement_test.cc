#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "namenode/blocks/clock.h"
#include "namenode/blocks/placement_policy.h"

namespace talus::blocks {
namespace {

constexpr int64_t kGiB = int64_t{1} << 30;
constexpr int64_t kBlock = 128 << 20;

DatanodeSnapshot Node(DatanodeIndex index, std::string host, std::string rack = "/default-rack",
                      int64_t remaining = 100 * kGiB, int32_t transfers = 0) {
  DatanodeSnapshot n;
  n.index = index;
  n.registration = DatanodeRegistration{"ds-" + host, std::move(host), 9866, 9867,
                                        std::move(rack)};
  n.capacity = 200 * kGiB;
  n.remaining = remaining;
  n.used = n.capacity - remaining;
  n.active_transfers = transfers;
  return n;
}

std::vector<DatanodeSnapshot> Cluster(int n) {
  std::vector<DatanodeSnapshot> nodes;
  for (int i = 0; i < n; ++i) nodes.push_back(Node(i, "h" + std::to_string(i)));
  return nodes;
}

PlacementOptions Seeded(uint64_t seed = 7) {
  PlacementOptions o;
  o.seed = seed;
  return o;
}

PlacementRequest Request(int32_t replicas, std::string writer = "") {
  PlacementRequest r;
  r.replicas = replicas;
  r.block_size = kBlock;
  r.writer_host = std::move(writer);
  r.path = "/user/a/file";
  return r;
}

const std::string& RackOf(const std::vector<DatanodeSnapshot>& nodes, DatanodeIndex i) {
  return nodes[i].registration.rack;
}

TEST(PlacementPolicyTest, ChoosesDistinctNodes) {
  PlacementPolicy policy(Seeded());
  auto nodes = Cluster(5);
  for (int round = 0; round < 50; ++round) {
    auto result = policy.ChooseTargets(nodes, Request(3));
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_FALSE(result->partial());
    std::set<DatanodeIndex> distinct(result->targets.begin(), result->targets.end());
    EXPECT_EQ(distinct.size(), 3u);
  }
}

TEST(PlacementPolicyTest, WriterOnADatanodeGetsTheFirstReplica) {
  PlacementPolicy policy(Seeded());
  auto nodes = Cluster(5);
  for (int round = 0; round < 20; ++round) {
    auto result = policy.ChooseTargets(nodes, Request(3, "h3"));
    ASSERT_TRUE(result.ok());
    ASSERT_EQ(result->targets.size(), 3u);
    EXPECT_EQ(result->targets[0], 3u);
  }
  // A writer that is not a datanode, or whose node is excluded, gets no such preference.
  PlacementRequest excluded = Request(3, "h3");
  excluded.excluded = {3};
  auto result = policy.ChooseTargets(nodes, excluded);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(std::count(result->targets.begin(), result->targets.end(), 3u), 0);
}

TEST(PlacementPolicyTest, NeverChoosesExcludedDeadFullOrDecommissionedNodes) {
  PlacementPolicy policy(Seeded());
  auto nodes = Cluster(7);
  nodes[1].liveness = DatanodeLiveness::kDead;
  nodes[2].admin_state = AdminState::kDecommissionInProgress;
  nodes[3].remaining = kBlock - 1;
  nodes[4].active_transfers = 100;  // far above twice the average
  PlacementRequest request = Request(2);
  request.excluded = {5};
  for (int round = 0; round < 50; ++round) {
    auto result = policy.ChooseTargets(nodes, request);
    ASSERT_TRUE(result.ok()) << result.status();
    std::vector<DatanodeIndex> sorted = result->targets;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::vector<DatanodeIndex>{0, 6}));
  }
}

TEST(PlacementPolicyTest, FewerNodesThanReplicasIsPartial) {
  PlacementPolicy policy(Seeded());
  auto nodes = Cluster(2);
  auto result = policy.ChooseTargets(nodes, Request(3));
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->partial());
  EXPECT_EQ(result->targets.size(), 2u);
  EXPECT_EQ(result->requested, 3);
}

TEST(PlacementPolicyTest, NoNodeGivesHdfsMessage) {
  PlacementPolicy policy(Seeded());
  auto none = policy.ChooseTargets({}, Request(3));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(none.status().message(),
            "File /user/a/file could only be written to 0 of the 1 minReplication nodes. "
            "There are 0 datanode(s) running and 0 node(s) are excluded in this operation.");

  auto nodes = Cluster(2);
  PlacementRequest request = Request(1);
  request.excluded = {0, 1};
  auto excluded = policy.ChooseTargets(nodes, request);
  ASSERT_FALSE(excluded.ok());
  EXPECT_NE(excluded.status().message().find("There are 2 datanode(s) running and 2 node(s) are "
                                             "excluded"),
            std::string::npos)
      << excluded.status();

  nodes[0].remaining = 0;
  nodes[1].remaining = 0;
  auto full = policy.ChooseTargets(nodes, Request(1));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.status().code(), ErrorCode::kNoSpace);

  EXPECT_EQ(policy.ChooseTargets(nodes, Request(0)).status().code(), ErrorCode::kInvalidArgument);
}

TEST(PlacementPolicyTest, StaleNodesOnlyWhenNothingElse) {
  PlacementPolicy policy(Seeded());
  auto nodes = Cluster(4);
  nodes[0].liveness = DatanodeLiveness::kStale;
  nodes[1].liveness = DatanodeLiveness::kStale;
  for (int round = 0; round < 20; ++round) {
    auto two = policy.ChooseTargets(nodes, Request(2));
    ASSERT_TRUE(two.ok());
    std::vector<DatanodeIndex> sorted = two->targets;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::vector<DatanodeIndex>{2, 3}));
  }
  auto three = policy.ChooseTargets(nodes, Request(3));
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(three->targets.size(), 3u);
}

TEST(PlacementPolicyTest, RackRuleWithTwoRacks) {
  PlacementPolicy policy(Seeded());
  std::vector<DatanodeSnapshot> nodes = {Node(0, "a1", "/r1"), Node(1, "a2", "/r1"),
                                         Node(2, "a3", "/r1"), Node(3, "b1", "/r2"),
                                         Node(4, "b2", "/r2"), Node(5, "b3", "/r2")};
  for (int round = 0; round < 100; ++round) {
    const std::string writer = round % 2 == 0 ? "a1" : "";  // local writer and remote writer
    auto result = policy.ChooseTargets(nodes, Request(3, writer));
    ASSERT_TRUE(result.ok());
    ASSERT_EQ(result->targets.size(), 3u);
    const auto& t = result->targets;
    if (!writer.empty()) {
      EXPECT_EQ(t[0], 0u);
    }
    EXPECT_NE(RackOf(nodes, t[0]), RackOf(nodes, t[1])) << "second replica on another rack";
    EXPECT_EQ(RackOf(nodes, t[1]), RackOf(nodes, t[2])) << "third beside the second";
    EXPECT_NE(t[1], t[2]);
  }
}

TEST(PlacementPolicyTest, RackRuleFallsBackWhenOtherRackIsFull) {
  PlacementPolicy policy(Seeded());
  std::vector<DatanodeSnapshot> nodes = {Node(0, "a1", "/r1"), Node(1, "a2", "/r1"),
                                         Node(2, "a3", "/r1"), Node(3, "b1", "/r2", 0)};
  auto result = policy.ChooseTargets(nodes, Request(3, "a1"));
  ASSERT_TRUE(result.ok());
  std::vector<DatanodeIndex> sorted = result->targets;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<DatanodeIndex>{0, 1, 2}));
}

TEST(PlacementPolicyTest, SpreadsChoicesAndFavoursFreeSpace) {
  PlacementPolicy policy(Seeded(12345));
  auto nodes = Cluster(6);
  std::map<DatanodeIndex, int> counts;
  constexpr int kRounds = 600;
  for (int round = 0; round < kRounds; ++round) {
    auto result = policy.ChooseTargets(nodes, Request(1));
    ASSERT_TRUE(result.ok());
    ++counts[result->targets[0]];
  }
  // Equal nodes: every one is chosen, none dominates (expected 100 each).
  ASSERT_EQ(counts.size(), 6u);
  for (const auto& [node, count] : counts) {
    EXPECT_GT(count, 40) << "node " << node;
    EXPECT_LT(count, 200) << "node " << node;
  }

  // One node with far more free space takes the largest share, but not every block.
  nodes[4].remaining = 1000 * kGiB;
  counts.clear();
  for (int round = 0; round < kRounds; ++round) {
    auto result = policy.ChooseTargets(nodes, Request(1));
    ASSERT_TRUE(result.ok());
    ++counts[result->targets[0]];
  }
  EXPECT_GT(counts[4], kRounds / 3);
  EXPECT_LT(counts[4], kRounds);
  EXPECT_GE(counts.size(), 3u);

  // A busy node is chosen less often than idle ones.
  nodes = Cluster(3);
  nodes[0].active_transfers = 3;
  nodes[1].active_transfers = 1;
  nodes[2].active_transfers = 1;
  counts.clear();
  for (int round = 0; round < kRounds; ++round) {
    auto result = policy.ChooseTargets(nodes, Request(1));
    ASSERT_TRUE(result.ok());
    ++counts[result->targets[0]];
  }
  EXPECT_LT(counts[0], counts[1]);
  EXPECT_LT(counts[0], counts[2]);
}

TEST(PlacementPolicyTest, BusyNodesAreALastResortNotAMissingReplica) {
  PlacementPolicy policy(Seeded());
  // One write in flight on a three-node cluster is no reason to avoid that node.
  std::vector<DatanodeSnapshot> nodes = {Node(0, "h0", "/default-rack", 100 * kGiB, 1),
                                         Node(1, "h1"), Node(2, "h2")};
  for (int round = 0; round < 20; ++round) {
    auto result = policy.ChooseTargets(nodes, Request(3));
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->targets.size(), 3u);
  }
  // A really busy node (far above the average) is avoided while others are free...
  std::vector<DatanodeSnapshot> five = Cluster(5);
  five[4].active_transfers = 40;
  for (int round = 0; round < 20; ++round) {
    auto result = policy.ChooseTargets(five, Request(3));
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(std::count(result->targets.begin(), result->targets.end(), 4u), 0);
  }
  // ... but still used when the block needs it to get all its replicas.
  nodes[0].active_transfers = 40;
  auto result = policy.ChooseTargets(nodes, Request(3));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->targets.size(), 3u);
  EXPECT_EQ(result->targets.back(), 0u);
}

TEST(PlacementPolicyTest, ReaderSortNearestFirst) {
  std::vector<DatanodeSnapshot> locations = {
      Node(0, "far", "/r2"), Node(1, "dead", "/r1"), Node(2, "rackmate", "/r1"),
      Node(3, "stale-local-rack", "/r1"), Node(4, "me", "/r1")};
  locations[1].liveness = DatanodeLiveness::kDead;
  locations[3].liveness = DatanodeLiveness::kStale;

  auto sorted = PlacementPolicy::SortForReader(locations, "me", "");
  std::vector<std::string> hosts;
  for (const auto& n : sorted) hosts.push_back(n.registration.host);
  EXPECT_EQ(hosts, (std::vector<std::string>{"me", "rackmate", "far", "stale-local-rack"}));

  // A reader that is not a datanode, on rack /r2 per the topology.
  sorted = PlacementPolicy::SortForReader(locations, "client", "/r2");
  hosts.clear();
  for (const auto& n : sorted) hosts.push_back(n.registration.host);
  EXPECT_EQ(hosts, (std::vector<std::string>{"far", "rackmate", "me", "stale-local-rack"}));

  // Among equally near nodes, the less busy first.
  std::vector<DatanodeSnapshot> peers = {Node(0, "x", "/r1", 100 * kGiB, 5),
                                         Node(1, "y", "/r1", 100 * kGiB, 1)};
  sorted = PlacementPolicy::SortForReader(peers, "client", "");
  EXPECT_EQ(sorted[0].registration.host, "y");
}

}  // namespace
}  // namespace talus::blocks

namespace talus::blocks {
namespace {

TEST(PlacementPolicyTest, StaleWriterNodeIsNotPreferred) {
  PlacementPolicy policy(Seeded());
  auto nodes = Cluster(4);
  nodes[2].liveness = DatanodeLiveness::kStale;
  for (int round = 0; round < 20; ++round) {
    auto result = policy.ChooseTargets(nodes, Request(2, "h2"));
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(std::count(result->targets.begin(), result->targets.end(), 2u), 0);
  }
}

TEST(PlacementPolicyTest, LocationsForReaderUsesTheManagersRacks) {
  auto topology = Topology::Parse("a1 /r1\na2 /r1\nb1 /r2\nclient-b /r2\n");
  ASSERT_TRUE(topology.ok());
  FakeClock clock;
  DatanodeManager datanodes(DatanodeManagerOptions{}, &clock, &*topology);
  BlockMap map(&datanodes);
  for (const char* host : {"a1", "a2", "b1"}) {
    ASSERT_TRUE(datanodes.Register(DatanodeRegistration{std::string("ds-") + host, host, 9866,
                                                        9867, ""})
                    .ok());
  }
  EXPECT_EQ(datanodes.RackOfHost("client-b"), "/r2");
  ASSERT_TRUE(map.AddBlock(1, {1, 1, 0}, 3).ok());
  for (const char* host : {"a1", "a2", "b1"}) {
    std::vector<ReceivedDeletedBlock> report = {{{1, 1, 10}, ReceivedDeletedStatus::kReceived}};
    ASSERT_TRUE(map.ProcessIncrementalReport(std::string("ds-") + host, report).ok());
  }
  auto block = map.GetBlock(1);
  ASSERT_TRUE(block.ok());

  auto for_b = PlacementPolicy::LocationsForReader(datanodes, *block, "client-b");
  ASSERT_EQ(for_b.size(), 3u);
  EXPECT_EQ(for_b[0].registration.host, "b1");

  auto for_a2 = PlacementPolicy::LocationsForReader(datanodes, *block, "a2");
  ASSERT_EQ(for_a2.size(), 3u);
  EXPECT_EQ(for_a2[0].registration.host, "a2");
  EXPECT_EQ(for_a2[1].registration.host, "a1");
  EXPECT_EQ(for_a2[2].registration.host, "b1");
}

}  // namespace
}  // namespace talus::blocks
