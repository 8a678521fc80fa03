// The replication monitor driven pass by pass with a FakeClock and fake datanodes: the test
// plays the datanodes' side (heartbeats that collect commands, copies reported as RECEIVED,
// deletions reported as DELETED).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "namenode/blocks/block_manager.h"

namespace talus::blocks {
namespace {

constexpr int64_t kInode = 7;
constexpr int64_t kBlockBytes = 1000;
constexpr int64_t kGiB = 1LL << 30;

class BlockManagerTest : public ::testing::Test {
 protected:
  static DatanodeManagerOptions DatanodeOptions() {
    DatanodeManagerOptions o;
    o.heartbeat_interval_ms = 1000;
    o.stale_after_missed_heartbeats = 3;
    o.dead_after_ms = 10'000;
    return o;
  }

  static BlockManagerOptions ManagerOptions(int32_t streams = 2, int32_t hard_limit = 4) {
    BlockManagerOptions o;
    o.monitor_interval_ms = 1000;
    o.pending_replication_timeout_ms = 5000;
    o.max_replication_streams = streams;
    o.max_replication_streams_hard_limit = hard_limit;
    return o;
  }

  static PlacementOptions Placement() {
    PlacementOptions o;
    o.seed = 1234;
    return o;
  }

  // Registers nodes dn0..dn<n-1> on host-<i>; remaining space 100 GiB + i GiB unless given.
  void AddNodes(int n, std::vector<int64_t> remaining = {}) {
    for (int i = 0; i < n; ++i) {
      const std::string id = "dn" + std::to_string(i);
      auto r = datanodes_.Register(
          DatanodeRegistration{id, "host-" + std::to_string(i), 9866, 9867, ""});
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_EQ(r->index, static_cast<DatanodeIndex>(i));
      remaining_.push_back(i < static_cast<int>(remaining.size()) ? remaining[i]
                                                                  : 100 * kGiB + i * kGiB);
      Beat(i);
    }
  }

  // One heartbeat of node i; the commands it gets are kept in commands_[i].
  void Beat(int i) {
    HeartbeatStats stats;
    stats.volumes.push_back(
        VolumeStats{"vol0", 200 * kGiB, 200 * kGiB - remaining_[i], remaining_[i], false});
    auto reply = datanodes_.Heartbeat("dn" + std::to_string(i), stats);
    ASSERT_TRUE(reply.ok()) << reply.status();
    DatanodeCommands& got = commands_[i];
    for (const Block& b : reply->commands.delete_blocks) got.delete_blocks.push_back(b);
    for (ReplicationWork& w : reply->commands.replicate) got.replicate.push_back(std::move(w));
  }

  void BeatAllBut(std::set<int> silent = {}) {
    for (int i = 0; i < static_cast<int>(remaining_.size()); ++i) {
      if (!silent.contains(i)) Beat(i);
    }
  }

  // Takes the commands node i received so far.
  DatanodeCommands Take(int i) {
    DatanodeCommands out = std::move(commands_[i]);
    commands_[i] = {};
    return out;
  }

  // Every copy queued anywhere, by source, after a heartbeat round.
  std::map<int, std::vector<ReplicationWork>> TakeCopies(std::set<int> silent = {}) {
    BeatAllBut(silent);
    std::map<int, std::vector<ReplicationWork>> out;
    for (int i = 0; i < static_cast<int>(remaining_.size()); ++i) {
      DatanodeCommands c = Take(i);
      if (!c.replicate.empty()) out[i] = std::move(c.replicate);
    }
    return out;
  }

  void Report(int node, const Block& b, ReceivedDeletedStatus status) {
    std::vector<ReceivedDeletedBlock> report = {{b, status}};
    ASSERT_TRUE(map_.ProcessIncrementalReport("dn" + std::to_string(node), report).ok());
  }

  // The targets of a copy finish it and report their replica.
  void Complete(const ReplicationWork& work) {
    for (DatanodeIndex t : work.targets) {
      Report(static_cast<int>(t), work.block, ReceivedDeletedStatus::kReceived);
    }
  }

  // A complete block of kInode with finalized replicas on `holders`.
  Block AddBlock(int64_t id, int32_t replication, std::vector<int> holders,
                 int64_t inode = kInode) {
    const Block b{id, 1, kBlockBytes};
    EXPECT_TRUE(map_.AddBlock(inode, {id, 1, 0}, replication).ok());
    EXPECT_TRUE(map_.CommitBlock(b).ok());
    for (int h : holders) Report(h, b, ReceivedDeletedStatus::kReceived);
    return b;
  }

