#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <thread>

#include "namenode/blocks/block_map.h"
#include "namenode/blocks/clock.h"

namespace talus::blocks {
namespace {

constexpr int64_t kInode = 42;

class BlockMapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* id : {"ds-a", "ds-b", "ds-c"}) {
      auto r = datanodes_.Register(
          DatanodeRegistration{id, std::string("host-") + id, 9866, 9867, ""});
      ASSERT_TRUE(r.ok()) << r.status();
      index_[id] = r->index;
    }
  }

  static DatanodeManagerOptions Options() {
    DatanodeManagerOptions o;
    o.heartbeat_interval_ms = 1000;
    o.stale_after_missed_heartbeats = 3;
    o.dead_after_ms = 10'000;
    return o;
  }

  std::vector<DatanodeIndex> Holders(int64_t block_id) {
    auto b = map_.GetBlock(block_id);
    EXPECT_TRUE(b.ok()) << b.status();
    std::vector<DatanodeIndex> out;
    if (!b.ok()) return out;
    for (const ReplicaLocation& r : b->replicas) out.push_back(r.node);
    std::sort(out.begin(), out.end());
    return out;
  }

  std::vector<Block> DrainDeletes(const std::string& id) {
    auto reply = datanodes_.Heartbeat(id, HeartbeatStats{});
    EXPECT_TRUE(reply.ok());
    return reply.ok() ? reply->commands.delete_blocks : std::vector<Block>{};
  }

  Status Incremental(const std::string& id, Block b, ReceivedDeletedStatus s) {
    std::vector<ReceivedDeletedBlock> report = {{b, s}};
    return map_.ProcessIncrementalReport(id, report);
  }

  FakeClock clock_;
  DatanodeManager datanodes_{Options(), &clock_};
  BlockMap map_{&datanodes_};
  std::map<std::string, DatanodeIndex> index_;
};

