// Whole datanodes (volumes, data port, namenode link) in this process, driven by a scripted
// namenode over Thrift: REPLICATE_BLOCKS copies a replica to its targets, which report it
// RECEIVED themselves; a corrupt source replica is reported bad and not copied; copies are
// throttled, counted in the heartbeats' active transfers and not repeated while one runs; the
// block scanner's findings reach the namenode (corrupt: reportBadBlocks once; a lost file:
// DELETED).
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/rpc/async_thrift_server.h"
#include "datanode/server/datanode.h"
#include "datanode/storage/block_meta.h"
#include "talus_rpc/DatanodeNamenode.h"
#include "test/support/mini_cluster.h"

namespace talus::datanode {
namespace {

using namespace std::chrono_literals;
using ExnCob = std::function<void(apache::thrift::TDelayedException*)>;
using test::WaitFor;

std::string Bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1103515245 + 12345;
    s[i] = static_cast<char>(seed >> 16);
  }
  return s;
}

// Records what each datanode (by storage id) tells it; hands out scripted commands.
class ScriptedNamenode : public rpc::DatanodeNamenodeCobSvIf {
 public:
  void registerDatanode(std::function<void(const rpc::DatanodeId&)> cob, ExnCob,
                        const rpc::DatanodeId& id, const std::string&) override {
    cob(id);
  }
  void heartbeat(std::function<void(const rpc::HeartbeatResponse&)> cob, ExnCob,
                 const rpc::DatanodeId& id, const std::vector<rpc::StorageReport>&,
                 int32_t active_transfers, int32_t) override {
    rpc::HeartbeatResponse response;
    response.from_leader = true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      int32_t& most = max_transfers_[id.storage_id];
      most = std::max(most, active_transfers);
      response.commands.swap(commands_[id.storage_id]);
    }
    cob(response);
  }
  void blockReport(std::function<void()> cob, ExnCob, const rpc::DatanodeId&,
                   const std::string&, const std::vector<rpc::ReportedReplica>&) override {
    cob();
  }
  void blockReceivedAndDeleted(std::function<void()> cob, ExnCob, const rpc::DatanodeId& id,
                               const std::vector<rpc::ReceivedDeletedBlock>& blocks) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& b : blocks) {
      events_.push_back(Event{id.storage_id, b.block.block_id, b.status});
    }
    cob();
  }
  void reportBadBlocks(std::function<void()> cob, ExnCob, const rpc::DatanodeId& id,
                       const std::vector<rpc::ExtendedBlock>& blocks) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& b : blocks) bad_.push_back({id.storage_id, b.block_id});
    cob();
  }
  void commitBlockSynchronization(std::function<void()> cob, ExnCob, const rpc::DatanodeId&,
                                  const rpc::ExtendedBlock&, const rpc::ExtendedBlock&,
                                  const std::vector<std::string>&, bool, bool) override {
    cob();
  }

  void Send(const std::string& storage_id, rpc::DatanodeCommand command) {
    std::lock_guard<std::mutex> lock(mu_);
    commands_[storage_id].push_back(std::move(command));
  }
  int Count(const std::string& storage_id, int64_t block_id,
            rpc::ReceivedDeletedStatus::type status) const {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const Event& e : events_) {
      n += e.storage_id == storage_id && e.block_id == block_id && e.status == status;
    }
    return n;
  }
  int Bad(const std::string& storage_id, int64_t block_id) const {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& [sid, id] : bad_) n += sid == storage_id && id == block_id;
    return n;
  }
  int32_t MaxTransfers(const std::string& storage_id) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = max_transfers_.find(storage_id);
    return it == max_transfers_.end() ? 0 : it->second;
  }

 private:
  struct Event {
    std::string storage_id;
    int64_t block_id;
    rpc::ReceivedDeletedStatus::type status;
  };
  mutable std::mutex mu_;
  std::map<std::string, std::vector<rpc::DatanodeCommand>> commands_;
  std::map<std::string, int32_t> max_transfers_;
  std::vector<Event> events_;
  std::vector<std::pair<std::string, int64_t>> bad_;
};

constexpr auto kReceived = rpc::ReceivedDeletedStatus::RECEIVED;
constexpr auto kDeleted = rpc::ReceivedDeletedStatus::DELETED;

class DatanodeReplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    namenode_ = std::make_shared<ScriptedNamenode>();
    AsyncThriftServerOptions options;
    options.io_threads = 1;
    auto server = AsyncThriftServer::Start(
        std::make_shared<rpc::DatanodeNamenodeAsyncProcessor>(namenode_), options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void TearDown() override {
    for (auto& dn : datanodes_) dn->Stop();
    datanodes_.clear();
    if (server_) server_->Stop();
  }

  DatanodeOptions Options() {
    DatanodeOptions o;
    o.data_dirs = {dir_.path() + "/dn" + std::to_string(datanodes_.size())};
    o.namenodes = {HostPort{"127.0.0.1", server_->port()}};
    o.heartbeat_interval_ms = 50;
    o.rpc_timeout_ms = 5000;
    o.transfer_socket_timeout_ms = 10000;
    o.block_scan_bytes_per_sec = 0;  // no scanner unless a test wants one
    return o;
  }
  Datanode* Start(const DatanodeOptions& options) {
    auto dn = Datanode::Start(options);
    EXPECT_TRUE(dn.ok()) << dn.status();
    if (!dn.ok()) return nullptr;
    (*dn)->StartNamenodeLinks();
    datanodes_.push_back(std::move(*dn));
    return datanodes_.back().get();
  }
  Datanode* Start() { return Start(Options()); }

  static ReplicaInfo Put(Datanode* dn, uint64_t id, const std::string& data) {
    DataSet* ds = dn->data();
    EXPECT_TRUE(ds->CreateRbw(id, 1001, 0).ok());
    for (size_t off = 0; off < data.size(); off += 1 << 20) {
      std::string_view piece(data.data() + off, std::min<size_t>(1 << 20, data.size() - off));
      EXPECT_TRUE(ds->Append(id, 1001, off, piece, ComputeChecksums(piece, off)).ok());
    }
    EXPECT_TRUE(ds->Finalize(id, 1001).ok());
    return *ds->GetReplica(id);
  }
  static std::string Contents(Datanode* dn, uint64_t id) {
    auto info = dn->data()->GetReplica(id);
    if (!info.ok()) return "<" + info.status().ToString() + ">";
    if (info->state != ReplicaState::kFinalized) return "<not finalized>";
    auto read = dn->data()->Read(id, info->genstamp, 0, info->bytes_on_disk);
    return read.ok() ? read->data : "<" + read.status().ToString() + ">";
  }
  static rpc::DatanodeId IdOf(Datanode* dn) {
    DatanodeIdentity identity = dn->Identity();
    rpc::DatanodeId id;
    id.storage_id = identity.storage_id;
    id.host = identity.host;
    id.data_port = identity.data_port;
    id.rpc_port = identity.rpc_port;
    return id;
  }
  static rpc::DatanodeCommand Replicate(int64_t block_id, int64_t num_bytes,
                                        std::vector<Datanode*> targets) {
    rpc::BlockTransfer t;
    t.block.block_id = block_id;
    t.block.generation_stamp = 1001;
    t.block.num_bytes = num_bytes;
    for (Datanode* dn : targets) t.targets.push_back(IdOf(dn));
    rpc::DatanodeCommand c;
    c.type = rpc::DatanodeCommandType::REPLICATE_BLOCKS;
    c.__set_transfers({t});
    return c;
  }

  test::TempDir dir_;
  std::shared_ptr<ScriptedNamenode> namenode_;
  std::unique_ptr<AsyncThriftServer> server_;
  std::vector<std::unique_ptr<Datanode>> datanodes_;
};

TEST_F(DatanodeReplicationTest, ReplicateBlocksCopiesTheReplicaAndTheTargetsReportIt) {
  Datanode* a = Start();
  Datanode* b = Start();
  Datanode* c = Start();
  ASSERT_TRUE(a && b && c);
  const std::string data = Bytes((3 << 20) + 1234, 1);
  Put(a, 7, data);
  namenode_->Send(a->storage_id(), Replicate(7, data.size(), {b, c}));
  ASSERT_TRUE(WaitFor([&] {
    return namenode_->Count(b->storage_id(), 7, kReceived) == 1 &&
           namenode_->Count(c->storage_id(), 7, kReceived) == 1;
  }, 20s));
  EXPECT_TRUE(Contents(b, 7) == data);
  EXPECT_TRUE(Contents(c, 7) == data);
  ASSERT_TRUE(WaitFor([&] { return a->replication_counters().in_progress == 0; }, 10s));
  ReplicationCounters counters = a->replication_counters();
  EXPECT_EQ(counters.succeeded, 1u);
  EXPECT_EQ(counters.failed, 0u);
  EXPECT_EQ(counters.bytes_sent, data.size());
  EXPECT_EQ(namenode_->Bad(a->storage_id(), 7), 0);
}

