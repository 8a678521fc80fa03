// Lease recovery on the datanode: the length the primary agrees on, each replica's half
// (initReplicaRecovery / updateReplicaUnderRecovery on a real replica store), and the primary's
// whole run against fake peers.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "datanode/server/block_recovery.h"
#include "datanode/server/replica_recovery.h"
#include "datanode/storage/block_meta.h"
#include "datanode/storage/dataset.h"
#include "datanode/transfer/transfer_server.h"
#include "test/support/mini_cluster.h"

namespace talus::datanode {
namespace {

RecoveryAnswer Answer(const std::string& id, ReplicaState state, uint64_t gs, uint64_t bytes) {
  return RecoveryAnswer{id, RecoveryReplica{7, gs, bytes, state}};
}

TEST(PlanRecoveryTest, FinalizedLengthWinsAndLongerRbwJoins) {
  auto plan = PlanRecovery(100, {Answer("a", ReplicaState::kRbw, 100, 900),
                                 Answer("b", ReplicaState::kFinalized, 100, 800),
                                 Answer("c", ReplicaState::kRbw, 100, 700),
                                 Answer("d", ReplicaState::kRwr, 100, 1000)});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_FALSE(plan->delete_block);
  EXPECT_EQ(plan->length, 800u);
  // The finalized one and the RBW replica that holds at least its bytes; not the shorter RBW
  // nor the RWR one.
  EXPECT_EQ(plan->participants, (std::vector<size_t>{1, 0}));
}

TEST(PlanRecoveryTest, FinalizedReplicasOfDifferentLengthsAreCorrupt) {
  auto plan = PlanRecovery(100, {Answer("a", ReplicaState::kFinalized, 100, 800),
                                 Answer("b", ReplicaState::kFinalized, 100, 801)});
  EXPECT_EQ(plan.status().code(), ErrorCode::kCorruption);
}

TEST(PlanRecoveryTest, RbwAgreeOnTheShortestAndRwrOnlyWithoutRbw) {
  auto rbw = PlanRecovery(100, {Answer("a", ReplicaState::kRbw, 100, 900),
                                Answer("b", ReplicaState::kRwr, 100, 10),
                                Answer("c", ReplicaState::kRbw, 101, 600)});
  ASSERT_TRUE(rbw.ok());
  EXPECT_EQ(rbw->length, 600u);
  EXPECT_EQ(rbw->participants, (std::vector<size_t>{0, 2}));

  auto rwr = PlanRecovery(100, {Answer("a", ReplicaState::kRwr, 100, 900),
                                Answer("b", ReplicaState::kRwr, 100, 300)});
  ASSERT_TRUE(rwr.ok());
  EXPECT_EQ(rwr->length, 300u);
  EXPECT_EQ(rwr->participants.size(), 2u);
}

TEST(PlanRecoveryTest, NoCurrentReplicaDropsTheBlock) {
  auto none = PlanRecovery(100, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->delete_block);
  // A replica older than the block is no candidate.
  auto stale = PlanRecovery(100, {Answer("a", ReplicaState::kRbw, 99, 500)});
  ASSERT_TRUE(stale.ok());
  EXPECT_TRUE(stale->delete_block);
}

class CountingEvents : public ReplicaEvents {
 public:
  void OnReceived(const ReplicaInfo& replica) override { received.push_back(replica); }
  void OnBadReplica(uint64_t, uint64_t) override {}
  std::vector<ReplicaInfo> received;
};

class ReplicaRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DataSetOptions options;
    options.volume_dirs = {dir_.path() + "/vol0"};
    ScanReport scan;
    auto opened = DataSet::Open(options, &scan);
    ASSERT_TRUE(opened.ok()) << opened.status();
    data_ = std::move(*opened);
    recovery_ = std::make_unique<ReplicaRecovery>(
        data_.get(), [this](uint64_t id) { stopped_.push_back(id); }, &events_);
  }

  // An RBW replica holding `data`.
  void Write(uint64_t id, uint64_t gs, const std::string& data) {
    ASSERT_TRUE(data_->CreateRbw(id, gs, data.size()).ok());
    ASSERT_TRUE(data_->Append(id, gs, 0, data, ComputeChecksums(data, 0)).ok());
  }

