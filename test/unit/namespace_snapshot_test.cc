// Namespace snapshots (namenode/namespace/namespace_snapshot.h): a namespace built through a
// Namesystem and a real LocalJournal is written to a file, staged into another namenode's
// directory, swapped in as at a restart, and must read back identical; damaged files are
// refused; every crash point of the swap recovers; a snapshot taken while mutations are
// applied holds exactly the entries up to its index.
#include "namenode/namespace/namespace_snapshot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "namenode/journal/local_journal.h"
#include "namenode/namespace/keys.h"
#include "namenode/namespace/namespace_store.h"
#include "namenode/namesystem.h"

namespace talus {
namespace {

namespace fs = std::filesystem;

// One namenode's durable state: namespace, journal.
struct Node {
  fs::path dir;
  std::unique_ptr<NamespaceStore> store;
  std::unique_ptr<Namesystem> ns;
  std::unique_ptr<LocalJournal> journal;

  std::string NamespaceDir() const { return (dir / "namespace").string(); }

  // With a journal it can mutate; without, it only reads what the store holds.
  Status Open(bool with_journal) {
    NamespaceStoreOptions opts;
    Result<std::unique_ptr<NamespaceStore>> opened = NamespaceStore::Open(NamespaceDir(), opts);
    if (!opened.ok()) return opened.status();
    store = std::move(*opened);
    ns = std::make_unique<Namesystem>(store.get(), NamesystemOptions{});
    if (!with_journal) return Status::OK();
    LocalJournalOptions jopts;
    jopts.directory = (dir / "journal").string();
    journal = std::make_unique<LocalJournal>(jopts);
    ns->SetJournal(journal.get());
    return journal->Open(ns.get());
  }

  void Close() {
    if (journal) journal->Close();
    journal.reset();
    ns.reset();
    store.reset();
  }
};

Caller Root() {
  Caller root;
  root.user = "root";
  root.superuser = true;
  return root;
}

// Every key and value of the database.
std::map<std::string, std::string> Dump(const NamespaceStore& store) {
  std::map<std::string, std::string> all;
  std::unique_ptr<leveldb::Iterator> it = store.NewIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    all.emplace(it->key().ToString(), it->value().ToString());
  }
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return all;
}

std::vector<std::string> ListNames(const Namesystem& ns, const std::string& path) {
  std::vector<std::string> names;
  Result<Listing> listing = ns.GetListing(Root(), path, "", 1000);
  EXPECT_TRUE(listing.ok()) << listing.status();
  if (!listing.ok()) return names;
  for (const Inode& inode : listing->entries) names.push_back(inode.name);
  return names;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

class NamespaceSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("talus-nssnap-test-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    leader_.dir = root_ / "leader";
    ASSERT_TRUE(leader_.Open(/*with_journal=*/true).ok());
  }

  void TearDown() override {
    leader_.Close();
    fs::remove_all(root_);
  }

  Result<int64_t> Run(Node& node, EditOp op, const std::string& client_id = std::string(16, 'c')) {
    Edit edit;
    edit.caller = Root();
    edit.client_id = client_id;
    edit.call_id = next_call_id_++;
    edit.op = std::move(op);
    return node.ns->Mutate(std::move(edit));
  }
  Status Mkdir(Node& node, const std::string& path) {
    return Run(node, MkdirsOp{path, 0755, true}).status();
  }
  Status Touch(Node& node, const std::string& path) {
    Result<int64_t> created = Run(node, CreateOp{path, 0644, "client-1", false, true, 3, 1 << 20});
    if (!created.ok()) return created.status();
    CompleteOp complete;
    complete.path = path;
    complete.client_name = "client-1";
    return Run(node, complete).status();
  }

  // A namespace with directories, files, and one file still under construction.
  void BuildLeaderNamespace() {
    ASSERT_TRUE(Mkdir(leader_, "/a/b/c").ok());
    ASSERT_TRUE(Mkdir(leader_, "/data").ok());
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(Touch(leader_, "/data/f" + std::to_string(i)).ok());
    }
    ASSERT_TRUE(Run(leader_, CreateOp{"/a/open", 0644, "writer", false, false, 3, 1 << 20}).ok());
  }

  // A follower namenode with a namespace of its own (its own cluster id, a file the leader
  // does not have), closed unless `keep_open`.
  Node MakeFollower(const std::string& name, bool keep_open = false) {
    Node follower;
    follower.dir = root_ / name;
    EXPECT_TRUE(follower.Open(/*with_journal=*/true).ok());
    EXPECT_TRUE(Mkdir(follower, "/follower-only").ok());
    if (!keep_open) follower.Close();
    return follower;
  }

