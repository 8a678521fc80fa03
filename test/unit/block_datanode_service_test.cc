#include <gtest/gtest.h>

#include <optional>

#include "namenode/blocks/datanode_service.h"

namespace talus::blocks {
namespace {

// Captures what a cob-style handler answered: a value, or the TalusError it failed with.
// (TDelayedException::throw_it deletes the wrapper itself.)
template <typename T>
struct Answer {
  std::optional<T> value;
  std::optional<rpc::TalusError> error;

  std::function<void(const T&)> Cob() {
    return [this](const T& v) { value = v; };
  }
  DatanodeService::ExnCob Exn() {
    return [this](apache::thrift::TDelayedException* e) {
      try {
        e->throw_it();
      } catch (const rpc::TalusError& te) {
        error = te;
      }
    };
  }
};

struct Done {
  bool done = false;
  std::optional<rpc::TalusError> error;
  std::function<void()> Cob() {
    return [this] { done = true; };
  }
  DatanodeService::ExnCob Exn() {
    return [this](apache::thrift::TDelayedException* e) {
      try {
        e->throw_it();
      } catch (const rpc::TalusError& te) {
        error = te;
      }
    };
  }
};

rpc::DatanodeId Id(const std::string& storage_id, const std::string& host) {
  rpc::DatanodeId id;
  id.storage_id = storage_id;
  id.host = host;
  id.data_port = 9866;
  id.rpc_port = 9867;
  return id;
}

rpc::ExtendedBlock Eb(int64_t id, int64_t gs, int64_t len) {
  return DatanodeService::ToThrift(Block{id, gs, len});
}

class DatanodeServiceTest : public ::testing::Test {
 protected:
  static DatanodeManagerOptions Options() {
    DatanodeManagerOptions o;
    o.heartbeat_interval_ms = 1000;
    o.stale_after_missed_heartbeats = 3;
    o.dead_after_ms = 10'000;
    return o;
  }

  rpc::HeartbeatResponse Beat(const rpc::DatanodeId& id) {
    Answer<rpc::HeartbeatResponse> a;
    rpc::StorageReport report;
    report.volume_id = "vol0";
    report.capacity = 1000;
    report.used = 100;
    report.remaining = 900;
    report.failed = false;
    service_.heartbeat(a.Cob(), a.Exn(), id, {report}, 1, 0);
    EXPECT_TRUE(a.value.has_value());
    return a.value.value_or(rpc::HeartbeatResponse{});
  }