  test::TempDir dir_;
  std::unique_ptr<DataSet> data_;
  CountingEvents events_;
  std::vector<uint64_t> stopped_;
  std::unique_ptr<ReplicaRecovery> recovery_;
};

TEST_F(ReplicaRecoveryTest, InitStopsTheWriterThenUpdateCutsRestampsAndFinalizes) {
  std::string data(3000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  Write(42, 1000, data);

  auto init = recovery_->Init(BlockRef{42, 1000, 0}, 1005);
  ASSERT_TRUE(init.ok()) << init.status();
  EXPECT_EQ(stopped_, (std::vector<uint64_t>{42}));
  EXPECT_EQ(init->state, ReplicaState::kRbw);
  EXPECT_EQ(init->genstamp, 1000u);
  EXPECT_EQ(init->num_bytes, 3000u);

  // An older or equal recovery is refused; a newer one takes over.
  EXPECT_EQ(recovery_->Init(BlockRef{42, 1000, 0}, 1005).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(recovery_->Init(BlockRef{42, 1000, 0}, 1003).status().code(),
            ErrorCode::kInvalidArgument);
  ASSERT_TRUE(recovery_->Init(BlockRef{42, 1000, 0}, 1007).ok());
  // The superseded recovery cannot finish.
  EXPECT_EQ(recovery_->Update(BlockRef{42, 1000, 0}, 1005, 1000).status().code(),
            ErrorCode::kInvalidArgument);
  // Nor can a length beyond what the replica holds.
  EXPECT_FALSE(recovery_->Update(BlockRef{42, 1000, 0}, 1007, 3001).ok());

  auto updated = recovery_->Update(BlockRef{42, 1000, 0}, 1007, 1500);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->state, ReplicaState::kFinalized);
  EXPECT_EQ(updated->genstamp, 1007u);
  EXPECT_EQ(updated->num_bytes, 1500u);
  auto info = data_->GetReplica(42);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state, ReplicaState::kFinalized);
  EXPECT_EQ(info->genstamp, 1007u);
  auto read = data_->Read(42, 1007, 0, 1500);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->data, data.substr(0, 1500));
  // The namenode hears of the finalized replica (incremental report).
  ASSERT_EQ(events_.received.size(), 1u);
  EXPECT_EQ(events_.received[0].genstamp, 1007u);
  EXPECT_EQ(events_.received[0].bytes_on_disk, 1500u);

  // A retried update of the same recovery answers the same; another length is refused.
  auto again = recovery_->Update(BlockRef{42, 1000, 0}, 1007, 1500);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->num_bytes, 1500u);
  EXPECT_FALSE(recovery_->Update(BlockRef{42, 1000, 0}, 1007, 1400).ok());
}