  // Opens `node` read-only and checks it holds exactly what the leader holds.
  void ExpectSameAsLeader(Node& node) {
    ASSERT_TRUE(node.Open(/*with_journal=*/false).ok());
    EXPECT_EQ(Dump(*node.store), Dump(*leader_.store));
    EXPECT_EQ(node.store->cluster_id(), leader_.store->cluster_id());
    EXPECT_EQ(node.store->applied_index(), leader_.store->applied_index());
    EXPECT_EQ(node.ns->LastAppliedIndex(), leader_.ns->LastAppliedIndex());
    EXPECT_EQ(ListNames(*node.ns, "/"), ListNames(*leader_.ns, "/"));
    EXPECT_EQ(ListNames(*node.ns, "/data"), ListNames(*leader_.ns, "/data"));
    Result<NamespaceCounts> counts = node.ns->GetCounts();
    Result<NamespaceCounts> leader_counts = leader_.ns->GetCounts();
    ASSERT_TRUE(counts.ok() && leader_counts.ok());
    EXPECT_EQ(counts->files, leader_counts->files);
    EXPECT_EQ(counts->directories, leader_counts->directories);
    Result<Inode> f = node.ns->GetFileInfo(Root(), "/data/f7");
    Result<Inode> leader_f = leader_.ns->GetFileInfo(Root(), "/data/f7");
    ASSERT_TRUE(f.ok() && leader_f.ok()) << f.status();
    EXPECT_EQ(f->id, leader_f->id);
    EXPECT_FALSE(node.ns->GetFileInfo(Root(), "/follower-only").ok());
    node.Close();
  }

  fs::path root_;
  Node leader_;
  std::atomic<int64_t> next_call_id_{1};
};

TEST_F(NamespaceSnapshotTest, WriteStageCompleteReproducesTheNamespace) {
  BuildLeaderNamespace();
  const fs::path file = root_ / "snap";
  Result<uint64_t> index = leader_.ns->WriteSnapshot(file.string());
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(*index, leader_.journal->AppliedIndex());
  EXPECT_FALSE(fs::exists(file.string() + ".tmp"));
  Result<NamespaceSnapshotInfo> info = VerifyNamespaceSnapshot(file.string());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->meta.index, *index);
  EXPECT_EQ(info->entries, Dump(*leader_.store).size());
  EXPECT_EQ(info->bytes, fs::file_size(file));

  // Staged on a running follower: its live namespace does not change.
  Node follower = MakeFollower("follower", /*keep_open=*/true);
  const std::string follower_cluster = follower.store->cluster_id();
  ASSERT_NE(follower_cluster, leader_.store->cluster_id());
  ASSERT_TRUE(follower.ns->StageSnapshot(file.string(), *index, 7).ok());
  EXPECT_TRUE(fs::exists(StagedNamespaceDir(follower.NamespaceDir()) + "/STAGED"));
  EXPECT_TRUE(follower.ns->GetFileInfo(Root(), "/follower-only").ok());
  EXPECT_FALSE(follower.ns->GetFileInfo(Root(), "/data").ok());
  follower.Close();

  // The restart.
  Result<std::optional<NamespaceSnapshotMeta>> installed =
      CompleteStagedNamespace(follower.NamespaceDir());
  ASSERT_TRUE(installed.ok()) << installed.status();
  ASSERT_TRUE(installed->has_value());
  EXPECT_EQ(**installed, (NamespaceSnapshotMeta{*index, 7}));
  EXPECT_FALSE(fs::exists(StagedNamespaceDir(follower.NamespaceDir())));
  EXPECT_FALSE(fs::exists(OldNamespaceDir(follower.NamespaceDir())));
  EXPECT_FALSE(fs::exists(follower.NamespaceDir() + "/STAGED"));
  ExpectSameAsLeader(follower);

  // Reported at every start until forgotten.
  installed = CompleteStagedNamespace(follower.NamespaceDir());
  ASSERT_TRUE(installed.ok() && installed->has_value());
  EXPECT_EQ(**installed, (NamespaceSnapshotMeta{*index, 7}));
  ASSERT_TRUE(ForgetInstalledSnapshot(follower.NamespaceDir()).ok());
  ASSERT_TRUE(ForgetInstalledSnapshot(follower.NamespaceDir()).ok());
  installed = CompleteStagedNamespace(follower.NamespaceDir());
  ASSERT_TRUE(installed.ok());
  EXPECT_FALSE(installed->has_value());
  ExpectSameAsLeader(follower);
}

