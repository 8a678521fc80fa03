#include "raft/storage/disk_storage.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/wal/record_codec.h"
#include "common/wal/segment_file.h"
#include "raft/storage/state_file.h"

namespace talus::raft {
namespace {

namespace fs = std::filesystem;

Entry MakeEntry(Term term, Index index, size_t size = 20) {
  std::string data = "t" + std::to_string(term) + "i" + std::to_string(index) + ":";
  data.resize(std::max(size, data.size()), static_cast<char>('a' + index % 26));
  return Entry{term, index, std::move(data)};
}

std::vector<Entry> MakeEntries(Term term, Index from, Index to, size_t size = 20) {
  std::vector<Entry> out;
  for (Index i = from; i <= to; ++i) out.push_back(MakeEntry(term, i, size));
  return out;
}

std::vector<Entry> Concat(std::vector<Entry> a, const std::vector<Entry>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
}

class DiskStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "raft_disk_storage_XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    root_ = templ;
    dir_ = root_ + "/raft";
  }
  void TearDown() override {
    storage_.reset();
    fs::remove_all(root_);
  }

  Result<std::unique_ptr<DiskStorage>> OpenStorage() {
    DiskStorageOptions options;
    options.dir = dir_;
    options.segment_size_limit_bytes = segment_limit_;
    return DiskStorage::Open(options);
  }
  // (Re)opens storage_, as a restarted process would.
  void Reopen() {
    storage_.reset();
    auto opened = OpenStorage();
    ASSERT_TRUE(opened.ok()) << opened.status();
    storage_ = std::move(*opened);
  }

  std::vector<uint64_t> Segments() {
    std::vector<uint64_t> firsts;
    for (const auto& ent : fs::directory_iterator(dir_)) {
      uint64_t first;
      if (wal::ParseSegmentFileName(ent.path().filename().string(), &first)) {
        firsts.push_back(first);
      }
    }
    std::sort(firsts.begin(), firsts.end());
    return firsts;
  }
  std::string SegmentPath(uint64_t first) { return wal::SegmentPath(dir_, first); }
  // Bytes of header and records in a segment (the file may hold zero-filled room beyond).
  uint64_t RecordBytes(uint64_t first) {
    auto scan = wal::ScanSegment(SegmentPath(first), first, nullptr);
    EXPECT_TRUE(scan.ok()) << scan.status();
    return scan.ok() ? scan->valid_bytes : 0;
  }

  // The whole log, read back both ways, must be `expected`.
  void ExpectLog(const std::vector<Entry>& expected, Index first_index) {
    EXPECT_EQ(storage_->FirstIndex(), first_index);
    EXPECT_EQ(storage_->LastIndex(), first_index + expected.size() - 1);
    EXPECT_EQ(storage_->LoadEntries(), expected);
    auto read = storage_->Entries(first_index, first_index + expected.size(), SIZE_MAX);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(*read, expected);
  }

  std::string root_;
  std::string dir_;
  uint64_t segment_limit_ = 64ull << 20;
  std::unique_ptr<DiskStorage> storage_;
};

TEST_F(DiskStorageTest, NewStorageIsEmpty) {
  Reopen();
  EXPECT_EQ(storage_->LoadHardState(), HardState{});
  EXPECT_EQ(storage_->LoadSnapshotMeta(), SnapshotMeta{});
  EXPECT_TRUE(storage_->LoadEntries().empty());
  EXPECT_EQ(storage_->FirstIndex(), 1u);
  EXPECT_EQ(storage_->LastIndex(), 0u);
  EXPECT_TRUE(storage_->Append({}).ok());
  EXPECT_EQ(storage_->LastIndex(), 0u);
}

TEST_F(DiskStorageTest, AppendThenReopen) {
  Reopen();
  auto log = MakeEntries(1, 1, 5);
  ASSERT_TRUE(storage_->Append(MakeEntries(1, 1, 3)).ok());
  ASSERT_TRUE(storage_->Append(MakeEntries(1, 4, 5)).ok());
  ExpectLog(log, 1);
  Reopen();
  ExpectLog(log, 1);
  // Empty payloads (a leader's no-op) and larger ones survive too.
  std::vector<Entry> more = {Entry{2, 6, ""}, MakeEntry(2, 7, 100000)};
  ASSERT_TRUE(storage_->Append(more).ok());
  Reopen();
  ExpectLog(Concat(log, more), 1);
}

