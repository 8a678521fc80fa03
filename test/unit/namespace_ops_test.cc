// Each namespace operation against a real LevelDB namespace and a real local journal, through
// the Namesystem's front door (dry run, journal, apply), as the RPC handlers use it.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <regex>
#include <string>

#include "namenode/journal/local_journal.h"
#include "namenode/namespace/keys.h"
#include "namenode/namespace/namespace_store.h"
#include "namenode/blocks/block_map.h"
#include "namenode/blocks/clock.h"
#include "namenode/blocks/datanode_manager.h"
#include "namenode/leases/block_recovery.h"
#include "namenode/leases/lease_manager.h"
#include "namenode/namesystem.h"
#include "namenode/ops/edit_codec.h"

namespace talus {
namespace {

class NamespaceOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("talus-ns-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Open();
    root_.user = "root";
    root_.superuser = true;
    alice_.user = "alice";
    alice_.groups = {"staff"};
    bob_.user = "bob";
    bob_.groups = {"other"};
  }

  void Open() {
    NamespaceStoreOptions opts;
    opts.root_owner = "root";
    opts.root_group = "supergroup";
    auto store = NamespaceStore::Open((dir_ / "namespace").string(), opts);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    ns_ = std::make_unique<Namesystem>(store_.get(), ns_options_);
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

  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }

  NamesystemOptions ns_options_;

  Result<int64_t> Run(const Caller& caller, EditOp op, int64_t call_id = 0) {
    Edit edit;
    edit.caller = caller;
    edit.client_id = std::string(16, 'c');
    edit.call_id = call_id != 0 ? call_id : next_call_id_++;
    edit.op = std::move(op);
    return ns_->Mutate(std::move(edit));
  }

  Status Mkdir(const std::string& path, const Caller& caller, uint32_t mode = 0755,
               bool parents = true) {
    return Run(caller, MkdirsOp{path, mode, parents}).status();
  }
  Status Touch(const std::string& path, const Caller& caller, uint32_t mode = 0644) {
    auto created = Run(caller, CreateOp{path, mode, "client-1", false, false, 3, 128 << 20});
    if (!created.ok()) return created.status();
    CompleteOp complete;
    complete.path = path;
    complete.client_name = "client-1";
    return Run(caller, complete).status();
  }
  bool Exists(const std::string& path) { return ns_->GetFileInfo(root_, path).ok(); }

  std::filesystem::path dir_;
  std::unique_ptr<NamespaceStore> store_;
  std::unique_ptr<Namesystem> ns_;
  std::unique_ptr<LocalJournal> journal_;
  Caller root_, alice_, bob_;
  int64_t next_call_id_ = 1;
};

TEST_F(NamespaceOpsTest, MkdirsCreatesParentsAndIsIdempotent) {
  ASSERT_TRUE(Mkdir("/a/b/c", root_).ok());
  auto c = ns_->GetFileInfo(root_, "/a/b/c");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->IsDirectory());
  EXPECT_EQ(c->mode, 0755u);
  EXPECT_EQ(c->owner, "root");
  EXPECT_EQ(c->group, "supergroup");  // inherited from the parent
  EXPECT_TRUE(Mkdir("/a/b/c", root_).ok());  // existing directory: success
  auto counts = ns_->GetCounts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->directories, 4);  // "/", a, b, c
}

TEST_F(NamespaceOpsTest, MkdirsWithoutParentsNeedsTheParent) {
  EXPECT_EQ(Mkdir("/x/y", root_, 0755, false).code(), ErrorCode::kNotFound);
  EXPECT_FALSE(Exists("/x"));
}

TEST_F(NamespaceOpsTest, MkdirsOverAFileFails) {
  ASSERT_TRUE(Touch("/f", root_).ok());
  EXPECT_EQ(Mkdir("/f", root_).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(Mkdir("/f/sub", root_).code(), ErrorCode::kNotADirectory);
  auto f = ns_->GetFileInfo(root_, "/f");
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->IsFile());
}

TEST_F(NamespaceOpsTest, CreateAndComplete) {
  ASSERT_TRUE(Mkdir("/d", root_).ok());
  auto id = Run(root_, CreateOp{"/d/f", 0640, "client-1", false, false, 2, 64 << 20});
  ASSERT_TRUE(id.ok()) << id.status();
  auto f = ns_->GetFileInfo(root_, "/d/f");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->id, static_cast<uint64_t>(*id));
  EXPECT_TRUE(f->UnderConstruction());
  EXPECT_EQ(f->replication, 2);
  EXPECT_EQ(f->block_size, 64 << 20);
  // Another client may not complete it; the holder may.
  CompleteOp wrong{"/d/f", "client-2", std::nullopt, 0};
  EXPECT_EQ(Run(root_, wrong).status().code(), ErrorCode::kLeaseConflict);
  CompleteOp right{"/d/f", "client-1", std::nullopt, static_cast<uint64_t>(*id)};
  ASSERT_TRUE(Run(root_, right).ok());
  EXPECT_FALSE(ns_->GetFileInfo(root_, "/d/f")->UnderConstruction());
}

