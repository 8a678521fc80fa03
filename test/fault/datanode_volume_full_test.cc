// Datanodes whose volumes fill up, for real: three talus-datanode processes whose volumes are
// small tmpfs mounts (4, 16 and 16 MiB). Files keep being written until the cluster is full:
// blocks stop going to the small node once it has no room for a whole block, the writes go on
// on the others, the write that finds no room anywhere fails with a clear no-space error, every
// file written before it reads back byte for byte, and no replica on any node is left
// inconsistent with its checksums. Needs root (mount); skipped otherwise.
#include <sys/mount.h>
#include <unistd.h>

#include <glog/logging.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "datanode/storage/block_meta.h"
#include "talus/file_system.h"
#include "test/support/client_data_util.h"
#include "test/support/mini_cluster.h"

namespace talus::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int64_t kBlock = 1 << 20;
constexpr uint64_t kMiB = 1 << 20;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Unmounts (lazily: a datanode may still hold files) what it mounted, before the cluster
// directory is removed.
class Mounts {
 public:
  ~Mounts() {
    for (const std::string& m : mounts_) ::umount2(m.c_str(), MNT_DETACH);
  }
  Status Mount(const std::string& dir, uint64_t bytes) {
    const std::string options = "size=" + std::to_string(bytes);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      return Status::FromErrno(errno, "mount tmpfs on " + dir);
    }
    mounts_.push_back(dir);
    return Status::OK();
  }

 private:
  std::vector<std::string> mounts_;
};

// Every data file under `root` (finalized and being written) against its meta file: the
// lengths agree and every chunk matches its checksum. Returns the problems; counts replicas.
std::vector<std::string> CheckReplicas(const std::string& root, int* finalized,
                                       int* rbw = nullptr) {
  std::vector<std::string> problems;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename();
    if (!it->is_regular_file() || name.rfind("blk_", 0) != 0 ||
        name.find(".meta") != std::string::npos) {
      continue;
    }
    const std::string dir = it->path().parent_path();
    std::string meta_path;
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string m = e.path().filename();
      if (m.rfind(name + "_", 0) == 0 && m.size() > 5 && m.substr(m.size() - 5) == ".meta") {
        meta_path = e.path();
      }
    }
    if (meta_path.empty()) {
      problems.push_back(it->path().string() + ": no meta file");
      continue;
    }
    const std::string data = Slurp(it->path());
    const std::string meta = Slurp(meta_path);
    if (meta.size() != datanode::MetaFileLength(data.size())) {
      problems.push_back(it->path().string() + ": " + std::to_string(data.size()) +
                         " data bytes but a meta file of " + std::to_string(meta.size()));
      continue;
    }
    Status s = datanode::VerifyChecksums(
        data, std::string_view(meta).substr(datanode::kMetaHeaderBytes), 0, it->path());
    if (!s.ok()) problems.push_back(s.ToString());
    if (dir.find("/finalized") != std::string::npos) ++*finalized;
    if (rbw != nullptr && dir.find("/rbw") != std::string::npos) ++*rbw;
  }
  return problems;
}

bool CanMount() {
  TempDir probe;
  if (::mount("tmpfs", probe.path().c_str(), "tmpfs", 0, "size=1m") != 0) return false;
  ::umount2(probe.path().c_str(), MNT_DETACH);
  return true;
}

