#include <gtest/gtest.h>

#include "namenode/blocks/clock.h"
#include "namenode/blocks/datanode_manager.h"

namespace talus::blocks {
namespace {

DatanodeRegistration Reg(std::string id, std::string host, int port = 9866) {
  return DatanodeRegistration{std::move(id), std::move(host), port, port + 1, ""};
}

HeartbeatStats Stats(int64_t capacity, int64_t used, int32_t transfers = 0) {
  HeartbeatStats s;
  s.volumes.push_back(VolumeStats{"vol0", capacity, used, capacity - used, false});
  s.volumes.push_back(VolumeStats{"vol1", capacity, 0, capacity, true});  // failed: not counted
  s.active_transfers = transfers;
  s.failed_volumes = 1;
  return s;
}

class DatanodeManagerTest : public ::testing::Test {
 protected:
  DatanodeManagerOptions Options() {
    DatanodeManagerOptions o;
    o.heartbeat_interval_ms = 1000;
    o.stale_after_missed_heartbeats = 3;
    o.dead_after_ms = 10'000;
    o.max_deletes_per_heartbeat = 2;
    return o;
  }
  FakeClock clock_;
  DatanodeManager manager_{Options(), &clock_};
};

TEST_F(DatanodeManagerTest, RegistersAndDescribesNodes) {
  auto a = manager_.Register(Reg("ds-a", "host-a"));
  auto b = manager_.Register(Reg("ds-b", "host-b"));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_NE(a->index, b->index);
  EXPECT_EQ(a->registration.rack, "/default-rack");

  ASSERT_TRUE(manager_.Heartbeat("ds-a", Stats(1000, 400, 2)).ok());
  auto snap = manager_.Describe(a->index);
  ASSERT_TRUE(snap.has_value());
  EXPECT_EQ(snap->registration.host, "host-a");
  EXPECT_EQ(snap->registration.data_port, 9866);
  EXPECT_EQ(snap->capacity, 1000);
  EXPECT_EQ(snap->used, 400);
  EXPECT_EQ(snap->remaining, 600);
  EXPECT_EQ(snap->active_transfers, 2);
  EXPECT_EQ(snap->failed_volumes, 1);
  EXPECT_EQ(snap->volumes.size(), 2u);
  EXPECT_EQ(snap->liveness, DatanodeLiveness::kLive);
  EXPECT_EQ(manager_.ListLiveNodes().size(), 2u);
}

TEST_F(DatanodeManagerTest, RejectsInvalidRegistrationAndStats) {
  EXPECT_EQ(manager_.Register(Reg("", "h")).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(manager_.Register(Reg("id", "")).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(manager_.Register(Reg("id", "h", 0)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(manager_.Register(Reg("id", "h", 70000)).status().code(),
            ErrorCode::kInvalidArgument);
  DatanodeRegistration bad_rack = Reg("id", "h");
  bad_rack.rack = "rack1";
  EXPECT_EQ(manager_.Register(bad_rack).status().code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(manager_.Register(Reg("id", "h")).ok());
  EXPECT_EQ(manager_.Heartbeat("id", Stats(10, 20)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(manager_.Heartbeat("id", Stats(10, 1, -1)).status().code(),
            ErrorCode::kInvalidArgument);
  DatanodeManagerOptions bad = Options();
  bad.dead_after_ms = bad.heartbeat_interval_ms;
  EXPECT_FALSE(bad.Validate().ok());
}

TEST_F(DatanodeManagerTest, ReregistrationKeepsIndexAndTakesNewAddress) {
  auto first = manager_.Register(Reg("ds-a", "old-host", 1000));
  ASSERT_TRUE(first.ok());
  auto again = manager_.Register(Reg("ds-a", "new-host", 2000));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->index, first->index);
  EXPECT_FALSE(again->replaced.has_value());
  EXPECT_EQ(manager_.Describe(first->index)->registration.host, "new-host");
  EXPECT_EQ(manager_.Describe(first->index)->registration.data_port, 2000);
  EXPECT_EQ(manager_.ListNodes().size(), 1u);
}

TEST_F(DatanodeManagerTest, NewStorageIdAtSameAddressReplacesTheOldNode) {
  auto old_node = manager_.Register(Reg("ds-old", "host-a"));
  ASSERT_TRUE(old_node.ok());
  auto fresh = manager_.Register(Reg("ds-new", "host-a"));
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE(fresh->replaced.has_value());
  EXPECT_EQ(*fresh->replaced, old_node->index);
  EXPECT_EQ(manager_.CollectNewlyDead(), std::vector<DatanodeIndex>{old_node->index});
  EXPECT_EQ(manager_.Liveness(fresh->index), DatanodeLiveness::kLive);
}

TEST_F(DatanodeManagerTest, StaleThenDeadByClock) {
  auto a = manager_.Register(Reg("ds-a", "host-a"));
  auto b = manager_.Register(Reg("ds-b", "host-b"));
  ASSERT_TRUE(a.ok() && b.ok());

  clock_.AdvanceMs(3000);  // exactly 3 intervals: not yet stale
  EXPECT_EQ(manager_.Liveness(a->index), DatanodeLiveness::kLive);
  clock_.AdvanceMs(1);
  EXPECT_EQ(manager_.Liveness(a->index), DatanodeLiveness::kStale);
  ASSERT_TRUE(manager_.Heartbeat("ds-b", Stats(100, 0)).ok());  // b keeps beating
  EXPECT_EQ(manager_.Liveness(b->index), DatanodeLiveness::kLive);
  EXPECT_TRUE(manager_.CollectNewlyDead().empty());

  clock_.AdvanceMs(7000);  // a silent for 10,001 ms
  EXPECT_EQ(manager_.Liveness(a->index), DatanodeLiveness::kDead);
  EXPECT_EQ(manager_.Liveness(b->index), DatanodeLiveness::kStale);  // silent 7,000 ms
  EXPECT_EQ(manager_.ListDeadNodes().size(), 1u);
  EXPECT_EQ(manager_.ListLiveNodes().size(), 1u);
  EXPECT_EQ(manager_.LiveMask(), (std::vector<bool>{false, true}));

  EXPECT_EQ(manager_.CollectNewlyDead(), std::vector<DatanodeIndex>{a->index});
  EXPECT_TRUE(manager_.CollectNewlyDead().empty()) << "each death is reported once";

  // A declared-dead node that heartbeats is told to register again, and reports are refused.
  auto reply = manager_.Heartbeat("ds-a", Stats(100, 0));
  ASSERT_TRUE(reply.ok());
  EXPECT_TRUE(reply->reregister);
  EXPECT_EQ(manager_.LookupLive("ds-a").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(manager_.Liveness(a->index), DatanodeLiveness::kDead);

  ASSERT_TRUE(manager_.Register(Reg("ds-a", "host-a")).ok());
  EXPECT_EQ(manager_.Liveness(a->index), DatanodeLiveness::kLive);
  EXPECT_TRUE(manager_.LookupLive("ds-a").ok());
}

TEST_F(DatanodeManagerTest, UnknownNodeIsToldToRegister) {
  auto reply = manager_.Heartbeat("never-seen", Stats(100, 0));
  ASSERT_TRUE(reply.ok());
  EXPECT_TRUE(reply->reregister);
  EXPECT_TRUE(reply->commands.empty());
}

TEST_F(DatanodeManagerTest, PendingCommandsDrainInBoundedHeartbeats) {
  auto a = manager_.Register(Reg("ds-a", "host-a"));
  ASSERT_TRUE(a.ok());
  std::vector<Block> blocks = {{1, 1, 10}, {2, 1, 10}, {3, 1, 10}};
  manager_.QueueDeletes(a->index, blocks);
  manager_.QueueReplication(a->index, ReplicationWork{{4, 1, 10}, {7}});
  EXPECT_EQ(manager_.PendingDeleteCount(a->index), 3u);

  auto first = manager_.Heartbeat("ds-a", Stats(100, 0));
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->reregister);
  EXPECT_EQ(first->commands.delete_blocks, (std::vector<Block>{{1, 1, 10}, {2, 1, 10}}));
  ASSERT_EQ(first->commands.replicate.size(), 1u);
  EXPECT_EQ(first->commands.replicate[0].block.id, 4);
  EXPECT_EQ(first->commands.replicate[0].targets, std::vector<DatanodeIndex>{7});

  auto second = manager_.Heartbeat("ds-a", Stats(100, 0));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->commands.delete_blocks, (std::vector<Block>{{3, 1, 10}}));
  EXPECT_TRUE(second->commands.replicate.empty());
  auto third = manager_.Heartbeat("ds-a", Stats(100, 0));
  EXPECT_TRUE(third->commands.empty());

  // Re-registration drops what was queued for the node's previous life.
  manager_.QueueDeletes(a->index, blocks);
  ASSERT_TRUE(manager_.Register(Reg("ds-a", "host-a")).ok());
  EXPECT_EQ(manager_.PendingDeleteCount(a->index), 0u);
}

TEST_F(DatanodeManagerTest, DecommissionListMovesNodesInAndOutOfService) {
  auto a = manager_.Register(Reg("ds-a", "host-a"));
  auto b = manager_.Register(Reg("ds-b", "host-b"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(manager_.SetDecommissionList({"host-a"}), 1u);
  EXPECT_EQ(manager_.Describe(a->index)->admin_state, AdminState::kDecommissionInProgress);
  EXPECT_EQ(manager_.Describe(b->index)->admin_state, AdminState::kNormal);
  EXPECT_FALSE(manager_.MarkDecommissioned(b->index));
  EXPECT_TRUE(manager_.MarkDecommissioned(a->index));
  EXPECT_EQ(manager_.Describe(a->index)->admin_state, AdminState::kDecommissioned);
  // Listed again: stays decommissioned. Re-registering keeps what the list says.
  EXPECT_EQ(manager_.SetDecommissionList({"host-a"}), 0u);
  ASSERT_TRUE(manager_.Register(Reg("ds-a", "host-a")).ok());
  EXPECT_EQ(manager_.Describe(a->index)->admin_state, AdminState::kDecommissioned);
  EXPECT_EQ(manager_.SetDecommissionList({}), 1u);
  EXPECT_TRUE(manager_.Describe(a->index)->in_service());
  // A node that registers while listed starts decommissioning at once.
  manager_.SetDecommissionList({"host-c"});
  auto c = manager_.Register(Reg("ds-c", "host-c"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(manager_.Describe(c->index)->admin_state, AdminState::kDecommissionInProgress);
}

TEST(TopologyTest, ParsesFileTextAndResolvesRacks) {
  auto topology = Topology::Parse("# racks\nhost-a /r1\n\nhost-b   /r2  # comment\n");
  ASSERT_TRUE(topology.ok()) << topology.status();
  EXPECT_EQ(topology->RackOf("host-a"), "/r1");
  EXPECT_EQ(topology->RackOf("host-b"), "/r2");
  EXPECT_EQ(topology->RackOf("host-c"), "/default-rack");
  EXPECT_EQ(Topology::Parse("host-a r1").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Topology::Parse("host-a").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Topology::Parse("host-a /r1 extra").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Topology::LoadFile("/nonexistent/topology").status().code(), ErrorCode::kIoError);

  FakeClock clock;
  DatanodeManager manager(DatanodeManagerOptions{}, &clock, &*topology);
  DatanodeRegistration reg = Reg("ds-a", "host-a");
  reg.rack = "/sent-by-node";  // the topology file wins
  auto result = manager.Register(reg);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->registration.rack, "/r1");
}

}  // namespace
}  // namespace talus::blocks
