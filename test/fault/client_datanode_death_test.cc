// A datanode killed (SIGKILL) under the client: readers move to another replica; a writer whose
// pipeline loses a node rebuilds it from the survivors and goes on (pipeline recovery).
#include <dirent.h>
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "talus/file_system.h"
#include "test/support/client_data_util.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

constexpr int64_t kBlock = 1 << 20;

// Pid of the talus-datanode whose --dir is the cluster's datanode-`index`, or -1.
pid_t DatanodePid(const std::string& cluster_dir, int index) {
  const std::string want = "--dir=" + cluster_dir + "/datanode-" + std::to_string(index);
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return -1;
  pid_t found = -1;
  while (dirent* e = ::readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    std::ifstream in("/proc/" + std::string(e->d_name) + "/cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bool is_datanode = false, has_dir = false;
    size_t start = 0;
    while (start < cmdline.size()) {
      size_t end = cmdline.find('\0', start);
      if (end == std::string::npos) end = cmdline.size();
      const std::string arg = cmdline.substr(start, end - start);
      if (arg.find("talus-datanode") != std::string::npos) is_datanode = true;
      if (arg == want) has_dir = true;
      start = end + 1;
    }
    if (is_datanode && has_dir) {
      found = pid;
      break;
    }
  }
  ::closedir(proc);
  return found;
}

int DatanodeIndexOf(const std::string& cluster_dir, const std::string& data_address) {
  for (int i = 0; i < 3; ++i) {
    if (test::DatanodeDataAddress(cluster_dir, i) == data_address) return i;
  }
  return -1;
}

class ClientDatanodeDeathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::MiniClusterOptions options;
    options.datanodes = 3;
    options.extra_flags = {"--heartbeat_interval_ms=200"};
    auto started = test::MiniCluster::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    cluster_ = std::move(*started);
    ClientOptions client;
    client.default_block_size = kBlock;
    client.datanode_timeout_ms = 10000;
    auto fs = FileSystem::Connect(cluster_->uri(), client);
    ASSERT_TRUE(fs.ok()) << fs.status();
    fs_ = std::move(*fs);
  }

  void Kill(int index) {
    const pid_t pid = DatanodePid(cluster_->dir(), index);
    ASSERT_GT(pid, 0) << "datanode " << index << " not found";
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
  }

  std::unique_ptr<test::MiniCluster> cluster_;
  std::unique_ptr<FileSystem> fs_;
};

TEST_F(ClientDatanodeDeathTest, ReadsMoveToAnotherReplica) {
  const std::string data = test::RandomBytes(2 * kBlock + 3000, 5);
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/survivor", data).ok());
  Result<std::vector<BlockLocation>> locations = Status::NotFound("not asked yet");
  ASSERT_TRUE(test::WaitFor(
      [&] {
        locations = fs_->GetFileBlockLocations("/survivor", 0, 1);
        return locations.ok() && !locations->empty() && (*locations)[0].hosts.size() >= 2;
      },
      std::chrono::seconds(10)));
  const int victim = DatanodeIndexOf(cluster_->dir(), (*locations)[0].hosts[0]);
  ASSERT_GE(victim, 0);
  Kill(victim);
  // Opened after the death (the namenode still lists the node) and read whole.
  auto back = test::ReadWholeFile(*fs_, "/survivor");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == data);
  auto sum = fs_->GetFileChecksum("/survivor");
  ASSERT_TRUE(sum.ok()) << sum.status();
}

TEST_F(ClientDatanodeDeathTest, AWriterWhosePipelineLosesANodeGoesOn) {
  CreateOptions options;
  options.block_size = 64 * kBlock;  // one pipeline for the whole test
  auto out = fs_->Create("/orphaned", options);
  ASSERT_TRUE(out.ok()) << out.status();
  const std::string piece = test::RandomBytes(256 * 1024, 6);
  ASSERT_TRUE((*out)->Write(piece.data(), piece.size()).ok());
  ASSERT_TRUE((*out)->Hflush().ok());
  auto locations = fs_->GetFileBlockLocations("/orphaned", 0, 1);
  ASSERT_TRUE(locations.ok()) << locations.status();
  ASSERT_FALSE(locations->empty());
  ASSERT_GE(locations->back().hosts.size(), 2u);
  const int victim = DatanodeIndexOf(cluster_->dir(), locations->back().hosts.back());
  ASSERT_GE(victim, 0);
  Kill(victim);

  // Pipeline recovery drops the dead node: the writer never sees an error.
  const auto start = std::chrono::steady_clock::now();
  std::string expected = piece;
  for (int i = 0; i < 20; ++i) {
    Status s = (*out)->Write(piece.data(), piece.size());
    if (s.ok()) s = (*out)->Hflush();
    ASSERT_TRUE(s.ok()) << s;
    expected += piece;
  }
  Status closed = (*out)->Close();
  ASSERT_TRUE(closed.ok()) << closed;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  auto back = test::ReadWholeFile(*fs_, "/orphaned");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == expected);
}

}  // namespace
}  // namespace talus
