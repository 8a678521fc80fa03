// `talus fsck` end to end: the real binary against a namenode and three datanodes, checking
// HDFS's report (per-file lines, block lines, the summary's counts, the closing verdict) and
// exit codes; and the CORRUPT verdict once the only replica of a block is gone.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "talus/file_system.h"
#include "test/support/client_data_util.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

using Args = std::vector<std::string>;
using std::chrono::seconds;
using test::CommandResult;

constexpr int64_t kBlock = 1 << 20;

CommandResult Fsck(const std::string& uri, const Args& args, const std::string& user = "") {
  Args full{"fsck", "-fs", uri};
  full.insert(full.end(), args.begin(), args.end());
  std::map<std::string, std::string> env;
  if (!user.empty()) env["TALUS_USER_NAME"] = user;
  return test::RunTalus(full, env);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

bool FullyReplicated(FileSystem& fs, const std::string& path, size_t replicas) {
  auto health = fs.GetFileHealth(path);
  if (!health.ok()) return false;
  for (const BlockHealthInfo& b : health->blocks) {
    if (!b.complete || b.live.size() != replicas) return false;
  }
  return true;
}

class FsckTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    test::MiniClusterOptions options;
    options.datanodes = 3;
    options.extra_flags = {"--heartbeat_interval_ms=200"};
    auto cluster = test::MiniCluster::Start(options);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster).release();
    auto fs = FileSystem::Connect(cluster_->uri());
    ASSERT_TRUE(fs.ok()) << fs.status();
    fs_ = std::move(*fs).release();
    // /h: a (2.5 blocks), sub/b (1 block), empty (no block), and an empty directory.
    ASSERT_TRUE(test::WriteWholeFile(*fs_, "/h/a", test::RandomBytes(2 * kBlock + kBlock / 2, 1),
                                     65536, kBlock)
                    .ok());
    ASSERT_TRUE(
        test::WriteWholeFile(*fs_, "/h/sub/b", test::RandomBytes(1000, 2), 65536, kBlock).ok());
    ASSERT_TRUE(fs_->CreateEmptyFile("/h/empty").ok());
    ASSERT_TRUE(fs_->Mkdirs("/h/emptydir").ok());
    ASSERT_TRUE(test::WaitFor(
        [] { return FullyReplicated(*fs_, "/h/a", 3) && FullyReplicated(*fs_, "/h/sub/b", 3); },
        seconds(20)));
  }
  static void TearDownTestSuite() {
    delete fs_;
    delete cluster_;
    fs_ = nullptr;
    cluster_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(cluster_, nullptr) << "the cluster did not start"; }
  static std::string Uri() { return cluster_->uri(); }

  static test::MiniCluster* cluster_;
  static FileSystem* fs_;
};

test::MiniCluster* FsckTest::cluster_ = nullptr;
FileSystem* FsckTest::fs_ = nullptr;

