// The namenode SIGKILLed under a cluster holding data: it comes back in safe mode (read-only)
// until the datanodes' reports show the blocks, leaves by itself, and every file is whole.
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>

#include "talus/file_system.h"
#include "test/support/replication_util.h"

namespace talus {
namespace {

using std::chrono::seconds;

constexpr int64_t kBlock = 1 << 20;

TEST(NamenodeSafeModeTest, RestartStaysReadOnlyUntilBlocksReportThenEverythingReads) {
  test::MiniClusterOptions options;
  options.datanodes = 3;
  options.extra_flags = test::FastFailureFlags();
  // Long enough to watch safe mode from the outside after the restart.
  options.extra_flags.push_back("--safemode_extension_ms=3000");
  auto cluster = test::MiniCluster::Start(options);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  test::MiniCluster& mc = **cluster;
  ClientOptions client;
  client.default_block_size = kBlock;
  auto fs = FileSystem::Connect(mc.uri(), client);
  ASSERT_TRUE(fs.ok()) << fs.status();
  // A fresh namespace has no blocks to wait for: it is writable at once.
  auto first = (*fs)->GetStats();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->in_safe_mode);

  const std::vector<test::FileSpec> files = test::WriteFiles(**fs, "/sm", 20, 2 * kBlock, kBlock);
  std::string why;
  ASSERT_TRUE(test::WaitFor([&] { return test::AllBlocksReplicated(**fs, files, 3, {}, &why); },
                            seconds(20)))
      << why;

  ASSERT_TRUE(mc.KillNamenode(0, SIGKILL).ok());
  ASSERT_TRUE(mc.RestartNamenode(0).ok());

  // Read-only at first: a mutation is refused with a safe mode error, and says why.
  auto stats = (*fs)->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_TRUE(stats->in_safe_mode);
  Status mkdir = (*fs)->Mkdirs("/sm/new", 0755, true);
  EXPECT_EQ(mkdir.code(), ErrorCode::kSafeMode) << mkdir;
  EXPECT_NE(mkdir.message().find("safe mode"), std::string::npos) << mkdir;
  test::CommandResult get =
      test::RunTalus({"dfsadmin", "-safemode", "get"}, {{"TALUS_FS", mc.uri()}});
  EXPECT_NE(get.out.find("Safe mode is ON"), std::string::npos) << get.out << get.err;

  // `-safemode wait` returns once the datanodes have reported and the extension has passed.
  test::CommandResult wait = test::RunTalus({"dfsadmin", "-safemode", "wait"},
                                            {{"TALUS_FS", mc.uri()}}, "", seconds(40));
  EXPECT_EQ(wait.exit_code, 0) << wait.out << wait.err;
  EXPECT_NE(wait.out.find("Safe mode is OFF"), std::string::npos) << wait.out;
  stats = (*fs)->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_FALSE(stats->in_safe_mode);
  EXPECT_EQ(stats->missing_blocks, 0);

  EXPECT_TRUE((*fs)->Mkdirs("/sm/new", 0755, true).ok());
  EXPECT_EQ(test::CheckContents(**fs, files), "");
  EXPECT_TRUE(test::AllBlocksReplicated(**fs, files, 3, {}, &why)) << why;
  test::CommandResult fsck = test::RunTalus({"fsck", "/"}, {{"TALUS_FS", mc.uri()}});
  EXPECT_EQ(fsck.exit_code, 0) << fsck.out << fsck.err;
  EXPECT_NE(fsck.out.find("is HEALTHY"), std::string::npos) << fsck.out;
}

}  // namespace
}  // namespace talus
