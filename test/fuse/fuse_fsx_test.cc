// talus-fsx (random writes, truncates, reads, fsync, close and reopen checked byte for byte
// against a model) on files in a talus-fuse mount: over 20,000 operations in all, several seeds,
// with the kernel's writeback cache and without it, and the files' final contents checked again
// behind the mount through the client API.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "test/fuse/fuse_test_util.h"
#include "test/support/client_data_util.h"

namespace talus::test {
namespace {

class FuseFsxTest : public SharedFuseTest {
 protected:
  static void SetUpTestSuite() { StartShared(); }
  static void TearDownTestSuite() { StopShared(); }

  // Runs talus-fsx on `file` (in `mount_dir`, seen as `talus_path` behind the mount) and checks
  // its exit and the file behind the mount.
  void RunFsx(const std::string& file, const std::string& talus_path, uint64_t seed, int ops,
              const std::vector<std::string>& extra) {
    const std::string model = fc().scratch() + "/model." + std::to_string(seed);
    std::vector<std::string> args = {"--file=" + file, "--seed=" + std::to_string(seed),
                                     "--ops=" + std::to_string(ops), "--model_out=" + model};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult r = RunCommand(BinDir() + "/talus-fsx", args, {}, "", std::chrono::seconds(80));
    EXPECT_EQ(r.exit_code, 0) << "talus-fsx seed " << seed << ": " << Describe(r)
                              << "\ntalus-fuse log:\n" << fc().mount().LogTail();
    std::cout << r.out;
    if (r.exit_code != 0) return;
    std::ifstream in(model, std::ios::binary);
    std::stringstream want;
    want << in.rdbuf();
    Result<std::string> behind = ReadWholeFile(fs(), talus_path);
    ASSERT_TRUE(behind.ok()) << behind.status();
    EXPECT_SAME_BYTES(*behind, want.str());
  }
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

TEST_F(FuseFsxTest, RandomOperationsWithoutCaches) {
  // A second mount of the same cluster where every read and write reaches the daemon.
  const std::string dir = fc().scratch() + "/nocache";
  ASSERT_TRUE(std::filesystem::create_directories(dir));
  Result<std::unique_ptr<FuseMount>> mount = FuseMount::Start(
      fc().cluster().uri(), dir,
      {"--writeback_cache=false", "--attr_timeout_ms=0", "--entry_timeout_ms=0"});
  ASSERT_TRUE(mount.ok()) << mount.status();
  const std::string sub = dir + talus_dir();
  RunFsx(sub + "/fsx5", T("fsx5"), 5, 2500, {"--max_file_bytes=2097152"});
  if (HasFailure()) return;
  // O_DIRECT: the kernel's page cache is bypassed on this mount too.
  RunFsx(sub + "/fsx6", T("fsx6"), 6, 2500, {"--odirect", "--max_file_bytes=1048576"});
  EXPECT_TRUE((*mount)->Unmount().ok());
}

}  // namespace
}  // namespace talus::test
