// Datanodes killed for real (SIGKILL) under a cluster of five: the namenode notices, copies
// what they held from the survivors, and no file loses a byte.
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "talus/file_system.h"
#include "test/support/replication_util.h"

namespace talus {
namespace {

using std::chrono::seconds;

constexpr int64_t kBlock = 1 << 20;
// What the issue allows after a death: the dead-node expiry (3 s here) plus 30 s.
constexpr auto kHealDeadline = seconds(33);

TEST(DatanodeLossTest, KilledNodesBlocksReturnToThreeReplicasAndNoFileChanges) {
  test::MiniClusterOptions options;
  options.datanodes = 5;
  options.extra_flags = test::FastFailureFlags();
  auto cluster = test::MiniCluster::Start(options);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  test::MiniCluster& mc = **cluster;
  ClientOptions client;
  client.default_block_size = kBlock;
  client.datanode_timeout_ms = 5000;
  auto fs = FileSystem::Connect(mc.uri(), client);
  ASSERT_TRUE(fs.ok()) << fs.status();

  const std::vector<test::FileSpec> files =
      test::WriteFiles(**fs, "/data", 200, 3 * kBlock / 2, kBlock);
  std::string why;
  ASSERT_TRUE(test::WaitFor([&] { return test::AllBlocksReplicated(**fs, files, 3, {}, &why); },
                            seconds(20)))
      << why;

  // One node dies: within the expiry plus 30 s every block has three live replicas again.
  std::set<std::string> dead = {mc.datanode_data_address(0)};
  ASSERT_TRUE(mc.KillDatanode(0, SIGKILL).ok());
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(test::WaitFor(
      [&] { return test::AllBlocksReplicated(**fs, files, 3, dead, &why); }, kHealDeadline,
      std::chrono::milliseconds(250)))
      << why;
  const auto healed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - killed_at)
                             .count();
  std::printf("one node lost: three replicas again after %lld ms\n",
              static_cast<long long>(healed_ms));
  EXPECT_EQ(test::CheckContents(**fs, files), "");

  // Two more die at once: two nodes are left, every file still reads back byte-identical.
  dead.insert(mc.datanode_data_address(1));
  dead.insert(mc.datanode_data_address(2));
  ASSERT_TRUE(mc.KillDatanode(1, SIGKILL).ok());
  ASSERT_TRUE(mc.KillDatanode(2, SIGKILL).ok());
  EXPECT_EQ(test::CheckContents(**fs, files), "");
  // Once the namenode has declared them dead, each block is on both survivors.
  ASSERT_TRUE(test::WaitFor(
      [&] { return test::AllBlocksReplicated(**fs, files, 2, dead, &why); }, kHealDeadline,
      std::chrono::milliseconds(250)))
      << why;
  auto stats = (*fs)->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->missing_blocks, 0);
  EXPECT_GT(stats->under_replicated_blocks, 0);  // two nodes cannot hold three copies

  // A third node is enough again: every block returns to three replicas.
  auto added = mc.AddDatanode();
  ASSERT_TRUE(added.ok()) << added.status();
  ASSERT_TRUE(test::WaitFor(
      [&] { return test::AllBlocksReplicated(**fs, files, 3, dead, &why); }, kHealDeadline,
      std::chrono::milliseconds(250)))
      << why;
  EXPECT_EQ(test::CheckContents(**fs, files), "");
  ASSERT_TRUE(test::WaitFor(
      [&] {
        auto s = (*fs)->GetStats();
        return s.ok() && s->under_replicated_blocks == 0 && s->missing_blocks == 0;
      },
      seconds(10)));
}

}  // namespace
}  // namespace talus