  std::vector<DatanodeIndex> Locations(int64_t id) {
    auto b = map_.GetBlock(id);
    EXPECT_TRUE(b.ok());
    std::vector<DatanodeIndex> out;
    if (!b.ok()) return out;
    for (const ReplicaLocation& r : b->replicas) out.push_back(r.node);
    std::sort(out.begin(), out.end());
    return out;
  }

  // Runs a pass with every node but `silent` heartbeating first.
  void Pass(std::set<int> silent = {}) {
    BeatAllBut(silent);
    manager_.RunOnce();
  }

  void KillNode(int node) {
    clock_.AdvanceMs(DatanodeOptions().dead_after_ms + 1);
    Pass({node});
    ASSERT_EQ(datanodes_.Liveness(static_cast<DatanodeIndex>(node)), DatanodeLiveness::kDead);
  }

  void LeaveSafeMode() {
    safe_mode_.Leave();
    ASSERT_FALSE(safe_mode_.IsOn());
  }

  FakeClock clock_;
  Topology topology_;  // empty: one rack; tests may fill it before AddNodes
  DatanodeManager datanodes_{DatanodeOptions(), &clock_, &topology_};
  BlockMap map_{&datanodes_};
  PlacementPolicy placement_{Placement()};
  SafeMode safe_mode_{SafeModeOptions{}, &clock_};
  BlockManager manager_{ManagerOptions(), &map_, &datanodes_, &placement_, &safe_mode_, &clock_};
  std::vector<int64_t> remaining_;
  std::map<int, DatanodeCommands> commands_;
};

TEST_F(BlockManagerTest, DeadNodesBlocksAreCopiedFromGoodSourcesWithinStreamLimits) {
  AddNodes(5);
  LeaveSafeMode();
  for (int64_t id = 1; id <= 6; ++id) AddBlock(id, 3, {0, 1, 2});
  Pass();
  EXPECT_TRUE(TakeCopies().empty()) << "every block has its three replicas";

  KillNode(0);
  EXPECT_EQ(map_.NodeBlockCount(0), 0) << "a dead node's replicas leave the map";
  EXPECT_EQ(map_.Stats().under_replicated, 6);
  std::map<int, std::vector<ReplicationWork>> copies = TakeCopies();
  int scheduled = 0;
  for (const auto& [source, works] : copies) {
    EXPECT_TRUE(source == 1 || source == 2) << "source " << source << " holds no good replica";
    EXPECT_LE(works.size(), 2u) << "at most max_replication_streams per source";
    for (const ReplicationWork& w : works) {
      ASSERT_EQ(w.targets.size(), 1u);
      EXPECT_TRUE(w.targets[0] == 3 || w.targets[0] == 4) << "target holds the block already";
      ++scheduled;
    }
  }
  EXPECT_EQ(scheduled, 4) << "two sources, two streams each";
  EXPECT_EQ(manager_.Stats().pending_replication, 4);
  EXPECT_EQ(manager_.Stats().under_replicated, 2);

  // The copies arrive: their streams are free again and the last two blocks go.
  for (const auto& [source, works] : copies) {
    for (const ReplicationWork& w : works) Complete(w);
  }
  Pass();
  std::map<int, std::vector<ReplicationWork>> rest = TakeCopies();
  int second = 0;
  for (const auto& [source, works] : rest) {
    for (const ReplicationWork& w : works) {
      Complete(w);
      ++second;
    }
  }
  EXPECT_EQ(second, 2);
  Pass();
  EXPECT_TRUE(TakeCopies().empty());
  for (int64_t id = 1; id <= 6; ++id) EXPECT_EQ(map_.CountLiveReplicas(id), 3) << id;
  const ReplicationStats stats = manager_.Stats();
  EXPECT_EQ(stats.under_replicated, 0);
  EXPECT_EQ(stats.pending_replication, 0);
  EXPECT_EQ(stats.scheduled_total, 6);
  EXPECT_EQ(map_.Stats().under_replicated, 0);

  // The dead node comes back with its old replicas: valid extras count, then are trimmed.
  ASSERT_TRUE(
      datanodes_.Register(DatanodeRegistration{"dn0", "host-0", 9866, 9867, ""}).ok());
  std::vector<ReportedReplica> old;
  for (int64_t id = 1; id <= 6; ++id) old.push_back({{id, 1, kBlockBytes}, ReplicaState::kFinalized});
  auto summary = map_.ProcessFullReport("dn0", "", old);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->added, 6u);
  Pass();
  int deletes = 0;
  BeatAllBut();
  for (int i = 0; i < 5; ++i) deletes += static_cast<int>(Take(i).delete_blocks.size());
  EXPECT_EQ(deletes, 6) << "one excess replica of each block";
  for (int64_t id = 1; id <= 6; ++id) EXPECT_EQ(map_.CountLiveReplicas(id), 3) << id;
  EXPECT_EQ(manager_.Stats().excess_deleted_total, 6);
}

TEST_F(BlockManagerTest, TargetReportClearsPendingAndTimeoutReschedulesElsewhere) {
  AddNodes(6);
  LeaveSafeMode();
  const Block b = AddBlock(1, 3, {0, 1});
  Pass();
  auto first = TakeCopies();
  ASSERT_EQ(first.size(), 1u);
  const int source1 = first.begin()->first;
  const ReplicationWork work1 = first.begin()->second.at(0);
  ASSERT_EQ(work1.targets.size(), 1u);
  EXPECT_EQ(manager_.Stats().pending_replication, 1);

  // Nothing reported: a pass before the deadline leaves the copy pending.
  clock_.AdvanceMs(2000);
  Pass();
  EXPECT_TRUE(TakeCopies().empty());

  clock_.AdvanceMs(4000);  // past the 5 s timeout
  Pass();
  auto second = TakeCopies();
  ASSERT_EQ(second.size(), 1u);
  const ReplicationWork work2 = second.begin()->second.at(0);
  EXPECT_NE(second.begin()->first, source1) << "another source is tried";
  ASSERT_EQ(work2.targets.size(), 1u);
  EXPECT_NE(work2.targets[0], work1.targets[0]) << "another target is tried";
  EXPECT_EQ(manager_.Stats().timed_out_total, 1);

  Complete(work2);
  Pass();
  EXPECT_EQ(manager_.Stats().pending_replication, 0);
  EXPECT_EQ(map_.CountLiveReplicas(b.id), 3);
  EXPECT_TRUE(TakeCopies().empty());
}

TEST_F(BlockManagerTest, PipelineReplicasStillReportingAreNotCopiedAgain) {
  AddNodes(5);
  LeaveSafeMode();
  const Block b{1, 1, kBlockBytes};
  ASSERT_TRUE(map_.AddBlock(kInode, {1, 1, 0}, 3).ok());
  ASSERT_TRUE(map_.SetExpectedLocations(1, {0, 1, 2}).ok());
  Report(0, b, ReceivedDeletedStatus::kReceived);
  ASSERT_TRUE(map_.CommitBlock(b).ok());  // closed once one replica is in
  Pass();
  EXPECT_TRUE(TakeCopies().empty()) << "nodes 1 and 2 are still finishing the write";
  EXPECT_EQ(manager_.Stats().pending_replication, 1);
  Report(1, b, ReceivedDeletedStatus::kReceived);
  Pass();
  EXPECT_TRUE(TakeCopies().empty());
  // Node 2 never reports: after the timeout the block is copied elsewhere.
  clock_.AdvanceMs(6000);
  Pass();
  auto copies = TakeCopies();
  ASSERT_EQ(copies.size(), 1u);
  const std::vector<DatanodeIndex> targets = copies.begin()->second.at(0).targets;
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_TRUE(targets[0] == 3 || targets[0] == 4);
}

TEST_F(BlockManagerTest, QueuesAreWalkedRoundRobin) {
  AddNodes(4);
  LeaveSafeMode();
  // 20 blocks no node can help (replication 5 on a 4-node cluster) ahead of one that can be
  // helped: a pass looks at 2 x 4 nodes x 2 streams = 16 blocks, the next goes on from there.
  for (int64_t id = 1; id <= 20; ++id) AddBlock(id, 5, {0, 1, 2, 3});
  AddBlock(50, 3, {0, 1});
  Pass();
  EXPECT_TRUE(TakeCopies().empty());
  Pass();
  auto copies = TakeCopies();
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies.begin()->second.at(0).block.id, 50);
}

