// A writer that goes quiet for longer than the datanodes' socket timeout keeps its pipeline:
// the client's streamer sends empty heartbeat packets while idle.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "talus/file_system.h"
#include "test/support/client_data_util.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

TEST(ClientIdleWriterTest, PipelineSurvivesAnIdleWriter) {
  test::MiniClusterOptions options;
  options.datanodes = 3;
  options.extra_flags = {"--heartbeat_interval_ms=200", "--transfer_socket_timeout_ms=1000"};
  auto started = test::MiniCluster::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<test::MiniCluster> cluster = std::move(*started);
  ClientOptions client;
  client.datanode_timeout_ms = 1000;  // heartbeats every 500 ms
  auto fs = FileSystem::Connect(cluster->uri(), client);
  ASSERT_TRUE(fs.ok()) << fs.status();
  CreateOptions create;
  create.block_size = 1 << 20;
  auto out = (*fs)->Create("/idle", create);
  ASSERT_TRUE(out.ok()) << out.status();
  const std::string data = test::RandomBytes(200000, 8);
  ASSERT_TRUE((*out)->Write(data.data(), 100000).ok());
  ASSERT_TRUE((*out)->Hflush().ok());
  // Idle for three datanode socket timeouts: the point of the test, not a synchronisation.
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  Status s = (*out)->Write(data.data() + 100000, 100000);
  if (s.ok()) s = (*out)->Close();
  ASSERT_TRUE(s.ok()) << s;
  auto back = test::ReadWholeFile(**fs, "/idle");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == data);
}

}  // namespace
}  // namespace talus
