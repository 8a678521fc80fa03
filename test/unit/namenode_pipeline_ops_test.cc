// The namenode's pipeline recovery edits (namenode/ops/update_pipeline.cc) through the
// Namesystem's front door, against a real LevelDB namespace and local journal: a new stamp for
// the last block of a file being written, then the rebuilt pipeline's commit, each checked
// against the lease, the last block and the stamps, journaled, and followed by the block map.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "namenode/blocks/block_map.h"
#include "namenode/blocks/clock.h"
#include "namenode/blocks/datanode_manager.h"
#include "namenode/journal/local_journal.h"
#include "namenode/namespace/namespace_store.h"
#include "namenode/namesystem.h"

namespace talus {
namespace {

class PipelineOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("talus-pipeline-ops-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Open();
    root_.user = "root";
    root_.superuser = true;
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
    ASSERT_TRUE(journal_->Open(ns_.get()).ok());
  }
  void Close() {
    journal_.reset();
    ns_.reset();
    store_.reset();
  }
  Result<int64_t> Run(EditOp op, int64_t call_id = 0) {
    Edit edit;
    edit.caller = root_;
    edit.client_id = std::string(16, 'p');
    edit.call_id = call_id != 0 ? call_id : next_call_id_++;
    edit.op = std::move(op);
    return ns_->Mutate(std::move(edit));
  }
  BlockInfo LastBlock(const std::string& path) {
    auto file = ns_->GetFileInfo(root_, path);
    EXPECT_TRUE(file.ok()) << file.status();
    return file.ok() && !file->blocks.empty() ? file->blocks.back() : BlockInfo{};
  }