TEST_F(NamespaceOpsTest, CreateExistingWithoutOverwriteFails) {
  ASSERT_TRUE(Touch("/f", root_).ok());
  auto again = Run(root_, CreateOp{"/f", 0644, "client-1", false, false, 3, 128 << 20});
  EXPECT_EQ(again.status().code(), ErrorCode::kAlreadyExists);
  auto over = Run(root_, CreateOp{"/f", 0600, "client-1", true, false, 3, 128 << 20});
  ASSERT_TRUE(over.ok()) << over.status();
  EXPECT_EQ(ns_->GetFileInfo(root_, "/f")->mode, 0600u);
  ASSERT_TRUE(Mkdir("/dir", root_).ok());
  EXPECT_EQ(Run(root_, CreateOp{"/dir", 0644, "c", true, false, 3, 128 << 20}).status().code(),
            ErrorCode::kIsADirectory);
}

TEST_F(NamespaceOpsTest, CreateRejectsBadReplicationAndBlockSize) {
  EXPECT_EQ(Run(root_, CreateOp{"/f", 0644, "c", false, false, 0, 128 << 20}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Run(root_, CreateOp{"/f", 0644, "c", false, false, 3, 1000}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_FALSE(Exists("/f"));
}

TEST_F(NamespaceOpsTest, DeleteFilesAndDirectories) {
  ASSERT_TRUE(Mkdir("/d/e", root_).ok());
  ASSERT_TRUE(Touch("/d/e/f", root_).ok());
  EXPECT_EQ(Run(root_, DeleteOp{"/d", false}).status().code(), ErrorCode::kNotEmpty);
  EXPECT_TRUE(Exists("/d/e/f"));
  auto gone = Run(root_, DeleteOp{"/d", true});
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(*gone, 1);
  EXPECT_FALSE(Exists("/d"));
  EXPECT_FALSE(Exists("/d/e/f"));
  auto missing = Run(root_, DeleteOp{"/d", true});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(*missing, 0);  // HDFS: false, not an error
  auto counts = ns_->GetCounts();
  EXPECT_EQ(counts->files, 0);
  EXPECT_EQ(counts->directories, 1);
}

TEST_F(NamespaceOpsTest, DeleteRootIsRefused) {
  EXPECT_EQ(Run(root_, DeleteOp{"/", true}).status().code(), ErrorCode::kNotPermitted);
  EXPECT_TRUE(Exists("/"));
}

TEST_F(NamespaceOpsTest, RenameMovesAndKeepsInode) {
  ASSERT_TRUE(Mkdir("/a", root_).ok());
  ASSERT_TRUE(Mkdir("/b", root_).ok());
  ASSERT_TRUE(Touch("/a/f", root_).ok());
  uint64_t id = ns_->GetFileInfo(root_, "/a/f")->id;
  ASSERT_TRUE(Run(root_, RenameOp{"/a/f", "/b/g", false}).ok());
  EXPECT_FALSE(Exists("/a/f"));
  auto g = ns_->GetFileInfo(root_, "/b/g");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->id, id);
  EXPECT_EQ(g->name, "g");
}

TEST_F(NamespaceOpsTest, RenameSemanticsOfRename2) {
  ASSERT_TRUE(Touch("/f1", root_).ok());
  ASSERT_TRUE(Touch("/f2", root_).ok());
  ASSERT_TRUE(Mkdir("/d", root_).ok());
  ASSERT_TRUE(Touch("/d/x", root_).ok());
  ASSERT_TRUE(Mkdir("/empty", root_).ok());
  EXPECT_EQ(Run(root_, RenameOp{"/f1", "/f2", false}).status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(Run(root_, RenameOp{"/f1", "/d", true}).status().code(), ErrorCode::kIsADirectory);
  EXPECT_EQ(Run(root_, RenameOp{"/empty", "/f1", true}).status().code(),
            ErrorCode::kNotADirectory);
  ASSERT_TRUE(Mkdir("/d2", root_).ok());
  EXPECT_EQ(Run(root_, RenameOp{"/d2", "/d", true}).status().code(), ErrorCode::kNotEmpty);
  uint64_t f1 = ns_->GetFileInfo(root_, "/f1")->id;
  ASSERT_TRUE(Run(root_, RenameOp{"/f1", "/f2", true}).ok());
  EXPECT_EQ(ns_->GetFileInfo(root_, "/f2")->id, f1);
  EXPECT_FALSE(Exists("/f1"));
  EXPECT_EQ(ns_->GetCounts()->files, 2);  // f2 (was f1) and /d/x
  EXPECT_EQ(Run(root_, RenameOp{"/nope", "/x", false}).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(Run(root_, RenameOp{"/f2", "/nodir/x", false}).status().code(),
            ErrorCode::kNotFound);
}

TEST_F(NamespaceOpsTest, RenameIntoOwnSubtreeOrOfRootIsRefused) {
  ASSERT_TRUE(Mkdir("/a/b", root_).ok());
  EXPECT_EQ(Run(root_, RenameOp{"/a", "/a/b/c", false}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Run(root_, RenameOp{"/", "/x", false}).status().code(), ErrorCode::kNotPermitted);
  EXPECT_TRUE(Exists("/a/b"));
  EXPECT_FALSE(Exists("/a/b/c"));
}

TEST_F(NamespaceOpsTest, BadPathsChangeNothing) {
  for (const std::string& bad :
       {std::string(""), std::string("relative"), std::string("/a/./b"), std::string("/a/../b"),
        std::string("/a//b"), std::string("/a/"), std::string("/a\0b", 4),
        "/" + std::string(256, 'n'), "/" + std::string(4100, 'p')}) {
    Status s = Mkdir(bad, root_);
    EXPECT_FALSE(s.ok()) << "accepted: " << bad;
    EXPECT_TRUE(s.code() == ErrorCode::kInvalidArgument || s.code() == ErrorCode::kNameTooLong)
        << s;
  }
  auto listing = ns_->GetListing(root_, "/", "", 100);
  ASSERT_TRUE(listing.ok());
  EXPECT_TRUE(listing->entries.empty());
  EXPECT_EQ(journal_->AppliedIndex(), 0u);  // nothing was journaled
}

TEST_F(NamespaceOpsTest, PermissionsAreEnforced) {
  ASSERT_TRUE(Mkdir("/home/alice", root_, 0755).ok());
  ASSERT_TRUE(Run(root_, SetOwnerOp{"/home/alice", "alice", "staff"}).ok());
  EXPECT_TRUE(Mkdir("/home/alice/work", alice_).ok());
  Status denied = Mkdir("/home/alice/bob", bob_);
  EXPECT_EQ(denied.code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(denied.message().find("user=bob, access=WRITE"), std::string::npos) << denied;
  EXPECT_EQ(Mkdir("/top", alice_).code(), ErrorCode::kPermissionDenied);
  // No traverse permission: bob cannot even look below.
  ASSERT_TRUE(Run(alice_, SetPermissionOp{"/home/alice", 0700}).ok());
  EXPECT_EQ(ns_->GetFileInfo(bob_, "/home/alice/work").status().code(),
            ErrorCode::kPermissionDenied);
  EXPECT_TRUE(ns_->GetFileInfo(alice_, "/home/alice/work").ok());
  // Only the owner changes the mode; only the superuser gives a file away.
  EXPECT_EQ(Run(bob_, SetPermissionOp{"/home/alice", 0777}).status().code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(Run(alice_, SetOwnerOp{"/home/alice", "bob", ""}).status().code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(Run(alice_, SetOwnerOp{"/home/alice", "", "wheel"}).status().code(),
            ErrorCode::kPermissionDenied);
  EXPECT_TRUE(Run(alice_, SetOwnerOp{"/home/alice", "", "staff"}).ok());
  EXPECT_EQ(ns_->GetFileInfo(root_, "/home/alice")->mode, 0700u);
}

TEST_F(NamespaceOpsTest, StickyBitProtectsOthersFiles) {
  ASSERT_TRUE(Mkdir("/tmp", root_, 01777).ok());
  ASSERT_TRUE(Run(root_, SetPermissionOp{"/tmp", 01777}).ok());
  ASSERT_TRUE(Touch("/tmp/alices", alice_).ok());
  EXPECT_EQ(Run(bob_, DeleteOp{"/tmp/alices", false}).status().code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(Run(bob_, RenameOp{"/tmp/alices", "/tmp/mine", false}).status().code(),
            ErrorCode::kPermissionDenied);
  EXPECT_TRUE(Run(alice_, DeleteOp{"/tmp/alices", false}).ok());
}

TEST_F(NamespaceOpsTest, SetTimesAndReplication) {
  ASSERT_TRUE(Touch("/f", root_).ok());
  ASSERT_TRUE(Run(root_, SetTimesOp{"/f", NsTime{1234567890123, 999999999}, NsTime{-1, 0}}).ok());
  auto f = ns_->GetFileInfo(root_, "/f");
  EXPECT_EQ(f->mtime.sec, 1234567890123);  // 64-bit seconds kept
  EXPECT_EQ(f->mtime.nsec, 999999999);
  EXPECT_EQ(Run(root_, SetTimesOp{"/f", NsTime{1, 1000000000}, NsTime{-1, 0}}).status().code(),
            ErrorCode::kInvalidArgument);
  ASSERT_TRUE(Run(root_, SetReplicationOp{"/f", 5}).ok());
  EXPECT_EQ(ns_->GetFileInfo(root_, "/f")->replication, 5);
  ASSERT_TRUE(Mkdir("/d", root_).ok());
  auto on_dir = Run(root_, SetReplicationOp{"/d", 2});
  ASSERT_TRUE(on_dir.ok());
  EXPECT_EQ(*on_dir, 0);  // false for directories
  EXPECT_EQ(Run(root_, SetReplicationOp{"/f", 0}).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(NamespaceOpsTest, ListingPagesInNameOrder) {
  ASSERT_TRUE(Mkdir("/l", root_).ok());
  for (int i = 0; i < 25; ++i) {
    char name[16];
    std::snprintf(name, sizeof(name), "/l/e%02d", i);
    ASSERT_TRUE(Mkdir(name, root_).ok());
  }
  auto page1 = ns_->GetListing(root_, "/l", "", 10);
  ASSERT_TRUE(page1.ok());
  ASSERT_EQ(page1->entries.size(), 10u);
  EXPECT_TRUE(page1->has_more);
  EXPECT_EQ(page1->entries.front().name, "e00");
  auto page3 = ns_->GetListing(root_, "/l", "e19", 10);
  ASSERT_TRUE(page3.ok());
  ASSERT_EQ(page3->entries.size(), 5u);
  EXPECT_FALSE(page3->has_more);
  EXPECT_EQ(page3->entries.front().name, "e20");
}

TEST_F(NamespaceOpsTest, RetriedCallIsAnsweredNotReapplied) {
  auto first = Run(root_, CreateOp{"/once", 0644, "c", false, false, 3, 128 << 20}, 777);
  ASSERT_TRUE(first.ok());
  // The same call id again: the recorded answer, not ALREADY_EXISTS.
  auto retried = Run(root_, CreateOp{"/once", 0644, "c", false, false, 3, 128 << 20}, 777);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(*retried, *first);
  auto failed = Run(root_, DeleteOp{"/", true}, 778);
  auto failed_again = Run(root_, DeleteOp{"/", true}, 778);
  EXPECT_EQ(failed.status().code(), failed_again.status().code());
}

TEST_F(NamespaceOpsTest, StateSurvivesReopenThroughJournalReplay) {
  ASSERT_TRUE(Mkdir("/keep/me", root_).ok());
  ASSERT_TRUE(Touch("/keep/file", root_).ok());
  uint64_t applied = journal_->AppliedIndex();
  Close();
  Open();
  EXPECT_EQ(ns_->LastAppliedIndex(), applied);
  EXPECT_TRUE(Exists("/keep/me"));
  EXPECT_TRUE(Exists("/keep/file"));
  ASSERT_TRUE(Mkdir("/after", root_).ok());
  EXPECT_EQ(journal_->AppliedIndex(), applied + 1);
}

TEST_F(NamespaceOpsTest, ContentSummaryCountsTheSubtree) {
  ASSERT_TRUE(Mkdir("/s/a", root_).ok());
  ASSERT_TRUE(Touch("/s/a/f1", root_).ok());
  ASSERT_TRUE(Touch("/s/f2", root_).ok());
  auto cs = ns_->GetContentSummary(root_, "/s");
  ASSERT_TRUE(cs.ok());
  EXPECT_EQ(cs->directory_count, 2);
  EXPECT_EQ(cs->file_count, 2);
  EXPECT_EQ(cs->length, 0);
}

TEST_F(NamespaceOpsTest, BlocksAreAllocatedRecordedAndCompleted) {
  auto id = Run(root_, CreateOp{"/data", 0644, "writer", false, false, 3, 1 << 20});
  ASSERT_TRUE(id.ok());
  const uint64_t file_id = static_cast<uint64_t>(*id);
  // Only the lease holder adds blocks.
  EXPECT_EQ(Run(root_, AddBlockOp{"/data", file_id, "intruder", std::nullopt}).status().code(),
            ErrorCode::kLeaseConflict);
  auto b1 = Run(root_, AddBlockOp{"/data", file_id, "writer", std::nullopt});
  ASSERT_TRUE(b1.ok()) << b1.status();
  auto file = ns_->GetFileInfo(root_, "/data");
  ASSERT_EQ(file->blocks.size(), 1u);
  EXPECT_EQ(file->blocks[0].block_id, *b1);
  const int64_t gs1 = file->blocks[0].generation_stamp;
  // The next block must name the last one as its previous, with a length within the block.
  EXPECT_EQ(Run(root_, AddBlockOp{"/data", file_id, "writer", std::nullopt}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Run(root_, AddBlockOp{"/data", file_id, "writer",
                                  BlockInfo{*b1, gs1, (1 << 20) + 1}})
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
  auto b2 = Run(root_, AddBlockOp{"/data", file_id, "writer", BlockInfo{*b1, gs1, 1 << 20}});
  ASSERT_TRUE(b2.ok()) << b2.status();
  EXPECT_NE(*b2, *b1);
  // A pipeline that could not start gives its block back; abandoning twice is harmless.
  ASSERT_TRUE(Run(root_, AbandonBlockOp{"/data", file_id, "writer", *b2}).ok());
  ASSERT_TRUE(Run(root_, AbandonBlockOp{"/data", file_id, "writer", *b2}).ok());
  EXPECT_EQ(ns_->GetFileInfo(root_, "/data")->blocks.size(), 1u);
  auto b3 = Run(root_, AddBlockOp{"/data", file_id, "writer", BlockInfo{*b1, gs1, 1 << 20}});
  ASSERT_TRUE(b3.ok());
  file = ns_->GetFileInfo(root_, "/data");
  const int64_t gs3 = file->blocks.back().generation_stamp;
  EXPECT_GT(gs3, gs1);
  CompleteOp done{"/data", "writer", BlockInfo{*b3, gs3, 12345}, file_id};
  ASSERT_TRUE(Run(root_, done).ok());
  file = ns_->GetFileInfo(root_, "/data");
  EXPECT_FALSE(file->UnderConstruction());
  EXPECT_EQ(file->length, (1 << 20) + 12345);
  EXPECT_EQ(Run(root_, AddBlockOp{"/data", file_id, "writer", std::nullopt}).status().code(),
            ErrorCode::kLeaseConflict);  // closed
  // Block ids and generation stamps survive a restart (they come from the journal).
  Close();
  Open();
  file = ns_->GetFileInfo(root_, "/data");
  ASSERT_EQ(file->blocks.size(), 2u);
  EXPECT_EQ(file->blocks[1].block_id, *b3);
}

// Expiry runs at fixed journal indexes (every 1,024), the same on every member of a Raft
// group whatever each process applied since it started.
TEST_F(NamespaceOpsTest, RetryRecordsExpireAtFixedJournalIndexes) {
  Close();
  ns_options_.retry_cache_expiry_sec = 0;  // every record is old at the next expiry run
  Open();
  const std::string first_key = keys::RetryKey(std::string(16, 'c'), 1);
  ASSERT_TRUE(Mkdir("/r0", root_).ok());  // call id 1
  int64_t last_index = static_cast<int64_t>(ns_->LastAppliedIndex());
  ASSERT_LT(last_index, 1024);
  for (int i = 1; ns_->LastAppliedIndex() < 1023; ++i) {
    ASSERT_TRUE(Mkdir("/r" + std::to_string(i), root_).ok());
  }
  auto kept = store_->Get(first_key);
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept->has_value()) << "expired before index 1024";
  ASSERT_TRUE(Mkdir("/at-1024", root_).ok());
  ASSERT_EQ(ns_->LastAppliedIndex(), 1024u);
  auto gone = store_->Get(first_key);
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value()) << "the record of call 1 outlived the expiry at index 1024";
}

TEST_F(NamespaceOpsTest, ExpiredLeasesAreRecovered) {
  std::chrono::steady_clock::time_point now{};
  LeaseManager leases(LeaseOptions{std::chrono::seconds(1), std::chrono::seconds(10)},
                      [&] { return now; });
  ns_->SetLeaseManager(&leases);
  ASSERT_TRUE(Run(root_, CreateOp{"/open-empty", 0644, "dead-writer", false, false, 3, 1 << 20}).ok());
  auto with_block = Run(root_, CreateOp{"/open-block", 0644, "dead-writer", false, false, 3, 1 << 20});
  ASSERT_TRUE(with_block.ok());
  ASSERT_TRUE(Run(root_, AddBlockOp{"/open-block", static_cast<uint64_t>(*with_block),
                                    "dead-writer", std::nullopt})
                  .ok());
  ASSERT_TRUE(Run(root_, CreateOp{"/alive", 0644, "live-writer", false, false, 3, 1 << 20}).ok());
  EXPECT_EQ(leases.files(), 3u);
  now += std::chrono::seconds(8);
  EXPECT_TRUE(ns_->RenewLease("live-writer"));
  EXPECT_FALSE(ns_->RenewLease("never-wrote"));
  now += std::chrono::seconds(5);  // dead-writer: 13 s without renewal; live-writer: 5 s
  auto closed = ns_->RecoverExpiredLeases();
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(*closed, 1);
  EXPECT_FALSE(ns_->GetFileInfo(root_, "/open-empty")->UnderConstruction());
  // A file with a block waits for block recovery by the datanodes; the live writer keeps its.
  EXPECT_TRUE(ns_->GetFileInfo(root_, "/open-block")->UnderConstruction());
  EXPECT_TRUE(ns_->GetFileInfo(root_, "/alive")->UnderConstruction());
  // After a restart the files still under construction get fresh leases from the 'U' index.
  ns_->SetLeaseManager(nullptr);
  Close();
  Open();
  LeaseManager reloaded(LeaseOptions{}, [&] { return now; });
  ns_->SetLeaseManager(&reloaded);
  ASSERT_TRUE(ns_->LoadLeases().ok());
  EXPECT_EQ(reloaded.files(), 2u);
  EXPECT_TRUE(reloaded.Renew("live-writer"));
  ns_->SetLeaseManager(nullptr);
}

TEST_F(NamespaceOpsTest, BlockMapFollowsTheNamespace) {
  blocks::FakeClock clock;
  blocks::DatanodeManager datanodes(blocks::DatanodeManagerOptions{}, &clock);
  blocks::BlockMap map(&datanodes);
  ASSERT_TRUE(ns_->AttachBlockMap(&map).ok());
  auto id = Run(root_, CreateOp{"/f", 0644, "w", false, false, 3, 1 << 20});
  ASSERT_TRUE(id.ok());
  const uint64_t file_id = static_cast<uint64_t>(*id);
  auto b1 = Run(root_, AddBlockOp{"/f", file_id, "w", std::nullopt});
  ASSERT_TRUE(b1.ok());
  auto gs1 = ns_->GetFileInfo(root_, "/f")->blocks[0].generation_stamp;
  auto b2 = Run(root_, AddBlockOp{"/f", file_id, "w", BlockInfo{*b1, gs1, 1 << 20}});
  ASSERT_TRUE(b2.ok());
  auto in_map = map.FileBlocks(static_cast<int64_t>(file_id));
  ASSERT_EQ(in_map.size(), 2u);
  EXPECT_TRUE(in_map[0].complete);    // the previous block was committed by the next addBlock
  EXPECT_FALSE(in_map[1].complete);   // the last one is being written
  EXPECT_EQ(in_map[0].block.num_bytes, 1 << 20);
  auto gs2 = ns_->GetFileInfo(root_, "/f")->blocks[1].generation_stamp;
  ASSERT_TRUE(Run(root_, CompleteOp{"/f", "w", BlockInfo{*b2, gs2, 100}, file_id}).ok());
  in_map = map.FileBlocks(static_cast<int64_t>(file_id));
  ASSERT_EQ(in_map.size(), 2u);
  EXPECT_TRUE(in_map[1].complete);
  EXPECT_EQ(in_map[1].block.num_bytes, 100);
  ASSERT_TRUE(Run(root_, SetReplicationOp{"/f", 2}).ok());
  EXPECT_EQ(map.FileBlocks(static_cast<int64_t>(file_id))[0].expected_replication, 2);

  // After a restart the map is rebuilt from the namespace before anything is served.
  Close();
  Open();
  blocks::BlockMap reloaded(&datanodes);
  ASSERT_TRUE(ns_->AttachBlockMap(&reloaded).ok());
  in_map = reloaded.FileBlocks(static_cast<int64_t>(file_id));
  ASSERT_EQ(in_map.size(), 2u);
  EXPECT_TRUE(in_map[0].complete && in_map[1].complete);
  EXPECT_EQ(in_map[1].expected_replication, 2);

  // An abandoned block and a deleted file leave the map.
  auto g = Run(root_, CreateOp{"/g", 0644, "w", false, false, 3, 1 << 20});
  ASSERT_TRUE(g.ok());
  auto gb = Run(root_, AddBlockOp{"/g", static_cast<uint64_t>(*g), "w", std::nullopt});
  ASSERT_TRUE(gb.ok());
  EXPECT_TRUE(reloaded.GetBlock(*gb).ok());
  ASSERT_TRUE(Run(root_, AbandonBlockOp{"/g", static_cast<uint64_t>(*g), "w", *gb}).ok());
  EXPECT_FALSE(reloaded.GetBlock(*gb).ok());
  ASSERT_TRUE(Run(root_, DeleteOp{"/f", false}).ok());
  EXPECT_TRUE(reloaded.FileBlocks(static_cast<int64_t>(file_id)).empty());
  EXPECT_EQ(reloaded.Stats().total_blocks, 0);
}

TEST_F(NamespaceOpsTest, ClusterIdIsDrawnAtFormatAndKeptAcrossReopens) {
  Close();
  NamespaceStoreOptions opts;
  std::string first;
  {
    auto store = NamespaceStore::Open((dir_ / "namespace").string(), opts);
    ASSERT_TRUE(store.ok()) << store.status();
    first = (*store)->cluster_id();
  }
  EXPECT_TRUE(std::regex_match(first, std::regex("CID-[0-9a-f]{32}"))) << first;
  auto reopened = NamespaceStore::Open((dir_ / "namespace").string(), opts);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->cluster_id(), first);
  // Another namespace is another cluster.
  auto other = NamespaceStore::Open((dir_ / "other").string(), opts);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE((*other)->cluster_id(), first);
}

TEST_F(NamespaceOpsTest, OneBatchOfDependentEditsAppliesAsOneWrite) {
  // The journal's apply thread hands the state machine runs of entries; later entries of a
  // run must see earlier ones, a failing entry must leave the others intact, and nothing may
  // be visible before FinishBatch.
  Close();
  NamespaceStoreOptions opts;
  auto store = NamespaceStore::Open((dir_ / "namespace").string(), opts);
  ASSERT_TRUE(store.ok());
  Namesystem ns(store->get(), NamesystemOptions{});
  auto entry = [&](EditOp op, int64_t call) {
    Edit e;
    e.caller = root_;
    e.client_id = std::string(16, 'b');
    e.call_id = call;
    e.op = std::move(op);
    return EncodeEdit(e);
  };
  uint64_t base = ns.LastAppliedIndex();
  ApplyResult a = ns.Apply({1, base + 1}, entry(MkdirsOp{"/batch/a", 0755, true}, 1));
  ApplyResult b = ns.Apply({1, base + 2}, entry(MkdirsOp{"/batch/a/b", 0755, false}, 2));
  ApplyResult bad = ns.Apply({1, base + 3}, entry(MkdirsOp{"/nope/x", 0755, false}, 3));
  ApplyResult dup = ns.Apply({1, base + 4}, entry(MkdirsOp{"/batch/a", 0755, true}, 1));
  EXPECT_TRUE(a.status.ok());
  EXPECT_TRUE(b.status.ok()) << b.status;  // saw /batch/a from the same run
  EXPECT_EQ(bad.status.code(), ErrorCode::kNotFound);
  EXPECT_TRUE(dup.status.ok());  // a retried call id within the run: answered, not reapplied
  EXPECT_FALSE(ns.GetFileInfo(root_, "/batch").ok());  // not visible before FinishBatch
  EXPECT_EQ(ns.LastAppliedIndex(), base);
  ns.FinishBatch();
  EXPECT_EQ(ns.LastAppliedIndex(), base + 4);
  EXPECT_TRUE(ns.GetFileInfo(root_, "/batch/a/b").ok());
  EXPECT_FALSE(ns.GetFileInfo(root_, "/nope").ok());
  EXPECT_EQ(ns.GetCounts()->directories, 4);
  EXPECT_EQ((*store)->applied_index(), base + 4);
}

TEST_F(NamespaceOpsTest, AppendReopensAPartialLastBlockUnderANewStamp) {
  blocks::FakeClock clock;
  blocks::DatanodeManager datanodes(blocks::DatanodeManagerOptions{}, &clock);
  blocks::BlockMap map(&datanodes);
  ASSERT_TRUE(ns_->AttachBlockMap(&map).ok());
  ASSERT_TRUE(Mkdir("/home", root_).ok());
  ASSERT_TRUE(Run(root_, SetOwnerOp{"/home", "alice", ""}).ok());
  auto id = Run(alice_, CreateOp{"/home/log", 0644, "w1", false, false, 3, 1 << 20});
  ASSERT_TRUE(id.ok());
  const uint64_t file_id = static_cast<uint64_t>(*id);
  // An empty closed file: append only takes the lease (value 0: no block to reopen).
  ASSERT_TRUE(Run(alice_, CompleteOp{"/home/log", "w1", std::nullopt, file_id}).ok());
  auto empty_append = Run(alice_, AppendOp{"/home/log", "w2"});
  ASSERT_TRUE(empty_append.ok()) << empty_append.status();
  EXPECT_EQ(*empty_append, 0);
  EXPECT_EQ(ns_->GetFileInfo(root_, "/home/log")->lease_holder, "w2");
  // One writer at a time.
  EXPECT_EQ(Run(alice_, AppendOp{"/home/log", "w3"}).status().code(), ErrorCode::kLeaseConflict);
  auto b1 = Run(alice_, AddBlockOp{"/home/log", file_id, "w2", std::nullopt});
  ASSERT_TRUE(b1.ok());
  const int64_t gs1 = ns_->GetFileInfo(root_, "/home/log")->blocks[0].generation_stamp;
  ASSERT_TRUE(Run(alice_, CompleteOp{"/home/log", "w2", BlockInfo{*b1, gs1, 1000}, file_id}).ok());
  // Others may not append without write permission; directories cannot be appended to.
  EXPECT_EQ(Run(bob_, AppendOp{"/home/log", "b"}).status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(Run(alice_, AppendOp{"/home", "w4"}).status().code(), ErrorCode::kIsADirectory);
  EXPECT_EQ(Run(alice_, AppendOp{"/home/none", "w4"}).status().code(), ErrorCode::kNotFound);
  auto reopened = Run(alice_, AppendOp{"/home/log", "w4"});
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(*reopened, gs1);  // the old stamp, for the datanodes' replicas
  auto file = ns_->GetFileInfo(root_, "/home/log");
  ASSERT_EQ(file->blocks.size(), 1u);
  EXPECT_GT(file->blocks[0].generation_stamp, gs1);
  EXPECT_EQ(file->blocks[0].num_bytes, 1000);
  EXPECT_EQ(file->length, 1000);
  EXPECT_TRUE(file->UnderConstruction());
  auto in_map = map.FileBlocks(static_cast<int64_t>(file_id));
  ASSERT_EQ(in_map.size(), 1u);
  EXPECT_FALSE(in_map[0].complete);
  EXPECT_EQ(in_map[0].block.generation_stamp, file->blocks[0].generation_stamp);
  // The writer goes on and closes with the longer block under the new stamp.
  ASSERT_TRUE(Run(alice_, CompleteOp{"/home/log", "w4",
                                     BlockInfo{*b1, file->blocks[0].generation_stamp, 1500},
                                     file_id})
                  .ok());
  EXPECT_EQ(ns_->GetFileInfo(root_, "/home/log")->length, 1500);
  // A full last block is not reopened: the writer starts a new block.
  auto full = Run(root_, CreateOp{"/full", 0644, "w", false, false, 3, 1 << 20});
  auto fb = Run(root_, AddBlockOp{"/full", static_cast<uint64_t>(*full), "w", std::nullopt});
  const int64_t fgs = ns_->GetFileInfo(root_, "/full")->blocks[0].generation_stamp;
  ASSERT_TRUE(Run(root_, CompleteOp{"/full", "w", BlockInfo{*fb, fgs, 1 << 20},
                                    static_cast<uint64_t>(*full)})
                  .ok());
  auto full_append = Run(root_, AppendOp{"/full", "w5"});
  ASSERT_TRUE(full_append.ok());
  EXPECT_EQ(*full_append, 0);
  EXPECT_EQ(ns_->GetFileInfo(root_, "/full")->blocks[0].generation_stamp, fgs);
}

TEST_F(NamespaceOpsTest, BlockRecoveryTakesTheLeaseAndClosesAtTheAgreedLength) {
  auto id = Run(root_, CreateOp{"/rec", 0644, "gone", false, false, 3, 1 << 20});
  ASSERT_TRUE(id.ok());
  const uint64_t file_id = static_cast<uint64_t>(*id);
  auto b1 = Run(root_, AddBlockOp{"/rec", file_id, "gone", std::nullopt});
  ASSERT_TRUE(b1.ok());
  const int64_t gs1 = ns_->GetFileInfo(root_, "/rec")->blocks[0].generation_stamp;
  auto stamp = Run(root_, RecoverBlockOp{"/rec", file_id, "gone", "talus-namenode-recovery"});
  ASSERT_TRUE(stamp.ok()) << stamp.status();
  EXPECT_GT(*stamp, gs1);
  // The old writer has lost the file.
  EXPECT_EQ(Run(root_, CompleteOp{"/rec", "gone", BlockInfo{*b1, gs1, 10}, file_id})
                .status()
                .code(),
            ErrorCode::kLeaseConflict);
  ASSERT_TRUE(Run(root_, CompleteOp{"/rec", "talus-namenode-recovery",
                                    BlockInfo{*b1, *stamp, 777}, file_id})
                  .ok());
  auto file = ns_->GetFileInfo(root_, "/rec");
  EXPECT_FALSE(file->UnderConstruction());
  EXPECT_EQ(file->length, 777);
  EXPECT_EQ(file->blocks[0].generation_stamp, *stamp);
}

TEST_F(NamespaceOpsTest, BlockRecoveryIsLedByAHolderRetriedWhenStalledAndClosesTheFile) {
  blocks::FakeClock clock;
  blocks::DatanodeManager datanodes(blocks::DatanodeManagerOptions{}, &clock);
  blocks::BlockMap map(&datanodes);
  ASSERT_TRUE(ns_->AttachBlockMap(&map).ok());
  std::vector<blocks::DatanodeIndex> nodes;
  for (int i = 0; i < 3; ++i) {
    auto r = datanodes.Register(blocks::DatanodeRegistration{
        "dn-" + std::to_string(i), "127.0.0." + std::to_string(i + 1), 9866, 9867, ""});
    ASSERT_TRUE(r.ok()) << r.status();
    nodes.push_back(r->index);
  }
  auto id = Run(root_, CreateOp{"/rec", 0644, "gone", false, false, 3, 1 << 20});
  ASSERT_TRUE(id.ok());
  const uint64_t file_id = static_cast<uint64_t>(*id);
  auto b1 = Run(root_, AddBlockOp{"/rec", file_id, "gone", std::nullopt});
  ASSERT_TRUE(b1.ok());
  ASSERT_TRUE(map.SetExpectedLocations(*b1, nodes).ok());

  BlockRecovery recovery(ns_.get(), &map, &datanodes, {std::chrono::milliseconds(0)});
  auto file = ns_->GetFileInfo(root_, "/rec");
  ASSERT_TRUE(recovery.Start(*file, "/rec").ok());
  EXPECT_EQ(ns_->GetFileInfo(root_, "/rec")->lease_holder, kRecoveryLeaseHolder);
  // One node of the pipeline is told to lead, with every location and the new stamp.
  int64_t first_stamp = 0;
  for (const std::string& sid : {"dn-0", "dn-1", "dn-2"}) {
    auto reply = datanodes.Heartbeat(sid, blocks::HeartbeatStats{});
    ASSERT_TRUE(reply.ok());
    for (const blocks::RecoveryWork& w : reply->commands.recover) {
      EXPECT_EQ(w.block.id, *b1);
      EXPECT_EQ(w.locations.size(), 3u);
      first_stamp = w.new_generation_stamp;
    }
  }
  ASSERT_GT(first_stamp, 0);
  // No answer in time: the recovery starts again under a newer stamp, and a late answer to the
  // old one is refused.
  EXPECT_EQ(recovery.RetryStalled(), 1);
  int64_t second_stamp = 0;
  for (const std::string& sid : {"dn-0", "dn-1", "dn-2"}) {
    for (const blocks::RecoveryWork& w : datanodes.Heartbeat(sid, {})->commands.recover) {
      second_stamp = w.new_generation_stamp;
    }
  }
  EXPECT_GT(second_stamp, first_stamp);
  const blocks::Block old_block{*b1, file->blocks[0].generation_stamp, 0};
  EXPECT_FALSE(recovery.Commit(old_block, blocks::Block{*b1, first_stamp, 5000}, {"dn-0"}, true,
                               false)
                   .ok());
  EXPECT_TRUE(ns_->GetFileInfo(root_, "/rec")->UnderConstruction());
  ASSERT_TRUE(recovery.Commit(old_block, blocks::Block{*b1, second_stamp, 5000},
                              {"dn-0", "dn-1"}, true, false)
                  .ok());
  auto closed = ns_->GetFileInfo(root_, "/rec");
  EXPECT_FALSE(closed->UnderConstruction());
  EXPECT_EQ(closed->length, 5000);
  EXPECT_EQ(closed->blocks[0].generation_stamp, second_stamp);
  EXPECT_EQ(recovery.pending(), 0u);
  EXPECT_EQ(recovery.RetryStalled(), 0);
}

TEST_F(NamespaceOpsTest, ANewWriterRecoversALeasePastItsSoftLimit) {
  std::chrono::steady_clock::time_point now{};
  LeaseManager leases(LeaseOptions{std::chrono::seconds(60), std::chrono::seconds(1200)},
                      [&] { return now; });
  ns_->SetLeaseManager(&leases);
  std::vector<std::string> recovering;
  ns_->SetBlockRecoveryStarter([&](const Inode&, const std::string& path) {
    recovering.push_back(path);
    return Status::OK();
  });
  auto empty = Run(root_, CreateOp{"/empty", 0644, "crashed", false, false, 3, 1 << 20});
  auto with_block = Run(root_, CreateOp{"/blocks", 0644, "crashed", false, false, 3, 1 << 20});
  ASSERT_TRUE(empty.ok() && with_block.ok());
  ASSERT_TRUE(Run(root_, AddBlockOp{"/blocks", static_cast<uint64_t>(*with_block), "crashed",
                                    std::nullopt})
                  .ok());
  // Within the soft limit the holder keeps the file.
  now += std::chrono::seconds(30);
  auto file = ns_->GetFileInfo(root_, "/empty");
  EXPECT_EQ(ns_->RecoverLeaseForNewWriter(*file, "/empty", "other").code(),
            ErrorCode::kLeaseConflict);
  EXPECT_TRUE(ns_->GetFileInfo(root_, "/empty")->UnderConstruction());
  EXPECT_EQ(ns_->RecoverLeaseForNewWriter(*file, "/empty", "crashed").code(),
            ErrorCode::kLeaseConflict);  // the holder itself
  // Past it: a file without blocks is closed at once, one with blocks goes to block recovery.
  now += std::chrono::seconds(60);
  EXPECT_TRUE(ns_->RecoverLeaseForNewWriter(*file, "/empty", "other").ok());
  EXPECT_FALSE(ns_->GetFileInfo(root_, "/empty")->UnderConstruction());
  auto blocks_file = ns_->GetFileInfo(root_, "/blocks");
  EXPECT_EQ(ns_->RecoverLeaseForNewWriter(*blocks_file, "/blocks", "other").code(),
            ErrorCode::kLeaseConflict);
  EXPECT_EQ(recovering, std::vector<std::string>{"/blocks"});
  ASSERT_TRUE(Run(root_, AppendOp{"/empty", "other"}).ok());
  ns_->SetBlockRecoveryStarter(nullptr);
  ns_->SetLeaseManager(nullptr);
}

}  // namespace
}  // namespace talus
