// Operators at work: a datanode decommissioned with `talus dfsadmin -decommission` reaches
// Decommissioned only once every block it held has three replicas elsewhere, and keeps serving
// reads meanwhile; `setrep` down and up is enforced by the namenode.
#include <gtest/gtest.h>

#include <strings.h>

#include <chrono>
#include <filesystem>
#include <map>

#include "talus/file_system.h"
#include "test/support/replication_util.h"

namespace talus {
namespace {

using std::chrono::seconds;

constexpr int64_t kBlock = 1 << 20;

class DecommissionSetrepTest : public ::testing::Test {
 protected:
  void SetUp() override { test::StartFastCluster(5, kBlock, {}, &cluster_, &fs_); }

  test::CommandResult Talus(std::vector<std::string> args) {
    return test::RunTalus(args, {{"TALUS_FS", cluster_->uri()}});
  }

  // The "Decommission Status" dfsadmin -report gives the node at `address`.
  std::string DecommissionStatus(const std::string& address) {
    test::CommandResult r = Talus({"dfsadmin", "-report"});
    const size_t name = r.out.find("Name: " + address);
    if (name == std::string::npos) return "absent";
    const std::string key = "Decommission Status : ";
    const size_t at = r.out.find(key, name);
    if (at == std::string::npos) return "unknown";
    const size_t end = r.out.find('\n', at);
    return r.out.substr(at + key.size(), end - at - key.size());
  }

  std::unique_ptr<test::MiniCluster> cluster_;
  std::unique_ptr<FileSystem> fs_;
};

TEST_F(DecommissionSetrepTest, DecommissionedOnlyAfterEveryBlockHasThreeReplicasElsewhere) {
  const std::vector<test::FileSpec> files = test::WriteFiles(*fs_, "/d", 30, 2 * kBlock, kBlock);
  std::string why;
  ASSERT_TRUE(test::WaitFor([&] { return test::AllBlocksReplicated(*fs_, files, 3, {}, &why); },
                            seconds(20)))
      << why;
  // The node holding the most replicas.
  auto all = test::LocateAll(*fs_, files);
  ASSERT_TRUE(all.ok()) << all.status();
  std::map<std::string, int> held;
  for (const auto& [path, blocks] : *all) {
    for (const BlockLocation& b : blocks) {
      for (const std::string& h : b.hosts) ++held[h];
    }
  }
  std::string victim;
  for (const auto& [host, n] : held) {
    if (victim.empty() || n > held[victim]) victim = host;
  }
  ASSERT_GT(held[victim], 0);

  test::CommandResult r = Talus({"dfsadmin", "-decommission", victim});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // Whenever the report says Decommissioned, every block already has three replicas elsewhere;
  // until then reads keep working.
  bool decommissioned = false;
  const auto deadline = std::chrono::steady_clock::now() + seconds(40);
  while (!decommissioned && std::chrono::steady_clock::now() < deadline) {
    const std::string state = DecommissionStatus(victim);
    ASSERT_TRUE(strcasecmp(state.c_str(), "Decommission In Progress") == 0 ||
                state == "Decommissioned")
        << state;
    decommissioned = state == "Decommissioned";
    if (decommissioned) {
      ASSERT_TRUE(test::AllBlocksReplicated(*fs_, files, 3, {victim}, &why) ||
                  [&] {
                    // Decommissioned replicas may still be listed, last: count the others.
                    auto now = test::LocateAll(*fs_, files);
                    if (!now.ok()) return false;
                    for (const auto& [path, blocks] : *now) {
                      for (const BlockLocation& b : blocks) {
                        size_t others = 0;
                        for (const std::string& h : b.hosts) others += h != victim ? 1 : 0;
                        if (others < 3) {
                          why = path + " blk_" + std::to_string(b.block_id) + " has " +
                                std::to_string(others) + " replicas off the node";
                          return false;
                        }
                      }
                    }
                    return true;
                  }())
          << why;
    } else {
      // Served while in progress: a whole file reads back.
      ASSERT_EQ(test::CheckContents(*fs_, {files[3]}), "");
    }
  }
  ASSERT_TRUE(decommissioned) << "still " << DecommissionStatus(victim);
  EXPECT_EQ(test::CheckContents(*fs_, files), "");

  // Back in service on request.
  r = Talus({"dfsadmin", "-recommission", victim});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(test::WaitFor([&] { return DecommissionStatus(victim) == "Normal"; }, seconds(10)))
      << DecommissionStatus(victim);
}

TEST_F(DecommissionSetrepTest, SetrepOneRemovesExcessReplicasAndThreeRestoresThem) {
  const std::vector<test::FileSpec> files = test::WriteFiles(*fs_, "/r", 4, 3 * kBlock, kBlock, 2);
  std::string why;
  ASSERT_TRUE(test::WaitFor([&] { return test::AllBlocksReplicated(*fs_, files, 3, {}, &why); },
                            seconds(20)))
      << why;
  test::CommandResult r = Talus({"dfs", "-setrep", "1", "/r"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(test::WaitFor([&] { return test::AllBlocksReplicated(*fs_, files, 1, {}, &why); },
                            seconds(20)))
      << why;
  // The excess replicas are gone from the datanodes' disks, not only from the namenode's map.
  auto all = test::LocateAll(*fs_, files);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_TRUE(test::WaitFor(
      [&] {
        for (const auto& [path, blocks] : *all) {
          for (const BlockLocation& b : blocks) {
            size_t on_disk = 0;
            for (int i = 0; i < cluster_->num_datanodes(); ++i) {
              on_disk += test::ReplicaFiles(cluster_->dir(), i, b.block_id).size();
            }
            if (on_disk != 1) {
              why = "blk_" + std::to_string(b.block_id) + " has " + std::to_string(on_disk) +
                    " replica files";
              return false;
            }
          }
        }
        return true;
      },
      seconds(20)))
      << why;
  EXPECT_EQ(test::CheckContents(*fs_, files), "");

  r = Talus({"dfs", "-setrep", "-w", "3", "/r"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(test::AllBlocksReplicated(*fs_, files, 3, {}, &why)) << why;
  EXPECT_EQ(test::CheckContents(*fs_, files), "");
}

}  // namespace
}  // namespace talus