TEST_F(DiskStorageTest, SecondOpenOfTheSameDirectoryIsBusy) {
  Reopen();
  auto second = OpenStorage();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kBusy) << second.status();
}

TEST_F(DiskStorageTest, EntriesHonoursRangeAndByteLimit) {
  Reopen();
  ASSERT_TRUE(storage_->Append(MakeEntries(1, 1, 10, 100)).ok());
  auto some = storage_->Entries(3, 8, 250);  // 100-byte payloads: two fit
  ASSERT_TRUE(some.ok()) << some.status();
  EXPECT_EQ(*some, MakeEntries(1, 3, 4, 100));
  auto one = storage_->Entries(3, 8, 1);  // at least one entry
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, MakeEntries(1, 3, 3, 100));
  auto none = storage_->Entries(5, 5, 1000);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(storage_->Entries(0, 3, 1000).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(storage_->Entries(5, 12, 1000).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(storage_->Entries(6, 5, 1000).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(DiskStorageTest, SuffixReplacementWithANewTermAcrossSegments) {
  segment_limit_ = 200;  // ~3 records of 20 bytes (44 encoded) per segment
  Reopen();
  for (Index i = 1; i <= 30; i += 3) ASSERT_TRUE(storage_->Append(MakeEntries(1, i, i + 2)).ok());
  const auto before = Segments();
  ASSERT_GE(before.size(), 5u);

  // A new leader (term 2) overwrites from index 8, which is inside an older segment.
  auto replacement = MakeEntries(2, 8, 11);
  ASSERT_TRUE(storage_->Append(replacement).ok());
  auto expected = Concat(MakeEntries(1, 1, 7), replacement);
  ExpectLog(expected, 1);
  for (uint64_t first : Segments()) EXPECT_LE(first, 11u) << "a segment of the old suffix survived";
  Reopen();
  ExpectLog(expected, 1);

  // Replacing from exactly a segment's first index; then the log goes on from there.
  const auto segments = Segments();
  const uint64_t boundary = segments[1];
  ASSERT_GT(boundary, 1u);
  auto at_boundary = MakeEntries(3, boundary, boundary + 1);
  ASSERT_TRUE(storage_->Append(at_boundary).ok());
  expected.resize(boundary - 1);
  expected = Concat(expected, at_boundary);
  ASSERT_TRUE(storage_->Append(MakeEntries(3, boundary + 2, boundary + 4)).ok());
  expected = Concat(expected, MakeEntries(3, boundary + 2, boundary + 4));
  ExpectLog(expected, 1);
  Reopen();
  ExpectLog(expected, 1);

  // Replacing only the last entry, in the segment being written.
  auto last = MakeEntries(4, storage_->LastIndex(), storage_->LastIndex());
  ASSERT_TRUE(storage_->Append(last).ok());
  expected.back() = last.front();
  Reopen();
  ExpectLog(expected, 1);
}

TEST_F(DiskStorageTest, TornTailIsCutOff) {
  Reopen();
  ASSERT_TRUE(storage_->Append(MakeEntries(1, 1, 4)).ok());
  ASSERT_TRUE(storage_->Append(MakeEntries(1, 5, 6)).ok());
  storage_.reset();
  // A crash in the middle of writing record 6: the file ends inside it.
  const uint64_t end = RecordBytes(1);
  fs::resize_file(SegmentPath(1), end - 7);
  Reopen();
  ExpectLog(MakeEntries(1, 1, 5), 1);
  EXPECT_EQ(fs::file_size(SegmentPath(1)), end - 7 - (wal::kRecordHeaderSize + 13))
      << "the torn record should be cut off the file";
  // The log goes on where the torn record was.
  ASSERT_TRUE(storage_->Append(MakeEntries(2, 6, 7)).ok());
  Reopen();
  ExpectLog(Concat(MakeEntries(1, 1, 5), MakeEntries(2, 6, 7)), 1);

  // Garbage after the last record (a write of which only part reached the disk) too.
  storage_.reset();
  std::string contents = ReadFile(SegmentPath(1)).substr(0, RecordBytes(1));
  WriteFile(SegmentPath(1), contents + std::string(30, '\x5a'));
  Reopen();
  ExpectLog(Concat(MakeEntries(1, 1, 5), MakeEntries(2, 6, 7)), 1);
}

TEST_F(DiskStorageTest, DamageInASegmentThatIsNotTheLastIsCorruption) {
  segment_limit_ = 200;
  Reopen();
  for (Index i = 1; i <= 12; i += 3) ASSERT_TRUE(storage_->Append(MakeEntries(1, i, i + 2)).ok());
  storage_.reset();
  ASSERT_GE(Segments().size(), 2u);
  std::string contents = ReadFile(SegmentPath(1));
  contents[wal::kSegmentHeaderSize + wal::kRecordHeaderSize + 5] ^= 0x01;  // record 1's payload
  WriteFile(SegmentPath(1), contents);
  auto opened = OpenStorage();
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), ErrorCode::kCorruption) << opened.status();
  // Nothing was cut or deleted by the failed open.
  EXPECT_EQ(ReadFile(SegmentPath(1)), contents);
  EXPECT_GE(Segments().size(), 2u);
}

TEST_F(DiskStorageTest, MissingMiddleSegmentIsCorruption) {
  segment_limit_ = 200;
  Reopen();
  for (Index i = 1; i <= 24; i += 3) ASSERT_TRUE(storage_->Append(MakeEntries(1, i, i + 2)).ok());
  storage_.reset();
  auto segments = Segments();
  ASSERT_GE(segments.size(), 3u);
  fs::remove(SegmentPath(segments[1]));
  auto opened = OpenStorage();
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), ErrorCode::kCorruption) << opened.status();
}