TEST_F(BlockMapTest, AddBlockValidatesAndIsIdempotent) {
  ASSERT_TRUE(map_.AddBlock(kInode, {1, 100, 0}, 3).ok());
  EXPECT_TRUE(map_.AddBlock(kInode, {1, 100, 0}, 3).ok()) << "replay of the same edit";
  EXPECT_EQ(map_.AddBlock(kInode + 1, {1, 100, 0}, 3).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(map_.AddBlock(kInode, {2, 0, 0}, 3).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(map_.AddBlock(kInode, {2, 1, 0}, 0).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(map_.AddBlock(0, {2, 1, 0}, 1).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(map_.Stats().total_blocks, 1);
  EXPECT_EQ(map_.Stats().under_construction, 1);
}

TEST_F(BlockMapTest, IncrementalReportsTrackTheWritePipeline) {
  ASSERT_TRUE(map_.AddBlock(kInode, {1, 100, 0}, 3).ok());
  for (const char* id : {"ds-a", "ds-b", "ds-c"}) {
    ASSERT_TRUE(Incremental(id, {1, 100, 0}, ReceivedDeletedStatus::kReceiving).ok());
  }
  auto b = map_.GetBlock(1);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->replicas.size(), 3u);
  for (const ReplicaLocation& r : b->replicas) EXPECT_EQ(r.state, ReplicaState::kRbw);
  EXPECT_EQ(map_.CountLiveReplicas(1), 0) << "rbw replicas are not finalized copies";

  for (const char* id : {"ds-a", "ds-b", "ds-c"}) {
    ASSERT_TRUE(Incremental(id, {1, 100, 4096}, ReceivedDeletedStatus::kReceived).ok());
  }
  EXPECT_EQ(map_.CountLiveReplicas(1), 3);
  ASSERT_TRUE(map_.CommitBlock({1, 100, 4096}).ok());
  EXPECT_EQ(map_.Stats().under_replicated, 0);

  ASSERT_TRUE(Incremental("ds-b", {1, 100, 4096}, ReceivedDeletedStatus::kDeleted).ok());
  EXPECT_EQ(Holders(1), (std::vector<DatanodeIndex>{index_["ds-a"], index_["ds-c"]}));
  EXPECT_EQ(map_.Stats().under_replicated, 1);

  // Unknown blocks and old stamps are deleted from the reporting node.
  ASSERT_TRUE(Incremental("ds-b", {99, 5, 10}, ReceivedDeletedStatus::kReceived).ok());
  ASSERT_TRUE(Incremental("ds-b", {1, 99, 4096}, ReceivedDeletedStatus::kReceived).ok());
  EXPECT_EQ(DrainDeletes("ds-b"), (std::vector<Block>{{99, 5, 10}, {1, 99, 4096}}));
  EXPECT_EQ(map_.CountLiveReplicas(1), 2);

  EXPECT_EQ(Incremental("nobody", {1, 100, 0}, ReceivedDeletedStatus::kReceived).code(),
            ErrorCode::kNotFound);
}

TEST_F(BlockMapTest, FullReportDiffsAgainstTheMap) {
  for (int64_t id = 1; id <= 3; ++id) {
    ASSERT_TRUE(map_.AddBlock(kInode, {id, 100, 0}, 2).ok());
    ASSERT_TRUE(map_.CommitBlock({id, 100, 1000}).ok());
  }
  // First report: blocks 1 and 2 finalized, 3 absent.
  std::vector<ReportedReplica> first = {{{1, 100, 1000}, ReplicaState::kFinalized},
                                        {{2, 100, 1000}, ReplicaState::kFinalized}};
  auto s1 = map_.ProcessFullReport("ds-a", "", first);
  ASSERT_TRUE(s1.ok()) << s1.status();
  EXPECT_EQ(s1->added, 2u);
  EXPECT_EQ(s1->removed, 0u);
  EXPECT_EQ(s1->to_delete, 0u);

  // Second report: block 1 gone (missing), 2 unchanged, 3 new, 77 unknown, 2... old stamp for 3?
  std::vector<ReportedReplica> second = {{{2, 100, 1000}, ReplicaState::kFinalized},
                                         {{3, 100, 1000}, ReplicaState::kFinalized},
                                         {{77, 1, 5}, ReplicaState::kFinalized}};
  auto s2 = map_.ProcessFullReport("ds-a", "", second);
  ASSERT_TRUE(s2.ok()) << s2.status();
  EXPECT_EQ(s2->added, 1u);
  EXPECT_EQ(s2->unchanged, 1u);
  EXPECT_EQ(s2->removed, 1u);
  EXPECT_EQ(s2->to_delete, 1u);
  EXPECT_TRUE(Holders(1).empty());
  EXPECT_EQ(Holders(2), std::vector<DatanodeIndex>{index_["ds-a"]});
  EXPECT_EQ(Holders(3), std::vector<DatanodeIndex>{index_["ds-a"]});
  EXPECT_EQ(DrainDeletes("ds-a"), (std::vector<Block>{{77, 1, 5}}));

  // A replica with an older stamp than the map's is deleted and not recorded.
  std::vector<ReportedReplica> stale = {{{2, 100, 1000}, ReplicaState::kFinalized},
                                        {{3, 100, 1000}, ReplicaState::kFinalized},
                                        {{1, 90, 1000}, ReplicaState::kFinalized}};
  auto s3 = map_.ProcessFullReport("ds-b", "", stale);
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ(s3->to_delete, 1u);
  EXPECT_EQ(DrainDeletes("ds-b"), (std::vector<Block>{{1, 90, 1000}}));
  EXPECT_TRUE(Holders(1).empty());

  // A finalized replica of the wrong length is corrupt: offered only flagged as such, since
  // nothing else is left of block 1.
  std::vector<ReportedReplica> short_one = {{{1, 100, 999}, ReplicaState::kFinalized}};
  auto s4 = map_.ProcessFullReport("ds-c", "", short_one);
  ASSERT_TRUE(s4.ok());
  EXPECT_EQ(s4->corrupt, 1u);
  EXPECT_EQ(map_.CountLiveReplicas(1), 0);
  EXPECT_TRUE(map_.GetBlock(1)->corrupt);

  BlockMapStats stats = map_.Stats();
  EXPECT_EQ(stats.total_blocks, 3);
  EXPECT_EQ(stats.missing, 1);           // block 1
  EXPECT_EQ(stats.under_replicated, 1);  // block 1 (2 and 3 have ds-a and ds-b)

  EXPECT_EQ(map_.ProcessFullReport("nobody", "", second).status().code(), ErrorCode::kNotFound);
}

TEST_F(BlockMapTest, PerVolumeReportOnlyDiffsThatVolume) {
  for (int64_t id = 1; id <= 2; ++id) {
    ASSERT_TRUE(map_.AddBlock(kInode, {id, 7, 0}, 1).ok());
    ASSERT_TRUE(map_.CommitBlock({id, 7, 10}).ok());
  }
  std::vector<ReportedReplica> v0 = {{{1, 7, 10}, ReplicaState::kFinalized}};
  std::vector<ReportedReplica> v1 = {{{2, 7, 10}, ReplicaState::kFinalized}};
  ASSERT_TRUE(map_.ProcessFullReport("ds-a", "vol0", v0).ok());
  ASSERT_TRUE(map_.ProcessFullReport("ds-a", "vol1", v1).ok());
  // vol0 reported again, empty: only block 1 leaves.
  auto s = map_.ProcessFullReport("ds-a", "vol0", {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->removed, 1u);
  EXPECT_TRUE(Holders(1).empty());
  EXPECT_EQ(Holders(2), std::vector<DatanodeIndex>{index_["ds-a"]});
}

TEST_F(BlockMapTest, DeadNodeReplicasLeaveTheMap) {
  ASSERT_TRUE(map_.AddBlock(kInode, {1, 100, 0}, 3).ok());
  ASSERT_TRUE(map_.CommitBlock({1, 100, 10}).ok());
  for (const char* id : {"ds-a", "ds-b", "ds-c"}) {
    ASSERT_TRUE(Incremental(id, {1, 100, 10}, ReceivedDeletedStatus::kReceived).ok());
  }
  EXPECT_EQ(map_.CountLiveReplicas(1), 3);

  // b and c keep beating; a goes silent.
  for (int step = 0; step < 11; ++step) {
    clock_.AdvanceMs(1000);
    ASSERT_TRUE(datanodes_.Heartbeat("ds-b", HeartbeatStats{}).ok());
    ASSERT_TRUE(datanodes_.Heartbeat("ds-c", HeartbeatStats{}).ok());
  }
  // Dead by the clock already counts as not live, before the scan collects it.
  EXPECT_EQ(map_.CountLiveReplicas(1), 2);
  EXPECT_EQ(map_.Stats().under_replicated, 1);
  EXPECT_EQ(map_.HandleDeadDatanodes(), std::vector<DatanodeIndex>{index_["ds-a"]});
  EXPECT_EQ(Holders(1), (std::vector<DatanodeIndex>{index_["ds-b"], index_["ds-c"]}));
  EXPECT_TRUE(map_.HandleDeadDatanodes().empty());
  auto files = map_.FileBlocks(kInode);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].replicas.size(), 2u);
}

TEST_F(BlockMapTest, FileBlocksInOrderWithLiveLocations) {
  ASSERT_TRUE(map_.AddBlock(kInode, {5, 1, 0}, 2).ok());
  ASSERT_TRUE(map_.AddBlock(kInode, {3, 1, 0}, 2).ok());
  ASSERT_TRUE(map_.AddBlock(kInode + 1, {4, 1, 0}, 2).ok());
  ASSERT_TRUE(Incremental("ds-a", {5, 1, 10}, ReceivedDeletedStatus::kReceived).ok());
  ASSERT_TRUE(Incremental("ds-b", {3, 1, 0}, ReceivedDeletedStatus::kReceiving).ok());
  auto blocks = map_.FileBlocks(kInode);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].block.id, 5);
  EXPECT_EQ(blocks[1].block.id, 3);
  ASSERT_EQ(blocks[0].replicas.size(), 1u);
  EXPECT_EQ(blocks[0].replicas[0].node, index_["ds-a"]);
  ASSERT_EQ(blocks[1].replicas.size(), 1u);
  EXPECT_EQ(blocks[1].replicas[0].state, ReplicaState::kRbw);
  EXPECT_TRUE(map_.FileBlocks(999).empty());
}

