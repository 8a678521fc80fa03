// The DatanodeProtocol Thrift service on a running datanode's RPC port, as clients (visible
// length) and recovering peers (initReplicaRecovery) call it, including what it must refuse.
#include <gtest/gtest.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include <filesystem>
#include <regex>
#include <string>

#include "talus/file_system.h"
#include "talus_rpc/DatanodeProtocol.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

struct Peer {
  std::shared_ptr<apache::thrift::transport::TSocket> socket;
  std::shared_ptr<apache::thrift::transport::TTransport> transport;
  std::unique_ptr<rpc::DatanodeProtocolClient> client;
};

Peer Connect(const std::string& address) {
  size_t colon = address.rfind(':');
  auto socket = std::make_shared<apache::thrift::transport::TSocket>(
      address.substr(0, colon), std::stoi(address.substr(colon + 1)));
  socket->setRecvTimeout(10000);
  Peer p;
  p.socket = socket;
  p.transport = std::make_shared<apache::thrift::transport::TFramedTransport>(socket);
  p.client = std::make_unique<rpc::DatanodeProtocolClient>(
      std::make_shared<apache::thrift::protocol::TBinaryProtocol>(p.transport));
  p.transport->open();
  return p;
}

// The generation stamp of block `id` on a datanode, from its meta file name.
int64_t StampOnDisk(const test::MiniCluster& mc, int dn, uint64_t id) {
  std::regex meta("blk_" + std::to_string(id) + "_([0-9]+)\\.meta");
  for (const auto& dir : mc.datanode_data_dirs(dn)) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
      std::smatch m;
      std::string name = e.path().filename().string();
      if (std::regex_match(name, m, meta)) return std::stoll(m[1].str());
    }
  }
  return -1;
}

// The error code a call failed with, or -1 when it succeeded.
template <typename Fn>
int ErrorOf(Fn&& fn) {
  try {
    fn();
    return -1;
  } catch (const rpc::TalusError& e) {
    return static_cast<int>(e.code);
  }
}

TEST(DatanodeProtocolTest, VisibleLengthAndRecoveryRefusalsOverRpc) {
  auto started = test::MiniCluster::Start(
      {.datanodes = 3, .extra_flags = {"--heartbeat_interval_ms=200"}});
  ASSERT_TRUE(started.ok()) << started.status();
  test::MiniCluster& mc = **started;
  auto fs = FileSystem::Connect(mc.uri());
  ASSERT_TRUE(fs.ok()) << fs.status();
  const std::string data(12345, 'v');
  {
    auto out = (*fs)->Create("/v");
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_TRUE((*out)->Write(data.data(), data.size()).ok());
    ASSERT_TRUE((*out)->Close().ok());
  }
  auto located = (*fs)->GetFileBlockLocations("/v", 0, 1);
  ASSERT_TRUE(located.ok() && located->size() == 1u);
  rpc::ExtendedBlock block;
  block.block_id = static_cast<int64_t>((*located)[0].block_id);
  block.generation_stamp = StampOnDisk(mc, 0, (*located)[0].block_id);
  block.num_bytes = static_cast<int64_t>(data.size());
  ASSERT_GT(block.generation_stamp, 0);

  Peer peer = Connect(mc.datanode_rpc_address(0));
  // A finalized replica's visible length is its length.
  EXPECT_EQ(peer.client->getReplicaVisibleLength(block), static_cast<int64_t>(data.size()));

  // An unknown block, a malformed one, and a recovery id not newer than the replica's stamp.
  rpc::ExtendedBlock unknown = block;
  unknown.block_id += 1000;
  EXPECT_EQ(ErrorOf([&] { peer.client->getReplicaVisibleLength(unknown); }),
            static_cast<int>(rpc::ErrorCode::NOT_FOUND));
  rpc::ReplicaRecoveryInfo info;
  EXPECT_EQ(ErrorOf([&] {
              peer.client->initReplicaRecovery(info, unknown, block.generation_stamp + 5);
            }),
            static_cast<int>(rpc::ErrorCode::NOT_FOUND));
  rpc::ExtendedBlock bad = block;
  bad.block_id = -1;
  EXPECT_EQ(ErrorOf([&] { peer.client->getReplicaVisibleLength(bad); }),
            static_cast<int>(rpc::ErrorCode::INVALID_ARGUMENT));
  EXPECT_EQ(ErrorOf([&] {
              peer.client->initReplicaRecovery(info, block, block.generation_stamp);
            }),
            static_cast<int>(rpc::ErrorCode::INVALID_ARGUMENT));
  // Updating a replica that is not under that recovery is refused, and changes nothing.
  rpc::ExtendedBlock result;
  EXPECT_EQ(ErrorOf([&] {
              peer.client->updateReplicaUnderRecovery(result, block, block.generation_stamp + 1,
                                                      100);
            }),
            static_cast<int>(rpc::ErrorCode::INVALID_ARGUMENT));
  EXPECT_EQ(StampOnDisk(mc, 0, static_cast<uint64_t>(block.block_id)), block.generation_stamp);
  EXPECT_EQ(peer.client->getReplicaVisibleLength(block), static_cast<int64_t>(data.size()));
  // Garbage on the RPC port costs only its own connection.
  for (int round = 0; round < 20; ++round) {
    std::string junk(1 + (round * 7919) % 3000, '\0');
    uint32_t x = static_cast<uint32_t>(round) * 2654435761u + 1;
    for (char& c : junk) {
      x = x * 1103515245 + 12345;
      c = static_cast<char>(x >> 16);
    }
    Peer raw = Connect(mc.datanode_rpc_address(0));
    try {
      if (round % 2 == 0) {
        // Unframed: a frame length far over the limit, then noise.
        junk.replace(0, 4, std::string("\x7f\xff\xff\xff", 4));
        raw.socket->write(reinterpret_cast<const uint8_t*>(junk.data()),
                          static_cast<uint32_t>(junk.size()));
      } else {
        // A well-formed frame holding no valid call.
        raw.transport->write(reinterpret_cast<const uint8_t*>(junk.data()),
                             static_cast<uint32_t>(junk.size()));
        raw.transport->flush();
      }
    } catch (const apache::thrift::TException&) {
      // The datanode may close first; that is its right.
    }
  }
  Peer again = Connect(mc.datanode_rpc_address(0));
  EXPECT_EQ(again.client->getReplicaVisibleLength(block), static_cast<int64_t>(data.size()));
  EXPECT_GT(mc.datanode_pid(0), 0);

  // The datanode still serves the file.
  auto in = (*fs)->Open("/v");
  ASSERT_TRUE(in.ok()) << in.status();
  std::string back(data.size(), '\0');
  auto n = (*in)->Pread(0, back.data(), back.size());
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(back, data);
}

}  // namespace
}  // namespace talus