TEST_F(ReplicaRecoveryTest, RefusesMissingStaleAndNotNewerRecoveries) {
  EXPECT_TRUE(recovery_->Init(BlockRef{9, 1000, 0}, 1005).status().IsNotFound());
  Write(9, 1000, std::string(100, 'y'));
  // The replica is older than the block the namenode recovers.
  EXPECT_EQ(recovery_->Init(BlockRef{9, 1001, 0}, 1005).status().code(),
            ErrorCode::kInvalidArgument);
  // A recovery id not above the stamp.
  EXPECT_EQ(recovery_->Init(BlockRef{9, 1000, 0}, 1000).status().code(),
            ErrorCode::kInvalidArgument);
  // Update without Init.
  EXPECT_EQ(recovery_->Update(BlockRef{9, 1000, 0}, 1005, 100).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(data_->GetReplica(9)->state, ReplicaState::kRbw);
}

TEST_F(ReplicaRecoveryTest, FinalizedReplicaIsRestampedAtItsLength) {
  std::string data(700, 'z');
  Write(11, 1000, data);
  ASSERT_TRUE(data_->Finalize(11, 1000).ok());
  auto init = recovery_->Init(BlockRef{11, 1000, 0}, 1002);
  ASSERT_TRUE(init.ok());
  EXPECT_EQ(init->state, ReplicaState::kFinalized);
  EXPECT_TRUE(stopped_.empty()) << "no writer to stop on a finalized replica";
  EXPECT_FALSE(recovery_->Update(BlockRef{11, 1000, 0}, 1002, 600).ok());
  auto updated = recovery_->Update(BlockRef{11, 1000, 0}, 1002, 700);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(data_->GetReplica(11)->genstamp, 1002u);
}

// Peers answering from a script; records what the primary asked.
class FakePeers : public RecoveryPeers {
 public:
  std::map<std::string, Result<RecoveryReplica>> init;
  std::map<std::string, Status> update;
  std::vector<std::pair<std::string, uint64_t>> updates;  // storage id, length

  Result<RecoveryReplica> Init(const PeerId& peer, const BlockRef&, uint64_t) override {
    auto it = init.find(peer.storage_id);
    return it == init.end() ? Result<RecoveryReplica>(Status::Unavailable("down")) : it->second;
  }
  Result<RecoveryReplica> Update(const PeerId& peer, const BlockRef& block, uint64_t recovery_id,
                                 uint64_t length) override {
    updates.emplace_back(peer.storage_id, length);
    auto it = update.find(peer.storage_id);
    if (it != update.end() && !it->second.ok()) return it->second;
    return RecoveryReplica{block.id, recovery_id, length, ReplicaState::kFinalized};
  }
};

struct Commit {
  int calls = 0;
  BlockRef old_block, new_block;
  std::vector<std::string> storage_ids;
  bool close_file = false, delete_block = false;
};

CommitFn Recorder(Commit* c) {
  return [c](const BlockRef& o, const BlockRef& n, const std::vector<std::string>& ids, bool close,
             bool del) {
    ++c->calls;
    c->old_block = o;
    c->new_block = n;
    c->storage_ids = ids;
    c->close_file = close;
    c->delete_block = del;
    return Status::OK();
  };
}

RecoveryCommand Command() {
  RecoveryCommand c;
  c.block = BlockRef{7, 100, 4096};
  c.new_genstamp = 105;
  for (const char* id : {"dn-a", "dn-b", "dn-c"}) c.locations.push_back(PeerId{id, "h", 1, 2});
  return c;
}

TEST(RecoverBlockTest, CommitsTheAgreedLengthWithTheReplicasUpdated) {
  FakePeers peers;
  peers.init.emplace("dn-a", RecoveryReplica{7, 100, 3000, ReplicaState::kRbw});
  peers.init.emplace("dn-b", Status::NotFound("no replica"));
  peers.init.emplace("dn-c", RecoveryReplica{7, 100, 2500, ReplicaState::kRbw});
  peers.update.emplace("dn-c", Status::IoError("disk"));
  Commit commit;
  ASSERT_TRUE(RecoverBlock(Command(), &peers, Recorder(&commit)).ok());
  EXPECT_EQ(peers.updates, (std::vector<std::pair<std::string, uint64_t>>{{"dn-a", 2500},
                                                                          {"dn-c", 2500}}));
  ASSERT_EQ(commit.calls, 1);
  EXPECT_EQ(commit.old_block.genstamp, 100u);
  EXPECT_EQ(commit.new_block.genstamp, 105u);
  EXPECT_EQ(commit.new_block.num_bytes, 2500u);
  EXPECT_EQ(commit.storage_ids, (std::vector<std::string>{"dn-a"}));
  EXPECT_TRUE(commit.close_file);
  EXPECT_FALSE(commit.delete_block);
}

TEST(RecoverBlockTest, DropsTheBlockOnlyWhenEveryLocationSaysItHasNone) {
  FakePeers none;
  for (const char* id : {"dn-a", "dn-b", "dn-c"}) none.init.emplace(id, Status::NotFound("no"));
  Commit commit;
  ASSERT_TRUE(RecoverBlock(Command(), &none, Recorder(&commit)).ok());
  EXPECT_EQ(commit.calls, 1);
  EXPECT_TRUE(commit.delete_block);
  EXPECT_TRUE(commit.storage_ids.empty());

  // Unreachable locations may still hold data: nothing is committed, the namenode retries.
  FakePeers down;
  down.init.emplace("dn-a", Status::NotFound("no"));
  Commit nothing;
  EXPECT_FALSE(RecoverBlock(Command(), &down, Recorder(&nothing)).ok());
  EXPECT_EQ(nothing.calls, 0);
}

}  // namespace
}  // namespace talus::datanode
