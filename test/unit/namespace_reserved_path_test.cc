// Inode paths ("/.reserved/.inodes/<id>[/<name>...]") through the Namesystem's front door, as
// the FUSE mount uses them: reads resolve them, mutations resolve them when applied, a file
// written by id keeps working across a rename of its directory, real paths deeper than
// PATH_MAX work, and nothing under "/.reserved" can be created, renamed onto or deleted.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/path.h"
#include "namenode/blocks/block_map.h"
#include "namenode/blocks/clock.h"
#include "namenode/blocks/datanode_manager.h"
#include "namenode/journal/local_journal.h"
#include "namenode/namespace/namespace_store.h"
#include "namenode/namespace/reserved_path.h"
#include "namenode/namesystem.h"

namespace talus {
namespace {

std::string ById(uint64_t id) { return ReservedInodePath(id); }
std::string ById(uint64_t id, const std::string& rest) { return ReservedInodePath(id) + rest; }

class ReservedPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("talus-reserved-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Open();
    root_.user = "root";
    root_.superuser = true;
    alice_.user = "alice";
    alice_.groups = {"staff"};
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
  Result<int64_t> Run(EditOp op, const Caller* caller = nullptr) {
    Edit edit;
    edit.caller = caller != nullptr ? *caller : root_;
    edit.client_id = std::string(16, 'r');
    edit.call_id = next_call_id_++;
    edit.op = std::move(op);
    return ns_->Mutate(std::move(edit));
  }
  uint64_t IdOf(const std::string& path) {
    auto inode = ns_->GetFileInfo(root_, path);
    EXPECT_TRUE(inode.ok()) << path << ": " << inode.status();
    return inode.ok() ? inode->id : 0;
  }
  ErrorCode CodeOf(const Result<int64_t>& r) { return r.status().code(); }

  std::filesystem::path dir_;
  std::unique_ptr<NamespaceStore> store_;
  std::unique_ptr<Namesystem> ns_;
  std::unique_ptr<LocalJournal> journal_;
  Caller root_, alice_;
  int64_t next_call_id_ = 1;
};

TEST_F(ReservedPathTest, ReadsResolveInodePaths) {
  ASSERT_TRUE(Run(MkdirsOp{"/a/b", 0755, true}).ok());
  ASSERT_TRUE(Run(CreateOp{"/a/b/f", 0640, "c1", false, false, 3, 1 << 20}).ok());
  const uint64_t a = IdOf("/a");
  const uint64_t f = IdOf("/a/b/f");

  auto root = ns_->GetFileInfo(root_, ById(kRootInodeId));
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(root->id, kRootInodeId);
  auto file = ns_->GetFileInfo(root_, ById(f));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->name, "f");
  EXPECT_EQ(file->mode, 0640u);
  auto below = ns_->GetFileInfo(root_, ById(a, "/b/f"));
  ASSERT_TRUE(below.ok()) << below.status();
  EXPECT_EQ(below->id, f);
  auto by_root = ns_->GetFileInfo(root_, ById(kRootInodeId, "/a"));
  ASSERT_TRUE(by_root.ok());
  EXPECT_EQ(by_root->id, a);

