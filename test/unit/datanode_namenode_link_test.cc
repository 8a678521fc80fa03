// NamenodeLink against a scripted namenode: the order register -> full report -> heartbeat,
// incremental reports sent at once (not with the next heartbeat), commands obeyed only from
// the leader, REREGISTER and a namenode restart both leading to a new registration and report.
#include "datanode/server/namenode_link.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "common/rpc/async_thrift_server.h"
#include "talus_rpc/DatanodeNamenode.h"
#include "test/support/mini_cluster.h"

namespace talus::datanode {
namespace {

using namespace std::chrono_literals;
using ExnCob = std::function<void(apache::thrift::TDelayedException*)>;

class FakeNamenode : public rpc::DatanodeNamenodeCobSvIf {
 public:
  void registerDatanode(std::function<void(const rpc::DatanodeId&)> cob, ExnCob,
                        const rpc::DatanodeId& id, const std::string&) override {
    Record("register");
    cob(id);
  }
  void heartbeat(std::function<void(const rpc::HeartbeatResponse&)> cob, ExnCob,
                 const rpc::DatanodeId&, const std::vector<rpc::StorageReport>& reports, int32_t,
                 int32_t) override {
    rpc::HeartbeatResponse response;
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back("heartbeat");
      last_capacity_ = reports.empty() ? -1 : reports[0].capacity;
      response.from_leader = leader_;
      response.commands.swap(next_commands_);
    }
    cob(response);
  }
  void blockReport(std::function<void()> cob, ExnCob, const rpc::DatanodeId&,
                   const std::string& volume_id,
                   const std::vector<rpc::ReportedReplica>& replicas) override {
    Record("report " + volume_id + " " + std::to_string(replicas.size()));
    cob();
  }
  void blockReceivedAndDeleted(std::function<void()> cob, ExnCob, const rpc::DatanodeId&,
                               const std::vector<rpc::ReceivedDeletedBlock>& blocks) override {
    for (const auto& b : blocks) {
      Record("received " + std::to_string(b.block.block_id) + " " + std::to_string(b.status));
    }
    cob();
  }
  void reportBadBlocks(std::function<void()> cob, ExnCob, const rpc::DatanodeId&,
                       const std::vector<rpc::ExtendedBlock>& blocks) override {
    for (const auto& b : blocks) Record("bad " + std::to_string(b.block_id));
    cob();
  }
  void commitBlockSynchronization(std::function<void()> cob, ExnCob, const rpc::DatanodeId&,
                                  const rpc::ExtendedBlock&, const rpc::ExtendedBlock& nb,
                                  const std::vector<std::string>& ids, bool, bool) override {
    Record("commit " + std::to_string(nb.num_bytes) + " " + std::to_string(ids.size()));
    cob();
  }

  void Script(bool leader, std::vector<rpc::DatanodeCommand> commands) {
    std::lock_guard<std::mutex> lock(mu_);
    leader_ = leader;
    next_commands_ = std::move(commands);
  }
  int Count(const std::string& prefix) const {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& c : calls_) n += c.rfind(prefix, 0) == 0 ? 1 : 0;
    return n;
  }
  std::vector<std::string> Calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  int64_t last_capacity() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_capacity_;
  }

 private:
  void Record(const std::string& call) {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(call);
  }
  mutable std::mutex mu_;
  std::vector<std::string> calls_;
  bool leader_ = true;
  std::vector<rpc::DatanodeCommand> next_commands_;
  int64_t last_capacity_ = 0;
};