TEST_F(NamespaceSnapshotTest, NothingStagedMeansNothingChanges) {
  Node follower = MakeFollower("follower");
  Result<std::optional<NamespaceSnapshotMeta>> installed =
      CompleteStagedNamespace(follower.NamespaceDir());
  ASSERT_TRUE(installed.ok()) << installed.status();
  EXPECT_FALSE(installed->has_value());
  ASSERT_TRUE(follower.Open(false).ok());
  EXPECT_TRUE(follower.ns->GetFileInfo(Root(), "/follower-only").ok());
  follower.Close();
  // Something that is not a staged database at all is removed too.
  WriteFile(StagedNamespaceDir(follower.NamespaceDir()), "not a directory");
  installed = CompleteStagedNamespace(follower.NamespaceDir());
  ASSERT_TRUE(installed.ok()) << installed.status();
  EXPECT_FALSE(installed->has_value());
  EXPECT_FALSE(fs::exists(StagedNamespaceDir(follower.NamespaceDir())));
  // A namenode that never started: no directory at all.
  installed = CompleteStagedNamespace((root_ / "fresh" / "namespace").string());
  ASSERT_TRUE(installed.ok()) << installed.status();
  EXPECT_FALSE(installed->has_value());
  EXPECT_FALSE(fs::exists(root_ / "fresh" / "namespace"));
}

TEST_F(NamespaceSnapshotTest, DamagedFilesAreRefusedAndNothingIsStaged) {
  BuildLeaderNamespace();
  const fs::path file = root_ / "snap";
  Result<uint64_t> index = leader_.ns->WriteSnapshot(file.string());
  ASSERT_TRUE(index.ok()) << index.status();
  const std::string good = ReadFile(file);
  ASSERT_GT(good.size(), 1000u);
  Node follower = MakeFollower("follower", /*keep_open=*/true);
  const std::string staged = StagedNamespaceDir(follower.NamespaceDir());
  const fs::path bad = root_ / "bad";

  // Single-byte changes and truncations: everywhere in the header and the trailer, and at
  // a few hundred places in between (every place would take a minute of file writes).
  std::vector<size_t> places;
  for (size_t i = 0; i < good.size(); ++i) {
    if (i < 64 || i + 64 >= good.size() || i % 37 == 0) places.push_back(i);
  }
  for (size_t i : places) {
    std::string damaged = good;
    damaged[i] = static_cast<char>(damaged[i] ^ (1 + i % 255));
    WriteFile(bad, damaged);
    Result<NamespaceSnapshotInfo> verified = VerifyNamespaceSnapshot(bad.string());
    ASSERT_EQ(verified.status().code(), ErrorCode::kCorruption) << "byte " << i;
    WriteFile(bad, good.substr(0, i));
    ASSERT_EQ(VerifyNamespaceSnapshot(bad.string()).status().code(), ErrorCode::kCorruption)
        << "truncated to " << i;
  }
  WriteFile(bad, good + "x");
  EXPECT_EQ(VerifyNamespaceSnapshot(bad.string()).status().code(), ErrorCode::kCorruption);

  // Staging refuses them too, leaving nothing behind.
  for (const std::string& damaged :
       {good.substr(0, good.size() / 2), good.substr(0, good.size() - 1),
        std::string(good).replace(good.size() / 2, 1, 1, static_cast<char>(~good[good.size() / 2]))}) {
    WriteFile(bad, damaged);
    Status staged_status = follower.ns->StageSnapshot(bad.string(), *index, 1);
    EXPECT_EQ(staged_status.code(), ErrorCode::kCorruption) << staged_status;
    EXPECT_FALSE(fs::exists(staged));
  }
  EXPECT_EQ(follower.ns->StageSnapshot((root_ / "missing").string(), *index, 1).code(),
            ErrorCode::kNotFound);
  // A whole file that is not the one Raft announced.
  EXPECT_EQ(follower.ns->StageSnapshot(file.string(), *index + 1, 1).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(staged));
  follower.Close();

  Result<std::optional<NamespaceSnapshotMeta>> installed =
      CompleteStagedNamespace(follower.NamespaceDir());
  ASSERT_TRUE(installed.ok()) << installed.status();
  EXPECT_FALSE(installed->has_value());
  ASSERT_TRUE(follower.Open(false).ok());
  EXPECT_TRUE(follower.ns->GetFileInfo(Root(), "/follower-only").ok());
  follower.Close();
}

