// The client's datanode connection cache: small reads reuse idle connections instead of
// connecting per read, and a cached connection that died (datanode restart) never fails a read.
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <random>

#include "client/file_system_impl.h"
#include "client/stream/datanode_connection_cache.h"
#include "talus/file_system.h"
#include "test/support/client_data_util.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

using client::DatanodeConnectionCache;
using transfer::UniqueFd;

// A connected pair of sockets: [0] goes into the cache, [1] plays the datanode.
std::pair<UniqueFd, UniqueFd> SocketPair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

TEST(DatanodeConnectionCacheTest, TakeReturnsWhatWasPutForThatAddressOnly) {
  DatanodeConnectionCache cache;
  EXPECT_FALSE(cache.Take("a:1").valid());
  auto [mine, peer] = SocketPair();
  const int fd = mine.get();
  cache.Put("a:1", std::move(mine));
  EXPECT_FALSE(cache.Take("b:2").valid());
  UniqueFd got = cache.Take("a:1");
  EXPECT_EQ(got.get(), fd);
  EXPECT_FALSE(cache.Take("a:1").valid());
  EXPECT_EQ(cache.stats().hits, 1u);
  EXPECT_EQ(cache.stats().misses, 3u);
}

TEST(DatanodeConnectionCacheTest, DropsConnectionsThePeerClosed) {
  DatanodeConnectionCache cache;
  auto [mine, peer] = SocketPair();
  cache.Put("a:1", std::move(mine));
  peer.Reset();
  EXPECT_FALSE(cache.Take("a:1").valid());
  EXPECT_EQ(cache.stats().stale, 1u);
  EXPECT_EQ(cache.idle_count(), 0u);
}

TEST(DatanodeConnectionCacheTest, BoundedPerNodeAndInTotal) {
  DatanodeConnectionCache::Options options;
  options.max_per_node = 2;
  options.max_total = 3;
  DatanodeConnectionCache cache(options);
  std::vector<UniqueFd> peers;
  for (int i = 0; i < 3; ++i) {
    auto [mine, peer] = SocketPair();
    peers.push_back(std::move(peer));
    cache.Put("a:1", std::move(mine));
  }
  EXPECT_EQ(cache.idle_count(), 2u);
  for (int i = 0; i < 2; ++i) {
    auto [mine, peer] = SocketPair();
    peers.push_back(std::move(peer));
    cache.Put("b:2", std::move(mine));
  }
  EXPECT_EQ(cache.idle_count(), 3u);
}

TEST(DatanodeConnectionCacheTest, IdleConnectionsAreClosedAfterTheExpiry) {
  DatanodeConnectionCache::Options options;
  options.idle_expiry_ms = 50;
  DatanodeConnectionCache cache(options);
  auto [mine, peer] = SocketPair();
  cache.Put("a:1", std::move(mine));
  // The background thread closes it without any further call: the peer sees end of stream.
  ASSERT_TRUE(test::WaitFor([&] { return cache.idle_count() == 0; }, std::chrono::seconds(5)));
  char c;
  EXPECT_EQ(::recv(peer.get(), &c, 1, 0), 0);
  EXPECT_EQ(cache.stats().expired, 1u);
}

constexpr int64_t kBlock = 1 << 20;

class ClientConnectionCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::MiniClusterOptions options;
    options.datanodes = 1;
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
    impl_ = dynamic_cast<FileSystemImpl*>(fs_.get());
    ASSERT_NE(impl_, nullptr);
  }

  // `count` reads of `size` bytes at random offsets through one stream, checked against `data`.
  void RandomPreads(InputStream& in, const std::string& data, int count, size_t size,
                    uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string buf(size, '\0');
    for (int i = 0; i < count; ++i) {
      const int64_t off = static_cast<int64_t>(rng() % (data.size() - size));
      Result<size_t> got = in.Pread(off, buf.data(), size);
      ASSERT_TRUE(got.ok()) << "read " << i << " at " << off << ": " << got.status();
      ASSERT_EQ(*got, size);
      ASSERT_EQ(buf, data.substr(static_cast<size_t>(off), size)) << "at " << off;
    }
  }

  std::unique_ptr<test::MiniCluster> cluster_;
  std::unique_ptr<FileSystem> fs_;
  FileSystemImpl* impl_ = nullptr;
};

TEST_F(ClientConnectionCacheTest, SmallPreadsReuseConnections) {
  const std::string data = test::RandomBytes(3 * kBlock + 777, 11);
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/f", data).ok());
  auto in = fs_->Open("/f");
  ASSERT_TRUE(in.ok()) << in.status();
  const auto before = impl_->connection_cache().stats();
  RandomPreads(**in, data, 100, 4096, 1);
  const auto after = impl_->connection_cache().stats();
  // Every read took a connection from the cache or opened one; only the first needs to open.
  const uint64_t opened = after.misses - before.misses;
  const uint64_t reused = after.hits - before.hits;
  EXPECT_GE(opened + reused, 100u);
  EXPECT_LE(opened, 5u) << "reused " << reused;
  EXPECT_GE(reused, 95u);
  // Whole-block sequential reads go through the same cache and stay correct.
  auto whole = test::ReadWholeFile(*fs_, "/f");
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(*whole, data);
}

