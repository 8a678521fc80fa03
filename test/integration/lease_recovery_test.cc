// A writer that creates a file and disappears without closing it: after the lease hard limit
// the namenode closes the file by itself. The writer here speaks raw Thrift, as a client that
// crashed right after create would have.
#include <gtest/gtest.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include <chrono>
#include <string>

#include "talus/file_system.h"
#include "talus_rpc/ClientNamenode.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

TEST(LeaseRecoveryTest, FileOfAVanishedWriterIsClosedAfterTheHardLimit) {
  test::MiniClusterOptions options;
  options.extra_flags = {"--lease_soft_limit_ms=300", "--lease_hard_limit_ms=1000",
                         "--lease_check_interval_ms=100"};
  auto started = test::MiniCluster::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<test::MiniCluster> cluster = std::move(*started);

  auto fs = FileSystem::Connect(cluster->uri());
  ASSERT_TRUE(fs.ok());
  const std::string address = cluster->namenode_address(0);
  const size_t colon = address.rfind(':');
  auto socket = std::make_shared<apache::thrift::transport::TSocket>(
      address.substr(0, colon), std::stoi(address.substr(colon + 1)));
  auto transport = std::make_shared<apache::thrift::transport::TFramedTransport>(socket);
  transport->open();
  rpc::ClientNamenodeClient raw(
      std::make_shared<apache::thrift::protocol::TBinaryProtocol>(transport));
  rpc::RequestHeader h;
  h.user = (*fs)->user();  // the superuser of this test namenode: it may write to "/"
  h.client_id = std::string(16, 'w');
  h.call_id = 1;
  ASSERT_TRUE(raw.mkdirs(h, "/leases", 0777, true));
  h.call_id = 2;
  rpc::FileStatus created;
  raw.create(created, h, "/leases/orphan", 0644, "vanished-writer", false, false, 3, 1 << 20);
  EXPECT_TRUE(created.__isset.under_construction && created.under_construction);
  // A second writer renews its lease all along and keeps its file open.
  h.call_id = 3;
  raw.create(created, h, "/leases/kept", 0644, "live-writer", false, false, 3, 1 << 20);
  transport->close();

  auto closed = [&] {
    auto info = (*fs)->GetFileInfo("/leases/orphan");
    return info.ok() && !info->under_construction;
  };
  auto renew = [&] {
    transport->open();
    rpc::RequestHeader r = h;
    r.call_id = 0;
    raw.renewLease(r, "live-writer");
    transport->close();
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  // Renew the live writer's lease every 100 ms (as its client library would) while waiting.
  bool recovered = false;
  while (!recovered && std::chrono::steady_clock::now() < deadline) {
    renew();
    recovered = test::WaitFor(closed, std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(closed()) << "the namenode did not recover the orphaned file's lease";
  auto kept = (*fs)->GetFileInfo("/leases/kept");
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept->under_construction) << "a renewed lease was recovered";
  // The closed file is an ordinary file again: its old writer can no longer complete it.
  transport->open();
  rpc::RequestHeader late = h;
  late.call_id = 10;
  rpc::ExtendedBlock none;
  none.block_id = 0;
  none.generation_stamp = 0;
  none.num_bytes = 0;
  try {
    raw.complete(late, "/leases/orphan", "vanished-writer", none, 0);
    ADD_FAILURE() << "complete after lease recovery succeeded";
  } catch (const rpc::TalusError& e) {
    EXPECT_EQ(e.code, rpc::ErrorCode::LEASE_CONFLICT);
  }
}

}  // namespace
}  // namespace talus
