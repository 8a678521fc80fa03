// The namenode's scrape-time collector against a block map, datanode registry, replication
// monitor, safe mode and lease manager driven by hand (FakeClock): what /metrics shows is what
// those objects hold at the scrape.
#include "namenode/metrics/namenode_metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "namenode/blocks/block_manager.h"
#include "namenode/blocks/block_map.h"
#include "namenode/blocks/datanode_manager.h"
#include "namenode/blocks/placement_policy.h"
#include "namenode/blocks/safe_mode.h"
#include "namenode/leases/lease_manager.h"
#include "test/support/prometheus_text.h"

namespace talus {
namespace {

using namespace talus::blocks;  // NOLINT: the test's subject lives there

constexpr int64_t kGiB = 1LL << 30;

class NamenodeMetricsTest : public ::testing::Test {
 protected:
  static DatanodeManagerOptions DatanodeOptions() {
    DatanodeManagerOptions o;
    o.heartbeat_interval_ms = 1000;
    o.dead_after_ms = 10'000;
    return o;
  }

  void AddNode(int i) {
    const std::string id = "dn" + std::to_string(i);
    ASSERT_TRUE(datanodes_.Register(DatanodeRegistration{id, "host-" + std::to_string(i), 9866,
                                                         9867, ""})
                    .ok());
    Beat(i);
  }
  void Beat(int i) {
    HeartbeatStats stats;
    stats.volumes.push_back(VolumeStats{"vol0", 10 * kGiB, 4 * kGiB, 6 * kGiB, false});
    ASSERT_TRUE(datanodes_.Heartbeat("dn" + std::to_string(i), stats).ok());
  }
  // A complete block with finalized replicas on `holders`.
  void AddBlock(int64_t id, int32_t replication, std::vector<int> holders) {
    const Block b{id, 1, 1000};
    ASSERT_TRUE(map_.AddBlock(/*inode_id=*/7, {id, 1, 0}, replication).ok());
    ASSERT_TRUE(map_.CommitBlock(b).ok());
    for (int h : holders) {
      std::vector<ReceivedDeletedBlock> report = {{b, ReceivedDeletedStatus::kReceived}};
      ASSERT_TRUE(map_.ProcessIncrementalReport("dn" + std::to_string(h), report).ok());
    }
  }

  test::PromExposition Scrape() {
    auto parsed = test::ParsePrometheusText(registry_.ExportText());
    EXPECT_TRUE(parsed.ok()) << parsed.status() << "\n" << registry_.ExportText();
    return parsed.ok() ? *parsed : test::PromExposition{};
  }

  FakeClock clock_;
  DatanodeManager datanodes_{DatanodeOptions(), &clock_};
  BlockMap map_{&datanodes_};
  PlacementPolicy placement_;
  SafeMode safe_mode_{SafeModeOptions{}, &clock_};
  BlockManager manager_{BlockManagerOptions{}, &map_, &datanodes_, &placement_, &safe_mode_,
                        &clock_};
  LeaseManager leases_{LeaseOptions{}};
  metrics::Registry registry_;
};

TEST_F(NamenodeMetricsTest, ShowsBlocksNodesSafeModeAndLeases) {
  for (int i = 0; i < 3; ++i) AddNode(i);
  AddBlock(1, 3, {0, 1, 2});  // healthy
  AddBlock(2, 3, {0});        // under-replicated
  AddBlock(3, 2, {});         // missing (and under-replicated)
  ASSERT_TRUE(map_.AddBlock(7, {4, 1, 0}, 3).ok());  // being written
  leases_.Add("client-a", 11);
  leases_.Add("client-a", 12);
  leases_.Add("client-b", 13);

  NamenodeMetricsSources sources;
  sources.block_map = &map_;
  sources.block_manager = &manager_;
  sources.datanodes = &datanodes_;
  sources.safe_mode = &safe_mode_;
  sources.leases = &leases_;
  const int id = RegisterNamenodeCollector(&registry_, sources);

  test::PromExposition e = Scrape();
  EXPECT_EQ(e.Value("talus_namenode_blocks"), 4);
  EXPECT_EQ(e.Value("talus_namenode_under_construction_blocks"), 1);
  EXPECT_EQ(e.Value("talus_namenode_under_replicated_blocks"), 2);
  EXPECT_EQ(e.Value("talus_namenode_missing_blocks"), 1);
  EXPECT_EQ(e.Value("talus_namenode_corrupt_replica_blocks"), 0);
  EXPECT_EQ(e.Value("talus_namenode_replicas"), 4);
  EXPECT_EQ(e.Value("talus_namenode_datanodes", {{"liveness", "live"},
                                                 {"admin_state", "in_service"}}),
            3);
  EXPECT_EQ(e.Count("talus_namenode_datanodes"), 9u);  // every combination, zeros included
  EXPECT_EQ(e.Sum("talus_namenode_datanodes"), 3);
  EXPECT_EQ(e.Value("talus_namenode_capacity_bytes"), 3 * 10 * kGiB);
  EXPECT_EQ(e.Value("talus_namenode_used_bytes"), 3 * 4 * kGiB);
  EXPECT_EQ(e.Value("talus_namenode_remaining_bytes"), 3 * 6 * kGiB);
  EXPECT_EQ(e.Value("talus_namenode_safe_mode"), 1);  // startup safe mode until it is left
  EXPECT_EQ(e.Value("talus_namenode_lease_holders"), 2);
  EXPECT_EQ(e.Value("talus_namenode_leased_files"), 3);
  EXPECT_EQ(e.Family("talus_namenode_replication_scheduled_total")->type, "counter");
  EXPECT_EQ(e.Value("talus_namenode_pending_replication_blocks"), 0);
  // No namesystem given: no namespace counts, nothing else missing.
  EXPECT_EQ(e.Family("talus_namenode_files"), nullptr);

  // Safe mode off, one node silent past the dead interval: read again at the next scrape.
  safe_mode_.Leave();
  clock_.AdvanceMs(DatanodeOptions().dead_after_ms + 1);
  Beat(0);
  Beat(1);
  datanodes_.CollectNewlyDead();
  e = Scrape();
  EXPECT_EQ(e.Value("talus_namenode_safe_mode"), 0);
  EXPECT_EQ(e.Value("talus_namenode_datanodes", {{"liveness", "dead"},
                                                 {"admin_state", "in_service"}}),
            1);
  EXPECT_EQ(e.Value("talus_namenode_capacity_bytes"), 2 * 10 * kGiB);

  registry_.RemoveCollector(id);
  EXPECT_EQ(registry_.ExportText(), "");
}

}  // namespace
}  // namespace talus