TEST_F(NamespaceSnapshotTest, StagingReplacesLeftoversOfAnEarlierAttempt) {
  BuildLeaderNamespace();
  const fs::path file = root_ / "snap";
  Result<uint64_t> index = leader_.ns->WriteSnapshot(file.string());
  ASSERT_TRUE(index.ok()) << index.status();
  Node follower = MakeFollower("follower");
  const std::string staged = StagedNamespaceDir(follower.NamespaceDir());
  fs::create_directories(staged);
  WriteFile(fs::path(staged) / "000005.ldb", "half a table");
  ASSERT_TRUE(StageNamespaceSnapshot(file.string(), follower.NamespaceDir(), *index, 2).ok());
  // Twice is fine too (a retransmitted snapshot).
  ASSERT_TRUE(StageNamespaceSnapshot(file.string(), follower.NamespaceDir() + "/", *index, 2).ok());
  Result<std::optional<NamespaceSnapshotMeta>> installed =
      CompleteStagedNamespace(follower.NamespaceDir());
  ASSERT_TRUE(installed.ok() && installed->has_value()) << installed.status();
  EXPECT_EQ((*installed)->index, *index);
  ExpectSameAsLeader(follower);
}

// Where a crash stops the install; the next CompleteStagedNamespace must sort it out.
enum class CrashPoint {
  kDuringStaging,            // staged database without its marker
  kBeforeRestart,            // staged and marked; nothing swapped
  kAfterInstalledMarker,     // INSTALLED_SNAPSHOT written inside the staged directory
  kBetweenRenames,           // live → .old done, .staged → live not
  kAfterRenames,             // swapped; .old and the staged marker not yet removed
  kDuringOldRemoval,         // .old half removed
};

class CompleteCrashTest : public NamespaceSnapshotTest,
                          public ::testing::WithParamInterface<CrashPoint> {};

TEST_P(CompleteCrashTest, NextStartRecovers) {
  BuildLeaderNamespace();
  const fs::path file = root_ / "snap";
  Result<uint64_t> index = leader_.ns->WriteSnapshot(file.string());
  ASSERT_TRUE(index.ok()) << index.status();
  Node follower = MakeFollower("follower");
  const fs::path live = follower.NamespaceDir();
  const fs::path staged = StagedNamespaceDir(live.string());
  const fs::path old = OldNamespaceDir(live.string());
  ASSERT_TRUE(StageNamespaceSnapshot(file.string(), live.string(), *index, 3).ok());
  const std::string marker = ReadFile(staged / "STAGED");
  ASSERT_FALSE(marker.empty());

  const CrashPoint point = GetParam();
  switch (point) {
    case CrashPoint::kDuringStaging:
      fs::remove(staged / "STAGED");
      break;
    case CrashPoint::kBeforeRestart:
      break;
    case CrashPoint::kAfterInstalledMarker:
      WriteFile(staged / "INSTALLED_SNAPSHOT", marker);
      break;
    case CrashPoint::kBetweenRenames:
      WriteFile(staged / "INSTALLED_SNAPSHOT", marker);
      fs::rename(live, old);
      break;
    case CrashPoint::kAfterRenames:
    case CrashPoint::kDuringOldRemoval:
      WriteFile(staged / "INSTALLED_SNAPSHOT", marker);
      fs::rename(live, old);
      fs::rename(staged, live);
      if (point == CrashPoint::kDuringOldRemoval) {
        for (const auto& entry : fs::directory_iterator(old)) {
          if (entry.path().extension() == ".ldb" || entry.path().filename() == "CURRENT") {
            fs::remove(entry.path());
          }
        }
      }
      break;
  }

  Result<std::optional<NamespaceSnapshotMeta>> installed = CompleteStagedNamespace(live.string());
  ASSERT_TRUE(installed.ok()) << installed.status();
  EXPECT_FALSE(fs::exists(staged));
  EXPECT_FALSE(fs::exists(old));
  if (point == CrashPoint::kDuringStaging) {
    EXPECT_FALSE(installed->has_value());
    ASSERT_TRUE(follower.Open(false).ok());
    EXPECT_TRUE(follower.ns->GetFileInfo(Root(), "/follower-only").ok());
    EXPECT_FALSE(follower.ns->GetFileInfo(Root(), "/data").ok());
    follower.Close();
    return;
  }
  ASSERT_TRUE(installed->has_value());
  EXPECT_EQ(**installed, (NamespaceSnapshotMeta{*index, 3}));
  ExpectSameAsLeader(follower);
  // And a second start after the recovery sees the same.
  installed = CompleteStagedNamespace(live.string());
  ASSERT_TRUE(installed.ok() && installed->has_value());
  EXPECT_EQ(**installed, (NamespaceSnapshotMeta{*index, 3}));
}

