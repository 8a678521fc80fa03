// The copy-on-write ops (openForOverwrite, allocateBlock, commitBlocks; namenode/ops/*) through
// the Namesystem's front door with a real LevelDB namespace, local journal and block map: a
// block list swapped in one edit, truncation by a commit, every rejected commit changing
// nothing, pending blocks dropped when the lease ends, replay giving the same state, and the
// block map following (new blocks complete, replaced ones forgotten and their replicas deleted).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "namenode/blocks/block_map.h"
#include "namenode/blocks/clock.h"
#include "namenode/blocks/datanode_manager.h"
#include "namenode/journal/local_journal.h"
#include "namenode/leases/lease_manager.h"
#include "namenode/namespace/namespace_store.h"
#include "namenode/namespace/reserved_path.h"
#include "namenode/namesystem.h"

namespace talus {
namespace {

constexpr int64_t kBlock = 1 << 20;

class OverwriteOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("talus-overwrite-ops-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    root_.user = "root";
    root_.superuser = true;
    for (const char* id : {"dn-0", "dn-1", "dn-2"}) {
      auto r = datanodes_.Register(
          blocks::DatanodeRegistration{id, std::string("host-") + id, 9866, 9867, ""});
      ASSERT_TRUE(r.ok()) << r.status();
    }
    Open();
  }
  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    NamespaceStoreOptions opts;
    opts.root_owner = "root";
    opts.root_group = "supergroup";
    auto store = NamespaceStore::Open((dir_ / "namespace").string(), opts);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    ns_ = std::make_unique<Namesystem>(store_.get(), NamesystemOptions{});
    LocalJournalOptions jopts;
    jopts.directory = (dir_ / "journal").string();
    journal_ = std::make_unique<LocalJournal>(jopts);
    ns_->SetJournal(journal_.get());
    ns_->SetLeaseManager(&leases_);
    ASSERT_TRUE(journal_->Open(ns_.get()).ok());
    map_ = std::make_unique<blocks::BlockMap>(&datanodes_);
    ASSERT_TRUE(ns_->AttachBlockMap(map_.get()).ok());
  }
  void Close() {
    journal_.reset();
    ns_.reset();
    store_.reset();
    map_.reset();
  }
  Result<int64_t> Run(EditOp op) {
    Edit edit;
    edit.caller = root_;
    edit.client_id = std::string(16, 'o');
    edit.call_id = next_call_id_++;
    edit.op = std::move(op);
    return ns_->Mutate(std::move(edit));
  }
  Inode File(const std::string& path) {
    auto inode = ns_->GetFileInfo(root_, path);
    EXPECT_TRUE(inode.ok()) << path << ": " << inode.status();
    return inode.ok() ? *inode : Inode{};
  }
  // Every datanode reports a finalized replica of `b`.
  void Report(const BlockInfo& b) {
    for (const char* id : {"dn-0", "dn-1", "dn-2"}) {
      std::vector<blocks::ReceivedDeletedBlock> report = {
          {blocks::Block{b.block_id, b.generation_stamp, b.num_bytes},
           blocks::ReceivedDeletedStatus::kReceived}};
      ASSERT_TRUE(map_->ProcessIncrementalReport(id, report).ok());
    }
  }
  // Deletes queued to datanode dn-0 (each node gets the same ones here).
  std::vector<int64_t> Deleted() {
    auto reply = datanodes_.Heartbeat("dn-0", blocks::HeartbeatStats{});
    EXPECT_TRUE(reply.ok());
    std::vector<int64_t> ids;
    if (reply.ok()) {
      for (const blocks::Block& b : reply->commands.delete_blocks) ids.push_back(b.id);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  // A closed file of `sizes` bytes per block, written the streaming way.
  uint64_t Write(const std::string& path, std::vector<int64_t> sizes) {
    auto id = Run(CreateOp{path, 0644, "writer", false, false, 3, kBlock});
    EXPECT_TRUE(id.ok()) << id.status();
    const uint64_t file_id = static_cast<uint64_t>(*id);
    std::optional<BlockInfo> previous;
    for (int64_t size : sizes) {
      auto b = Run(AddBlockOp{path, file_id, "writer", previous});
      EXPECT_TRUE(b.ok()) << b.status();
      BlockInfo last = File(path).blocks.back();
      last.num_bytes = size;
      Report(last);
      previous = last;
    }
    EXPECT_TRUE(Run(CompleteOp{path, "writer", previous, file_id}).ok());
    return file_id;
  }
  BlockInfo Allocate(const std::string& path, uint64_t file_id, const std::string& client,
                     int64_t num_bytes) {
    auto id = Run(AllocateBlockOp{path, file_id, client});
    EXPECT_TRUE(id.ok()) << id.status();
    BlockInfo out{};
    for (const BlockInfo& b : File(path).pending_blocks) {
      if (id.ok() && b.block_id == *id) out = b;
    }
    EXPECT_NE(out.block_id, 0);
    out.num_bytes = num_bytes;
    return out;
  }

  std::filesystem::path dir_;
  blocks::FakeClock clock_;
  blocks::DatanodeManager datanodes_{blocks::DatanodeManagerOptions{}, &clock_};
  LeaseManager leases_{LeaseOptions{}};
  std::unique_ptr<NamespaceStore> store_;
  std::unique_ptr<Namesystem> ns_;
  std::unique_ptr<LocalJournal> journal_;
  std::unique_ptr<blocks::BlockMap> map_;
  Caller root_;
  int64_t next_call_id_ = 1;
};

TEST_F(OverwriteOpsTest, OpenForOverwriteKeepsEveryBlockComplete) {
  const uint64_t id = Write("/f", {kBlock, 500});
  const Inode before = File("/f");
  auto opened = Run(OpenForOverwriteOp{"/f", "cow"});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(static_cast<uint64_t>(*opened), id);
  const Inode held = File("/f");
  EXPECT_EQ(held.lease_holder, "cow");
  EXPECT_TRUE(held.overwriting);
  EXPECT_TRUE(held.BlocksAllComplete());
  ASSERT_EQ(held.blocks.size(), 2u);
  EXPECT_EQ(held.blocks[1].generation_stamp, before.blocks[1].generation_stamp);
  EXPECT_EQ(held.length, kBlock + 500);
  for (const BlockInfo& b : held.blocks) EXPECT_TRUE(map_->GetBlock(b.block_id)->complete);
  // Again by the holder: nothing to do. By another client, or the streaming way: refused.
  EXPECT_TRUE(Run(OpenForOverwriteOp{"/f", "cow"}).ok());
  EXPECT_EQ(Run(OpenForOverwriteOp{"/f", "other"}).status().code(), ErrorCode::kLeaseConflict);
  EXPECT_EQ(Run(AppendOp{"/f", "other"}).status().code(), ErrorCode::kLeaseConflict);
  EXPECT_EQ(Run(AddBlockOp{"/f", id, "cow", held.blocks.back()}).status().code(),
            ErrorCode::kInvalidArgument);
  // complete just ends the lease; the blocks stay as they are.
  ASSERT_TRUE(Run(CompleteOp{ReservedInodePath(id), "cow", std::nullopt, id}).ok());
  const Inode closed = File("/f");
  EXPECT_FALSE(closed.UnderConstruction());
  EXPECT_FALSE(closed.overwriting);
  EXPECT_EQ(closed.length, kBlock + 500);
  EXPECT_EQ(leases_.files(), 0u);
  // Directories are no files.
  ASSERT_TRUE(Run(MkdirsOp{"/d", 0755, true}).ok());
  EXPECT_EQ(Run(OpenForOverwriteOp{"/d", "cow"}).status().code(), ErrorCode::kIsADirectory);
}

TEST_F(OverwriteOpsTest, CommitSwapsBlocksTruncatesAndSurvivesReplay) {
  const uint64_t id = Write("/f", {kBlock, kBlock, 700});
  const Inode original = File("/f");
  ASSERT_TRUE(Run(OpenForOverwriteOp{"/f", "cow"}).ok());
  Deleted();  // nothing queued so far; drain anyway

  // Rewrite the middle block.
  const BlockInfo middle = Allocate("/f", id, "cow", kBlock);
  auto pending = map_->GetBlock(middle.block_id);
  ASSERT_TRUE(pending.ok()) << "an allocated block is in the map: its reports are accepted";
  EXPECT_FALSE(pending->complete);
  Report(middle);
  auto committed = Run(CommitBlocksOp{"/f", id, "cow", {{1, original.blocks[1].block_id, middle}},
                                      2 * kBlock + 700, false});
  ASSERT_TRUE(committed.ok()) << committed.status();
  Inode f = File("/f");
  ASSERT_EQ(f.blocks.size(), 3u);
  EXPECT_EQ(f.blocks[0].block_id, original.blocks[0].block_id);
  EXPECT_EQ(f.blocks[1].block_id, middle.block_id);
  EXPECT_EQ(f.blocks[2].block_id, original.blocks[2].block_id);
  EXPECT_TRUE(f.pending_blocks.empty());
  EXPECT_EQ(f.lease_holder, "cow");
  EXPECT_EQ(f.length, 2 * kBlock + 700);
  auto in_map = map_->GetBlock(middle.block_id);
  ASSERT_TRUE(in_map.ok());
  EXPECT_TRUE(in_map->complete);
  EXPECT_EQ(in_map->replicas.size(), 3u);
  EXPECT_EQ(map_->GetBlock(original.blocks[1].block_id).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(Deleted(), std::vector<int64_t>{original.blocks[1].block_id});

  // Truncate to 1 MiB + 100 and release: the second block rewritten short, the third cut, a
  // pending block left unused dropped.
  const BlockInfo shorter = Allocate("/f", id, "cow", 100);
  const BlockInfo unused = Allocate("/f", id, "cow", 10);  // written, never committed
  Report(shorter);
  Report(unused);
  ASSERT_TRUE(Run(CommitBlocksOp{"/f", id, "cow", {{1, middle.block_id, shorter}}, kBlock + 100,
                                 true})
                  .ok());
  f = File("/f");
  ASSERT_EQ(f.blocks.size(), 2u);
  EXPECT_EQ(f.blocks[1].block_id, shorter.block_id);
  EXPECT_EQ(f.blocks[1].num_bytes, 100);
  EXPECT_EQ(f.length, kBlock + 100);
  EXPECT_FALSE(f.UnderConstruction());
  EXPECT_FALSE(f.overwriting);
  EXPECT_TRUE(f.pending_blocks.empty());
  EXPECT_EQ(leases_.files(), 0u);
  std::vector<int64_t> gone = {middle.block_id, original.blocks[2].block_id, unused.block_id};
  std::sort(gone.begin(), gone.end());
  EXPECT_EQ(Deleted(), gone);
  EXPECT_FALSE(map_->GetBlock(unused.block_id).ok());

  // Grow again: a block appended past the end (old block id 0) after filling the last one.
  ASSERT_TRUE(Run(OpenForOverwriteOp{"/f", "cow"}).ok());
  const BlockInfo full = Allocate("/f", id, "cow", kBlock);
  const BlockInfo tail = Allocate("/f", id, "cow", 10);
  ASSERT_TRUE(Run(CommitBlocksOp{"/f", id, "cow",
                                 {{2, 0, tail}, {1, shorter.block_id, full}},
                                 2 * kBlock + 10, true})
                  .ok());
  const Inode grown = File("/f");
  ASSERT_EQ(grown.blocks.size(), 3u);
  EXPECT_EQ(grown.blocks[2].block_id, tail.block_id);
  EXPECT_EQ(grown.length, 2 * kBlock + 10);

  // Truncate to zero.
  ASSERT_TRUE(Run(OpenForOverwriteOp{"/f", "cow"}).ok());
  ASSERT_TRUE(Run(CommitBlocksOp{"/f", id, "cow", {}, 2 * kBlock, false}).ok());
  EXPECT_EQ(File("/f").blocks.size(), 2u);
  ASSERT_TRUE(Run(CommitBlocksOp{ReservedInodePath(id), id, "cow", {}, 0, true}).ok());
  const Inode empty = File("/f");
  EXPECT_TRUE(empty.blocks.empty());
  EXPECT_EQ(empty.length, 0);
  ASSERT_TRUE(Run(OpenForOverwriteOp{"/f", "cow"}).ok());
  const BlockInfo again = Allocate("/f", id, "cow", 4096);
  ASSERT_TRUE(Run(CommitBlocksOp{"/f", id, "cow", {{0, 0, again}}, 4096, false}).ok());
  const Inode before_restart = File("/f");

  // The journal replayed onto an empty namespace gives the same file, still held.
  Close();
  std::filesystem::remove_all(dir_ / "namespace");
  Open();
  const Inode replayed = File("/f");
  EXPECT_EQ(replayed.length, before_restart.length);
  ASSERT_EQ(replayed.blocks.size(), 1u);
  EXPECT_EQ(replayed.blocks[0].block_id, again.block_id);
  EXPECT_EQ(replayed.blocks[0].num_bytes, 4096);
  EXPECT_EQ(replayed.lease_holder, "cow");
  EXPECT_TRUE(replayed.overwriting);
  auto rebuilt = map_->GetBlock(again.block_id);
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_TRUE(rebuilt->complete);
}

TEST_F(OverwriteOpsTest, RejectedCommitsChangeNothing) {
  const uint64_t id = Write("/f", {kBlock, kBlock, 300});
  ASSERT_TRUE(Run(OpenForOverwriteOp{"/f", "cow"}).ok());
  const BlockInfo b = Allocate("/f", id, "cow", kBlock);
  const BlockInfo short_block = Allocate("/f", id, "cow", 200);
  const Inode before = File("/f");
  const uint64_t applied = journal_->AppliedIndex();
  const int64_t b0 = before.blocks[0].block_id;
  const int64_t b1 = before.blocks[1].block_id;
  const int64_t len = before.length;
  BlockInfo bad_stamp = b;
  bad_stamp.generation_stamp += 1;
  BlockInfo too_long = b;
  too_long.num_bytes = kBlock + 1;
  BlockInfo empty = b;
  empty.num_bytes = 0;
  BlockInfo stranger = b;
  stranger.block_id = 999999;
  struct Case {
    const char* what;
    CommitBlocksOp op;
    ErrorCode code;
  };
  const std::vector<Case> cases = {
      {"other client", {"/f", id, "thief", {{0, b0, b}}, len, false}, ErrorCode::kLeaseConflict},
      {"other file id", {"/f", id + 100, "cow", {{0, b0, b}}, len, false}, ErrorCode::kNotFound},
      {"old block mismatch", {"/f", id, "cow", {{0, b1, b}}, len, false},
       ErrorCode::kInvalidArgument},
      {"not pending", {"/f", id, "cow", {{0, b0, stranger}}, len, false},
       ErrorCode::kInvalidArgument},
      {"committed block reused", {"/f", id, "cow", {{0, b0, before.blocks[1]}}, len, false},
       ErrorCode::kInvalidArgument},
      {"stamp", {"/f", id, "cow", {{0, b0, bad_stamp}}, len, false},
       ErrorCode::kInvalidArgument},
      {"too long", {"/f", id, "cow", {{0, b0, too_long}}, len, false},
       ErrorCode::kInvalidArgument},
      {"empty block", {"/f", id, "cow", {{0, b0, empty}}, len, false},
       ErrorCode::kInvalidArgument},
      {"gap", {"/f", id, "cow", {{4, 0, b}}, len + kBlock, false}, ErrorCode::kInvalidArgument},
      {"append with an old id", {"/f", id, "cow", {{3, b0, b}}, len + kBlock, false},
       ErrorCode::kInvalidArgument},
      {"same index twice", {"/f", id, "cow", {{0, b0, b}, {0, b0, short_block}}, len, false},
       ErrorCode::kInvalidArgument},
      {"same block twice", {"/f", id, "cow", {{0, b0, b}, {1, b1, b}}, len, false},
       ErrorCode::kInvalidArgument},
      {"short block not last", {"/f", id, "cow", {{0, b0, short_block}}, len - kBlock + 200,
                                false},
       ErrorCode::kInvalidArgument},
      {"length inside a block", {"/f", id, "cow", {}, len - 1, false},
       ErrorCode::kInvalidArgument},
      {"length past the blocks", {"/f", id, "cow", {}, len + 1, false},
       ErrorCode::kInvalidArgument},
      {"negative length", {"/f", id, "cow", {}, -1, false}, ErrorCode::kInvalidArgument},
      {"replacement past the new end", {"/f", id, "cow", {{2, before.blocks[2].block_id,
                                                           short_block}},
                                        kBlock, false},
       ErrorCode::kInvalidArgument},
      {"negative index", {"/f", id, "cow", {{-1, b0, b}}, len, false},
       ErrorCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Run(c.op).status().code(), c.code) << c.what;
  }
  EXPECT_EQ(journal_->AppliedIndex(), applied) << "a rejected commit is not journaled";
  const Inode after = File("/f");
  ASSERT_EQ(after.blocks.size(), before.blocks.size());
  for (size_t i = 0; i < after.blocks.size(); ++i) {
    EXPECT_EQ(after.blocks[i].block_id, before.blocks[i].block_id);
    EXPECT_EQ(after.blocks[i].num_bytes, before.blocks[i].num_bytes);
  }
  EXPECT_EQ(after.pending_blocks.size(), 2u);
  EXPECT_EQ(after.length, len);
  EXPECT_EQ(after.lease_holder, "cow");
  EXPECT_TRUE(Deleted().empty());

  // Copy-on-write needs a copy-on-write lease: not a closed file, not one being streamed.
  const uint64_t other = Write("/g", {10});
  EXPECT_EQ(Run(AllocateBlockOp{"/g", other, "cow"}).status().code(), ErrorCode::kLeaseConflict);
  auto streaming = Run(CreateOp{"/s", 0644, "writer", false, false, 3, kBlock});
  ASSERT_TRUE(streaming.ok());
  const uint64_t s = static_cast<uint64_t>(*streaming);
  ASSERT_TRUE(Run(AddBlockOp{"/s", s, "writer", std::nullopt}).ok());
  EXPECT_EQ(Run(AllocateBlockOp{"/s", s, "writer"}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Run(CommitBlocksOp{"/s", s, "writer", {}, 0, true}).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(OverwriteOpsTest, ANewFileCanBeWrittenByCopyOnWrite) {
  // create, then blocks appended by commits only (the FUSE create of a file written at random).
  auto created = Run(CreateOp{"/n", 0644, "cow", false, false, 3, kBlock});
  ASSERT_TRUE(created.ok());
  const uint64_t id = static_cast<uint64_t>(*created);
  const BlockInfo second = Allocate("/n", id, "cow", 5);
  const BlockInfo first = Allocate("/n", id, "cow", kBlock);
  Report(first);
  Report(second);
  ASSERT_TRUE(
      Run(CommitBlocksOp{"/n", id, "cow", {{1, 0, second}, {0, 0, first}}, kBlock + 5, false})
          .ok());
  Inode n = File("/n");
  ASSERT_EQ(n.blocks.size(), 2u);
  EXPECT_EQ(n.blocks[0].block_id, first.block_id);
  EXPECT_EQ(n.blocks[1].block_id, second.block_id);
  EXPECT_TRUE(n.overwriting);
  EXPECT_EQ(Run(AddBlockOp{"/n", id, "cow", n.blocks.back()}).status().code(),
            ErrorCode::kInvalidArgument);
  // abandonBlock drops a pending block whose pipeline failed; a committed one stays.
  const BlockInfo failed = Allocate("/n", id, "cow", 0);
  ASSERT_TRUE(Run(AbandonBlockOp{"/n", id, "cow", failed.block_id}).ok());
  EXPECT_TRUE(File("/n").pending_blocks.empty());
  EXPECT_FALSE(map_->GetBlock(failed.block_id).ok());
  auto kept = Run(AbandonBlockOp{"/n", id, "cow", second.block_id});
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, 0);
  EXPECT_EQ(File("/n").blocks.size(), 2u);
}

TEST_F(OverwriteOpsTest, LeaseEndDropsPendingBlocks) {
  const uint64_t id = Write("/f", {100});
  ASSERT_TRUE(Run(OpenForOverwriteOp{"/f", "cow"}).ok());
  const BlockInfo p1 = Allocate("/f", id, "cow", 10);
  const BlockInfo p2 = Allocate("/f", id, "cow", 20);
  Report(p1);
  Report(p2);
  EXPECT_EQ(File("/f").pending_blocks.size(), 2u);
  // A lease that expired: the namenode closes the file (no block recovery needed).
  ASSERT_EQ(leases_.files(), 1u);
  LeaseManager expired(LeaseOptions{std::chrono::milliseconds(0), std::chrono::milliseconds(0)});
  ns_->SetLeaseManager(&expired);
  expired.Add("cow", id);
  auto closed = ns_->RecoverExpiredLeases();
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(*closed, 1);
  ns_->SetLeaseManager(&leases_);
  const Inode f = File("/f");
  EXPECT_FALSE(f.UnderConstruction());
  EXPECT_TRUE(f.pending_blocks.empty());
  EXPECT_EQ(f.length, 100);
  ASSERT_EQ(f.blocks.size(), 1u);
  EXPECT_FALSE(map_->GetBlock(p1.block_id).ok());
  EXPECT_FALSE(map_->GetBlock(p2.block_id).ok());
  std::vector<int64_t> gone = {p1.block_id, p2.block_id};
  std::sort(gone.begin(), gone.end());
  EXPECT_EQ(Deleted(), gone);
  // Deleting a held file forgets its pending blocks too.
  ASSERT_TRUE(Run(OpenForOverwriteOp{"/f", "cow"}).ok());
  const BlockInfo p3 = Allocate("/f", id, "cow", 0);
  ASSERT_TRUE(Run(DeleteOp{"/f", false}).ok());
  EXPECT_FALSE(map_->GetBlock(p3.block_id).ok());
  EXPECT_FALSE(map_->GetBlock(f.blocks[0].block_id).ok());
}

TEST_F(OverwriteOpsTest, PendingBlocksAreInTheMapAfterARestart) {
  const uint64_t id = Write("/f", {100});
  ASSERT_TRUE(Run(OpenForOverwriteOp{"/f", "cow"}).ok());
  const BlockInfo p = Allocate("/f", id, "cow", 0);
  Close();
  Open();
  const Inode f = File("/f");
  ASSERT_EQ(f.pending_blocks.size(), 1u);
  EXPECT_EQ(f.pending_blocks[0].block_id, p.block_id);
  auto pending = map_->GetBlock(p.block_id);
  ASSERT_TRUE(pending.ok());
  EXPECT_FALSE(pending->complete);
  auto committed = map_->GetBlock(f.blocks[0].block_id);
  ASSERT_TRUE(committed.ok());
  EXPECT_TRUE(committed->complete) << "a held file's blocks are complete after a restart";
}

}  // namespace
}  // namespace talus
