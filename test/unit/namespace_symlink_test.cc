// Symlinks and RENAME_EXCHANGE through the Namesystem's front door (namenode/ops/
// create_symlink.cc, rename.cc): what a symlink records, how the other ops treat it, and
// exchanges of files and directories across directories with their permission checks; every
// rejection changes nothing, and replay gives the same namespace.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "namenode/journal/local_journal.h"
#include "namenode/namespace/namespace_store.h"
#include "namenode/namespace/reserved_path.h"
#include "namenode/namesystem.h"

namespace talus {
namespace {

class SymlinkExchangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("talus-symlink-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    root_.user = "root";
    root_.superuser = true;
    alice_.user = "alice";
    alice_.groups = {"staff"};
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
    edit.client_id = std::string(16, 's');
    edit.call_id = next_call_id_++;
    edit.op = std::move(op);
    return ns_->Mutate(std::move(edit));
  }
  Result<Inode> Info(const std::string& path) { return ns_->GetFileInfo(root_, path); }
  void Touch(const std::string& path) {
    ASSERT_TRUE(Run(CreateOp{path, 0644, "c", false, true, 3, 1 << 20}).ok()) << path;
    ASSERT_TRUE(Run(CompleteOp{path, "c", std::nullopt, 0}).ok()) << path;
  }
  RenameOp Exchange(const std::string& a, const std::string& b) {
    RenameOp op{a, b, false};
    op.exchange = true;
    return op;
  }

  std::filesystem::path dir_;
  std::unique_ptr<NamespaceStore> store_;
  std::unique_ptr<Namesystem> ns_;
  std::unique_ptr<LocalJournal> journal_;
  Caller root_, alice_;
  int64_t next_call_id_ = 1;
};

TEST_F(SymlinkExchangeTest, SymlinkRecordsItsTargetAndIsAnEntryLikeAFile) {
  ASSERT_TRUE(Run(MkdirsOp{"/d", 0755, true}).ok());
  auto id = Run(CreateSymlinkOp{"/d/link", "../some/where else", false});
  ASSERT_TRUE(id.ok()) << id.status();
  auto link = Info("/d/link");
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->id, static_cast<uint64_t>(*id));
  EXPECT_EQ(link->type, InodeType::kSymlink);
  EXPECT_EQ(link->symlink_target, "../some/where else");
  EXPECT_EQ(link->length, 18);
  EXPECT_EQ(link->mode, 0777u);
  EXPECT_EQ(link->owner, "root");
  // By (parent id, name), as the FUSE mount makes them; with missing parents on request.
  const uint64_t d = Info("/d")->id;
  ASSERT_TRUE(Run(CreateSymlinkOp{ReservedInodePath(d) + "/l2", "/abs", false}).ok());
  EXPECT_EQ(Info("/d/l2")->symlink_target, "/abs");
  EXPECT_EQ(Run(CreateSymlinkOp{"/x/y/l", "t", false}).status().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(Run(CreateSymlinkOp{"/x/y/l", "t", true}).ok());
  // It is no directory and no file to write.
  EXPECT_EQ(Run(MkdirsOp{"/d/link/sub", 0755, true}).status().code(),
            ErrorCode::kNotADirectory);
  EXPECT_FALSE(Run(AppendOp{"/d/link", "c"}).ok());
  EXPECT_FALSE(Run(OpenForOverwriteOp{"/d/link", "c"}).ok());
  // Rename and delete treat it as a non-directory entry.
  ASSERT_TRUE(Run(RenameOp{"/d/link", "/moved", false}).ok());
  EXPECT_EQ(Info("/moved")->symlink_target, "../some/where else");
  Touch("/file");
  EXPECT_EQ(Run(RenameOp{"/moved", "/file", false}).status().code(), ErrorCode::kAlreadyExists);
  ASSERT_TRUE(Run(RenameOp{"/moved", "/file", true}).ok());
  EXPECT_EQ(Info("/file")->type, InodeType::kSymlink);
  auto counts = ns_->GetCounts();
  ASSERT_TRUE(counts.ok());
  const int64_t files = counts->files;
  auto deleted = Run(DeleteOp{"/file", false});
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);
  EXPECT_EQ(ns_->GetCounts()->files, files - 1);
  // Replay gives the same.
  Close();
  std::filesystem::remove_all(dir_ / "namespace");
  Open();
  EXPECT_EQ(Info("/d/l2")->symlink_target, "/abs");
  EXPECT_FALSE(Info("/file").ok());
}