  FakeClock clock_;
  DatanodeManager datanodes_{Options(), &clock_};
  BlockMap map_{&datanodes_};
  DatanodeService service_{&datanodes_, &map_, &clock_, "cluster-1"};
};

TEST_F(DatanodeServiceTest, RegisterHeartbeatReportAndDeleteCommand) {
  Answer<rpc::DatanodeId> reg;
  service_.registerDatanode(reg.Cob(), reg.Exn(), Id("ds-a", "host-a"), "cluster-1");
  ASSERT_TRUE(reg.value.has_value());
  EXPECT_EQ(reg.value->rack, "/default-rack");

  rpc::HeartbeatResponse first = Beat(Id("ds-a", "host-a"));
  EXPECT_TRUE(first.from_leader);
  EXPECT_TRUE(first.commands.empty());
  auto snap = datanodes_.Describe(*datanodes_.Find("ds-a"));
  EXPECT_EQ(snap->remaining, 900);
  EXPECT_EQ(snap->active_transfers, 1);

  ASSERT_TRUE(map_.AddBlock(7, {1, 5, 0}, 1).ok());
  rpc::ReportedReplica known, unknown;
  known.block = Eb(1, 5, 0);
  known.state = rpc::ReplicaState::RBW;
  unknown.block = Eb(2, 5, 10);
  unknown.state = rpc::ReplicaState::FINALIZED;
  Done report;
  service_.blockReport(report.Cob(), report.Exn(), Id("ds-a", "host-a"), "vol0",
                       {known, unknown});
  ASSERT_TRUE(report.done);
  EXPECT_EQ(map_.GetBlock(1)->replicas.size(), 1u);

  rpc::HeartbeatResponse second = Beat(Id("ds-a", "host-a"));
  ASSERT_EQ(second.commands.size(), 1u);
  EXPECT_EQ(second.commands[0].type, rpc::DatanodeCommandType::DELETE_BLOCKS);
  ASSERT_EQ(second.commands[0].blocks.size(), 1u);
  EXPECT_EQ(second.commands[0].blocks[0].block_id, 2);

  rpc::ReceivedDeletedBlock received;
  received.block = Eb(1, 5, 4096);
  received.status = rpc::ReceivedDeletedStatus::RECEIVED;
  Done incremental;
  service_.blockReceivedAndDeleted(incremental.Cob(), incremental.Exn(), Id("ds-a", "host-a"),
                                   {received});
  ASSERT_TRUE(incremental.done);
  EXPECT_EQ(map_.CountLiveReplicas(1), 1);
}

TEST_F(DatanodeServiceTest, RejectsWrongClusterBadEnumsAndUnknownNodes) {
  Answer<rpc::DatanodeId> wrong;
  service_.registerDatanode(wrong.Cob(), wrong.Exn(), Id("ds-a", "host-a"), "other");
  ASSERT_TRUE(wrong.error.has_value());
  EXPECT_EQ(wrong.error->code, rpc::ErrorCode::INVALID_ARGUMENT);

  Answer<rpc::DatanodeId> bad_port;
  rpc::DatanodeId id = Id("ds-a", "host-a");
  id.data_port = -1;
  service_.registerDatanode(bad_port.Cob(), bad_port.Exn(), id, "cluster-1");
  ASSERT_TRUE(bad_port.error.has_value());

  // Not registered: reports fail with NOT_FOUND, heartbeats ask to re-register.
  Done report;
  service_.blockReport(report.Cob(), report.Exn(), Id("ds-a", "host-a"), "", {});
  ASSERT_TRUE(report.error.has_value());
  EXPECT_EQ(report.error->code, rpc::ErrorCode::NOT_FOUND);
  rpc::HeartbeatResponse beat = Beat(Id("ds-a", "host-a"));
  ASSERT_EQ(beat.commands.size(), 1u);
  EXPECT_EQ(beat.commands[0].type, rpc::DatanodeCommandType::REREGISTER);

  Answer<rpc::DatanodeId> ok;
  service_.registerDatanode(ok.Cob(), ok.Exn(), Id("ds-a", "host-a"), "cluster-1");
  ASSERT_TRUE(ok.value.has_value());
  rpc::ReportedReplica weird;
  weird.block = Eb(1, 1, 1);
  weird.state = static_cast<rpc::ReplicaState::type>(99);
  Done bad_enum;
  service_.blockReport(bad_enum.Cob(), bad_enum.Exn(), Id("ds-a", "host-a"), "", {weird});
  ASSERT_TRUE(bad_enum.error.has_value());
  EXPECT_EQ(bad_enum.error->code, rpc::ErrorCode::INVALID_ARGUMENT);
}

TEST_F(DatanodeServiceTest, HeartbeatsOfOthersDeclareASilentNodeDead) {
  for (const char* s : {"ds-a", "ds-b"}) {
    Answer<rpc::DatanodeId> reg;
    service_.registerDatanode(reg.Cob(), reg.Exn(), Id(s, std::string("host-") + s),
                              "cluster-1");
    ASSERT_TRUE(reg.value.has_value());
  }
  ASSERT_TRUE(map_.AddBlock(7, {1, 5, 0}, 2).ok());
  for (const char* s : {"ds-a", "ds-b"}) {
    rpc::ReceivedDeletedBlock received;
    received.block = Eb(1, 5, 10);
    received.status = rpc::ReceivedDeletedStatus::RECEIVED;
    Done d;
    service_.blockReceivedAndDeleted(d.Cob(), d.Exn(), Id(s, std::string("host-") + s),
                                     {received});
    ASSERT_TRUE(d.done);
  }
  for (int step = 0; step < 12; ++step) {
    clock_.AdvanceMs(1000);
    Beat(Id("ds-b", "host-ds-b"));
  }
  EXPECT_EQ(map_.GetBlock(1)->replicas.size(), 1u) << "ds-a's replica forgotten";
  rpc::HeartbeatResponse late = Beat(Id("ds-a", "host-ds-a"));
  ASSERT_EQ(late.commands.size(), 1u);
  EXPECT_EQ(late.commands[0].type, rpc::DatanodeCommandType::REREGISTER);
}

TEST_F(DatanodeServiceTest, ReportBadBlocksDropsTheLocationAndKeepsTheReplicaCorrupt) {
  for (const char* s : {"ds-a", "ds-b"}) {
    Answer<rpc::DatanodeId> reg;
    service_.registerDatanode(reg.Cob(), reg.Exn(), Id(s, std::string("host-") + s),
                              "cluster-1");
  }
  ASSERT_TRUE(map_.AddBlock(7, {1, 5, 0}, 2).ok());
  for (const char* s : {"ds-a", "ds-b"}) {
    rpc::ReceivedDeletedBlock received;
    received.block = Eb(1, 5, 10);
    received.status = rpc::ReceivedDeletedStatus::RECEIVED;
    Done d;
    service_.blockReceivedAndDeleted(d.Cob(), d.Exn(), Id(s, std::string("host-") + s),
                                     {received});
  }
  Done bad;
  service_.reportBadBlocks(bad.Cob(), bad.Exn(), Id("ds-a", "host-ds-a"),
                           {Eb(1, 5, 10), Eb(999, 1, 1)});
  ASSERT_TRUE(bad.done) << (bad.error ? bad.error->message : "");
  EXPECT_EQ(map_.CountLiveReplicas(1), 1);
  ASSERT_EQ(map_.GetBlock(1)->replicas.size(), 1u);
  EXPECT_EQ(map_.FileBlockHealth(7).at(0).corrupt.size(), 1u) << "kept, known corrupt";
  // Its deletion waits for the block manager to have a good copy made first.
  rpc::HeartbeatResponse beat = Beat(Id("ds-a", "host-ds-a"));
  EXPECT_TRUE(beat.commands.empty());
}

}  // namespace
}  // namespace talus::blocks
