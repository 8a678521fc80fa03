// The namenode's datanode-facing service on its own port: what a datanode sends at start
// (register, heartbeat, full block report) is answered, and replicas the namespace does not
// know come back as delete commands, as HDFS's namenode answers them.
#include <gtest/gtest.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include <string>

#include "talus/file_system.h"
#include "talus_rpc/DatanodeNamenode.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

TEST(DatanodeServiceTest, RegistrationHeartbeatAndBlockReportOverRpc) {
  auto started = test::MiniCluster::Start();
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<test::MiniCluster> cluster = std::move(*started);
  const std::string address = cluster->namenode_service_address(0);
  ASSERT_FALSE(address.empty());
  ASSERT_NE(address, cluster->namenode_address(0));  // clients and datanodes are kept apart
  const size_t colon = address.rfind(':');
  auto socket = std::make_shared<apache::thrift::transport::TSocket>(
      address.substr(0, colon), std::stoi(address.substr(colon + 1)));
  auto transport = std::make_shared<apache::thrift::transport::TFramedTransport>(socket);
  transport->open();
  rpc::DatanodeNamenodeClient dn(
      std::make_shared<apache::thrift::protocol::TBinaryProtocol>(transport));

  rpc::DatanodeId id;
  id.storage_id = "DS-test-0001";
  id.host = "127.0.0.1";
  id.data_port = 50010;
  id.rpc_port = 50020;
  rpc::DatanodeId registered;
  dn.registerDatanode(registered, id, "");
  EXPECT_EQ(registered.storage_id, id.storage_id);

  rpc::StorageReport volume;
  volume.volume_id = "vol-0";
  volume.capacity = 100LL << 30;
  volume.used = 1LL << 30;
  volume.remaining = 99LL << 30;
  volume.failed = false;
  rpc::HeartbeatResponse beat;
  dn.heartbeat(beat, id, {volume}, 0, 0);
  EXPECT_TRUE(beat.from_leader);
  // What the datanode reported is the cluster's capacity, as clients see it (talus dfs -df).
  auto fs = FileSystem::Connect(cluster->uri());
  ASSERT_TRUE(fs.ok());
  auto stats = (*fs)->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->capacity, volume.capacity);
  EXPECT_EQ(stats->used, volume.used);
  EXPECT_EQ(stats->remaining, volume.remaining);

  // A replica of a block no file has: the namenode answers with a delete for it.
  rpc::ReportedReplica stray;
  stray.block.block_id = 123456789;
  stray.block.generation_stamp = 1001;
  stray.block.num_bytes = 4096;
  stray.state = rpc::ReplicaState::FINALIZED;
  dn.blockReport(id, "vol-0", {stray});
  dn.heartbeat(beat, id, {volume}, 0, 0);
  bool told_to_delete = false;
  for (const rpc::DatanodeCommand& command : beat.commands) {
    if (command.type != rpc::DatanodeCommandType::DELETE_BLOCKS) continue;
    for (const rpc::ExtendedBlock& b : command.blocks) {
      told_to_delete = told_to_delete || b.block_id == stray.block.block_id;
    }
  }
  EXPECT_TRUE(told_to_delete);

  // A heartbeat from a node the namenode does not know (say, after a namenode restart) is told
  // to register again, as HDFS's namenode answers it.
  rpc::DatanodeId stranger = id;
  stranger.storage_id = "DS-unknown";
  dn.heartbeat(beat, stranger, {volume}, 0, 0);
  bool told_to_register = false;
  for (const rpc::DatanodeCommand& command : beat.commands) {
    told_to_register = told_to_register || command.type == rpc::DatanodeCommandType::REREGISTER;
  }
  EXPECT_TRUE(told_to_register);
}

}  // namespace
}  // namespace talus