TEST_F(BlockMapTest, RemovingAFileQueuesDeletesToHolders) {
  ASSERT_TRUE(map_.AddBlock(kInode, {1, 3, 0}, 2).ok());
  ASSERT_TRUE(map_.AddBlock(kInode, {2, 3, 0}, 2).ok());
  ASSERT_TRUE(map_.CommitBlock({1, 3, 10}).ok());
  ASSERT_TRUE(Incremental("ds-a", {1, 3, 10}, ReceivedDeletedStatus::kReceived).ok());
  ASSERT_TRUE(Incremental("ds-b", {1, 3, 10}, ReceivedDeletedStatus::kReceived).ok());
  ASSERT_TRUE(Incremental("ds-b", {2, 3, 0}, ReceivedDeletedStatus::kReceiving).ok());

  EXPECT_EQ(map_.RemoveFile(kInode), 2u);
  EXPECT_EQ(map_.Stats().total_blocks, 0);
  EXPECT_EQ(map_.GetBlock(1).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(DrainDeletes("ds-a"), (std::vector<Block>{{1, 3, 10}}));
  auto b_deletes = DrainDeletes("ds-b");
  std::sort(b_deletes.begin(), b_deletes.end(),
            [](const Block& x, const Block& y) { return x.id < y.id; });
  EXPECT_EQ(b_deletes, (std::vector<Block>{{1, 3, 10}, {2, 3, 0}}));
  EXPECT_TRUE(DrainDeletes("ds-c").empty());
  EXPECT_EQ(map_.RemoveFile(kInode), 0u);

  // A later report of a removed block gets it deleted again.
  ASSERT_TRUE(Incremental("ds-c", {1, 3, 10}, ReceivedDeletedStatus::kReceived).ok());
  EXPECT_EQ(DrainDeletes("ds-c"), (std::vector<Block>{{1, 3, 10}}));
}

TEST_F(BlockMapTest, RemoveBlocksAbandonsOneBlock) {
  ASSERT_TRUE(map_.AddBlock(kInode, {1, 3, 0}, 2).ok());
  ASSERT_TRUE(map_.AddBlock(kInode, {2, 3, 0}, 2).ok());
  std::vector<int64_t> abandon = {2, 12345};
  EXPECT_EQ(map_.RemoveBlocks(abandon), 1u);
  auto blocks = map_.FileBlocks(kInode);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].block.id, 1);
}

