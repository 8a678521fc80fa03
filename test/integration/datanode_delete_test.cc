// Replicas leave a datanode's disks when the namenode says so: the replicas of a deleted file,
// and replicas of blocks no file has (found in the datanode's full block report at start).
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <string>
#include <vector>

#include "datanode/storage/block_meta.h"
#include "datanode/storage/dataset.h"
#include "talus/file_system.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

using namespace std::chrono_literals;

// Block and checksum files (blk_*) under a datanode's volumes.
std::vector<std::string> ReplicaFiles(const test::MiniCluster& mc, int i) {
  std::vector<std::string> files;
  for (const std::string& dir : mc.datanode_data_dirs(i)) {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->path().filename().string().rfind("blk_", 0) == 0) {
        files.push_back(it->path().string());
      }
    }
  }
  return files;
}

bool HasBlock(const test::MiniCluster& mc, int i, uint64_t block_id) {
  const std::string name = "blk_" + std::to_string(block_id);
  for (const std::string& f : ReplicaFiles(mc, i)) {
    if (std::filesystem::path(f).filename().string() == name) return true;
  }
  return false;
}

TEST(DatanodeDeleteTest, ReplicasOfADeletedFileAreRemovedFromEveryDatanode) {
  auto started = test::MiniCluster::Start(
      {.datanodes = 3, .extra_flags = {"--heartbeat_interval_ms=200"}});
  ASSERT_TRUE(started.ok()) << started.status();
  test::MiniCluster& mc = **started;
  auto fs = FileSystem::Connect(mc.uri());
  ASSERT_TRUE(fs.ok()) << fs.status();
  {
    auto out = (*fs)->Create("/doomed");
    ASSERT_TRUE(out.ok()) << out.status();
    std::string data(100000, 'd');
    ASSERT_TRUE((*out)->Write(data.data(), data.size()).ok());
    ASSERT_TRUE((*out)->Close().ok());
  }
  auto located = (*fs)->GetFileBlockLocations("/doomed", 0, 1);
  ASSERT_TRUE(located.ok() && located->size() == 1u);
  const uint64_t block = (*located)[0].block_id;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(HasBlock(mc, i, block)) << "datanode " << i;

  auto deleted = (*fs)->Delete("/doomed", false);
  ASSERT_TRUE(deleted.ok() && *deleted);
  EXPECT_TRUE(test::WaitFor(
      [&] { return ReplicaFiles(mc, 0).empty() && ReplicaFiles(mc, 1).empty() &&
                   ReplicaFiles(mc, 2).empty(); },
      30s));
  // The namenode no longer counts any space as used by replicas.
  EXPECT_TRUE(test::WaitFor(
      [&] {
        auto stats = (*fs)->GetStats();
        return stats.ok() && stats->used == 0;
      },
      30s));
}

TEST(DatanodeDeleteTest, ReplicasOfUnknownBlocksAreDeletedAfterTheBlockReport) {
  auto started = test::MiniCluster::Start(
      {.datanodes = 1, .extra_flags = {"--heartbeat_interval_ms=200"}});
  ASSERT_TRUE(started.ok()) << started.status();
  test::MiniCluster& mc = **started;
  ASSERT_TRUE(mc.KillDatanode(0, SIGTERM).ok());

  // Plant a finalized replica and one left being written (RWR after the restart) of blocks
  // that no file owns, as a datanode that missed a delete would hold them.
  {
    datanode::DataSetOptions options;
    options.volume_dirs = mc.datanode_data_dirs(0);
    datanode::ScanReport scan;
    auto data = datanode::DataSet::Open(options, &scan);
    ASSERT_TRUE(data.ok()) << data.status();
    const std::string bytes(5000, 's');
    for (uint64_t id : {uint64_t{777001}, uint64_t{777002}}) {
      ASSERT_TRUE((*data)->CreateRbw(id, 1001, bytes.size()).ok());
      ASSERT_TRUE(
          (*data)->Append(id, 1001, 0, bytes, datanode::ComputeChecksums(bytes, 0)).ok());
    }
    ASSERT_TRUE((*data)->Finalize(777001, 1001).ok());
  }
  ASSERT_EQ(ReplicaFiles(mc, 0).size(), 4u);

  ASSERT_TRUE(mc.RestartDatanode(0).ok());
  EXPECT_TRUE(test::WaitFor([&] { return ReplicaFiles(mc, 0).empty(); }, 30s))
      << ReplicaFiles(mc, 0).size() << " replica file(s) left";
  // The datanode lives on and is still counted.
  EXPECT_GT(mc.datanode_pid(0), 0);
  EXPECT_TRUE(mc.WaitForDatanodes().ok());
}

}  // namespace
}  // namespace talus