TEST_F(BlockManagerTest, BlocksOnOneRackGetAReplicaOnAnother) {
  for (int i = 0; i < 3; ++i) topology_.SetRack("host-" + std::to_string(i), "/r1");
  for (int i = 3; i < 5; ++i) topology_.SetRack("host-" + std::to_string(i), "/r2");
  AddNodes(5);
  LeaveSafeMode();
  const Block b = AddBlock(1, 3, {0, 1, 2});
  Pass();
  auto copies = TakeCopies();
  ASSERT_EQ(copies.size(), 1u);
  const ReplicationWork work = copies.begin()->second.at(0);
  ASSERT_EQ(work.targets.size(), 1u);
  EXPECT_GE(work.targets[0], 3u) << "a node on /r2";
  Complete(work);
  Pass();
  BeatAllBut();
  int deleted_on_r1 = 0;
  for (int i = 0; i < 5; ++i) {
    const DatanodeCommands c = Take(i);
    if (!c.delete_blocks.empty()) {
      EXPECT_LT(i, 3) << "the excess replica leaves the crowded rack";
      EXPECT_EQ(c.delete_blocks, std::vector<Block>{b});
      ++deleted_on_r1;
    }
  }
  EXPECT_EQ(deleted_on_r1, 1);
  EXPECT_EQ(map_.CountLiveReplicas(1), 3);
}

