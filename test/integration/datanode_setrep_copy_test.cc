// Re-replication end to end with real processes: a file written with one replica on a cluster of
// three datanodes, `setReplication 3`, and the namenode's REPLICATE_BLOCKS make the datanodes
// copy every block to the two others. Every replica ends byte-identical to the first, data and
// checksum (meta) files alike, and the file reads back whole.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "talus/file_system.h"
#include "test/support/client_data_util.h"
#include "test/support/mini_cluster.h"

namespace talus::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The meta file beside a data file (blk_<id>_<stamp>.meta).
std::string MetaOf(const std::string& data_path) {
  const fs::path p(data_path);
  for (const auto& e : fs::directory_iterator(p.parent_path())) {
    const std::string name = e.path().filename();
    if (name.rfind(p.filename().string() + "_", 0) == 0 &&
        name.size() > 5 && name.substr(name.size() - 5) == ".meta") {
      return e.path();
    }
  }
  return "";
}

TEST(DatanodeSetrepCopyTest, SetrepThreeCopiesEveryBlockToTheOtherNodesByteForByte) {
  MiniClusterOptions options;
  options.datanodes = 3;
  options.extra_flags = {"--heartbeat_interval_ms=200", "--replication_interval_ms=200",
                         "--replication_timeout_ms=10000"};
  auto cluster = MiniCluster::Start(options);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  MiniCluster& mc = **cluster;
  auto fs_or = FileSystem::Connect(mc.uri());
  ASSERT_TRUE(fs_or.ok()) << fs_or.status();
  FileSystem& dfs = **fs_or;

  // Three whole blocks and a partial one (its last chunk partial too).
  const std::string data = RandomBytes((3 << 20) + (1 << 19) + 333, 42);
  CreateOptions create;
  create.replication = 1;
  create.block_size = 1 << 20;
  auto out = dfs.Create("/copied", create);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE((*out)->Write(data.data(), data.size()).ok());
  ASSERT_TRUE((*out)->Close().ok());

  auto health = dfs.GetFileHealth("/copied");
  ASSERT_TRUE(health.ok()) << health.status();
  ASSERT_EQ(health->blocks.size(), 4u);
  for (const auto& b : health->blocks) ASSERT_EQ(b.live.size(), 1u);

  auto changed = dfs.SetReplication("/copied", 3);
  ASSERT_TRUE(changed.ok() && *changed) << changed.status();
  ASSERT_TRUE(WaitFor([&] {
    health = dfs.GetFileHealth("/copied");
    if (!health.ok()) return false;
    for (const auto& b : health->blocks) {
      if (b.live.size() != 3 || !b.corrupt.empty()) return false;
    }
    return true;
  }, 30s)) << "not every block reached 3 live replicas";

  for (const auto& b : health->blocks) {
    std::string first_data, first_meta;
    for (int i = 0; i < 3; ++i) {
      std::vector<std::string> files = ReplicaFiles(mc.dir(), i, b.block_id);
      ASSERT_EQ(files.size(), 1u) << "blk_" << b.block_id << " on datanode " << i;
      const std::string meta = MetaOf(files[0]);
      ASSERT_FALSE(meta.empty()) << files[0];
      EXPECT_NE(meta.find("_" + std::to_string(b.generation_stamp) + ".meta"),
                std::string::npos) << meta;
      const std::string d = Slurp(files[0]), m = Slurp(meta);
      EXPECT_EQ(d.size(), static_cast<size_t>(b.length));
      if (i == 0) {
        first_data = d;
        first_meta = m;
      } else {
        EXPECT_TRUE(d == first_data) << "blk_" << b.block_id << " differs on datanode " << i;
        EXPECT_TRUE(m == first_meta) << "blk_" << b.block_id << " checksums differ on " << i;
      }
    }
  }
  auto back = ReadWholeFile(dfs, "/copied");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == data);
}

}  // namespace
}  // namespace talus::test
