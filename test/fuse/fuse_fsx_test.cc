// talus-fsx on four files at once in a talus-fuse mount with the kernel's writeback cache:
// 17,500 operations (with fuse_fsx_nocache_test's 5,000: over 20,000 over six seeds).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "test/fuse/fsx_runner.h"

namespace talus::test {
namespace {

class FuseFsxTest : public FsxTest {
 protected:
  static void SetUpTestSuite() { StartShared(); }
  static void TearDownTestSuite() { StopShared(); }
};

TEST_F(FuseFsxTest, RandomOperationsWithTheWritebackCache) {
  // 3 x 5,000 on files of up to 1 MiB, and 2,500 on a file of up to 4 MiB with larger ops; all
  // four at once (each on its own file), which also runs the daemon's handles concurrently.
  struct Run {
    std::string name;
    uint64_t seed;
    int ops;
    std::vector<std::string> flags;
  };
  const std::vector<Run> runs = {
      {"fsx1", 1, 5000, {"--max_file_bytes=1048576", "--max_op_bytes=65536"}},
      {"fsx2", 2, 5000, {"--max_file_bytes=1048576", "--max_op_bytes=65536"}},
      {"fsx3", 3, 5000, {"--max_file_bytes=1048576", "--max_op_bytes=65536"}},
      {"fsx_big", 4, 2500, {"--max_file_bytes=4194304", "--max_op_bytes=262144"}}};
  std::vector<std::thread> threads;
  for (const Run& run : runs) {
    threads.emplace_back([&, run] { RunFsx(P(run.name), T(run.name), run.seed, run.ops, run.flags); });
  }
  for (auto& t : threads) t.join();
}

// The exerciser itself: a byte changed behind its model's back is reported, with a replay line.
TEST(FsxSelfTest, ReportsACorruptedByte) {
  TempDir dir;
  CommandResult ok = RunCommand(BinDir() + "/talus-fsx",
                                {"--file=" + dir.path() + "/f", "--seed=7", "--ops=300"});
  EXPECT_EQ(ok.exit_code, 0) << Describe(ok);
  CommandResult bad = RunCommand(BinDir() + "/talus-fsx",
                                 {"--file=" + dir.path() + "/f", "--seed=7", "--ops=300",
                                  "--inject_corruption_at_op=300"});
  EXPECT_EQ(bad.exit_code, 1) << Describe(bad);
  EXPECT_NE(bad.err.find("FAILED"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("replay: talus-fsx"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace talus::test