TEST_F(BlockManagerTest, ExcessKeepsRacksEvenIfTheLoneRackIsFullest) {
  for (int i = 0; i < 2; ++i) topology_.SetRack("host-" + std::to_string(i), "/r1");
  topology_.SetRack("host-2", "/r2");
  AddNodes(3, {50 * kGiB, 60 * kGiB, 1 * kGiB});
  LeaveSafeMode();
  const Block b = AddBlock(1, 2, {0, 1, 2});
  Pass();
  BeatAllBut();
  EXPECT_EQ(Take(0).delete_blocks, std::vector<Block>{b}) << "fullest of the rack with two";
  EXPECT_TRUE(Take(2).delete_blocks.empty());
}

TEST_F(BlockManagerTest, HighestPriorityFirstWhenSourcesAreScarce) {
  // One stream per node (hard limit too): whichever block goes first takes the only source.
  BlockManager manager(ManagerOptions(1, 1), &map_, &datanodes_, &placement_, &safe_mode_,
                       &clock_);
  AddNodes(3);
  LeaveSafeMode();
  // Under-replicated blocks with low ids, then one with a single replica left.
  for (int64_t id = 1; id <= 4; ++id) AddBlock(id, 3, {0, 1});
  AddBlock(100, 2, {0});
  BeatAllBut();
  manager.RunOnce();
  auto copies = TakeCopies();
  std::set<int64_t> scheduled;
  for (const auto& [source, works] : copies) {
    for (const ReplicationWork& w : works) scheduled.insert(w.block.id);
  }
  EXPECT_TRUE(scheduled.contains(100)) << "the block with one replica left goes first";
  EXPECT_EQ(scheduled.size(), 2u) << "one copy per source";
}

TEST_F(BlockManagerTest, ExcessReplicaLeavesTheFullestNode) {
  AddNodes(4, {50 * kGiB, 40 * kGiB, 10 * kGiB, 30 * kGiB});
  LeaveSafeMode();
  const Block b = AddBlock(1, 3, {0, 1, 2, 3});
  EXPECT_EQ(map_.Stats().excess_replicas, 1);
  Pass();
  BeatAllBut();
  EXPECT_EQ(Take(2).delete_blocks, std::vector<Block>{b}) << "node 2 has the least room";
  for (int i : {0, 1, 3}) EXPECT_TRUE(Take(i).delete_blocks.empty());
  EXPECT_EQ(Locations(1), (std::vector<DatanodeIndex>{0, 1, 3}));
  EXPECT_EQ(map_.CountLiveReplicas(1), 3);
  Pass();
  BeatAllBut();
  EXPECT_TRUE(Take(2).delete_blocks.empty()) << "queued once";
  Report(2, b, ReceivedDeletedStatus::kDeleted);
  Pass();
  EXPECT_EQ(map_.Stats().excess_replicas, 0);
  EXPECT_EQ(map_.Stats().total_replicas, 3);
}

