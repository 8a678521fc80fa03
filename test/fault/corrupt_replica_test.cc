// Replica files damaged on disk behind the datanodes' backs: the block scanner finds them, the
// namenode has a good copy made and the bad one deleted; a block with no good copy left is
// reported CORRUPT by fsck and never served as good data.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "talus/file_system.h"
#include "test/support/replication_util.h"

namespace talus {
namespace {

using std::chrono::seconds;

constexpr int64_t kBlock = 1 << 20;

class CorruptReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Scan every replica about once a second.
    test::StartFastCluster(5, kBlock,
                           {"--block_scan_period_ms=1000", "--block_scan_bytes_per_sec=100000000"},
                           &cluster_, &fs_);
  }

  // Where block 0 of `path` lives: (datanode index, replica file) for each location.
  std::vector<std::pair<int, std::string>> ReplicasOfFirstBlock(const std::string& path,
                                                                uint64_t* block_id) {
    std::vector<std::pair<int, std::string>> out;
    auto loc = fs_->GetFileBlockLocations(path, 0, 1);
    EXPECT_TRUE(loc.ok() && !loc->empty()) << (loc.ok() ? "no blocks" : loc.status().ToString());
    if (!loc.ok() || loc->empty()) return out;
    *block_id = (*loc)[0].block_id;
    for (const std::string& host : (*loc)[0].hosts) {
      const int index = test::DatanodeIndexByAddress(*cluster_, host);
      auto files = test::ReplicaFiles(cluster_->dir(), index, *block_id);
      EXPECT_EQ(files.size(), 1u) << host;
      if (files.size() == 1) out.emplace_back(index, files[0]);
    }
    return out;
  }

  std::string Fsck(const std::vector<std::string>& extra, int* exit_code) {
    std::vector<std::string> args = {"fsck", "/"};
    args.insert(args.end(), extra.begin(), extra.end());
    test::CommandResult r = test::RunTalus(args, {{"TALUS_FS", cluster_->uri()}});
    *exit_code = r.exit_code;
    return r.out + r.err;
  }

  std::unique_ptr<test::MiniCluster> cluster_;
  std::unique_ptr<FileSystem> fs_;
};

TEST_F(CorruptReplicaTest, ScannerFindsACorruptReplicaAndAGoodCopyReplacesIt) {
  const std::vector<test::FileSpec> files = test::WriteFiles(*fs_, "/c", 3, 2 * kBlock, kBlock, 1);
  std::string why;
  ASSERT_TRUE(test::WaitFor([&] { return test::AllBlocksReplicated(*fs_, files, 3, {}, &why); },
                            seconds(20)))
      << why;
  uint64_t block_id = 0;
  auto replicas = ReplicasOfFirstBlock(files[1].path, &block_id);
  ASSERT_EQ(replicas.size(), 3u);
  const std::string victim = replicas[0].second;
  std::string good_bytes;
  {
    std::ifstream in(victim, std::ios::binary);
    good_bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  test::CorruptFile(victim);

  // The bad copy is deleted (or rewritten whole) and the block is back at three good copies.
  ASSERT_TRUE(test::WaitFor(
      [&] {
        std::error_code ec;
        if (std::filesystem::exists(victim, ec)) {
          std::ifstream in(victim, std::ios::binary);
          std::string now((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
          if (now != good_bytes) return false;
        }
        return test::AllBlocksReplicated(*fs_, files, 3, {}, &why);
      },
      seconds(30), std::chrono::milliseconds(200)))
      << why;
  EXPECT_EQ(test::CheckContents(*fs_, files), "");
  int code = -1;
  const std::string out = Fsck({}, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("is HEALTHY"), std::string::npos) << out;
}

TEST_F(CorruptReplicaTest, ABlockWithEveryReplicaCorruptIsReportedAndNeverServed) {
  const std::vector<test::FileSpec> files = test::WriteFiles(*fs_, "/c", 4, 2 * kBlock, kBlock, 1);
  std::string why;
  ASSERT_TRUE(test::WaitFor([&] { return test::AllBlocksReplicated(*fs_, files, 3, {}, &why); },
                            seconds(20)))
      << why;
  uint64_t block_id = 0;
  auto replicas = ReplicasOfFirstBlock(files[2].path, &block_id);
  ASSERT_EQ(replicas.size(), 3u);
  for (const auto& [index, path] : replicas) test::CorruptFile(path);

  int code = -1;
  std::string out;
  ASSERT_TRUE(test::WaitFor(
      [&] {
        out = Fsck({}, &code);
        return code == 1;
      },
      seconds(30), std::chrono::milliseconds(300)))
      << out;
  EXPECT_NE(out.find("is CORRUPT"), std::string::npos) << out;
  out = Fsck({"-list-corruptfileblocks"}, &code);
  EXPECT_NE(out.find(files[2].path), std::string::npos) << out;
  EXPECT_NE(out.find("blk_" + std::to_string(block_id)), std::string::npos) << out;

  // Reading the damaged file fails with an error; it never hands back bad bytes as good.
  auto back = test::ReadWholeFile(*fs_, files[2].path);
  ASSERT_FALSE(back.ok()) << "a file with no good replica read back " << back->size() << " bytes";
  EXPECT_TRUE(back.status().code() == ErrorCode::kCorruption ||
              back.status().code() == ErrorCode::kIoError)
      << back.status();
  // The other files are untouched and readable.
  std::vector<test::FileSpec> others = files;
  others.erase(others.begin() + 2);
  EXPECT_EQ(test::CheckContents(*fs_, others), "");
  // The shell's cat says so too, and fails.
  test::CommandResult cat = test::RunTalus({"dfs", "-cat", files[2].path}, {{"TALUS_FS", cluster_->uri()}});
  EXPECT_NE(cat.exit_code, 0);
}

}  // namespace
}  // namespace talus
