// The namenode group under the faults issue 7 names, with real processes: a follower down while
// the leader's log is compacted comes back through a snapshot of the namespace (and the group
// then survives losing the old leader); all three namenodes SIGKILLed at once and restarted
// hold exactly the acknowledged history.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "talus/file_system.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A field of one namenode's `dfsadmin -journal` paragraph ("Snapshot index: 12"), or -1.
int64_t JournalField(const std::string& address, const std::string& label) {
  test::CommandResult r =
      test::RunTalus({"dfsadmin", "-fs", "talus://" + address, "-journal"}, {}, "", seconds(20));
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex("(^|\n)" + label + ": (-?[0-9]+)"))) return -1;
  return std::stoll(m[2]);
}

ClientOptions FastFailover() {
  ClientOptions options;
  options.rpc_timeout_ms = 3000;
  options.retry_deadline_ms = 30000;
  return options;
}

std::set<std::string> Names(FileSystem& fs, const std::string& dir) {
  std::set<std::string> names;
  Result<std::vector<FileInfo>> listing = fs.ListDirectory(dir);
  EXPECT_TRUE(listing.ok()) << listing.status();
  if (!listing.ok()) return names;
  for (const FileInfo& f : *listing) names.insert(f.path.substr(f.path.rfind('/') + 1));
  return names;
}

TEST(NamenodeGroupFaultTest, FollowerDownLongCatchesUpBySnapshotAndCanLead) {
  test::MiniClusterOptions options;
  options.namenodes = 3;
  options.datanodes = 1;
  // Checkpoint and compact every 100 entries, keeping 20: a follower that misses a few hundred
  // entries can only come back through a snapshot.
  options.extra_flags = {"--journal_checkpoint_entries=100", "--raft_log_retention_entries=20"};
  auto cluster = test::MiniCluster::Start(options);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto& c = **cluster;
  Result<int> leader = c.LeaderIndex(seconds(20));
  ASSERT_TRUE(leader.ok()) << leader.status();
  const int follower = (*leader + 1) % 3;
  ASSERT_TRUE(c.KillNamenode(follower, SIGKILL).ok());

  auto fs = FileSystem::Connect(c.uri(), FastFailover());
  ASSERT_TRUE(fs.ok()) << fs.status();
  constexpr int kDirs = 400;
  for (int i = 0; i < kDirs; ++i) {
    ASSERT_TRUE((*fs)->Mkdirs("/long/d" + std::to_string(i)).ok()) << i;
  }
  // The leader's log no longer reaches back to what the follower has.
  ASSERT_TRUE(test::WaitFor(
      [&] { return JournalField(c.namenode_address(*leader), "First index") > 100; }, seconds(30)))
      << "the leader never compacted its log";

  ASSERT_TRUE(c.RestartNamenode(follower).ok());
  // It installs the leader's snapshot (restarting itself to do so) and catches up.
  ASSERT_TRUE(test::WaitFor(
      [&] {
        return JournalField(c.namenode_address(follower), "Snapshot index") > 100 &&
               JournalField(c.namenode_address(follower), "Applied index") >=
                   JournalField(c.namenode_address(*leader), "Commit index") - 5;
      },
      seconds(60), milliseconds(200)))
      << "the follower did not catch up by snapshot";

  // Without the old leader, the caught-up follower is half of the only possible majority: the
  // namespace it serves (or shares with the new leader) must hold everything.
  ASSERT_TRUE(c.KillNamenode(*leader, SIGKILL).ok());
  Result<int> next = c.LeaderIndex(seconds(20));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_NE(*next, *leader);
  std::set<std::string> names = Names(**fs, "/long");
  EXPECT_EQ(names.size(), static_cast<size_t>(kDirs));
  ASSERT_TRUE((*fs)->Mkdirs("/long/after").ok());
  EXPECT_TRUE((*fs)->GetFileInfo("/long/after").ok());
}

TEST(NamenodeGroupFaultTest, AllThreeKilledAndRestartedHoldExactlyTheAcknowledgedHistory) {
  test::MiniClusterOptions options;
  options.namenodes = 3;
  options.datanodes = 1;
  auto cluster = test::MiniCluster::Start(options);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto& c = **cluster;
  ASSERT_TRUE(c.WaitForLeader(seconds(20)).ok());
  {
    auto fs = FileSystem::Connect(c.uri(), FastFailover());
    ASSERT_TRUE(fs.ok());
    ASSERT_TRUE((*fs)->Mkdirs("/h").ok());
  }

  // Writers create empty files until the group dies under them; every answer is recorded.
  std::mutex mu;
  std::set<std::string> acknowledged;  // create answered OK
  std::set<std::string> in_doubt;      // no answer: may or may not exist
  std::atomic<bool> stop{false};
  std::atomic<int> created{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      ClientOptions opts;
      opts.rpc_timeout_ms = 2000;
      opts.retry_deadline_ms = 2000;
      auto fs = FileSystem::Connect(c.uri(), opts);
      if (!fs.ok()) return;
      for (int n = 0; n < 100000 && !stop.load(); ++n) {
        const std::string name = "t" + std::to_string(t) + "-" + std::to_string(n);
        Status s = (*fs)->CreateEmptyFile("/h/" + name);
        std::lock_guard<std::mutex> lock(mu);
        if (s.ok()) {
          acknowledged.insert(name);
          created.fetch_add(1);
        } else {
          // The group is going down: this one's fate is unknown, and the writer stops.
          in_doubt.insert(name);
          return;
        }
      }
    });
  }
  ASSERT_TRUE(test::WaitFor([&] { return created.load() >= 200; }, seconds(60)))
      << "the writers made no progress";
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.KillNamenode(i, SIGKILL).ok());
  stop.store(true);
  for (std::thread& w : writers) w.join();

  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.RestartNamenode(i).ok());
  ASSERT_TRUE(c.WaitForLeader(seconds(30)).ok());
  auto fs = FileSystem::Connect(c.uri(), FastFailover());
  ASSERT_TRUE(fs.ok());
  const std::set<std::string> present = Names(**fs, "/h");
  for (const std::string& name : acknowledged) {
    EXPECT_TRUE(present.count(name)) << "acknowledged create of /h/" << name << " was lost";
  }
  for (const std::string& name : present) {
    EXPECT_TRUE(acknowledged.count(name) || in_doubt.count(name))
        << "/h/" << name << " exists but was never created";
  }
  EXPECT_GE(acknowledged.size(), 200u);
}

}  // namespace
}  // namespace talus