TEST_F(BlockMapTest, CommitWithNewStampAdoptsRecoveredReplicas) {
  ASSERT_TRUE(map_.AddBlock(kInode, {1, 100, 0}, 3).ok());
  for (const char* id : {"ds-a", "ds-b", "ds-c"}) {
    ASSERT_TRUE(Incremental(id, {1, 100, 0}, ReceivedDeletedStatus::kReceiving).ok());
  }
  // Pipeline recovery: a and b move to stamp 101, c drops out.
  ASSERT_TRUE(Incremental("ds-a", {1, 101, 500}, ReceivedDeletedStatus::kReceived).ok());
  ASSERT_TRUE(Incremental("ds-b", {1, 101, 500}, ReceivedDeletedStatus::kReceived).ok());
  EXPECT_EQ(map_.CountLiveReplicas(1), 0) << "stamp 101 is not the block's yet";
  ASSERT_TRUE(map_.CommitBlock({1, 101, 500}).ok());
  EXPECT_EQ(map_.CountLiveReplicas(1), 2);
  EXPECT_EQ(Holders(1), (std::vector<DatanodeIndex>{index_["ds-a"], index_["ds-b"]}));
  // c was left behind at stamp 100: its replica is deleted at that stamp (a node that had
  // moved on to 101 would ignore the delete), and again if it still reports it.
  EXPECT_EQ(DrainDeletes("ds-c"), (std::vector<Block>{{1, 100, 0}}));
  std::vector<ReportedReplica> report = {{{1, 100, 300}, ReplicaState::kRbw}};
  ASSERT_TRUE(map_.ProcessFullReport("ds-c", "", report).ok());
  EXPECT_EQ(DrainDeletes("ds-c"), (std::vector<Block>{{1, 100, 300}}));
  EXPECT_EQ(map_.CommitBlock({1, 50, 500}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(map_.CommitBlock({9, 50, 500}).code(), ErrorCode::kNotFound);
}

TEST_F(BlockMapTest, SetReplicationChangesUnderReplication) {
  ASSERT_TRUE(map_.AddBlock(kInode, {1, 1, 0}, 1).ok());
  ASSERT_TRUE(map_.CommitBlock({1, 1, 10}).ok());
  ASSERT_TRUE(Incremental("ds-a", {1, 1, 10}, ReceivedDeletedStatus::kReceived).ok());
  EXPECT_EQ(map_.Stats().under_replicated, 0);
  ASSERT_TRUE(map_.SetReplication(kInode, 3).ok());
  EXPECT_EQ(map_.Stats().under_replicated, 1);
  EXPECT_EQ(map_.Stats().missing, 0);
}

}  // namespace
}  // namespace talus::blocks

