// Streams a file through the client with 3 replicas and prints the write and read rates (the
// benchmark proper is talus-bench; this keeps an eye on them in every test run). Asserts only
// that the bytes come back, never a rate: CI machines vary.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <algorithm>
#include <cstdlib>

#include "common/crc32c.h"
#include "talus/file_system.h"
#include "test/support/client_data_util.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

// Resident memory of this process, in bytes (0 if unknown).
size_t ResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long pages = 0, resident = 0;
  const int got = std::fscanf(f, "%ld %ld", &pages, &resident);
  std::fclose(f);
  return got == 2 ? static_cast<size_t>(resident) * 4096 : 0;
}

double MibPerSecond(size_t bytes, std::chrono::steady_clock::duration d) {
  return static_cast<double>(bytes) / (1 << 20) / std::chrono::duration<double>(d).count();
}

TEST(ClientThroughputTest, WriteThenReadWithThreeReplicas) {
  const char* env = std::getenv("TALUS_THROUGHPUT_MIB");
  const size_t total = static_cast<size_t>(env != nullptr ? std::atoi(env) : 64) << 20;
  test::MiniClusterOptions options;
  options.datanodes = 3;
  auto started = test::MiniCluster::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<test::MiniCluster> cluster = std::move(*started);
  ClientOptions client;
  // TALUS_THROUGHPUT_PACKET_KIB tries another write packet size (tuning).
  if (const char* packet = std::getenv("TALUS_THROUGHPUT_PACKET_KIB")) {
    client.write_packet_bytes = std::atoi(packet) * 1024;
    client.max_packets_in_flight =
        std::max(4, client.max_packets_in_flight * (64 * 1024) / client.write_packet_bytes);
  }
  auto fs = FileSystem::Connect(cluster->uri(), client);
  ASSERT_TRUE(fs.ok()) << fs.status();

  const std::string piece = test::RandomBytes(1 << 20, 1);
  uint32_t crc = 0;
  for (size_t off = 0; off < total; off += piece.size()) {
    crc = crc32c::Extend(crc, piece.data(), piece.size());
  }
  CreateOptions create;
  create.block_size = 16LL << 20;
  auto t0 = std::chrono::steady_clock::now();
  auto out = (*fs)->Create("/throughput", create);
  ASSERT_TRUE(out.ok()) << out.status();
  size_t rss_after_first_block = 0;
  for (size_t off = 0; off < total; off += piece.size()) {
    ASSERT_TRUE((*out)->Write(piece.data(), piece.size()).ok());
    if (off + piece.size() == static_cast<size_t>(create.block_size)) {
      rss_after_first_block = ResidentBytes();
    }
  }
  // The writer's memory is its packets in flight, whatever the file's size: past the first
  // block (buffers and threads all set up by then) it must not grow with the data.
  const size_t rss_at_end = ResidentBytes();
  if (rss_after_first_block > 0 && total > 2 * static_cast<size_t>(create.block_size)) {
    EXPECT_LT(rss_at_end, rss_after_first_block + (16u << 20))
        << "client memory grew from " << (rss_after_first_block >> 20) << " MiB to "
        << (rss_at_end >> 20) << " MiB while writing";
  }
  Status closed = (*out)->Close();
  ASSERT_TRUE(closed.ok()) << closed;
  auto t1 = std::chrono::steady_clock::now();

  auto in = (*fs)->Open("/throughput");
  ASSERT_TRUE(in.ok()) << in.status();
  std::string buf(4 << 20, '\0');
  size_t got = 0;
  uint32_t read_crc = 0;
  while (true) {
    auto n = (*in)->Read(buf.data(), buf.size());
    ASSERT_TRUE(n.ok()) << n.status();
    if (*n == 0) break;
    read_crc = crc32c::Extend(read_crc, buf.data(), *n);
    got += *n;
  }
  auto t2 = std::chrono::steady_clock::now();
  EXPECT_EQ(got, total);
  EXPECT_EQ(read_crc, crc);
  std::printf("client throughput: %zu MiB, write %.1f MiB/s (3 replicas, durable at close), "
              "read %.1f MiB/s (checksums verified; includes the test's own CRC)\n",
              total >> 20, MibPerSecond(total, t1 - t0), MibPerSecond(total, t2 - t1));
}

}  // namespace
}  // namespace talus