TEST_F(BlockManagerTest, SetReplicationDownThenUpIsEnforced) {
  AddNodes(4);
  LeaveSafeMode();
  const Block b = AddBlock(1, 3, {0, 1, 2});
  ASSERT_TRUE(map_.SetReplication(kInode, 1).ok());
  Pass();
  BeatAllBut();
  int deleted = 0;
  for (int i = 0; i < 4; ++i) {
    for (const Block& d : Take(i).delete_blocks) {
      EXPECT_EQ(d, b);
      Report(i, d, ReceivedDeletedStatus::kDeleted);
      ++deleted;
    }
  }
  EXPECT_EQ(deleted, 2);
  Pass();
  EXPECT_EQ(map_.CountLiveReplicas(1), 1);
  EXPECT_TRUE(TakeCopies().empty());

  ASSERT_TRUE(map_.SetReplication(kInode, 3).ok());
  Pass();
  auto copies = TakeCopies();
  int targets = 0;
  for (const auto& [source, works] : copies) {
    for (const ReplicationWork& w : works) {
      targets += static_cast<int>(w.targets.size());
      Complete(w);
    }
  }
  EXPECT_EQ(targets, 2);
  Pass();
  EXPECT_EQ(map_.CountLiveReplicas(1), 3);
  EXPECT_EQ(map_.Stats().under_replicated, 0);
}

TEST_F(BlockManagerTest, CorruptReplicaIsReplacedThenDeleted) {
  AddNodes(4);
  LeaveSafeMode();
  const Block b = AddBlock(1, 3, {0, 1, 2});
  ASSERT_TRUE(map_.ReportBadReplica("dn1", b).ok());
  EXPECT_EQ(Locations(1), (std::vector<DatanodeIndex>{0, 2})) << "never a location";
  EXPECT_EQ(map_.Stats().corrupt_replica_blocks, 1);
  EXPECT_EQ(map_.Stats().under_replicated, 1);
  auto health = map_.FileBlockHealth(kInode);
  ASSERT_EQ(health.size(), 1u);
  EXPECT_EQ(health[0].corrupt, std::vector<DatanodeIndex>{1});

  Pass();
  auto copies = TakeCopies();
  ASSERT_EQ(copies.size(), 1u);
  const ReplicationWork work = copies.begin()->second.at(0);
  EXPECT_NE(copies.begin()->first, 1) << "never copied from the corrupt replica";
  EXPECT_EQ(work.targets, std::vector<DatanodeIndex>{3});
  BeatAllBut();
  EXPECT_TRUE(Take(1).delete_blocks.empty()) << "kept until a good copy replaces it";

  // Reported again in a full report at the same stamp: still corrupt.
  std::vector<ReportedReplica> again = {{b, ReplicaState::kFinalized}};
  ASSERT_TRUE(map_.ProcessFullReport("dn1", "", again).ok());
  EXPECT_EQ(Locations(1), (std::vector<DatanodeIndex>{0, 2}));

  Complete(work);
  Pass();
  BeatAllBut();
  EXPECT_EQ(Take(1).delete_blocks, std::vector<Block>{b});
  EXPECT_EQ(manager_.Stats().corrupt_deleted_total, 1);
  Report(1, b, ReceivedDeletedStatus::kDeleted);
  EXPECT_EQ(map_.Stats().corrupt_replica_blocks, 0);
  EXPECT_EQ(Locations(1), (std::vector<DatanodeIndex>{0, 2, 3}));
}

TEST_F(BlockManagerTest, SourceFindingItsReplicaCorruptIsReplacedAtOnce) {
  AddNodes(5);
  LeaveSafeMode();
  const Block b = AddBlock(1, 3, {0, 1});
  Pass();
  auto first = TakeCopies();
  ASSERT_EQ(first.size(), 1u);
  const int source = first.begin()->first;
  // The source reads its replica to send it, finds it bad and reports it instead.
  ASSERT_TRUE(map_.ReportBadReplica("dn" + std::to_string(source), b).ok());
  Pass();
  auto second = TakeCopies();
  ASSERT_EQ(second.size(), 1u) << "no waiting for the timeout";
  EXPECT_EQ(second.begin()->first, source == 0 ? 1 : 0);
  EXPECT_EQ(second.begin()->second.at(0).targets.size(), 2u) << "one good replica left";
}