TEST_F(ClientConnectionCacheTest, DatanodeRestartBetweenReadsDoesNotFailARead) {
  const std::string data = test::RandomBytes(2 * kBlock + 99, 12);
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/g", data).ok());
  auto in = fs_->Open("/g");
  ASSERT_TRUE(in.ok()) << in.status();
  RandomPreads(**in, data, 10, 4096, 2);
  ASSERT_GT(impl_->connection_cache().idle_count(), 0u);
  const std::string address = test::DatanodeDataAddress(cluster_->dir(), 0);

  ASSERT_TRUE(cluster_->KillDatanode(0).ok());
  ASSERT_TRUE(cluster_->RestartDatanode(0).ok());
  // The cached connections point at the dead process. Reads must go on without an error, on
  // the same stream when the datanode came back on its old port.
  if (test::DatanodeDataAddress(cluster_->dir(), 0) == address) {
    RandomPreads(**in, data, 20, 4096, 3);
  } else {
    auto again = fs_->Open("/g");
    ASSERT_TRUE(again.ok()) << again.status();
    RandomPreads(**again, data, 20, 4096, 3);
  }
  // No replica was reported bad on the way.
  auto corrupt = fs_->ListCorruptFileBlocks("/", 10);
  ASSERT_TRUE(corrupt.ok()) << corrupt.status();
  EXPECT_TRUE(corrupt->empty());
}

TEST_F(ClientConnectionCacheTest, ACachedConnectionThatLooksOpenButFailsIsReplaced) {
  const std::string data = test::RandomBytes(kBlock + 5, 14);
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/h", data).ok());
  auto in = fs_->Open("/h");
  ASSERT_TRUE(in.ok()) << in.status();
  RandomPreads(**in, data, 1, 4096, 4);
  const std::string address = test::DatanodeDataAddress(cluster_->dir(), 0);
  ASSERT_TRUE(impl_->connection_cache().Take(address).valid()) << "cached under " << address;
  // A connection that passes the cache's liveness check but refuses the op (its peer stopped
  // reading): the read must go on, on a new connection, and report nothing.
  auto [mine, peer] = SocketPair();
  ASSERT_EQ(::shutdown(peer.get(), SHUT_RD), 0);
  impl_->connection_cache().Put(address, std::move(mine));
  const auto before = impl_->connection_cache().stats();
  RandomPreads(**in, data, 1, 4096, 5);
  const auto after = impl_->connection_cache().stats();
  EXPECT_EQ(after.hits, before.hits + 1);  // the bad one was taken and used
  EXPECT_EQ(impl_->connection_cache().idle_count(), 1u);  // the fresh one came back
  RandomPreads(**in, data, 5, 4096, 6);
  auto corrupt = fs_->ListCorruptFileBlocks("/", 10);
  ASSERT_TRUE(corrupt.ok()) << corrupt.status();
  EXPECT_TRUE(corrupt->empty());
}

// Throughput of 4 KiB random Preads of a 256 MiB file, with the cache and with it emptied
// before every read (a new connection per read, as before the cache). Not a test: run with
// --gtest_also_run_disabled_tests --gtest_filter='*Throughput*'.
TEST_F(ClientConnectionCacheTest, DISABLED_RandomPreadThroughput) {
  const size_t size = 256u << 20;
  std::string data = test::RandomBytes(size, 13);
  ASSERT_TRUE(test::WriteWholeFile(*fs_, "/big", data, 1 << 20, 64 << 20).ok());
  auto in = fs_->Open("/big");
  ASSERT_TRUE(in.ok()) << in.status();
  const int reads = std::getenv("TALUS_BENCH_READS") ? std::atoi(std::getenv("TALUS_BENCH_READS"))
                                                     : 5000;
  std::string buf(4096, '\0');
  for (bool cached : {false, true, false, true}) {
    std::mt19937_64 rng(cached ? 21 : 22);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < reads; ++i) {
      if (!cached) impl_->connection_cache().Clear();
      const int64_t off = static_cast<int64_t>(rng() % (size - buf.size()));
      Result<size_t> got = (*in)->Pread(off, buf.data(), buf.size());
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_EQ(*got, buf.size());
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s: %d reads of 4 KiB in %.2f s = %.0f reads/s\n",
                cached ? "with cache   " : "connect/read ", reads, secs, reads / secs);
  }
}

}  // namespace
}  // namespace talus