TEST_F(SymlinkExchangeTest, BadSymlinksChangeNothing) {
  Touch("/exists");
  const uint64_t applied = journal_->AppliedIndex();
  EXPECT_EQ(Run(CreateSymlinkOp{"/l", "", false}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Run(CreateSymlinkOp{"/l", std::string(4097, 'a'), false}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Run(CreateSymlinkOp{"/l", std::string("a\0b", 3), false}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Run(CreateSymlinkOp{"/exists", "t", false}).status().code(),
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(Run(CreateSymlinkOp{"/", "t", false}).status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(Run(CreateSymlinkOp{"/.reserved", "t", false}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Run(CreateSymlinkOp{"/l", "t", false}, &alice_).status().code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(journal_->AppliedIndex(), applied);
  EXPECT_FALSE(Info("/l").ok());
  EXPECT_TRUE(Run(CreateSymlinkOp{"/l", std::string(4096, 'a'), false}).ok());
}

TEST_F(SymlinkExchangeTest, ExchangeSwapsEntriesAcrossDirectories) {
  ASSERT_TRUE(Run(MkdirsOp{"/a/sub", 0755, true}).ok());
  ASSERT_TRUE(Run(MkdirsOp{"/b", 0755, true}).ok());
  Touch("/a/f");
  Touch("/b/g");
  Touch("/a/sub/inner");
  const uint64_t f = Info("/a/f")->id;
  const uint64_t g = Info("/b/g")->id;
  const uint64_t sub = Info("/a/sub")->id;
  ASSERT_TRUE(Run(Exchange("/a/f", "/b/g")).ok());
  EXPECT_EQ(Info("/a/f")->id, g);
  EXPECT_EQ(Info("/b/g")->id, f);
  EXPECT_EQ(Info("/a/f")->parent_id, Info("/a")->id);
  EXPECT_EQ(Info("/b/g")->name, "g");
  // A directory and a file, by inode paths.
  ASSERT_TRUE(Run(Exchange(ReservedInodePath(sub), ReservedInodePath(Info("/b")->id) + "/g"))
                  .ok());
  EXPECT_TRUE(Info("/b/g")->IsDirectory());
  EXPECT_EQ(Info("/b/g/inner")->name, "inner");
  EXPECT_TRUE(Info("/a/sub")->IsFile());
  EXPECT_EQ(Info("/a/sub")->id, f);
  // Same directory.
  ASSERT_TRUE(Run(Exchange("/a/f", "/a/sub")).ok());
  EXPECT_EQ(Info("/a/f")->id, f);
  EXPECT_EQ(Info("/a/sub")->id, g);
  // Survives replay.
  Close();
  Open();
  EXPECT_EQ(Info("/a/f")->id, f);
  EXPECT_EQ(Info("/b/g")->id, sub);
}

TEST_F(SymlinkExchangeTest, BadExchangesChangeNothing) {
  ASSERT_TRUE(Run(MkdirsOp{"/a/b/c", 0755, true}).ok());
  ASSERT_TRUE(Run(MkdirsOp{"/mine", 0777, true}).ok());
  Touch("/f");
  Touch("/mine/x");
  const uint64_t applied = journal_->AppliedIndex();
  EXPECT_EQ(Run(Exchange("/f", "/missing")).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(Run(Exchange("/missing", "/f")).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(Run(Exchange("/a", "/a/b/c")).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Run(Exchange("/a/b", "/a")).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Run(Exchange("/", "/f")).status().code(), ErrorCode::kNotPermitted);
  EXPECT_EQ(Run(Exchange("/f", "/.reserved")).status().code(), ErrorCode::kInvalidArgument);
  // alice may write /mine but not / : an exchange needs both parents writable.
  EXPECT_EQ(Run(Exchange("/mine/x", "/f"), &alice_).status().code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(journal_->AppliedIndex(), applied);
  EXPECT_TRUE(Info("/a/b/c").ok());
  EXPECT_TRUE(Info("/f")->IsFile());
  // An entry exchanged with itself: nothing to do.
  EXPECT_TRUE(Run(Exchange("/f", "/f")).ok());
}

}  // namespace
}  // namespace talus