TEST_F(BlockManagerTest, CorruptReplicaOnTheOnlySpareNodeIsDeletedToMakeRoom) {
  AddNodes(3);
  LeaveSafeMode();
  const Block b = AddBlock(1, 3, {0, 1, 2});
  ASSERT_TRUE(map_.ReportBadReplica("dn2", b).ok());
  Pass();
  BeatAllBut();
  EXPECT_EQ(Take(2).delete_blocks, std::vector<Block>{b});
  Report(2, b, ReceivedDeletedStatus::kDeleted);
  Pass();
  auto copies = TakeCopies();
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies.begin()->second.at(0).targets, std::vector<DatanodeIndex>{2});
}

TEST_F(BlockManagerTest, AllReplicasCorruptIsLostAndOfferedMarkedCorrupt) {
  AddNodes(4);
  LeaveSafeMode();
  const Block b = AddBlock(1, 2, {0, 1});
  AddBlock(2, 2, {0, 1});
  ASSERT_TRUE(map_.ReportBadReplica("dn0", b).ok());
  ASSERT_TRUE(map_.ReportBadReplica("dn1", b).ok());
  Pass();
  EXPECT_TRUE(TakeCopies().empty()) << "nothing good to copy from";
  BeatAllBut();
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(Take(i).delete_blocks.empty()) << "never the last copies";

  const BlockMapStats stats = map_.Stats();
  EXPECT_EQ(stats.missing, 1);
  EXPECT_EQ(stats.corrupt_replica_blocks, 1);
  EXPECT_EQ(stats.safe_blocks, 1);
  const std::vector<LostBlock> lost = map_.LostBlocks(10);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].block.id, 1);
  EXPECT_TRUE(lost[0].has_corrupt_replicas);

  const std::vector<LocatedBlock> located = map_.FileBlocks(kInode);
  ASSERT_EQ(located.size(), 2u);
  EXPECT_TRUE(located[0].corrupt) << "readers get the corrupt replicas, flagged";
  EXPECT_EQ(located[0].replicas.size(), 2u);
  EXPECT_FALSE(located[1].corrupt);
  EXPECT_EQ(located[1].replicas.size(), 2u);
  EXPECT_EQ(manager_.Stats().under_replicated, 1);
}

TEST_F(BlockManagerTest, WrongLengthInAReportIsCorrupt) {
  AddNodes(4);
  LeaveSafeMode();
  const Block b = AddBlock(1, 3, {0, 1});
  std::vector<ReportedReplica> short_one = {{{1, 1, kBlockBytes - 1}, ReplicaState::kFinalized}};
  auto summary = map_.ProcessFullReport("dn2", "", short_one);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->corrupt, 1u);
  EXPECT_EQ(Locations(1), (std::vector<DatanodeIndex>{0, 1}));
  EXPECT_EQ(map_.Stats().corrupt_replica_blocks, 1);
  Pass();
  auto copies = TakeCopies();
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies.begin()->second.at(0).targets, std::vector<DatanodeIndex>{3});
  Complete(copies.begin()->second.at(0));
  Pass();
  BeatAllBut();
  EXPECT_EQ(Take(2).delete_blocks.size(), 1u);
  EXPECT_EQ(map_.CountLiveReplicas(b.id), 3);
}

TEST_F(BlockManagerTest, DecommissionEndsOnlyOnceEveryBlockHasEnoughReplicasElsewhere) {
  AddNodes(5);
  LeaveSafeMode();
  for (int64_t id = 1; id <= 3; ++id) AddBlock(id, 3, {0, 1, 2});
  ASSERT_EQ(datanodes_.SetDecommissionList({"host-0"}), 1u);
  Pass();
  EXPECT_EQ(datanodes_.Describe(0)->admin_state, AdminState::kDecommissionInProgress);
  auto health = map_.FileBlockHealth(kInode);
  ASSERT_EQ(health.size(), 3u);
  EXPECT_EQ(health[0].decommissioning, std::vector<DatanodeIndex>{0});
  EXPECT_EQ(health[0].live.size(), 2u);
  // Still readable there, listed last.
  auto located = map_.GetBlock(1);
  ASSERT_TRUE(located.ok());
  auto sorted = PlacementPolicy::LocationsForReader(datanodes_, *located, "host-0");
  ASSERT_EQ(sorted.size(), 3u);
  EXPECT_EQ(sorted.back().index, 0u);

  auto copies = TakeCopies();
  std::vector<ReplicationWork> all;
  for (auto& [source, works] : copies) {
    for (ReplicationWork& w : works) {
      EXPECT_TRUE(w.targets[0] == 3 || w.targets[0] == 4);
      all.push_back(std::move(w));
    }
  }
  ASSERT_EQ(all.size(), 3u);
  // Two of three copies done: not yet.
  Complete(all[0]);
  Complete(all[1]);
  Pass();
  EXPECT_EQ(datanodes_.Describe(0)->admin_state, AdminState::kDecommissionInProgress);
  Complete(all[2]);
  Pass();
  EXPECT_EQ(datanodes_.Describe(0)->admin_state, AdminState::kDecommissioned);
  EXPECT_EQ(manager_.Stats().decommissioned_total, 1);
  BeatAllBut();
  EXPECT_TRUE(Take(0).delete_blocks.empty()) << "its replicas are not excess: they go with it";
  for (int64_t id = 1; id <= 3; ++id) EXPECT_EQ(map_.CountLiveReplicas(id), 4);
}