// Moves datanode `i` onto a tmpfs of `bytes`: stops it, mounts over its (still empty) volume
// with the volume's identity files copied across, and starts it again as the same node.
void MoveOntoTmpfs(MiniCluster& mc, Mounts& mounts, int i, uint64_t bytes) {
  ASSERT_TRUE(mc.KillDatanode(i, SIGTERM).ok());
  const std::string volume = mc.datanode_data_dirs(i)[0];
  const std::string saved = mc.dir() + "/saved-volume-" + std::to_string(i);
  fs::copy(volume, saved, fs::copy_options::recursive);
  Status mounted = mounts.Mount(volume, bytes);
  ASSERT_TRUE(mounted.ok()) << mounted;
  fs::copy(saved, volume, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  ASSERT_TRUE(mc.RestartDatanode(i).ok());
}

TEST(DatanodeVolumeFullTest, FullVolumesTakeNoBlocksAndAFullClusterFailsCleanly) {
  if (!CanMount()) GTEST_SKIP() << "cannot mount a tmpfs; needs root";
  MiniClusterOptions options;
  options.datanodes = 3;
  options.extra_flags = {"--heartbeat_interval_ms=200", "--expected_block_bytes=1048576",
                         "--block_scan_bytes_per_sec=0"};
  auto cluster = MiniCluster::Start(options);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  MiniCluster& mc = **cluster;
  Mounts mounts;

  const uint64_t sizes[3] = {4 * kMiB, 16 * kMiB, 16 * kMiB};
  for (int i = 0; i < 3; ++i) {
    MoveOntoTmpfs(mc, mounts, i, sizes[i]);
    if (HasFatalFailure()) return;
  }
  auto fs_or = FileSystem::Connect(mc.uri());
  ASSERT_TRUE(fs_or.ok()) << fs_or.status();
  FileSystem& dfs = **fs_or;
  // The namenode knows the small capacities once each node has heartbeated again.
  ASSERT_TRUE(WaitFor([&] {
    auto stats = dfs.GetStats();
    return stats.ok() && stats->capacity > 0 &&
           stats->capacity <= static_cast<int64_t>(36 * kMiB) &&
           stats->remaining > static_cast<int64_t>(30 * kMiB);
  }, 30s));

  // One-block files, one replica each, until a write fails (the cluster holds about 33).
  std::vector<std::string> written;
  Status failure;
  for (int i = 0; i < 60 && failure.ok(); ++i) {
    const std::string path = "/full/f" + std::to_string(i);
    CreateOptions create;
    create.block_size = kBlock;
    create.replication = 1;
    create.overwrite = true;
    auto out = dfs.Create(path, create);
    if (!out.ok()) {
      failure = out.status();
      break;
    }
    const std::string data = RandomBytes(kBlock, 100 + i);
    Status s = (*out)->Write(data.data(), data.size());
    if (s.ok()) s = (*out)->Close();
    if (!s.ok()) {
      failure = s;
      break;
    }
    written.push_back(path);
  }
  ASSERT_FALSE(failure.ok()) << "60 MiB fitted into 36 MiB of volumes";
  LOG(INFO) << "the write after " << written.size() << " files failed: " << failure;
  // Most of the space was used before it failed, on the big nodes mostly.
  EXPECT_GE(written.size(), 25u);
  const std::string message = failure.ToString();
  EXPECT_TRUE(failure.code() == ErrorCode::kNoSpace ||
              message.find("NO_SPACE") != std::string::npos)
      << message;
  EXPECT_TRUE(message.find("could only be written to 0") != std::string::npos ||
              message.find("no room") != std::string::npos)
      << message;

  // The small node took what fitted whole and no more: 4 MiB holds three 1 MiB blocks with
  // room to spare for their meta files, not four.
  std::vector<std::string> problems;
  int per_node[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    auto found = CheckReplicas(mc.datanode_data_dirs(i)[0], &per_node[i]);
    problems.insert(problems.end(), found.begin(), found.end());
  }
  EXPECT_TRUE(problems.empty()) << problems.size() << " bad replica(s), first: " << problems[0];
  EXPECT_LE(per_node[0], 3);
  EXPECT_GE(per_node[1] + per_node[2], static_cast<int>(written.size()) - 3);

  // Everything written before the failure is intact.
  for (size_t i = 0; i < written.size(); ++i) {
    auto data = ReadWholeFile(dfs, written[i]);
    ASSERT_TRUE(data.ok()) << written[i] << ": " << data.status();
    EXPECT_TRUE(*data == RandomBytes(kBlock, 100 + static_cast<int>(i))) << written[i];
  }
  // Heartbeats tell the namenode how little is left.
  ASSERT_TRUE(WaitFor([&] {
    auto stats = dfs.GetStats();
    return stats.ok() && stats->remaining < static_cast<int64_t>(3 * kMiB);
  }, 10s));
}

// A node that accepted a block runs out of space in the middle of it (its disk filled behind
// the namenode's back): it answers an error ack, the client goes on with the other two nodes,
// and the full node keeps only a replica being written that matches its checksums, never a
// finalized one.
TEST(DatanodeVolumeFullTest, ANodeFillingUpMidBlockDropsOutOfThePipeline) {
  if (!CanMount()) GTEST_SKIP() << "cannot mount a tmpfs; needs root";
  MiniClusterOptions options;
  options.datanodes = 3;
  // Heartbeats seconds apart: the namenode still believes the space is there when the write
  // comes. Blocks are said to be small, so the node takes one it cannot hold.
  options.extra_flags = {"--heartbeat_interval_ms=5000", "--expected_block_bytes=65536",
                         "--block_scan_bytes_per_sec=0"};
  auto cluster = MiniCluster::Start(options);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  MiniCluster& mc = **cluster;
  Mounts mounts;
  MoveOntoTmpfs(mc, mounts, 0, 6 * kMiB);
  if (HasFatalFailure()) return;
  auto fs_or = FileSystem::Connect(mc.uri());
  ASSERT_TRUE(fs_or.ok()) << fs_or.status();
  FileSystem& dfs = **fs_or;
  ASSERT_TRUE(WaitFor([&] {
    auto report = dfs.GetDatanodeReport(DatanodeReportType::kLive);
    if (!report.ok() || report->size() != 3) return false;
    return std::any_of(report->begin(), report->end(), [](const DatanodeReport& d) {
      return d.capacity > 0 && d.capacity <= static_cast<int64_t>(6 * kMiB) &&
             d.remaining > static_cast<int64_t>(5 * kMiB);
    });
  }, 30s));
  // 5 of its 6 MiB go to something else; the next heartbeat is seconds away.
  {
    std::ofstream filler(mc.datanode_data_dirs(0)[0] + "/filler", std::ios::binary);
    const std::string mib(kMiB, 'x');
    for (int i = 0; i < 5; ++i) filler << mib;
  }
  const std::string data = RandomBytes(3 * kMiB, 7);
  Status s = WriteWholeFile(dfs, "/midblock", data, 65536, /*block_size=*/4 * kMiB);
  ASSERT_TRUE(s.ok()) << s;
  auto back = ReadWholeFile(dfs, "/midblock");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == data);

  int finalized = 0, rbw = 0;
  std::vector<std::string> problems =
      CheckReplicas(mc.datanode_data_dirs(0)[0], &finalized, &rbw);
  EXPECT_TRUE(problems.empty()) << problems.size() << " bad replica(s), first: " << problems[0];
  EXPECT_EQ(finalized, 0) << "the full node finalized a replica it could not hold";
  EXPECT_EQ(rbw, 1) << "the full node was not in the pipeline (or its replica is gone already)";
  for (int i = 1; i < 3; ++i) {
    int n = 0;
    auto found = CheckReplicas(mc.datanode_data_dirs(i)[0], &n);
    EXPECT_TRUE(found.empty()) << found[0];
    EXPECT_EQ(n, 1) << "datanode " << i;
  }
}

}  // namespace
}  // namespace talus::test