class FakeOwner : public LinkOwner {
 public:
  DatanodeIdentity Identity() const override { return {"DS-fake", "127.0.0.1", 1, 2}; }
  std::vector<VolumeState> Volumes() const override {
    return {{"vol-a", 1000, 10, 900, false}, {"vol-b", 1000, 0, 1000, volume_b_failed.load()}};
  }
  std::vector<VolumeBlockReport> FullBlockReport() const override {
    return {{"vol-a", {{{5, 1001, 10}, ReplicaState::kFinalized},
                       {{6, 1001, 0}, ReplicaState::kRwr}}},
            {"vol-b", {}}};
  }
  int ActiveTransfers() const override { return 0; }
  void DeleteBlocks(std::vector<BlockRef> blocks) override {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& b : blocks) deleted.push_back(b.id);
  }
  void RecoverBlocks(std::vector<RecoveryCommand> commands, NamenodeLink*) override {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& c : commands) recoveries.push_back(c);
  }
  void ReplicateBlocks(std::vector<TransferCommand> commands) override {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& c : commands) transfers.push_back(c);
  }
  size_t Transfers() {
    std::lock_guard<std::mutex> lock(mu);
    return transfers.size();
  }
  size_t Deleted() {
    std::lock_guard<std::mutex> lock(mu);
    return deleted.size();
  }
  std::atomic<bool> volume_b_failed{false};
  std::mutex mu;
  std::vector<uint64_t> deleted;
  std::vector<RecoveryCommand> recoveries;
  std::vector<TransferCommand> transfers;
};