TEST_F(BlockManagerTest, DecommissionWaitsForBlocksUnderConstruction) {
  AddNodes(4);
  LeaveSafeMode();
  ASSERT_TRUE(map_.AddBlock(kInode, {1, 1, 0}, 3).ok());
  Report(0, {1, 1, 0}, ReceivedDeletedStatus::kReceiving);
  ASSERT_EQ(datanodes_.SetDecommissionList({"host-0:9866"}), 1u);
  Pass();
  EXPECT_EQ(datanodes_.Describe(0)->admin_state, AdminState::kDecommissionInProgress);
  ASSERT_TRUE(map_.RemoveBlocks(std::vector<int64_t>{1}) == 1);
  Pass();
  EXPECT_EQ(datanodes_.Describe(0)->admin_state, AdminState::kDecommissioned);
}

TEST_F(BlockManagerTest, NothingIsScheduledInSafeMode) {
  AddNodes(5);
  for (int64_t id = 1; id <= 3; ++id) AddBlock(id, 3, {0, 1, 2});
  AddBlock(4, 1, {0, 1, 2});  // excess
  ASSERT_TRUE(map_.ReportBadReplica("dn1", {1, 1, kBlockBytes}).ok());
  safe_mode_.Enter();
  KillNode(2);
  EXPECT_EQ(map_.NodeBlockCount(2), 0) << "dead nodes are still collected";
  Pass();
  BeatAllBut({2});
  for (int i = 0; i < 5; ++i) {
    const DatanodeCommands c = Take(i);
    EXPECT_TRUE(c.replicate.empty());
    EXPECT_TRUE(c.delete_blocks.empty());
  }
  EXPECT_EQ(manager_.Stats().scheduled_total, 0);

  safe_mode_.Leave();
  Pass({2});
  BeatAllBut({2});
  int copies = 0, deletes = 0;
  for (int i = 0; i < 5; ++i) {
    const DatanodeCommands c = Take(i);
    copies += static_cast<int>(c.replicate.size());
    deletes += static_cast<int>(c.delete_blocks.size());
  }
  EXPECT_EQ(copies, 3);
  EXPECT_EQ(deletes, 1) << "block 4's excess replica";
}