  EXPECT_EQ(ns_->GetFileInfo(root_, ById(a, "/nope")).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ns_->GetFileInfo(root_, ById(987654)).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ns_->GetFileInfo(root_, ById(f, "/x")).status().code(), ErrorCode::kNotADirectory);
  for (const std::string bad :
       {"/.reserved/.inodes/abc", "/.reserved/.inodes/0", "/.reserved/.inodes/012",
        "/.reserved/.inodes/-3", "/.reserved/.inodes/99999999999999999999999",
        "/.reserved/other/1", "/.reserved/.inodes/1x/a", "/.reserved/.inodes//1"}) {
    EXPECT_EQ(ns_->GetFileInfo(root_, bad).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ns_->GetFileInfo(root_, "/.reserved").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ns_->GetFileInfo(root_, "/.reserved/.inodes").status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(ns_->GetFileInfo(root_, ById(1, "/.reserved")).status().code(),
            ErrorCode::kNotFound);

  auto summary = ns_->GetContentSummary(root_, ById(a));
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->file_count, 1);
  EXPECT_EQ(summary->directory_count, 2);
}

TEST_F(ReservedPathTest, ListingByIdGivesNamesAndAttributes) {
  ASSERT_TRUE(Run(MkdirsOp{"/d/sub", 0700, true}).ok());
  ASSERT_TRUE(Run(CreateOp{"/d/file", 0600, "c1", false, false, 2, 1 << 20}).ok());
  auto listing = ns_->GetListing(root_, ById(IdOf("/d")), "", 100);
  ASSERT_TRUE(listing.ok()) << listing.status();
  ASSERT_EQ(listing->entries.size(), 2u);
  EXPECT_EQ(listing->entries[0].name, "file");
  EXPECT_TRUE(listing->entries[0].IsFile());
  EXPECT_EQ(listing->entries[0].mode, 0600u);
  EXPECT_EQ(listing->entries[0].replication, 2);
  EXPECT_EQ(listing->entries[0].owner, "root");
  EXPECT_EQ(listing->entries[0].parent_id, IdOf("/d"));
  EXPECT_EQ(listing->entries[1].name, "sub");
  EXPECT_TRUE(listing->entries[1].IsDirectory());
  EXPECT_EQ(listing->entries[1].mode, 0700u);
  auto page = ns_->GetListing(root_, ById(IdOf("/d")), "file", 100);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->entries.size(), 1u);
  EXPECT_EQ(page->entries[0].name, "sub");
}

TEST_F(ReservedPathTest, MutationsByParentIdAndName) {
  ASSERT_TRUE(Run(MkdirsOp{"/p", 0777, true}).ok());
  const uint64_t p = IdOf("/p");
  ASSERT_TRUE(Run(MkdirsOp{ById(p, "/dir"), 0755, false}).ok());
  EXPECT_TRUE(ns_->GetFileInfo(root_, "/p/dir").ok());
  auto created = Run(CreateOp{ById(p, "/f"), 0644, "c1", false, false, 3, 1 << 20});
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(static_cast<uint64_t>(*created), IdOf("/p/f"));
  ASSERT_TRUE(Run(CompleteOp{ById(*created), "c1", std::nullopt, 0}).ok());
  ASSERT_TRUE(Run(SetPermissionOp{ById(*created), 0600}).ok());
  EXPECT_EQ(ns_->GetFileInfo(root_, "/p/f")->mode, 0600u);
  // Rename by (parent, name) on both sides, then by id.
  ASSERT_TRUE(Run(RenameOp{ById(p, "/f"), ById(IdOf("/p/dir"), "/g"), false}).ok());
  EXPECT_EQ(IdOf("/p/dir/g"), static_cast<uint64_t>(*created));
  ASSERT_TRUE(Run(RenameOp{ById(*created), "/top", false}).ok());
  EXPECT_EQ(IdOf("/top"), static_cast<uint64_t>(*created));
  // A directory may not move into itself, by id either.
  EXPECT_EQ(CodeOf(Run(RenameOp{ById(p), ById(IdOf("/p/dir"), "/x"), false})),
            ErrorCode::kInvalidArgument);
  auto deleted = Run(DeleteOp{ById(*created), false});
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);
  EXPECT_FALSE(ns_->GetFileInfo(root_, "/top").ok());
  // An id that is gone: NOT_FOUND, for mutations as for reads.
  EXPECT_EQ(CodeOf(Run(SetPermissionOp{ById(*created), 0600})), ErrorCode::kNotFound);
  // Permissions are those of the real path.
  ASSERT_TRUE(Run(MkdirsOp{"/locked", 0700, true}).ok());
  EXPECT_EQ(CodeOf(Run(MkdirsOp{ById(IdOf("/locked"), "/x"), 0755, false}, &alice_)),
            ErrorCode::kPermissionDenied);
}

TEST_F(ReservedPathTest, ReservedNamesCanNeverBeCreatedRenamedOrDeleted) {
  ASSERT_TRUE(Run(MkdirsOp{"/d", 0755, true}).ok());
  const uint64_t before = journal_->AppliedIndex();
  for (const std::string path : {"/.reserved", "/.reserved/.inodes", "/.reserved/x",
                                 "/.reserved/.inodes/1/.reserved", "/.reserved/.inodes/abc"}) {
    EXPECT_EQ(CodeOf(Run(MkdirsOp{path, 0755, true})), ErrorCode::kInvalidArgument) << path;
    EXPECT_EQ(CodeOf(Run(CreateOp{path, 0644, "c", true, true, 3, 1 << 20})),
              ErrorCode::kInvalidArgument)
        << path;
    EXPECT_EQ(CodeOf(Run(RenameOp{"/d", path, true})), ErrorCode::kInvalidArgument) << path;
    EXPECT_EQ(CodeOf(Run(DeleteOp{path, true})), ErrorCode::kInvalidArgument) << path;
  }
  EXPECT_EQ(CodeOf(Run(MkdirsOp{"/.reserved/.inodes/424242/x", 0755, true})),
            ErrorCode::kNotFound);
  EXPECT_EQ(journal_->AppliedIndex(), before);  // nothing journaled
  auto listing = ns_->GetListing(root_, "/", "", 100);
  ASSERT_TRUE(listing.ok());
  ASSERT_EQ(listing->entries.size(), 1u);
  EXPECT_EQ(listing->entries[0].name, "d");
  // ".reserved" is only reserved at the top.
  EXPECT_TRUE(Run(MkdirsOp{"/d/.reserved", 0755, true}).ok());
}