TEST_F(DatanodeReplicationTest, ACorruptSourceIsReportedBadAndNotCopied) {
  Datanode* a = Start();
  Datanode* b = Start();
  ASSERT_TRUE(a && b);
  const std::string data = Bytes(100000, 2);
  ReplicaInfo info = Put(a, 8, data);
  {
    std::fstream f(info.data_path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(5000);
    f.put(static_cast<char>(data[5000] ^ 0x40));
  }
  namenode_->Send(a->storage_id(), Replicate(8, data.size(), {b}));
  ASSERT_TRUE(WaitFor([&] { return namenode_->Bad(a->storage_id(), 8) == 1; }, 20s));
  ASSERT_TRUE(WaitFor([&] { return a->replication_counters().failed == 1; }, 10s));
  EXPECT_TRUE(b->data()->GetReplica(8).status().IsNotFound());
  EXPECT_EQ(namenode_->Count(b->storage_id(), 8, kReceived), 0);
}

TEST_F(DatanodeReplicationTest, ThrottledCopiesCountAsTransfersAndAreNotRepeated) {
  DatanodeOptions options = Options();
  options.max_replication_streams = 1;
  options.replication_bandwidth_bytes_per_sec = 2 << 20;  // 2 x 3 MiB: about two seconds
  Datanode* a = Start(options);
  Datanode* b = Start();
  ASSERT_TRUE(a && b);
  const std::string one = Bytes(3 << 20, 3), two = Bytes(3 << 20, 4);
  Put(a, 9, one);
  Put(a, 10, two);
  namenode_->Send(a->storage_id(), Replicate(9, one.size(), {b}));
  namenode_->Send(a->storage_id(), Replicate(10, two.size(), {b}));
  // The namenode asks again for block 9 before the first copy ended: dropped.
  ASSERT_TRUE(WaitFor([&] { return a->replication_counters().in_progress == 2; }, 10s));
  namenode_->Send(a->storage_id(), Replicate(9, one.size(), {b}));
  ASSERT_TRUE(WaitFor([&] { return a->replication_counters().dropped == 1; }, 10s));
  ASSERT_TRUE(WaitFor([&] {
    return namenode_->Count(b->storage_id(), 9, kReceived) == 1 &&
           namenode_->Count(b->storage_id(), 10, kReceived) == 1;
  }, 30s));
  EXPECT_TRUE(Contents(b, 9) == one);
  EXPECT_TRUE(Contents(b, 10) == two);
  EXPECT_GE(namenode_->MaxTransfers(a->storage_id()), 1) << "heartbeats counted the copies";
  ASSERT_TRUE(WaitFor([&] { return a->ActiveTransfers() == 0; }, 10s));
  EXPECT_EQ(a->replication_counters().succeeded, 2u);
}

TEST_F(DatanodeReplicationTest, TheScannersFindingsReachTheNamenode) {
  DatanodeOptions options = Options();
  options.block_scan_bytes_per_sec = 100 << 20;
  options.block_scan_period = 100ms;
  Datanode* a = Start(options);
  ASSERT_TRUE(a);
  ReplicaInfo corrupt = Put(a, 11, Bytes(50000, 5));
  ReplicaInfo lost = Put(a, 12, Bytes(50000, 6));
  Put(a, 13, Bytes(50000, 7));
  {
    std::fstream f(corrupt.data_path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40000);
    f.put('\x55');
    f.put('\xaa');
  }
  ASSERT_EQ(::unlink(lost.meta_path.c_str()), 0);
  ASSERT_TRUE(WaitFor([&] {
    return namenode_->Bad(a->storage_id(), 11) == 1 &&
           namenode_->Count(a->storage_id(), 12, kDeleted) == 1;
  }, 20s));
  EXPECT_TRUE(a->data()->GetReplica(12).status().IsNotFound()) << "the lost replica is dropped";
  EXPECT_FALSE(::access(lost.data_path.c_str(), F_OK) == 0) << "with its remaining file";
  // The good replica is scanned again and again; the corrupt one is not reported twice.
  const uint64_t scanned = a->scanner_counters().replicas_scanned;
  ASSERT_TRUE(WaitFor([&] { return a->scanner_counters().replicas_scanned >= scanned + 3; },
                      20s));
  EXPECT_EQ(namenode_->Bad(a->storage_id(), 11), 1);
  EXPECT_EQ(namenode_->Bad(a->storage_id(), 13), 0);
  EXPECT_EQ(a->scanner_counters().corrupt_found, 1u);
  EXPECT_EQ(a->scanner_counters().missing_found, 1u);
}

}  // namespace
}  // namespace talus::datanode
