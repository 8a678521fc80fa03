// A writer killed with SIGKILL in the middle of a file: after the lease hard limit the namenode
// recovers the lease, the file is closed, readable, and holds a prefix of what was written that
// includes everything the writer had hflushed.
//
// The writer must be its own process. This test binary is that program too: started with
// TALUS_CRASH_WRITER_PATH in its environment, it writes instead of running the tests (see
// RunWriterIfAsked below, which runs before main).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "client/namenode_proxy.h"
#include "client/stream/datanode_client.h"
#include "client/stream/proxy_data_namenode.h"
#include "common/crc32c.h"
#include "talus/file_system.h"
#include "test/support/client_data_util.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

constexpr int64_t kBlock = 1 << 20;
constexpr size_t kFlushed = kBlock + kBlock / 2 + 123;  // hflushed, mid-chunk, in block 2
constexpr size_t kTotal = kFlushed + 300000;            // more, never flushed
constexpr uint64_t kSeed = 77;

// The child: writes kFlushed bytes, hflushes, says so on stdout, writes the rest, says so,
// and waits to be killed.
[[noreturn]] void WriterMain(const char* uri, const char* path) {
  auto fs = FileSystem::Connect(uri);
  if (!fs.ok()) {
    std::fprintf(stderr, "connect: %s\n", fs.status().ToString().c_str());
    std::_Exit(2);
  }
  CreateOptions options;
  options.block_size = kBlock;
  auto out = (*fs)->Create(path, options);
  if (!out.ok()) {
    std::fprintf(stderr, "create: %s\n", out.status().ToString().c_str());
    std::_Exit(3);
  }
  const std::string data = test::RandomBytes(kTotal, kSeed);
  Status s = (*out)->Write(data.data(), kFlushed);
  if (s.ok()) s = (*out)->Hflush();
  if (!s.ok()) {
    std::fprintf(stderr, "write: %s\n", s.ToString().c_str());
    std::_Exit(4);
  }
  std::printf("flushed\n");
  std::fflush(stdout);
  s = (*out)->Write(data.data() + kFlushed, kTotal - kFlushed);
  std::printf("written %s\n", s.ok() ? "ok" : s.ToString().c_str());
  std::fflush(stdout);
  while (true) pause();
}

const bool kWriterRan = [] {
  const char* path = std::getenv("TALUS_CRASH_WRITER_PATH");
  const char* uri = std::getenv("TALUS_CRASH_WRITER_FS");
  if (path != nullptr && uri != nullptr) WriterMain(uri, path);
  return false;
}();

// Reads lines from fd until one starts with `prefix` or the timeout passes.
bool WaitForLine(int fd, const std::string& prefix, std::string* seen,
                 std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    size_t start = 0;
    while (true) {
      size_t nl = seen->find('\n', start);
      if (nl == std::string::npos) break;
      if (seen->compare(start, prefix.size(), prefix) == 0) return true;
      start = nl + 1;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) return false;
    seen->append(buf, static_cast<size_t>(n));
  }
  return false;
}

TEST(ClientWriterCrashTest, KilledWritersFileIsRecoveredToAFlushedPrefix) {
  test::MiniClusterOptions options;
  options.datanodes = 3;
  options.extra_flags = {"--heartbeat_interval_ms=200", "--lease_soft_limit_ms=300",
                         "--lease_hard_limit_ms=1000", "--lease_check_interval_ms=100",
                         "--block_recovery_retry_ms=2000"};
  auto started = test::MiniCluster::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<test::MiniCluster> cluster = std::move(*started);
  auto fs = FileSystem::Connect(cluster->uri());
  ASSERT_TRUE(fs.ok()) << fs.status();
  ASSERT_TRUE((*fs)->Mkdirs("/crash").ok());

  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  const std::string path_env = "TALUS_CRASH_WRITER_PATH=/crash/file";
  const std::string fs_env = "TALUS_CRASH_WRITER_FS=" + cluster->uri();
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    char* argv[] = {const_cast<char*>("client_writer_crash_test"), nullptr};
    char* envp[] = {const_cast<char*>(path_env.c_str()), const_cast<char*>(fs_env.c_str()),
                    nullptr};
    ::execve("/proc/self/exe", argv, envp);
    std::_Exit(127);
  }
  ::close(pipe_fds[1]);
  std::string seen;
  const bool flushed = WaitForLine(pipe_fds[0], "flushed", &seen, std::chrono::seconds(30));
  // Let the unflushed tail get under way, then kill the writer mid-file.
  WaitForLine(pipe_fds[0], "written", &seen, std::chrono::seconds(10));
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(pipe_fds[0]);
  ASSERT_TRUE(flushed) << "the writer never hflushed; it said: " << seen;

  // Lease recovery closes the file by itself.
  EXPECT_TRUE(test::WaitFor(
      [&] {
        auto info = (*fs)->GetFileInfo("/crash/file");
        return info.ok() && !info->under_construction;
      },
      std::chrono::seconds(40)))
      << "the killed writer's file was never closed";
  auto info = (*fs)->GetFileInfo("/crash/file");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_GE(info->length, static_cast<int64_t>(kFlushed));
  EXPECT_LE(info->length, static_cast<int64_t>(kTotal));
  const std::string data = test::RandomBytes(kTotal, kSeed);
  auto back = test::ReadWholeFile(**fs, "/crash/file");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->size(), static_cast<size_t>(info->length));
  EXPECT_TRUE(back->compare(0, back->size(), data, 0, back->size()) == 0)
      << "the recovered file is not a prefix of what was written";
  // Every replica of every block holds its part of that prefix: asked one by one, each
  // replica's CRC (BLOCK_CHECKSUM) matches the bytes written there.
  auto uri = ParseTalusUri(cluster->uri());
  ASSERT_TRUE(uri.ok());
  NamenodeProxy proxy(*uri, ClientOptions{}, (*fs)->user());
  client::ProxyDataNamenode namenode(&proxy);
  auto located = namenode.GetBlockLocations("/crash/file", 0, info->length);
  ASSERT_TRUE(located.ok()) << located.status();
  ASSERT_FALSE(located->blocks.empty());
  size_t replicas_checked = 0;
  for (const client::LocatedBlock& lb : located->blocks) {
    EXPECT_FALSE(lb.locations.empty()) << lb.block.Name();
    for (const client::DatanodeInfo& node : lb.locations) {
      auto crc = client::GetBlockCrc(node, lb.block, 10000);
      ASSERT_TRUE(crc.ok()) << crc.status();
      EXPECT_EQ(crc->crc, crc32c::Value(data.data() + lb.offset, lb.block.num_bytes))
          << lb.block.Name() << " on " << node.DataAddress();
      ++replicas_checked;
    }
  }
  EXPECT_GE(replicas_checked, located->blocks.size());
  auto sum = (*fs)->GetFileChecksum("/crash/file");
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(sum->crc, crc32c::Value(data.data(), static_cast<size_t>(info->length)));
  // The file can be appended to again (the lease is free).
  auto out = (*fs)->Append("/crash/file");
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE((*out)->Write("tail", 4).ok());
  ASSERT_TRUE((*out)->Close().ok());
}

}  // namespace
}  // namespace talus