class NamenodeLinkTest : public ::testing::Test {
 protected:
  void StartNamenode(int port = 0) {
    namenode_ = std::make_shared<FakeNamenode>();
    AsyncThriftServerOptions options;
    options.port = port;
    options.io_threads = 1;
    auto server = AsyncThriftServer::Start(
        std::make_shared<rpc::DatanodeNamenodeAsyncProcessor>(namenode_), options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  std::unique_ptr<NamenodeLink> Link(int64_t heartbeat_ms, int64_t report_ms = 3600000) {
    NamenodeLinkOptions options;
    options.host = "127.0.0.1";
    options.port = server_->port();
    options.heartbeat_interval_ms = heartbeat_ms;
    options.block_report_interval_ms = report_ms;
    options.rpc_timeout_ms = 5000;
    return std::make_unique<NamenodeLink>(options, &owner_);
  }

  FakeOwner owner_;
  std::shared_ptr<FakeNamenode> namenode_;
  std::unique_ptr<AsyncThriftServer> server_;
};

rpc::DatanodeCommand DeleteCommand(int64_t id) {
  rpc::DatanodeCommand c;
  c.type = rpc::DatanodeCommandType::DELETE_BLOCKS;
  rpc::ExtendedBlock b;
  b.block_id = id;
  b.generation_stamp = 1001;
  b.num_bytes = 0;
  c.__set_blocks({b});
  return c;
}

TEST_F(NamenodeLinkTest, RegistersReportsHeartbeatsAndSendsIncrementalReportsAtOnce) {
  StartNamenode();
  auto link = Link(/*heartbeat_ms=*/60000);
  link->Start();
  ASSERT_TRUE(test::WaitFor([&] { return namenode_->Count("heartbeat") == 1; }, 10s));
  auto calls = namenode_->Calls();
  ASSERT_GE(calls.size(), 4u);
  EXPECT_EQ(calls[0], "register");
  EXPECT_EQ(calls[1], "report vol-a 2");
  EXPECT_EQ(calls[2], "report vol-b 0");  // every volume is reported, an empty one too
  EXPECT_EQ(calls[3], "heartbeat");
  EXPECT_EQ(namenode_->last_capacity(), 1000);
  EXPECT_TRUE(link->registered());

  // A minute to the next heartbeat: the incremental report and the bad replica go now.
  link->Notify(BlockRef{7, 1001, 100}, BlockEvent::kReceived);
  link->Notify(BlockRef{8, 1001, 0}, BlockEvent::kDeleted);
  link->ReportBadReplica(BlockRef{9, 1001, 5});
  EXPECT_TRUE(test::WaitFor([&] { return namenode_->Count("bad 9") == 1; }, 5s));
  EXPECT_EQ(namenode_->Count("received 7 2"), 1);  // RECEIVED
  EXPECT_EQ(namenode_->Count("received 8 3"), 1);  // DELETED
  EXPECT_EQ(namenode_->Count("heartbeat"), 1);

  // The recovery outcome goes on its own connection.
  EXPECT_TRUE(link->CommitBlockSynchronization({7, 1001, 100}, {7, 1002, 50}, {"a", "b"}, true,
                                               false)
                  .ok());
  EXPECT_EQ(namenode_->Count("commit 50 2"), 1);
  link->Stop();
}

TEST_F(NamenodeLinkTest, FullReportsRepeatAtTheirInterval) {
  StartNamenode();
  auto link = Link(/*heartbeat_ms=*/60000, /*report_ms=*/30);
  link->Start();
  EXPECT_TRUE(test::WaitFor([&] { return namenode_->Count("report vol-a 2") >= 3; }, 10s));
  EXPECT_EQ(namenode_->Count("register"), 1);
  EXPECT_EQ(namenode_->Count("heartbeat"), 1);
}

TEST_F(NamenodeLinkTest, AFailedVolumeBringsAFullReportAtOnce) {
  StartNamenode();
  auto link = Link(/*heartbeat_ms=*/20);
  link->Start();
  ASSERT_TRUE(test::WaitFor([&] { return namenode_->Count("heartbeat") >= 3; }, 10s));
  EXPECT_EQ(namenode_->Count("report vol-b"), 1);
  owner_.volume_b_failed = true;
  EXPECT_TRUE(test::WaitFor([&] { return namenode_->Count("report vol-b") == 2; }, 10s));
  ASSERT_TRUE(test::WaitFor([&] { return namenode_->Count("heartbeat") >= 10; }, 10s));
  EXPECT_EQ(namenode_->Count("report vol-b"), 2) << "one report per failure, not per heartbeat";
}

TEST_F(NamenodeLinkTest, ObeysOnlyTheLeadersCommands) {
  StartNamenode();
  namenode_->Script(/*leader=*/false, {DeleteCommand(11)});
  auto link = Link(/*heartbeat_ms=*/20);
  link->Start();
  ASSERT_TRUE(test::WaitFor([&] { return namenode_->Count("heartbeat") >= 3; }, 10s));
  EXPECT_EQ(owner_.Deleted(), 0u);

  rpc::DatanodeCommand recover;
  recover.type = rpc::DatanodeCommandType::RECOVER_BLOCKS;
  rpc::RecoveringBlock rb;
  rb.block.block_id = 12;
  rb.block.generation_stamp = 1001;
  rb.block.num_bytes = 0;
  rb.new_generation_stamp = 1003;
  rpc::DatanodeId loc;
  loc.storage_id = "DS-peer";
  loc.host = "127.0.0.1";
  loc.data_port = 3;
  loc.rpc_port = 4;
  rb.locations = {loc};
  recover.__set_recoveries({rb});
  namenode_->Script(/*leader=*/true, {DeleteCommand(11), recover});
  ASSERT_TRUE(test::WaitFor([&] { return owner_.Deleted() == 1; }, 10s));
  std::lock_guard<std::mutex> lock(owner_.mu);
  EXPECT_EQ(owner_.deleted[0], 11u);
  ASSERT_EQ(owner_.recoveries.size(), 1u);
  EXPECT_EQ(owner_.recoveries[0].block.id, 12u);
  EXPECT_EQ(owner_.recoveries[0].new_genstamp, 1003u);
  ASSERT_EQ(owner_.recoveries[0].locations.size(), 1u);
  EXPECT_EQ(owner_.recoveries[0].locations[0].rpc_port, 4);
}

rpc::DatanodeId Target(const std::string& host, int data_port) {
  rpc::DatanodeId id;
  id.storage_id = "DS-" + std::to_string(data_port);
  id.host = host;
  id.data_port = data_port;
  id.rpc_port = 1;
  return id;
}

TEST_F(NamenodeLinkTest, ReplicateBlocksFromTheLeaderReachTheOwnerWithTheirTargets) {
  StartNamenode();
  rpc::DatanodeCommand replicate;
  replicate.type = rpc::DatanodeCommandType::REPLICATE_BLOCKS;
  rpc::BlockTransfer good;
  good.block.block_id = 31;
  good.block.generation_stamp = 1001;
  good.block.num_bytes = 4096;
  good.targets = {Target("127.0.0.1", 5001), Target("127.0.0.2", 5002)};
  rpc::BlockTransfer no_targets = good;
  no_targets.block.block_id = 32;
  no_targets.targets.clear();
  rpc::BlockTransfer bad_port = good;
  bad_port.block.block_id = 33;
  bad_port.targets = {Target("127.0.0.1", 70000)};
  rpc::BlockTransfer bad_block = good;
  bad_block.block.block_id = 0;
  replicate.__set_transfers({good, no_targets, bad_port, bad_block});

  // Not from the leader: ignored.
  namenode_->Script(/*leader=*/false, {replicate});
  auto link = Link(/*heartbeat_ms=*/20);
  link->Start();
  ASSERT_TRUE(test::WaitFor([&] { return namenode_->Count("heartbeat") >= 3; }, 10s));
  EXPECT_EQ(owner_.Transfers(), 0u);

  namenode_->Script(/*leader=*/true, {replicate});
  ASSERT_TRUE(test::WaitFor([&] { return owner_.Transfers() >= 1; }, 10s));
  ASSERT_TRUE(test::WaitFor([&] { return namenode_->Count("heartbeat") >= 6; }, 10s));
  std::lock_guard<std::mutex> lock(owner_.mu);
  ASSERT_EQ(owner_.transfers.size(), 1u) << "only the well-formed transfer is passed on";
  const TransferCommand& t = owner_.transfers[0];
  EXPECT_EQ(t.block.id, 31u);
  EXPECT_EQ(t.block.genstamp, 1001u);
  EXPECT_EQ(t.block.num_bytes, 4096u);
  ASSERT_EQ(t.targets.size(), 2u);
  EXPECT_EQ(t.targets[0].host, "127.0.0.1");
  EXPECT_EQ(t.targets[0].data_port, 5001);
  EXPECT_EQ(t.targets[1].storage_id, "DS-5002");
}

TEST_F(NamenodeLinkTest, RegistersAgainWhenToldAndAfterANamenodeRestart) {
  StartNamenode();
  auto link = Link(/*heartbeat_ms=*/20);
  link->Start();
  ASSERT_TRUE(test::WaitFor([&] { return namenode_->Count("heartbeat") >= 1; }, 10s));
  rpc::DatanodeCommand reregister;
  reregister.type = rpc::DatanodeCommandType::REREGISTER;
  namenode_->Script(/*leader=*/false, {reregister});
  ASSERT_TRUE(test::WaitFor([&] { return namenode_->Count("register") == 2; }, 10s));
  EXPECT_TRUE(test::WaitFor([&] { return namenode_->Count("report vol-a 2") == 2; }, 10s));

  // The namenode goes away; what happens meanwhile is reported once it is back.
  const int port = server_->port();
  server_->Stop();
  server_.reset();
  link->Notify(BlockRef{21, 1001, 1}, BlockEvent::kReceived);
  ASSERT_TRUE(test::WaitFor([&] { return !link->registered(); }, 10s));
  StartNamenode(port);
  EXPECT_TRUE(test::WaitFor([&] { return namenode_->Count("received 21 2") == 1; }, 10s));
  auto calls = namenode_->Calls();
  ASSERT_GE(calls.size(), 3u);
  EXPECT_EQ(calls[0], "register");
  EXPECT_EQ(calls[1], "report vol-a 2");
  link->Stop();
}

}  // namespace
}  // namespace talus::datanode
