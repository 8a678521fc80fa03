// talus-datanode processes in a MiniCluster: they register and heartbeat (the namenode's
// getStats counts their capacity), keep their identity across restarts and report their
// replicas again to a restarted namenode and after their own restart.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "talus/file_system.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The datanode id kept in a volume (ROOT/datanode_id).
std::string DatanodeIdOf(const test::MiniCluster& mc, int i) {
  return ReadFile(mc.datanode_data_dirs(i).at(0) + "/datanode_id");
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245 + 12345;
    s[i] = static_cast<char>(x >> 16);
  }
  return s;
}

Status WriteFile(FileSystem& fs, const std::string& path, const std::string& data) {
  ASSIGN_OR_RETURN(auto out, fs.Create(path));
  RETURN_NOT_OK(out->Write(data.data(), data.size()));
  return out->Close();
}

Result<std::string> ReadAll(FileSystem& fs, const std::string& path) {
  ASSIGN_OR_RETURN(auto in, fs.Open(path));
  std::string data(static_cast<size_t>(in->Length()), '\0');
  size_t done = 0;
  while (done < data.size()) {
    ASSIGN_OR_RETURN(size_t n, in->Read(data.data() + done, data.size() - done));
    if (n == 0) break;
    done += n;
  }
  data.resize(done);
  return data;
}

// The data addresses the namenode gives for the file's first block.
std::set<std::string> Locations(FileSystem& fs, const std::string& path) {
  auto located = fs.GetFileBlockLocations(path, 0, 1);
  if (!located.ok() || located->empty()) return {};
  return {(*located)[0].hosts.begin(), (*located)[0].hosts.end()};
}

TEST(DatanodeRegistrationTest, ThreeDatanodesRegisterAndTheirCapacityIsCounted) {
  auto started = test::MiniCluster::Start(
      {.datanodes = 3, .extra_flags = {"--heartbeat_interval_ms=200"}});
  ASSERT_TRUE(started.ok()) << started.status();
  test::MiniCluster& mc = **started;
  ASSERT_EQ(mc.num_datanodes(), 3);

  std::set<std::string> ids, addresses;
  for (int i = 0; i < 3; ++i) {
    EXPECT_GT(mc.datanode_pid(i), 0);
    EXPECT_FALSE(mc.datanode_rpc_address(i).empty());
    EXPECT_FALSE(mc.datanode_data_address(i).empty());
    addresses.insert(mc.datanode_rpc_address(i));
    addresses.insert(mc.datanode_data_address(i));
    std::string id = DatanodeIdOf(mc, i);
    EXPECT_EQ(id.rfind("DN-", 0), 0u) << id;
    ids.insert(id);
    EXPECT_TRUE(std::filesystem::exists(mc.datanode_data_dirs(i)[0] + "/current/VERSION"));
  }
  EXPECT_EQ(ids.size(), 3u) << "each datanode has its own id";
  EXPECT_EQ(addresses.size(), 6u) << "every port is distinct";

  // What a user sees with `talus dfs -df`: the three volumes' sizes (all on this disk).
  struct statvfs st;
  ASSERT_EQ(::statvfs(mc.dir().c_str(), &st), 0);
  const int64_t disk = static_cast<int64_t>(st.f_blocks) * static_cast<int64_t>(st.f_frsize);
  auto fs = FileSystem::Connect(mc.uri());
  ASSERT_TRUE(fs.ok()) << fs.status();
  auto stats = (*fs)->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->capacity, 3 * disk);
  EXPECT_GT(stats->remaining, 0);
  EXPECT_LE(stats->remaining, stats->capacity);

  // One more datanode joins a running cluster.
  auto added = mc.AddDatanode();
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(*added, 3);
  stats = (*fs)->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->capacity, 4 * disk);

  // The shell agrees.
  auto df = test::RunTalus({"dfs", "-fs", mc.uri(), "-df"});
  ASSERT_EQ(df.exit_code, 0) << df.err;
  EXPECT_NE(df.out.find(std::to_string(4 * disk)), std::string::npos) << df.out;
}

TEST(DatanodeRegistrationTest, RestartsKeepTheIdAndReportReplicasAgain) {
  auto started = test::MiniCluster::Start(
      {.datanodes = 3, .extra_flags = {"--heartbeat_interval_ms=200"}});
  ASSERT_TRUE(started.ok()) << started.status();
  test::MiniCluster& mc = **started;
  auto connected = FileSystem::Connect(mc.uri());
  ASSERT_TRUE(connected.ok()) << connected.status();
  FileSystem& fs = **connected;
  const std::string data = Pattern(200 * 1024 + 7);
  ASSERT_TRUE(WriteFile(fs, "/kept", data).ok());
  std::set<std::string> all;
  for (int i = 0; i < 3; ++i) all.insert(mc.datanode_data_address(i));
  EXPECT_EQ(Locations(fs, "/kept"), all);

  // A namenode restart forgets every replica; the datanodes register again and report them.
  ASSERT_TRUE(mc.KillNamenode(0, SIGKILL).ok());
  ASSERT_TRUE(mc.RestartNamenode(0).ok());
  std::set<std::string> seen;
  EXPECT_TRUE(test::WaitFor([&] { return (seen = Locations(fs, "/kept")) == all; }, 30s))
      << seen.size() << " location(s)";

  // Datanode 0 killed and restarted: same id, same replicas.
  const std::string id = DatanodeIdOf(mc, 0);
  ASSERT_TRUE(mc.KillDatanode(0, SIGKILL).ok());
  EXPECT_EQ(mc.datanode_pid(0), 0);
  ASSERT_TRUE(mc.RestartDatanode(0).ok());
  EXPECT_GT(mc.datanode_pid(0), 0);
  EXPECT_EQ(DatanodeIdOf(mc, 0), id);

  // Only the restarted datanode 0 is left to tell a fresh namenode where the data is.
  ASSERT_TRUE(mc.KillDatanode(1, SIGKILL).ok());
  ASSERT_TRUE(mc.KillDatanode(2, SIGTERM).ok());
  ASSERT_TRUE(mc.KillNamenode(0, SIGKILL).ok());
  ASSERT_TRUE(mc.RestartNamenode(0).ok());
  const std::set<std::string> only0 = {mc.datanode_data_address(0)};
  EXPECT_TRUE(test::WaitFor([&] { return (seen = Locations(fs, "/kept")) == only0; }, 30s))
      << seen.size() << " location(s)";
  auto read = ReadAll(fs, "/kept");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(*read == data) << "read " << read->size() << " bytes";
}

}  // namespace
}  // namespace talus