TEST_F(BlockManagerTest, StartupSafeModeIsLeftByThePassOnceBlocksReport) {
  AddNodes(3);
  AddBlock(1, 3, {0, 1, 2});
  ASSERT_TRUE(safe_mode_.IsOn());
  Pass();
  // The default extension (30 s) must pass with the threshold met.
  clock_.AdvanceMs(31'000);
  Pass();
  EXPECT_FALSE(safe_mode_.IsOn());
}

TEST_F(BlockManagerTest, MonitorThreadCollectsDeadNodesWithoutHeartbeats) {
  SteadyClock steady;
  DatanodeManagerOptions o = DatanodeOptions();
  o.heartbeat_interval_ms = 10;
  o.dead_after_ms = 50;
  DatanodeManager datanodes(o, &steady);
  BlockMap map(&datanodes);
  SafeMode safe_mode(SafeModeOptions{}, &steady);
  BlockManagerOptions mo = ManagerOptions();
  mo.monitor_interval_ms = 10;
  BlockManager manager(mo, &map, &datanodes, &placement_, &safe_mode, &steady);
  ASSERT_TRUE(datanodes.Register(DatanodeRegistration{"x", "host-x", 1, 2, ""}).ok());
  manager.Start();
  const int64_t deadline = steady.NowMs() + 10'000;
  while (datanodes.LookupLive("x").ok()) {
    ASSERT_LT(steady.NowMs(), deadline) << "node never declared dead";
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  manager.Stop();
}

// The monitor thread running flat out while reports, bad-replica reports, setrep, heartbeats and
// readers go on from other threads: no deadlock (lock order BlockManager → BlockMap →
// DatanodeManager), and every block ends with its replicas.
TEST_F(BlockManagerTest, ALandedCopyWakesTheMonitorBeforeItsInterval) {
  AddNodes(4);
  LeaveSafeMode();
  AddBlock(1, 3, {0});
  AddBlock(2, 3, {0});
  BlockManagerOptions o = ManagerOptions(1, 1);  // node 0 copies one block at a time
  o.monitor_interval_ms = 600'000;
  BlockManager manager(o, &map_, &datanodes_, &placement_, &safe_mode_, &clock_);
  manager.Start();  // the first pass runs at once
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto wait_scheduled = [&](int64_t n) {
    while (manager.Stats().scheduled_total < n) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  };
  wait_scheduled(2);  // one block to two targets
  auto first = TakeCopies();
  ASSERT_EQ(first.size(), 1u);
  Complete(first.begin()->second.at(0));
  // The second block goes as soon as the first copy lands, not 10 minutes later.
  wait_scheduled(3);
  manager.Stop();
}

TEST_F(BlockManagerTest, MonitorThreadAlongsideReportsAndReaders) {
  AddNodes(5);
  LeaveSafeMode();
  constexpr int64_t kBlocks = 40;
  constexpr int kMaxRounds = 100'000;
  for (int64_t id = 1; id <= kBlocks; ++id) AddBlock(id, 3, {0, 1, 2}, kInode + id % 2);
  BlockManagerOptions o = ManagerOptions();
  o.monitor_interval_ms = 1;
  BlockManager manager(o, &map_, &datanodes_, &placement_, &safe_mode_, &clock_);
  manager.Start();
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  threads.emplace_back([&] {  // datanodes: heartbeats, copies done as soon as handed out
    for (int round = 0; round < kMaxRounds && !stop; ++round) {
      for (int i = 0; i < 5; ++i) {
        HeartbeatStats stats;
        stats.volumes.push_back(VolumeStats{"vol0", 200 * kGiB, kGiB, 100 * kGiB, false});
        auto reply = datanodes_.Heartbeat("dn" + std::to_string(i), stats);
        ASSERT_TRUE(reply.ok());
        std::vector<ReceivedDeletedBlock> deleted;
        for (const Block& b : reply->commands.delete_blocks) {
          deleted.push_back({b, ReceivedDeletedStatus::kDeleted});
        }
        ASSERT_TRUE(map_.ProcessIncrementalReport("dn" + std::to_string(i), deleted).ok());
        for (const ReplicationWork& w : reply->commands.replicate) {
          for (DatanodeIndex t : w.targets) {
            std::vector<ReceivedDeletedBlock> got = {{w.block, ReceivedDeletedStatus::kReceived}};
            ASSERT_TRUE(map_.ProcessIncrementalReport("dn" + std::to_string(t), got).ok());
          }
        }
      }
    }
  });
  threads.emplace_back([&] {  // clients: setrep up and down, bad replicas, reads
    for (int round = 0; round < kMaxRounds && !stop; ++round) {
      ASSERT_TRUE(map_.SetReplication(kInode, 2 + round % 2).ok());
      const int64_t id = 1 + round % kBlocks;
      (void)map_.ReportBadReplica("dn" + std::to_string(round % 5), {id, 1, kBlockBytes});
      EXPECT_LE(map_.FileBlocks(kInode + 1).size(), static_cast<size_t>(kBlocks));
      (void)map_.Stats();
      (void)manager.Stats();
    }
  });
  // Until the monitor has handed out a good many copies and deletes (or a deadline).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (manager.Stats().scheduled_total < 100 || manager.Stats().excess_deleted_total < 20) {
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  for (std::thread& t : threads) t.join();
  manager.Stop();
  EXPECT_GE(manager.Stats().scheduled_total, 100);
  EXPECT_GE(manager.Stats().excess_deleted_total, 20);
  EXPECT_EQ(map_.Stats().total_blocks, kBlocks);
}

}  // namespace
}  // namespace talus::blocks