TEST_F(DiskStorageTest, HardStatePersists) {
  Reopen();
  ASSERT_TRUE(storage_->Append(MakeEntries(1, 1, 10)).ok());
  ASSERT_TRUE(storage_->SetHardState({3, 2, 0}).ok());
  Reopen();
  EXPECT_EQ(storage_->LoadHardState(), (HardState{3, 2, 0}));
  ASSERT_TRUE(storage_->SetHardState({4, 0, 5}).ok());
  Reopen();
  EXPECT_EQ(storage_->LoadHardState(), (HardState{4, 0, 5}));
}

TEST_F(DiskStorageTest, CommitAloneIsWrittenBesideTheHardState) {
  Reopen();
  ASSERT_TRUE(storage_->Append(MakeEntries(1, 1, 10)).ok());
  ASSERT_TRUE(storage_->SetHardState({2, 1, 3}).ok());
  const std::string hard_state_file = ReadFile(dir_ + "/hard_state");
  ASSERT_FALSE(hard_state_file.empty());

  // A commit-only change does not rewrite (or sync) the hard state file, only the commit file.
  ASSERT_TRUE(storage_->SetHardState({2, 1, 7}).ok());
  EXPECT_EQ(ReadFile(dir_ + "/hard_state"), hard_state_file);
  Reopen();
  EXPECT_EQ(storage_->LoadHardState(), (HardState{2, 1, 7}));

  // A torn commit file (its write is not synced) falls back to the hard state's commit.
  storage_.reset();
  std::string commit = ReadFile(dir_ + "/commit");
  ASSERT_FALSE(commit.empty());
  commit[commit.size() - 1] ^= 0x10;
  WriteFile(dir_ + "/commit", commit);
  Reopen();
  EXPECT_EQ(storage_->LoadHardState(), (HardState{2, 1, 3}));

  // A term change rewrites the hard state file, commit included.
  ASSERT_TRUE(storage_->SetHardState({3, 0, 9}).ok());
  storage_.reset();
  fs::remove(dir_ + "/commit");
  Reopen();
  EXPECT_EQ(storage_->LoadHardState(), (HardState{3, 0, 9}));
}

