// Concurrent clients mutate the namespace while the namenode is killed with SIGKILL. After a
// restart every acknowledged operation must be there, and nothing half-applied may show: the
// namespace's own counters must agree with a walk of the tree.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "talus/file_system.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

struct Acked {
  std::string path;
  bool is_file;
};

// Counts what a walk of the tree finds below (and including) `root`.
void Walk(FileSystem& fs, const std::string& root, int64_t* files, int64_t* dirs) {
  auto listing = fs.ListDirectory(root);
  ASSERT_TRUE(listing.ok()) << root << ": " << listing.status();
  for (const FileInfo& info : *listing) {
    auto stat = fs.GetFileInfo(info.path);
    ASSERT_TRUE(stat.ok()) << "listed but not found: " << info.path;
    EXPECT_EQ(stat->inode_id, info.inode_id);
    if (info.IsDirectory()) {
      ++*dirs;
      Walk(fs, info.path, files, dirs);
    } else {
      ++*files;
    }
  }
}

TEST(NamenodeCrashTest, AcknowledgedOperationsSurviveSigkill) {
  auto started = test::MiniCluster::Start();
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<test::MiniCluster> cluster = std::move(*started);
  ClientOptions options;
  options.retry_deadline_ms = 1500;  // calls in flight at the kill give up quickly
  options.rpc_timeout_ms = 3000;

  std::vector<Acked> acked;
  std::mutex acked_mu;
  constexpr int kRounds = 3;
  constexpr int kThreads = 8;
  for (int round = 0; round < kRounds; ++round) {
    std::atomic<bool> stop{false};
    std::atomic<int> acked_this_round{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto fs = FileSystem::Connect(cluster->uri(), options);
        ASSERT_TRUE(fs.ok());
        const std::string base =
            "/crash/r" + std::to_string(round) + "/t" + std::to_string(t);
        // Bounded: a round never runs more than this many operations per thread.
        for (int i = 0; i < 5000 && !stop.load(); ++i) {
          const bool file = i % 2 == 1;
          // Directories three levels deep in one mkdirs -p: all or nothing.
          const std::string path = file ? base + "/f" + std::to_string(i)
                                        : base + "/d" + std::to_string(i) + "/x/y";
          Status s = file ? (*fs)->CreateEmptyFile(path) : (*fs)->Mkdirs(path);
          if (s.ok()) {
            std::lock_guard<std::mutex> lock(acked_mu);
            acked.push_back({path, file});
            ++acked_this_round;
          }
        }
      });
    }
    ASSERT_TRUE(test::WaitFor([&] { return acked_this_round.load() >= 300; },
                              std::chrono::seconds(60)))
        << "clients made no progress";
    ASSERT_TRUE(cluster->KillNamenode(0, SIGKILL).ok());
    stop.store(true);
    for (auto& th : threads) th.join();
    ASSERT_TRUE(cluster->RestartNamenode(0).ok());
  }

  auto fs = FileSystem::Connect(cluster->uri());
  ASSERT_TRUE(fs.ok());
  for (const Acked& a : acked) {
    auto info = (*fs)->GetFileInfo(a.path);
    ASSERT_TRUE(info.ok()) << "acknowledged but lost: " << a.path << ": " << info.status();
    EXPECT_EQ(info->IsFile(), a.is_file) << a.path;
    if (a.is_file) {
      EXPECT_FALSE(info->under_construction) << "completed file reopened: " << a.path;
    }
  }
  // Nothing half-applied: every counter moved with its entries, in the same batch.
  int64_t files = 0;
  int64_t dirs = 1;  // "/"
  Walk(**fs, "/", &files, &dirs);
  auto stats = (*fs)->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->files, files);
  EXPECT_EQ(stats->directories, dirs);
  // Every directory mkdirs -p made is complete: a "d<i>" has its "x/y".
  for (int round = 0; round < kRounds; ++round) {
    for (int t = 0; t < kThreads; ++t) {
      const std::string base = "/crash/r" + std::to_string(round) + "/t" + std::to_string(t);
      auto listing = (*fs)->ListDirectory(base);
      if (!listing.ok()) continue;  // the thread's first op was never applied
      for (const FileInfo& info : *listing) {
        if (info.IsDirectory()) {
          EXPECT_TRUE((*fs)->GetFileInfo(info.path + "/x/y").ok()) << "half made: " << info.path;
        }
      }
    }
  }
  std::printf("acknowledged %zu operations over %d SIGKILLs; %lld files, %lld directories\n",
              acked.size(), kRounds, static_cast<long long>(files),
              static_cast<long long>(dirs));
}

}  // namespace
}  // namespace talus