TEST_F(FsckTest, HealthyTreeCountsAndVerdict) {
  CommandResult r = Fsck(Uri(), {"/h"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  const int64_t size = 2 * kBlock + kBlock / 2 + 1000;
  for (const std::string& line :
       {std::string("Connecting to namenode via ") + Uri() + "\n",
        std::string("FSCK started by "),
        std::string("\nStatus: HEALTHY\n"),
        " Total size:\t" + std::to_string(size) + " B\n",
        std::string(" Total dirs:\t3\n"),
        std::string(" Total files:\t3\n"),
        std::string(" Total symlinks:\t\t0\n"),
        " Total blocks (validated):\t4 (avg. block size " + std::to_string(size / 4) + " B)\n",
        std::string(" Minimally replicated blocks:\t4 (100.0 %)\n"),
        std::string(" Over-replicated blocks:\t0 (0.0 %)\n"),
        std::string(" Under-replicated blocks:\t0 (0.0 %)\n"),
        std::string(" Mis-replicated blocks:\t\t0 (0.0 %)\n"),
        std::string(" Default replication factor:\t3\n"),
        std::string(" Average block replication:\t3.0\n"),
        std::string(" Missing blocks:\t\t0\n"),
        std::string(" Corrupt blocks:\t\t0\n"),
        std::string(" Missing replicas:\t\t0 (0.0 %)\n"),
        std::string(" Number of data-nodes:\t\t3\n"),
        std::string(" Number of racks:\t\t1\n"),
        std::string("\nFSCK ended at ")}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
  }
  // Without -files nothing is said about healthy files.
  EXPECT_EQ(r.out.find("/h/a"), std::string::npos) << r.out;
  EXPECT_TRUE(r.out.ends_with(" milliseconds\n\n\nThe filesystem under path '/h' is HEALTHY\n"))
      << r.out;
  // The whole namespace too, and a single file.
  EXPECT_EQ(Fsck(Uri(), {"/"}).exit_code, 0);
  CommandResult one = Fsck(Uri(), {"/h/sub/b"});
  EXPECT_EQ(one.exit_code, 0);
  EXPECT_NE(one.out.find(" Total files:\t1\n"), std::string::npos) << one.out;
  EXPECT_NE(one.out.find("The filesystem under path '/h/sub/b' is HEALTHY\n"), std::string::npos);
}

TEST_F(FsckTest, FilesBlocksLocationsShape) {
  CommandResult r = Fsck(Uri(), {"/h", "-files", "-blocks", "-locations"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  auto index_of = [&](const std::string& line) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (lines[i] == line) return static_cast<int>(i);
    }
    return -1;
  };
  EXPECT_GE(index_of("/h <dir>"), 0) << r.out;
  EXPECT_GE(index_of("/h/sub <dir>"), 0) << r.out;
  EXPECT_GE(index_of("/h/emptydir <dir>"), 0) << r.out;
  EXPECT_GE(index_of("/h/empty 0 bytes, replicated: replication=3, 0 block(s):  OK"), 0) << r.out;
  const int a = index_of("/h/a " + std::to_string(2 * kBlock + kBlock / 2) +
                         " bytes, replicated: replication=3, 3 block(s):  OK");
  ASSERT_GE(a, 0) << r.out;
  const std::regex block_line(
      R"((\d)\. blk_\d+_\d+ len=(\d+) Live_repl=3 )"
      R"(\[(127\.0\.0\.1:\d+), (127\.0\.0\.1:\d+), (127\.0\.0\.1:\d+)\])");
  std::set<std::string> datanodes;
  for (int i = 0; i < cluster_->num_datanodes(); ++i) {
    datanodes.insert(cluster_->datanode_data_address(i));
  }
  const int64_t lengths[] = {kBlock, kBlock, kBlock / 2};
  for (int i = 0; i < 3; ++i) {
    std::smatch m;
    const std::string& line = lines[static_cast<size_t>(a + 1 + i)];
    ASSERT_TRUE(std::regex_match(line, m, block_line)) << line;
    EXPECT_EQ(m[1], std::to_string(i));
    EXPECT_EQ(m[2], std::to_string(lengths[i]));
    std::set<std::string> where = {m[3], m[4], m[5]};
    EXPECT_EQ(where, datanodes) << line;
  }
  EXPECT_EQ(lines[static_cast<size_t>(a + 4)], "");
  EXPECT_NE(r.out.find("Status: HEALTHY"), std::string::npos);

  // -files alone: file lines, no block lines; -blocks without locations: no brackets.
  CommandResult files = Fsck(Uri(), {"/h", "-files"});
  EXPECT_NE(files.out.find("/h/sub/b 1000 bytes, replicated: replication=3, 1 block(s):  OK\n"),
            std::string::npos)
      << files.out;
  EXPECT_EQ(files.out.find("0. blk_"), std::string::npos);
  CommandResult blocks = Fsck(Uri(), {"/h/sub", "-files", "-blocks"});
  EXPECT_TRUE(
      std::regex_search(blocks.out, std::regex(R"(\n0\. blk_\d+_\d+ len=1000 Live_repl=3\n)")))
      << blocks.out;
}

TEST_F(FsckTest, ListCorruptFileBlocksWhenThereAreNone) {
  CommandResult r = Fsck(Uri(), {"/h", "-list-corruptfileblocks"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "The filesystem under path '/h' has 0 CORRUPT files\n");
}

TEST_F(FsckTest, UnderReplicationIsReportedButStaysHealthy) {
  ASSERT_TRUE(
      test::WriteWholeFile(*fs_, "/under/f", test::RandomBytes(500, 3), 65536, kBlock).ok());
  ASSERT_TRUE(test::WaitFor([] { return FullyReplicated(*fs_, "/under/f", 3); }, seconds(20)));
  // Five copies wanted, three datanodes: two replicas short for good.
  ASSERT_TRUE(fs_->SetReplication("/under/f", 5).ok());
  CommandResult r = Fsck(Uri(), {"/under"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(std::regex_search(
      r.out,
      std::regex(
          R"(\n/under/f: Under replicated blk_\d+_\d+\. Target Replicas is 5 but found 3 live )"
          R"(replica\(s\), 0 decommissioned replica\(s\), 0 decommissioning replica\(s\)\.\n)")))
      << r.out;
  EXPECT_NE(r.out.find(" Under-replicated blocks:\t1 (100.0 %)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" Missing replicas:\t\t2 (40.0 %)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("is HEALTHY\n"), std::string::npos);
  CommandResult files = Fsck(Uri(), {"/under", "-files"});
  EXPECT_NE(files.out.find("/under/f 500 bytes, replicated: replication=5, 1 block(s):  Under "
                           "replicated blk_"),
            std::string::npos)
      << files.out;
  ASSERT_TRUE(fs_->SetReplication("/under/f", 3).ok());
}

TEST_F(FsckTest, OpenFilesAreSkippedUnlessAsked) {
  CreateOptions options;
  options.block_size = kBlock;
  auto out = fs_->Create("/open/f", options);
  ASSERT_TRUE(out.ok()) << out.status();
  const std::string data = test::RandomBytes(4096, 4);
  ASSERT_TRUE((*out)->Write(data.data(), data.size()).ok());
  ASSERT_TRUE((*out)->Hflush().ok());
  CommandResult r = Fsck(Uri(), {"/open"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find(" Total files:\t0 (Files currently being written: 1)\n"), std::string::npos)
      << r.out;
  CommandResult w = Fsck(Uri(), {"/open", "-openforwrite", "-files", "-blocks"});
  EXPECT_EQ(w.exit_code, 0) << w.out;
  EXPECT_NE(w.out.find("/open/f "), std::string::npos) << w.out;
  EXPECT_NE(w.out.find("OPENFORWRITE"), std::string::npos) << w.out;
  EXPECT_NE(w.out.find(" Total files:\t1\n"), std::string::npos) << w.out;
  ASSERT_TRUE((*out)->Close().ok());
}

// `dfs -setrep -w` returns once every block has exactly the new number of live replicas (the
// namenode deletes the excess, or copies more), saying so as HDFS does.
TEST_F(FsckTest, SetrepWaitsForExactlyThatManyReplicas) {
  ASSERT_TRUE(
      test::WriteWholeFile(*fs_, "/w/f", test::RandomBytes(kBlock + 10, 6), 65536, kBlock).ok());
  ASSERT_TRUE(test::WaitFor([] { return FullyReplicated(*fs_, "/w/f", 3); }, seconds(20)));
  const std::regex waited("Replication (\\d) set: /w/f\nWaiting for /w/f \\.\\.\\.\\.* done\n");
  CommandResult down =
      test::RunTalus({"dfs", "-fs", Uri(), "-setrep", "-w", "2", "/w/f"}, {}, "", seconds(60));
  EXPECT_EQ(down.exit_code, 0) << down.out << down.err;
  EXPECT_TRUE(std::regex_match(down.out, waited)) << down.out;
  EXPECT_TRUE(FullyReplicated(*fs_, "/w/f", 2));
  CommandResult up =
      test::RunTalus({"dfs", "-fs", Uri(), "-setrep", "-w", "3", "/w/f"}, {}, "", seconds(60));
  EXPECT_EQ(up.exit_code, 0) << up.out << up.err;
  EXPECT_TRUE(std::regex_match(up.out, waited)) << up.out;
  EXPECT_TRUE(FullyReplicated(*fs_, "/w/f", 3));
}

TEST_F(FsckTest, MissingPathAndBadUsage) {
  CommandResult missing = Fsck(Uri(), {"/no/such"});
  EXPECT_EQ(missing.exit_code, 0);  // as HDFS
  EXPECT_NE(missing.out.find("The filesystem under path '/no/such' does not exist\n"),
            std::string::npos)
      << missing.out;
  CommandResult bad = Fsck(Uri(), {"/h", "-bogus"});
  EXPECT_EQ(bad.exit_code, 255);
  EXPECT_NE(bad.err.find("fsck: Illegal option '-bogus'"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("Usage: talus fsck"), std::string::npos);
}

TEST_F(FsckTest, UnreadableDirectoryFailsTheCheck) {
  ASSERT_TRUE(fs_->Mkdirs("/private/inner", 0700).ok());
  ASSERT_TRUE(fs_->SetPermission("/private", 0700).ok());
  CommandResult r = Fsck(Uri(), {"/private"}, "mallory");
  EXPECT_EQ(r.exit_code, 255) << r.out << r.err;
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("Fsck on path '/private' FAILED\n"), std::string::npos) << r.out;
}

// Its own cluster: the only replica of a block is lost with its datanode.
TEST(FsckCorruptTest, LostBlockMakesItCorruptAndIsListed) {
  test::MiniClusterOptions options;
  options.datanodes = 2;
  options.extra_flags = {"--heartbeat_interval_ms=200", "--datanode_dead_after_ms=2000"};
  auto cluster = test::MiniCluster::Start(options);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  test::MiniCluster& mc = **cluster;
  ClientOptions client;
  client.default_replication = 1;
  auto fs = FileSystem::Connect(mc.uri(), client);
  ASSERT_TRUE(fs.ok());
  ASSERT_TRUE(
      test::WriteWholeFile(**fs, "/d/lost", test::RandomBytes(3000, 5), 65536, kBlock).ok());
  ASSERT_TRUE(test::WaitFor([&] { return FullyReplicated(**fs, "/d/lost", 1); }, seconds(20)));
  auto health = (*fs)->GetFileHealth("/d/lost");
  ASSERT_TRUE(health.ok());
  ASSERT_EQ(health->blocks.size(), 1u);
  const BlockHealthInfo block = health->blocks[0];
  const std::string holder = block.live[0];
  int victim = -1;
  for (int i = 0; i < mc.num_datanodes(); ++i) {
    if (mc.datanode_data_address(i) == holder) victim = i;
  }
  ASSERT_GE(victim, 0) << holder;
  ASSERT_TRUE(mc.KillDatanode(victim, SIGKILL).ok());

  CommandResult r;
  ASSERT_TRUE(test::WaitFor(
      [&] {
        r = Fsck(mc.uri(), {"/"});
        return r.exit_code == 1;
      },
      seconds(20), std::chrono::milliseconds(200)))
      << r.out << r.err;
  const std::string name =
      "blk_" + std::to_string(block.block_id) + "_" + std::to_string(block.generation_stamp);
  EXPECT_NE(r.out.find("/d/lost: MISSING 1 blocks of total size 3000 B.\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Status: CORRUPT\n"), std::string::npos);
  EXPECT_NE(r.out.find("  MISSING BLOCKS:\t1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" Missing blocks:\t\t1\n"), std::string::npos);
  EXPECT_NE(r.out.find("The filesystem under path '/' is CORRUPT\n"), std::string::npos);
  CommandResult files = Fsck(mc.uri(), {"/d", "-files", "-blocks"});
  EXPECT_EQ(files.exit_code, 1);
  EXPECT_NE(files.out.find("/d/lost 3000 bytes, replicated: replication=1, 1 block(s):  MISSING "
                           "1 blocks of total size 3000 B\n0. " +
                           name + " len=3000 MISSING!\n"),
            std::string::npos)
      << files.out;

  CommandResult list = Fsck(mc.uri(), {"/", "-list-corruptfileblocks"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out, "The list of corrupt files under path '/' are:\n" + name +
                          "\t/d/lost\nThe filesystem under path '/' has 1 CORRUPT files\n");
  CommandResult elsewhere = Fsck(mc.uri(), {"/elsewhere", "-list-corruptfileblocks"});
  EXPECT_NE(elsewhere.exit_code, 0);  // no such path
  auto stats = (*fs)->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->missing_blocks, 1);
}

}  // namespace
}  // namespace talus
