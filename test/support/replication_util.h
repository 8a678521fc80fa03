#pragma once

// Helpers of the replication and failure tests: a set of files written with known contents, and
// questions about where their replicas are, asked the way a user would (block locations,
// `talus fsck`, `talus dfsadmin`).
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "talus/file_system.h"
#include "test/support/client_data_util.h"
#include "test/support/mini_cluster.h"

namespace talus::test {

// Flags that make failures show within seconds: heartbeats every 200 ms, a node silent for 3 s
// is dead, the block monitor runs every 200 ms and a copy not reported in 10 s is retried.
inline std::vector<std::string> FastFailureFlags() {
  return {"--heartbeat_interval_ms=200", "--datanode_dead_after_ms=3000",
          "--replication_interval_ms=200", "--replication_timeout_ms=10000"};
}

// Starts `datanodes` datanodes with FastFailureFlags() plus `extra_flags`, and connects a client
// writing blocks of `block_size`. Fails the calling test (ASSERT) when either cannot be done.
inline void StartFastCluster(int datanodes, int64_t block_size,
                             const std::vector<std::string>& extra_flags,
                             std::unique_ptr<MiniCluster>* cluster,
                             std::unique_ptr<FileSystem>* fs) {
  MiniClusterOptions options;
  options.datanodes = datanodes;
  options.extra_flags = FastFailureFlags();
  options.extra_flags.insert(options.extra_flags.end(), extra_flags.begin(), extra_flags.end());
  auto started = MiniCluster::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  *cluster = std::move(*started);
  ClientOptions client;
  client.default_block_size = block_size;
  auto connected = FileSystem::Connect((*cluster)->uri(), client);
  ASSERT_TRUE(connected.ok()) << connected.status();
  *fs = std::move(*connected);
}

// Files whose contents are a function of (seed, size), so they need not be kept in memory.
struct FileSpec {
  std::string path;
  size_t size = 0;
  uint64_t seed = 0;
  std::string Contents() const { return RandomBytes(size, seed); }
};

// `count` files under `dir` of sizes spread over [0, max_size], written by `threads` writers.
inline std::vector<FileSpec> WriteFiles(FileSystem& fs, const std::string& dir, int count,
                                        size_t max_size, int64_t block_size, int threads = 4) {
  std::vector<FileSpec> files;
  std::mt19937_64 rng(1234);
  for (int i = 0; i < count; ++i) {
    FileSpec f;
    f.path = dir + "/f" + std::to_string(i);
    // A few empty and a few exactly-one-block files among random sizes.
    f.size = i % 50 == 0 ? 0 : i % 50 == 1 ? static_cast<size_t>(block_size) : rng() % (max_size + 1);
    f.seed = 1000 + static_cast<uint64_t>(i);
    files.push_back(f);
  }
  std::vector<std::thread> writers;
  std::vector<Status> errors(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      for (size_t i = static_cast<size_t>(t); i < files.size(); i += static_cast<size_t>(threads)) {
        Status s = WriteWholeFile(fs, files[i].path, files[i].Contents(), 256 * 1024, block_size);
        if (!s.ok()) {
          errors[static_cast<size_t>(t)] = s.Prepend(files[i].path);
          return;
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  for (const Status& s : errors) EXPECT_TRUE(s.ok()) << s;
  return files;
}

// Every file reads back byte-identical; returns the first mismatch or error, empty if none.
inline std::string CheckContents(FileSystem& fs, const std::vector<FileSpec>& files) {
  for (const FileSpec& f : files) {
    Result<std::string> back = ReadWholeFile(fs, f.path);
    if (!back.ok()) return f.path + ": " + back.status().ToString();
    if (*back != f.Contents()) return f.path + ": contents differ";
  }
  return {};
}

// Block locations of every file, or the first error.
inline Result<std::map<std::string, std::vector<BlockLocation>>> LocateAll(
    FileSystem& fs, const std::vector<FileSpec>& files) {
  std::map<std::string, std::vector<BlockLocation>> out;
  for (const FileSpec& f : files) {
    Result<std::vector<BlockLocation>> loc = fs.GetFileBlockLocations(f.path, 0, INT64_MAX);
    if (!loc.ok()) return loc.status();
    out[f.path] = std::move(*loc);
  }
  return out;
}

// True when every block of every file has exactly `replicas` locations, none in `excluded`
// ("host:data_port"). `why` gets the first block that does not.
inline bool AllBlocksReplicated(FileSystem& fs, const std::vector<FileSpec>& files, size_t replicas,
                                const std::set<std::string>& excluded = {},
                                std::string* why = nullptr) {
  auto all = LocateAll(fs, files);
  if (!all.ok()) {
    if (why) *why = all.status().ToString();
    return false;
  }
  for (const auto& [path, blocks] : *all) {
    for (const BlockLocation& b : blocks) {
      size_t good = 0;
      for (const std::string& h : b.hosts) good += excluded.count(h) == 0 ? 1 : 0;
      if (good != replicas || b.hosts.size() != replicas || b.corrupt) {
        if (why) {
          *why = path + " blk_" + std::to_string(b.block_id) + " has " +
                 std::to_string(b.hosts.size()) + " locations (" + std::to_string(good) +
                 " outside the excluded nodes)" + (b.corrupt ? ", corrupt" : "");
        }
        return false;
      }
    }
  }
  return true;
}

// Index of the datanode whose data port is `data_address`, or -1.
inline int DatanodeIndexByAddress(const MiniCluster& cluster, const std::string& data_address) {
  for (int i = 0; i < cluster.num_datanodes(); ++i) {
    if (cluster.datanode_data_address(i) == data_address) return i;
  }
  return -1;
}

// Flips one byte in the middle of a replica's data file (same length, so only checksums tell).
inline void CorruptFile(const std::string& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good()) << path;
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  ASSERT_GT(size, 0) << path;
  const std::streamoff at = size / 2;
  f.seekg(at);
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(at);
  f.write(&c, 1);
  f.flush();
  ASSERT_TRUE(f.good()) << path;
}

}  // namespace talus::test