TEST_F(ReservedPathTest, FileWrittenByIdSurvivesRenameOfItsDirectory) {
  blocks::FakeClock clock;
  blocks::DatanodeManager datanodes(blocks::DatanodeManagerOptions{}, &clock);
  blocks::BlockMap map(&datanodes);
  ASSERT_TRUE(ns_->AttachBlockMap(&map).ok());
  ASSERT_TRUE(Run(MkdirsOp{"/a", 0755, true}).ok());
  auto id = Run(CreateOp{"/a/f", 0644, "writer", false, false, 3, 1 << 20});
  ASSERT_TRUE(id.ok());
  const uint64_t file_id = static_cast<uint64_t>(*id);
  const std::string handle = ById(file_id);

  auto b1 = Run(AddBlockOp{handle, file_id, "writer", std::nullopt});
  ASSERT_TRUE(b1.ok()) << b1.status();
  BlockInfo first = ns_->GetInode(file_id)->blocks.back();
  ASSERT_TRUE(Run(RenameOp{"/a", "/b", false}).ok());
  first.num_bytes = 1 << 20;
  auto b2 = Run(AddBlockOp{handle, file_id, "writer", first});
  ASSERT_TRUE(b2.ok()) << b2.status();
  ASSERT_TRUE(Run(RenameOp{"/b/f", "/b/g", false}).ok());
  BlockInfo last = ns_->GetInode(file_id)->blocks.back();
  last.num_bytes = 1000;
  // Another writer cannot use the handle; the holder completes through it.
  EXPECT_EQ(CodeOf(Run(CompleteOp{handle, "thief", last, file_id})), ErrorCode::kLeaseConflict);
  ASSERT_TRUE(Run(CompleteOp{handle, "writer", last, file_id}).ok());

  auto g = ns_->GetFileInfo(root_, "/b/g");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->id, file_id);
  EXPECT_FALSE(g->UnderConstruction());
  EXPECT_EQ(g->length, (1 << 20) + 1000);
  ASSERT_EQ(g->blocks.size(), 2u);
  for (int64_t block : {*b1, *b2}) {
    auto in_map = map.GetBlock(block);
    ASSERT_TRUE(in_map.ok()) << in_map.status();
    EXPECT_TRUE(in_map->complete);
  }
  // Replay of the journal (which keeps the inode paths as sent) gives the same state.
  Close();
  std::filesystem::remove_all(dir_ / "namespace");
  Open();
  auto replayed = ns_->GetFileInfo(root_, "/b/g");
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ(replayed->id, file_id);
  EXPECT_EQ(replayed->length, (1 << 20) + 1000);
  EXPECT_FALSE(replayed->UnderConstruction());
}

TEST_F(ReservedPathTest, RealPathsLongerThanPathMaxWork) {
  // 40 levels of 200-byte names: a real path of about 8 KiB, reachable only by inode id.
  const std::string name(200, 'n');
  uint64_t parent = kRootInodeId;
  std::string real;
  for (int level = 0; level < 40; ++level) {
    ASSERT_TRUE(Run(MkdirsOp{ById(parent, "/" + name), 0755, false}).ok()) << level;
    real += "/" + name;
    auto dir = ns_->GetFileInfo(root_, ById(parent, "/" + name));
    ASSERT_TRUE(dir.ok()) << dir.status();
    parent = dir->id;
  }
  ASSERT_GT(real.size(), kMaxPathBytes);
  auto created = Run(CreateOp{ById(parent, "/deep"), 0644, "c1", false, false, 3, 1 << 20});
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_TRUE(Run(CompleteOp{ById(*created), "c1", std::nullopt, 0}).ok());
  ASSERT_TRUE(Run(RenameOp{ById(parent, "/deep"), ById(parent, "/deeper"), false}).ok());
  auto file = ns_->GetFileInfo(root_, ById(*created));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->name, "deeper");
  auto path = ns_->PathOf(static_cast<uint64_t>(*created));
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, real + "/deeper");
  auto summary = ns_->GetContentSummary(root_, "/" + name);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->file_count, 1);
  EXPECT_EQ(summary->directory_count, 40);
  // An inode path as sent is still held to PATH_MAX.
  std::string too_long = ById(parent);
  while (too_long.size() <= kMaxPathBytes) too_long += "/" + name.substr(0, 100);
  EXPECT_EQ(ns_->GetFileInfo(root_, too_long).status().code(), ErrorCode::kNameTooLong);
  ASSERT_TRUE(Run(DeleteOp{ById(kRootInodeId, "/" + name), true}).ok());
  EXPECT_EQ(ns_->GetFileInfo(root_, ById(*created)).status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace talus