TEST_F(DiskStorageTest, HardStateRejectsGoingBackOrASecondVote) {
  Reopen();
  ASSERT_TRUE(storage_->SetHardState({5, 2, 0}).ok());
  EXPECT_EQ(storage_->SetHardState({4, 2, 0}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(storage_->SetHardState({5, 3, 0}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(storage_->SetHardState({5, 0, 0}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(storage_->LoadHardState(), (HardState{5, 2, 0}));
  Reopen();
  EXPECT_EQ(storage_->LoadHardState(), (HardState{5, 2, 0}));
}

TEST_F(DiskStorageTest, DamagedHardStateIsCorruption) {
  Reopen();
  ASSERT_TRUE(storage_->SetHardState({5, 2, 0}).ok());
  storage_.reset();
  std::string contents = ReadFile(dir_ + "/hard_state");
  contents[20] ^= 0x01;
  WriteFile(dir_ + "/hard_state", contents);
  auto opened = OpenStorage();
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), ErrorCode::kCorruption) << opened.status();
}

TEST_F(DiskStorageTest, CompactThenReopen) {
  segment_limit_ = 200;
  Reopen();
  for (Index i = 1; i <= 30; i += 3) ASSERT_TRUE(storage_->Append(MakeEntries(1, i, i + 2)).ok());
  ASSERT_TRUE(storage_->Append(MakeEntries(2, 31, 33)).ok());
  const auto before = Segments();

  ASSERT_TRUE(storage_->Compact({14, 1}).ok());
  EXPECT_EQ(storage_->LoadSnapshotMeta(), (SnapshotMeta{14, 1}));
  auto expected = Concat(MakeEntries(1, 15, 30), MakeEntries(2, 31, 33));
  ExpectLog(expected, 15);
  auto after = Segments();
  EXPECT_LT(after.size(), before.size());
  // The segment holding index 15 stays even if it starts before it; none wholly below does.
  ASSERT_FALSE(after.empty());
  EXPECT_LE(after.front(), 15u);
  EXPECT_EQ(std::count_if(after.begin(), after.end(), [](uint64_t f) { return f <= 15; }), 1);
  EXPECT_EQ(storage_->Entries(14, 16, 1000).status().code(), ErrorCode::kInvalidArgument);
  Reopen();
  EXPECT_EQ(storage_->LoadSnapshotMeta(), (SnapshotMeta{14, 1}));
  ExpectLog(expected, 15);

  // Compacting everything: the log is empty and goes on after the snapshot.
  ASSERT_TRUE(storage_->Compact({33, 2}).ok());
  ExpectLog({}, 34);
  EXPECT_TRUE(Segments().empty());
  ASSERT_TRUE(storage_->Append(MakeEntries(2, 34, 35)).ok());
  Reopen();
  EXPECT_EQ(storage_->LoadSnapshotMeta(), (SnapshotMeta{33, 2}));
  ExpectLog(MakeEntries(2, 34, 35), 34);
}

TEST_F(DiskStorageTest, SegmentsLeftByAnInterruptedCompactionAreRemoved) {
  segment_limit_ = 200;
  Reopen();
  for (Index i = 1; i <= 30; i += 3) ASSERT_TRUE(storage_->Append(MakeEntries(1, i, i + 2)).ok());
  const auto before = Segments();
  ASSERT_GE(before.size(), 3u);
  // Keep a copy of the second segment, compact past it, then put it back: as if the crash
  // came after the new start was recorded but before that deletion reached the disk.
  const uint64_t second = before[1];
  const std::string second_bytes = ReadFile(SegmentPath(second));
  const Index compact_to = before[2];  // the third segment's first index: it straddles
  ASSERT_TRUE(storage_->Compact({compact_to, 1}).ok());
  storage_.reset();
  ASSERT_FALSE(fs::exists(SegmentPath(second)));
  WriteFile(SegmentPath(second), second_bytes);
  Reopen();
  EXPECT_FALSE(fs::exists(SegmentPath(second)));
  ExpectLog(MakeEntries(1, compact_to + 1, 30), compact_to + 1);
}

TEST_F(DiskStorageTest, ReadsReverifyTheRecords) {
  Reopen();
  ASSERT_TRUE(storage_->Append(MakeEntries(1, 1, 5)).ok());
  // Damage under an open storage (a failing disk): reads report it instead of returning it.
  std::string contents = ReadFile(SegmentPath(1));
  contents[wal::kSegmentHeaderSize + 2 * (wal::kRecordHeaderSize + 20) + 30] ^= 0x04;
  WriteFile(SegmentPath(1), contents);
  auto read = storage_->Entries(2, 5, SIZE_MAX);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), ErrorCode::kCorruption) << read.status();
  auto before = storage_->Entries(1, 3, SIZE_MAX);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(*before, MakeEntries(1, 1, 2));
}

TEST_F(DiskStorageTest, CompactRejectsBadMetaWithoutChange) {
  Reopen();
  ASSERT_TRUE(storage_->Append(MakeEntries(1, 1, 5)).ok());
  ASSERT_TRUE(storage_->Append(MakeEntries(2, 6, 10)).ok());
  ASSERT_TRUE(storage_->Compact({3, 1}).ok());
  EXPECT_EQ(storage_->Compact({6, 1}).code(), ErrorCode::kInvalidArgument);   // wrong term
  EXPECT_EQ(storage_->Compact({11, 2}).code(), ErrorCode::kInvalidArgument);  // beyond the log
  EXPECT_EQ(storage_->Compact({2, 1}).code(), ErrorCode::kInvalidArgument);   // below the start
  EXPECT_TRUE(storage_->Compact({3, 1}).ok());                                // already there
  auto expected = Concat(MakeEntries(1, 4, 5), MakeEntries(2, 6, 10));
  ExpectLog(expected, 4);
  Reopen();
  ExpectLog(expected, 4);
}

TEST_F(DiskStorageTest, ResetToSnapshotThenAppend) {
  segment_limit_ = 200;
  Reopen();
  for (Index i = 1; i <= 12; i += 3) ASSERT_TRUE(storage_->Append(MakeEntries(1, i, i + 2)).ok());
  ASSERT_TRUE(storage_->ResetToSnapshot({100, 5}).ok());
  EXPECT_EQ(storage_->LoadSnapshotMeta(), (SnapshotMeta{100, 5}));
  ExpectLog({}, 101);
  EXPECT_TRUE(Segments().empty());
  EXPECT_EQ(storage_->Append(MakeEntries(5, 50, 51)).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(storage_->Append(MakeEntries(4, 101, 101)).code(), ErrorCode::kInvalidArgument)
      << "a term below the snapshot's";
  ASSERT_TRUE(storage_->Append(MakeEntries(5, 101, 103)).ok());
  Reopen();
  EXPECT_EQ(storage_->LoadSnapshotMeta(), (SnapshotMeta{100, 5}));
  ExpectLog(MakeEntries(5, 101, 103), 101);
  // A reset to a snapshot inside the log also empties it.
  ASSERT_TRUE(storage_->ResetToSnapshot({102, 5}).ok());
  ExpectLog({}, 103);
  EXPECT_EQ(storage_->ResetToSnapshot({101, 5}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(storage_->ResetToSnapshot({102, 6}).code(), ErrorCode::kInvalidArgument);
}

TEST_F(DiskStorageTest, InterruptedResetIsFinishedByOpen) {
  Reopen();
  ASSERT_TRUE(storage_->Append(MakeEntries(1, 1, 10)).ok());
  storage_.reset();
  // A crash after the reset recorded its snapshot but before the old log was deleted: those
  // entries (11.. would follow a different history) must not come back.
  ASSERT_TRUE(raft::state_file::WriteDurably(
                  dir_, "snapshot_meta", raft::state_file::Encode("TALUSRSM", {8, 3, 1}))
                  .ok());
  Reopen();
  EXPECT_EQ(storage_->LoadSnapshotMeta(), (SnapshotMeta{8, 3}));
  ExpectLog({}, 9);
  EXPECT_TRUE(Segments().empty());
  ASSERT_TRUE(storage_->Append(MakeEntries(3, 9, 9)).ok());
  Reopen();
  ExpectLog(MakeEntries(3, 9, 9), 9);
}

TEST_F(DiskStorageTest, InvalidAppendsAreRejectedWithoutChange) {
  Reopen();
  ASSERT_TRUE(storage_->Append(MakeEntries(2, 1, 5)).ok());
  ASSERT_TRUE(storage_->Compact({2, 2}).ok());
  const auto expected = MakeEntries(2, 3, 5);
  auto expect_rejected = [&](const std::vector<Entry>& entries, const char* why) {
    EXPECT_EQ(storage_->Append(entries).code(), ErrorCode::kInvalidArgument) << why;
    ExpectLog(expected, 3);
  };
  expect_rejected(MakeEntries(2, 7, 8), "a gap after the last index");
  expect_rejected(MakeEntries(2, 2, 6), "an index inside the snapshot");
  expect_rejected({MakeEntry(2, 6), MakeEntry(2, 8)}, "indexes not consecutive");
  expect_rejected({MakeEntry(3, 6), MakeEntry(2, 7)}, "terms going down");
  expect_rejected(MakeEntries(1, 4, 4), "a term below the previous entry's");
  expect_rejected({MakeEntry(2, 6, wal::kMaxPayloadBytes + 1)}, "an entry over the limit");
  Reopen();
  ExpectLog(expected, 3);
}

TEST_F(DiskStorageTest, ManySmallSegments) {
  segment_limit_ = 150;
  Reopen();
  std::vector<Entry> expected;
  Index next = 1;
  Term term = 1;
  for (int batch = 0; next <= 400; ++batch) {
    if (batch % 17 == 16) {
      // Now and then a new term replaces a few entries at the end.
      ++term;
      next -= std::min<Index>(next - 1, static_cast<Index>(batch % 5));
    }
    size_t n = 1 + batch % 4;
    auto entries = MakeEntries(term, next, next + n - 1, 10 + batch % 30);
    ASSERT_TRUE(storage_->Append(entries).ok()) << "batch " << batch;
    expected.resize(next - 1);
    expected = Concat(expected, entries);
    next += n;
  }
  EXPECT_GT(Segments().size(), 50u);
  ExpectLog(expected, 1);
  Reopen();
  ExpectLog(expected, 1);
  // Reads that span several segments.
  for (Index lo = 1; lo < 400; lo += 37) {
    auto read = storage_->Entries(lo, lo + 25, SIZE_MAX);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(*read, std::vector<Entry>(expected.begin() + (lo - 1), expected.begin() + (lo + 24)));
  }
  ASSERT_TRUE(storage_->Compact({250, expected[249].term}).ok());
  Reopen();
  ExpectLog(std::vector<Entry>(expected.begin() + 250, expected.end()), 251);
}

// One step of the crash test's workload, a pure function of the log it starts from and the
// generator, so that the parent can replay what the child did.
struct CrashOp {
  Index first = 0;
  std::vector<Entry> entries;
};

CrashOp NextCrashOp(std::mt19937_64* rng, Index last_index, Term last_term) {
  CrashOp op;
  Term term = std::max<Term>(last_term, 1);
  op.first = last_index + 1;
  if ((*rng)() % 6 == 0) {  // a new leader replaces a few entries at the end
    ++term;
    op.first -= std::min<Index>(last_index, (*rng)() % 6);
  }
  const size_t n = 1 + (*rng)() % 8;
  for (size_t i = 0; i < n; ++i) op.entries.push_back(MakeEntry(term, op.first + i, (*rng)() % 300));
  return op;
}

std::vector<Entry> ApplyCrashOp(std::vector<Entry> log, const CrashOp& op) {
  log.resize(op.first - 1);
  return Concat(std::move(log), op.entries);
}

// A process killed (SIGKILL) at a random point of appending, over and over in one directory:
// every reopen finds every acknowledged entry, and the in-flight append either whole, not at
// all, or only its cut done.
TEST_F(DiskStorageTest, KilledWriterLosesNothingAcknowledged) {
  segment_limit_ = 2048;
  Reopen();
  std::vector<Entry> log;
  for (uint64_t round = 0; round < 8; ++round) {
    storage_.reset();
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const uint64_t seed = 1000 + round;
    const Index start_last = log.empty() ? 0 : log.back().index;
    const Term start_term = log.empty() ? 0 : log.back().term;
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      auto opened = OpenStorage();
      if (!opened.ok()) ::_exit(2);
      std::mt19937_64 rng(seed);
      Index last = start_last;
      Term term = start_term;
      for (uint32_t k = 0; k < 100000; ++k) {
        CrashOp op = NextCrashOp(&rng, last, term);
        if (!(*opened)->Append(op.entries).ok()) ::_exit(3);
        last = op.entries.back().index;
        term = op.entries.back().term;
        if (!(*opened)->SetHardState({term, 1, 0}).ok()) ::_exit(4);
        if (::write(fds[1], &k, sizeof(k)) != sizeof(k)) ::_exit(5);
      }
      ::_exit(0);
    }
    ::close(fds[1]);
    const uint32_t kill_after = 5 + static_cast<uint32_t>(seed * 7919 % 120);
    int64_t acked = -1;
    uint32_t k;
    while (::read(fds[0], &k, sizeof(k)) == sizeof(k)) {
      acked = k;
      if (static_cast<uint32_t>(acked) + 1 == kill_after) ::kill(pid, SIGKILL);
    }
    ::close(fds[0]);
    int wstatus = 0;
    ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "the writer ended by itself, status " << wstatus;
    ASSERT_GE(acked, 0);

    // Replay what the child did: the log after its last acknowledged op, and after the next.
    std::mt19937_64 rng(seed);
    std::vector<Entry> acked_log = log;
    for (int64_t i = 0; i <= acked; ++i) {
      Index last = acked_log.empty() ? 0 : acked_log.back().index;
      Term term = acked_log.empty() ? 0 : acked_log.back().term;
      acked_log = ApplyCrashOp(std::move(acked_log), NextCrashOp(&rng, last, term));
    }
    CrashOp in_flight = NextCrashOp(&rng, acked_log.empty() ? 0 : acked_log.back().index,
                                    acked_log.empty() ? 0 : acked_log.back().term);
    std::vector<Entry> next_log = ApplyCrashOp(acked_log, in_flight);

    Reopen();
    std::vector<Entry> found = storage_->LoadEntries();
    const bool whole = found == next_log;
    const bool prefix = found.size() <= acked_log.size() &&
                        found.size() + 1 >= in_flight.first &&
                        std::equal(found.begin(), found.end(), acked_log.begin());
    EXPECT_TRUE(whole || prefix) << "round " << round << ": " << found.size()
                                 << " entries after a kill at op " << acked + 1 << " ("
                                 << acked_log.size() << " acknowledged, in-flight from "
                                 << in_flight.first << ")";
    const Term hs_term = storage_->LoadHardState().term;
    EXPECT_TRUE(hs_term == acked_log.back().term || hs_term == in_flight.entries.back().term)
        << "round " << round << ": hard state term " << hs_term;
    log = found;
  }
}

// Not a benchmark: a sanity print of what one fdatasync per Append costs on this disk.
TEST_F(DiskStorageTest, ThroughputSanity) {
  Reopen();
  constexpr int kBatches = 1000;
  constexpr int kPerBatch = 10;
  const auto start = std::chrono::steady_clock::now();
  Index next = 1;
  for (int b = 0; b < kBatches; ++b) {
    auto entries = MakeEntries(1, next, next + kPerBatch - 1, 200);
    ASSERT_TRUE(storage_->Append(entries).ok());
    next += kPerBatch;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ throughput ] %d batches of %d x 200 B: %.2f s, %.0f entries/s, %.0f appends/s\n",
              kBatches, kPerBatch, seconds, kBatches * kPerBatch / seconds, kBatches / seconds);
  EXPECT_EQ(storage_->LastIndex(), static_cast<Index>(kBatches * kPerBatch));
}

}  // namespace
}  // namespace talus::raft