INSTANTIATE_TEST_SUITE_P(EveryCrashPoint, CompleteCrashTest,
                         ::testing::Values(CrashPoint::kDuringStaging, CrashPoint::kBeforeRestart,
                                           CrashPoint::kAfterInstalledMarker,
                                           CrashPoint::kBetweenRenames, CrashPoint::kAfterRenames,
                                           CrashPoint::kDuringOldRemoval));

TEST_F(NamespaceSnapshotTest, SnapshotWhileApplyingHoldsExactlyItsEntries) {
  ASSERT_TRUE(Mkdir(leader_, "/d").ok());
  const uint64_t base = leader_.journal->AppliedIndex();
  // Concurrent writers, so the journal applies several entries per batch; they run until the
  // snapshots are taken (bounded all the same).
  constexpr int kWriters = 4;
  constexpr int kMaxDirsPerWriter = 3000;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([this, w, &failures, &stop] {
      const std::string client(16, static_cast<char>('A' + w));
      for (int i = 0; i < kMaxDirsPerWriter && !stop.load(); ++i) {
        const std::string path = "/d/w" + std::to_string(w) + "-" + std::to_string(i);
        if (!Run(leader_, MkdirsOp{path, 0755, false}, client).ok()) failures++;
      }
    });
  }
  // Snapshots while they run, each once the applied index has moved on.
  std::vector<std::pair<fs::path, uint64_t>> snapshots;
  uint64_t last = base;
  for (int n = 0; n < 5; ++n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (leader_.journal->AppliedIndex() < last + 40 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    const fs::path file = root_ / ("snap-" + std::to_string(n));
    Result<uint64_t> index = leader_.ns->WriteSnapshot(file.string());
    ASSERT_TRUE(index.ok()) << index.status();
    snapshots.emplace_back(file, *index);
    last = *index;
  }
  stop = true;
  for (std::thread& t : writers) t.join();
  ASSERT_EQ(failures.load(), 0);
  const uint64_t end = leader_.journal->AppliedIndex();
  int mid_run = 0;
  for (size_t n = 0; n < snapshots.size(); ++n) {
    const auto& [file, index] = snapshots[n];
    if (index > base && index < end) mid_run++;
    Node follower;
    follower.dir = root_ / ("follower-" + std::to_string(n));
    Status staged = StageNamespaceSnapshot(file.string(), follower.NamespaceDir(), index, 1);
    ASSERT_TRUE(staged.ok()) << staged;
    Result<std::optional<NamespaceSnapshotMeta>> installed =
        CompleteStagedNamespace(follower.NamespaceDir());
    ASSERT_TRUE(installed.ok() && installed->has_value()) << installed.status();
    ASSERT_TRUE(follower.Open(false).ok());
    EXPECT_EQ(follower.ns->LastAppliedIndex(), index);
    // Each entry above `base` created one directory under /d, nothing else.
    Result<Inode> d = follower.ns->GetFileInfo(Root(), "/d");
    ASSERT_TRUE(d.ok()) << d.status();
    Result<int64_t> children = follower.ns->CountChildren(d->id, 100000);
    ASSERT_TRUE(children.ok()) << children.status();
    EXPECT_EQ(static_cast<uint64_t>(*children), index - base) << "snapshot " << n;
    Result<NamespaceCounts> counts = follower.ns->GetCounts();
    ASSERT_TRUE(counts.ok());
    EXPECT_EQ(static_cast<uint64_t>(counts->directories), 2 + index - base) << "snapshot " << n;
    follower.Close();
  }
  EXPECT_GE(mid_run, 4) << "snapshots were not taken while the writers ran";
}

TEST_F(NamespaceSnapshotTest, WriteReplacesAnEarlierFileAtThePath) {
  const fs::path file = root_ / "snap";
  WriteFile(file, "an old, longer file that must not survive in any part");
  WriteFile(file.string() + ".tmp", "a torn earlier attempt");
  Result<uint64_t> index = leader_.ns->WriteSnapshot(file.string());
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_TRUE(VerifyNamespaceSnapshot(file.string()).ok());
  EXPECT_FALSE(fs::exists(file.string() + ".tmp"));
}

}  // namespace
}  // namespace talus