  std::filesystem::path dir_;
  std::unique_ptr<NamespaceStore> store_;
  std::unique_ptr<Namesystem> ns_;
  std::unique_ptr<LocalJournal> journal_;
  Caller root_;
  int64_t next_call_id_ = 1;
};

TEST_F(PipelineOpsTest, ANewStampThenTheRebuiltPipelineIsCommitted) {
  blocks::FakeClock clock;
  blocks::DatanodeManager datanodes(blocks::DatanodeManagerOptions{}, &clock);
  blocks::BlockMap map(&datanodes);
  ASSERT_TRUE(ns_->AttachBlockMap(&map).ok());
  auto id = Run(CreateOp{"/w", 0644, "writer", false, false, 3, 1 << 20});
  ASSERT_TRUE(id.ok());
  const uint64_t file_id = static_cast<uint64_t>(*id);
  auto b = Run(AddBlockOp{"/w", file_id, "writer", std::nullopt});
  ASSERT_TRUE(b.ok());
  const BlockInfo before = LastBlock("/w");

  // The stamp is handed out, but the block keeps its own until the pipeline is committed.
  auto stamp = Run(UpdateBlockForPipelineOp{"/w", file_id, "writer", *b,
                                            before.generation_stamp});
  ASSERT_TRUE(stamp.ok()) << stamp.status();
  EXPECT_GT(*stamp, before.generation_stamp);
  EXPECT_EQ(LastBlock("/w").generation_stamp, before.generation_stamp);
  EXPECT_EQ(map.GetBlock(*b)->block.generation_stamp, before.generation_stamp);
  // A retried call (same call id) gets the same stamp; a second recovery a newer one.
  const int64_t call = next_call_id_ - 1;
  auto retried =
      Run(UpdateBlockForPipelineOp{"/w", file_id, "writer", *b, before.generation_stamp}, call);
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(*retried, *stamp);

  ASSERT_TRUE(Run(UpdatePipelineOp{"/w", file_id, "writer", before,
                                   BlockInfo{*b, *stamp, 70000}})
                  .ok());
  EXPECT_EQ(LastBlock("/w").generation_stamp, *stamp);
  EXPECT_EQ(LastBlock("/w").num_bytes, 70000);
  auto in_map = map.GetBlock(*b);
  ASSERT_TRUE(in_map.ok());
  EXPECT_EQ(in_map->block.generation_stamp, *stamp);
  EXPECT_FALSE(in_map->complete);

  // The writer goes on and closes with the new stamp; journaled, so a restart keeps it.
  ASSERT_TRUE(Run(CompleteOp{"/w", "writer", BlockInfo{*b, *stamp, 90000}, file_id}).ok());
  Close();
  Open();
  EXPECT_EQ(LastBlock("/w").generation_stamp, *stamp);
  EXPECT_EQ(LastBlock("/w").num_bytes, 90000);
}

TEST_F(PipelineOpsTest, RejectionsChangeNothing) {
  auto id = Run(CreateOp{"/r", 0644, "writer", false, false, 3, 1 << 20});
  ASSERT_TRUE(id.ok());
  const uint64_t file_id = static_cast<uint64_t>(*id);
  auto b1 = Run(AddBlockOp{"/r", file_id, "writer", std::nullopt});
  ASSERT_TRUE(b1.ok());
  const BlockInfo first = LastBlock("/r");
  auto b2 = Run(AddBlockOp{"/r", file_id, "writer", BlockInfo{*b1, first.generation_stamp,
                                                               1 << 20}});
  ASSERT_TRUE(b2.ok());
  const BlockInfo last = LastBlock("/r");

  // Another client, a block that is not the last, a stamp the block does not have.
  EXPECT_EQ(Run(UpdateBlockForPipelineOp{"/r", file_id, "thief", *b2, last.generation_stamp})
                .status()
                .code(),
            ErrorCode::kLeaseConflict);
  EXPECT_FALSE(
      Run(UpdateBlockForPipelineOp{"/r", file_id, "writer", *b1, first.generation_stamp}).ok());
  EXPECT_FALSE(
      Run(UpdateBlockForPipelineOp{"/r", file_id, "writer", *b2, last.generation_stamp + 9})
          .ok());
  EXPECT_FALSE(
      Run(UpdateBlockForPipelineOp{"/r", file_id + 1, "writer", *b2, last.generation_stamp})
          .ok());

  auto stamp = Run(UpdateBlockForPipelineOp{"/r", file_id, "writer", *b2,
                                            last.generation_stamp});
  ASSERT_TRUE(stamp.ok());
  // A stamp never handed out, an older one, another block id, a length going backwards or past
  // the block size, another client: refused, and the block is as it was.
  EXPECT_FALSE(Run(UpdatePipelineOp{"/r", file_id, "writer", last,
                                    BlockInfo{*b2, *stamp + 1, 10}})
                   .ok());
  EXPECT_FALSE(Run(UpdatePipelineOp{"/r", file_id, "writer", last,
                                    BlockInfo{*b2, last.generation_stamp, 10}})
                   .ok());
  EXPECT_FALSE(Run(UpdatePipelineOp{"/r", file_id, "writer", last,
                                    BlockInfo{*b1, *stamp, 10}})
                   .ok());
  EXPECT_FALSE(Run(UpdatePipelineOp{"/r", file_id, "writer", last,
                                    BlockInfo{*b2, *stamp, (1 << 20) + 1}})
                   .ok());
  EXPECT_EQ(Run(UpdatePipelineOp{"/r", file_id, "thief", last, BlockInfo{*b2, *stamp, 10}})
                .status()
                .code(),
            ErrorCode::kLeaseConflict);
  BlockInfo wrong_old = last;
  wrong_old.generation_stamp += 5;
  EXPECT_FALSE(Run(UpdatePipelineOp{"/r", file_id, "writer", wrong_old,
                                    BlockInfo{*b2, *stamp, 10}})
                   .ok());
  EXPECT_EQ(LastBlock("/r").generation_stamp, last.generation_stamp);
  EXPECT_EQ(LastBlock("/r").num_bytes, last.num_bytes);

  // A closed file has no pipeline to update.
  ASSERT_TRUE(Run(UpdatePipelineOp{"/r", file_id, "writer", last, BlockInfo{*b2, *stamp, 10}})
                  .ok());
  ASSERT_TRUE(Run(CompleteOp{"/r", "writer", BlockInfo{*b2, *stamp, 10}, file_id}).ok());
  EXPECT_EQ(Run(UpdateBlockForPipelineOp{"/r", file_id, "writer", *b2, *stamp}).status().code(),
            ErrorCode::kLeaseConflict);
}

}  // namespace
}  // namespace talus