namespace talus::blocks {
namespace {

TEST_F(BlockMapTest, BadReplicaIsKeptCorruptAndLeavesTheLocations) {
  ASSERT_TRUE(map_.AddBlock(kInode, {1, 2, 0}, 2).ok());
  ASSERT_TRUE(map_.CommitBlock({1, 2, 10}).ok());
  ASSERT_TRUE(Incremental("ds-a", {1, 2, 10}, ReceivedDeletedStatus::kReceived).ok());
  ASSERT_TRUE(Incremental("ds-b", {1, 2, 10}, ReceivedDeletedStatus::kReceived).ok());

  ASSERT_TRUE(map_.ReportBadReplica("ds-a", {1, 2, 10}).ok());
  EXPECT_EQ(Holders(1), std::vector<DatanodeIndex>{index_["ds-b"]});
  EXPECT_TRUE(DrainDeletes("ds-a").empty()) << "deleting it is the block manager's call";
  EXPECT_EQ(map_.Stats().corrupt_replica_blocks, 1);
  EXPECT_EQ(map_.Stats().under_replicated, 1);
  // Reported again at the same stamp: still corrupt.
  ASSERT_TRUE(Incremental("ds-a", {1, 2, 10}, ReceivedDeletedStatus::kReceived).ok());
  EXPECT_EQ(Holders(1), std::vector<DatanodeIndex>{index_["ds-b"]});

  // The last good copy too: both are offered, flagged corrupt, and the block is lost.
  ASSERT_TRUE(map_.ReportBadReplica("ds-b", {1, 2, 10}).ok());
  EXPECT_TRUE(map_.GetBlock(1)->corrupt);
  EXPECT_EQ(Holders(1), (std::vector<DatanodeIndex>{index_["ds-a"], index_["ds-b"]}));
  EXPECT_TRUE(DrainDeletes("ds-b").empty());
  EXPECT_EQ(map_.Stats().missing, 1);
  ASSERT_EQ(map_.LostBlocks(10).size(), 1u);
  EXPECT_TRUE(map_.LostBlocks(10)[0].has_corrupt_replicas);

  // A DELETED report forgets a corrupt replica.
  ASSERT_TRUE(Incremental("ds-a", {1, 2, 10}, ReceivedDeletedStatus::kDeleted).ok());
  EXPECT_EQ(Holders(1), std::vector<DatanodeIndex>{index_["ds-b"]});

  EXPECT_EQ(map_.ReportBadReplica("nobody", {1, 2, 10}).code(), ErrorCode::kNotFound);
  EXPECT_EQ(map_.ReportBadReplica("ds-a", {9, 2, 10}).code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace talus::blocks

namespace talus::blocks {
namespace {

TEST_F(BlockMapTest, ReopenForAppendCountsReplicasOnceTheyReportTheNewStamp) {
  ASSERT_TRUE(map_.AddBlock(kInode, {1, 10, 0}, 2).ok());
  ASSERT_TRUE(map_.CommitBlock({1, 10, 100}).ok());
  ASSERT_TRUE(Incremental("ds-a", {1, 10, 100}, ReceivedDeletedStatus::kReceived).ok());
  ASSERT_TRUE(Incremental("ds-b", {1, 10, 100}, ReceivedDeletedStatus::kReceived).ok());
  EXPECT_EQ(map_.CountLiveReplicas(1), 2);

  ASSERT_TRUE(map_.ReopenBlock({1, 11, 100}).ok());
  EXPECT_EQ(map_.Stats().under_construction, 1);
  EXPECT_EQ(map_.CountLiveReplicas(1), 0) << "no replica has stamp 11 yet";
  ASSERT_TRUE(Incremental("ds-a", {1, 11, 150}, ReceivedDeletedStatus::kReceived).ok());
  ASSERT_TRUE(map_.CommitBlock({1, 11, 150}).ok());
  EXPECT_EQ(Holders(1), std::vector<DatanodeIndex>{index_["ds-a"]});
  EXPECT_EQ(map_.ReopenBlock({1, 5, 0}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(map_.ReopenBlock({2, 12, 0}).code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace talus::blocks

namespace talus::blocks {
namespace {

// Reports, heartbeats, scans and reads from several threads at once: no deadlock (the lock
// order BlockMap → DatanodeManager holds), and the map ends consistent with the last reports.
TEST_F(BlockMapTest, ConcurrentReportsHeartbeatsAndReads) {
  constexpr int kBlocks = 50;
  constexpr int kRounds = 200;
  for (int64_t id = 1; id <= kBlocks; ++id) {
    ASSERT_TRUE(map_.AddBlock(kInode, {id, 1, 0}, 3).ok());
    ASSERT_TRUE(map_.CommitBlock({id, 1, 10}).ok());
  }
  std::vector<ReportedReplica> all;
  for (int64_t id = 1; id <= kBlocks; ++id) all.push_back({{id, 1, 10}, ReplicaState::kFinalized});

  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    for (int i = 0; i < kRounds; ++i) EXPECT_TRUE(map_.ProcessFullReport("ds-a", "", all).ok());
  });
  threads.emplace_back([&] {
    for (int i = 0; i < kRounds; ++i) {
      int64_t id = 1 + i % kBlocks;
      EXPECT_TRUE(Incremental("ds-b", {id, 1, 10}, ReceivedDeletedStatus::kReceived).ok());
    }
  });
  threads.emplace_back([&] {
    for (int i = 0; i < kRounds; ++i) {
      EXPECT_TRUE(datanodes_.Heartbeat("ds-c", HeartbeatStats{}).ok());
      map_.HandleDeadDatanodes();
    }
  });
  threads.emplace_back([&] {
    for (int i = 0; i < kRounds; ++i) {
      EXPECT_LE(map_.FileBlocks(kInode).size(), static_cast<size_t>(kBlocks));
      EXPECT_EQ(map_.Stats().total_blocks, kBlocks);
    }
  });
  for (std::thread& t : threads) t.join();

  for (int64_t id = 1; id <= kBlocks; ++id) {
    EXPECT_EQ(map_.CountLiveReplicas(id), 2) << "block " << id;  // ds-a and ds-b
  }
  EXPECT_EQ(map_.Stats().under_replicated, kBlocks);  // 2 of 3
  EXPECT_EQ(map_.Stats().missing, 0);
}

// A Raft follower hears of replicas before it applies the edits that create their blocks.
TEST_F(BlockMapTest, StandbyPostponesReplicasOfBlocksNotYetAppliedAndDeletesNothing) {
  map_.SetStandby(true);
  ASSERT_TRUE(Incremental("ds-a", {7, 100, 0}, ReceivedDeletedStatus::kReceiving).ok());
  std::vector<ReportedReplica> report = {{{7, 100, 0}, ReplicaState::kRbw},
                                         {{8, 100, 10}, ReplicaState::kFinalized}};
  auto summary = map_.ProcessFullReport("ds-b", "", report);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->to_delete, 0u) << "a standby never deletes unknown blocks";
  EXPECT_EQ(map_.PostponedCount(), 3u);
  EXPECT_TRUE(DrainDeletes("ds-a").empty());
  EXPECT_TRUE(DrainDeletes("ds-b").empty());

  // The edit adding block 7 is applied: both replicas are placed at once.
  ASSERT_TRUE(map_.AddBlock(kInode, {7, 100, 0}, 3).ok());
  EXPECT_EQ(Holders(7), (std::vector<DatanodeIndex>{index_["ds-a"], index_["ds-b"]}));
  EXPECT_EQ(map_.PostponedCount(), 1u);

  // A replica at a stamp newer than the applied one waits for the edit that moves the block.
  ASSERT_TRUE(Incremental("ds-c", {7, 101, 50}, ReceivedDeletedStatus::kReceived).ok());
  EXPECT_EQ(map_.PostponedCount(), 2u);
  ASSERT_TRUE(map_.CommitBlock({7, 101, 50}).ok());
  EXPECT_EQ(Holders(7), (std::vector<DatanodeIndex>{index_["ds-c"]}))
      << "the committed stamp drops the older replicas and places the postponed one";
  EXPECT_TRUE(DrainDeletes("ds-a").empty()) << "a standby queues no deletes of stale stamps";

  // Taking the lead: what is still postponed (block 8, unknown to the group) is dropped and
  // the next report of it is answered with a delete, as on any leader (and so is ds-b's
  // replica of block 7 at the old stamp).
  map_.SetStandby(false);
  EXPECT_EQ(map_.PostponedCount(), 0u);
  summary = map_.ProcessFullReport("ds-b", "", report);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->to_delete, 2u);
  std::vector<Block> deletes = DrainDeletes("ds-b");
  ASSERT_FALSE(deletes.empty());
  EXPECT_TRUE(std::any_of(deletes.begin(), deletes.end(), [](const Block& b) { return b.id == 8; }));
}

TEST_F(BlockMapTest, StandbyForgetsPostponedReplicaDeletedByItsNode) {
  map_.SetStandby(true);
  ASSERT_TRUE(Incremental("ds-a", {9, 100, 10}, ReceivedDeletedStatus::kReceived).ok());
  ASSERT_TRUE(Incremental("ds-a", {9, 100, 10}, ReceivedDeletedStatus::kDeleted).ok());
  EXPECT_EQ(map_.PostponedCount(), 0u);
  ASSERT_TRUE(map_.AddBlock(kInode, {9, 100, 0}, 3).ok());
  EXPECT_TRUE(Holders(9).empty());
}

}  // namespace
}  // namespace talus::blocks
