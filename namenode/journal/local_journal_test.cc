#include "namenode/journal/local_journal.h"

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/crc32c.h"
#include "common/wal/record_codec.h"

namespace talus {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kWaitLimit = std::chrono::seconds(30);

// A state machine that keeps everything in memory. Its "applied index" is what the test says
// was durable before a restart; Checkpoint reports it durable only when asked to.
class RecordingStateMachine : public StateMachine {
 public:
  explicit RecordingStateMachine(uint64_t applied = 0, bool durable_checkpoints = false)
      : applied_(applied), durable_checkpoints_(durable_checkpoints) {}

  uint64_t LastAppliedIndex() const override { return applied_.load(); }

  ApplyResult Apply(const LogPosition& pos, std::string_view entry) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (pos.index != applied_.load() + 1 || pos.term != 1) ++out_of_order_;
    entries_.emplace_back(pos.index, std::string(entry));
    applied_.store(pos.index);
    return ApplyResult{Status::OK(), static_cast<int64_t>(pos.index) * 10};
  }

  Result<uint64_t> Checkpoint() override {
    ++checkpoints_;
    if (!durable_checkpoints_) return uint64_t{0};
    checkpointed_.store(applied_.load());
    return applied_.load();
  }

  std::vector<std::pair<uint64_t, std::string>> entries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_;
  }
  int out_of_order() const {
    std::lock_guard<std::mutex> lock(mu_);
    return out_of_order_;
  }
  uint64_t checkpointed() const { return checkpointed_.load(); }
  int checkpoints() const { return checkpoints_.load(); }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<uint64_t, std::string>> entries_;
  int out_of_order_ = 0;
  std::atomic<uint64_t> applied_;
  std::atomic<uint64_t> checkpointed_{0};
  std::atomic<int> checkpoints_{0};
  const bool durable_checkpoints_;
};

// Counts callbacks and lets a test wait for a number of them with a deadline.
class CallbackCounter {
 public:
  AppliedCallback Callback() {
    return [this](const Status& status, const ApplyResult& result) {
      std::lock_guard<std::mutex> lock(mu_);
      if (status.ok()) {
        ++ok_;
        values_.push_back(result.value);
      } else {
        ++failed_;
        last_error_ = status;
      }
      cv_.notify_all();
    };
  }
  bool WaitFor(int total) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWaitLimit, [&] { return ok_ + failed_ >= total; });
  }
  int ok() const {
    std::lock_guard<std::mutex> lock(mu_);
    return ok_;
  }
  int failed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failed_;
  }
  std::vector<int64_t> values() const {
    std::lock_guard<std::mutex> lock(mu_);
    return values_;
  }
  Status last_error() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_error_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int ok_ = 0;
  int failed_ = 0;
  std::vector<int64_t> values_;
  Status last_error_;
};

// Appends one entry and waits for its callback; returns the callback's status.
struct AppendOutcome {
  Status append_status;
  LogPosition pos;
  Status applied_status;
  ApplyResult result;
};
AppendOutcome AppendAndWait(Journal* journal, std::string payload) {
  struct Slot {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    Status status;
    ApplyResult result;
  };
  auto slot = std::make_shared<Slot>();
  AppendOutcome out;
  auto pos = journal->Append(std::move(payload), [slot](const Status& s, const ApplyResult& r) {
    std::lock_guard<std::mutex> lock(slot->mu);
    slot->done = true;
    slot->status = s;
    slot->result = r;
    slot->cv.notify_all();
  });
  if (!pos.ok()) {
    out.append_status = pos.status();
    return out;
  }
  out.pos = *pos;
  std::unique_lock<std::mutex> lock(slot->mu);
  if (!slot->cv.wait_for(lock, kWaitLimit, [&] { return slot->done; })) {
    out.applied_status = Status::TimedOut("no callback within the deadline");
    return out;
  }
  out.applied_status = slot->status;
  out.result = slot->result;
  return out;
}

std::vector<fs::path> SegmentFiles(const std::string& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind("log-", 0) == 0) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

uint64_t FirstIndexOf(const fs::path& segment) {
  return std::stoull(segment.filename().string().substr(4));
}

void FlipByte(const fs::path& file, uint64_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good());
  f.seekg(static_cast<std::streamoff>(offset));
  char c;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

class LocalJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "talus_journal_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    dir_ = root_ + "/journal";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  LocalJournalOptions Options(uint64_t segment_limit = 64ull << 20,
                              uint64_t checkpoint_every = 100000) const {
    LocalJournalOptions options;
    options.directory = dir_;
    options.segment_size_limit_bytes = segment_limit;
    options.checkpoint_every_entries = checkpoint_every;
    return options;
  }

  // Appends `count` entries "e<n>" one after another, waiting for each.
  void AppendSequential(Journal* journal, int count, size_t pad = 0) {
    for (int i = 0; i < count; ++i) {
      AppendOutcome out = AppendAndWait(journal, "e" + std::string(pad, 'x') + std::to_string(i));
      ASSERT_TRUE(out.append_status.ok()) << out.append_status;
      ASSERT_TRUE(out.applied_status.ok()) << out.applied_status;
    }
  }

  // Runs `threads` threads, each appending `per_thread` entries one after another.
  // Returns the wall time taken and checks every callback.
  double RunConcurrentAppends(LocalJournal* journal, int threads, int per_thread,
                              std::map<uint64_t, std::string>* appended) {
    std::mutex mu;
    std::atomic<int> failures{0};
    auto start = Clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        std::vector<std::pair<uint64_t, std::string>> mine;
        for (int i = 0; i < per_thread; ++i) {
          std::string payload = "t" + std::to_string(t) + "-" + std::to_string(i);
          AppendOutcome out = AppendAndWait(journal, payload);
          if (!out.append_status.ok() || !out.applied_status.ok() ||
              out.result.value != static_cast<int64_t>(out.pos.index) * 10) {
            ++failures;
            return;
          }
          mine.emplace_back(out.pos.index, payload);
        }
        std::lock_guard<std::mutex> lock(mu);
        for (auto& [index, payload] : mine) {
          if (!appended->emplace(index, payload).second) ++failures;
        }
      });
    }
    for (auto& w : workers) w.join();
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    EXPECT_EQ(failures.load(), 0);
    return seconds;
  }

  std::string root_;
  std::string dir_;
};

TEST(Crc32cTest, MatchesKnownValuesAndPortableCode) {
  EXPECT_EQ(crc32c::Value("123456789", 9), 0xe3069283u);
  EXPECT_EQ(crc32c::Value("", 0), 0u);
  std::string zeros(32, '\0');
  std::string ones(32, '\xff');
  EXPECT_EQ(crc32c::Value(zeros.data(), zeros.size()), 0x8a9136aau);
  EXPECT_EQ(crc32c::Value(ones.data(), ones.size()), 0x62a8ab43u);

  std::mt19937 rng(7);
  for (size_t size : {1u, 7u, 8u, 9u, 63u, 1000u, 4099u}) {
    std::string data(size, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    uint32_t whole = crc32c::Value(data.data(), data.size());
    EXPECT_EQ(whole, crc32c::ExtendPortable(0, data.data(), data.size()));
    size_t half = size / 2;
    EXPECT_EQ(whole, crc32c::Extend(crc32c::Value(data.data(), half),
                                            data.data() + half, size - half));
  }
}

TEST(RecordCodecTest, EveryDamagedByteIsDetected) {
  std::string encoded;
  wal::AppendRecord(1, 42, "hello journal", &encoded);
  wal::DecodedRecord record;
  ASSERT_EQ(wal::DecodeRecord(encoded, &record), wal::DecodeOutcome::kOk);
  EXPECT_EQ(record.term, 1u);
  EXPECT_EQ(record.index, 42u);
  EXPECT_EQ(record.payload, "hello journal");
  EXPECT_EQ(record.encoded_size, encoded.size());

  for (size_t cut = 0; cut < encoded.size(); ++cut) {
    EXPECT_EQ(wal::DecodeRecord(std::string_view(encoded).substr(0, cut), &record),
              wal::DecodeOutcome::kTruncated)
        << "cut at " << cut;
  }
  for (size_t i = 0; i < encoded.size(); ++i) {
    std::string damaged = encoded;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x01);
    EXPECT_NE(wal::DecodeRecord(damaged, &record), wal::DecodeOutcome::kOk)
        << "flipped byte " << i;
  }
}

TEST_F(LocalJournalTest, RejectsAppendsBeforeOpenAndOversizedEntries) {
  LocalJournal journal(Options());
  auto early = journal.Append("x", nullptr);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().code(), ErrorCode::kUnavailable) << early.status();

  RecordingStateMachine sm;
  ASSERT_TRUE(journal.Open(&sm).ok());  // also creates the missing directory
  EXPECT_TRUE(fs::is_directory(dir_));
  EXPECT_TRUE(journal.IsLeader());
  auto big = journal.Append(std::string(wal::kMaxPayloadBytes + 1, 'x'), nullptr);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(LocalJournalTest, SecondJournalOnTheSameDirectoryIsRefused) {
  RecordingStateMachine sm1, sm2;
  LocalJournal first(Options());
  ASSERT_TRUE(first.Open(&sm1).ok());
  LocalJournal second(Options());
  Status s = second.Open(&sm2);
  EXPECT_EQ(s.code(), ErrorCode::kBusy) << s;
  first.Close();
  EXPECT_TRUE(second.Open(&sm2).ok());
}

TEST_F(LocalJournalTest, GroupCommitAppliesEveryEntryOnceInOrder) {
  constexpr int kThreads = 32;
  constexpr int kPerThread = 500;
  constexpr int kTotal = kThreads * kPerThread;
  RecordingStateMachine sm;
  LocalJournal journal(Options());
  ASSERT_TRUE(journal.Open(&sm).ok());

  std::map<uint64_t, std::string> appended;
  double seconds = RunConcurrentAppends(&journal, kThreads, kPerThread, &appended);
  journal.Close();

  LocalJournalStats stats = journal.stats();
  ASSERT_EQ(appended.size(), static_cast<size_t>(kTotal));
  auto entries = sm.entries();
  ASSERT_EQ(entries.size(), static_cast<size_t>(kTotal));
  EXPECT_EQ(sm.out_of_order(), 0);
  for (size_t i = 0; i < entries.size(); ++i) {
    ASSERT_EQ(entries[i].first, i + 1);
    ASSERT_EQ(entries[i].second, appended[i + 1]) << "index " << i + 1;
  }
  EXPECT_EQ(journal.AppliedIndex(), static_cast<uint64_t>(kTotal));
  EXPECT_EQ(stats.entries_appended, static_cast<uint64_t>(kTotal));
  EXPECT_EQ(stats.entries_applied, static_cast<uint64_t>(kTotal));
  EXPECT_LT(stats.fsyncs, stats.entries_appended);
  std::printf("[ group commit ] %d threads: %d entries in %.2f s (%.0f/s), %llu fsyncs, "
              "%.1f entries per fsync, largest batch %llu\n",
              kThreads, kTotal, seconds, kTotal / seconds,
              static_cast<unsigned long long>(stats.fsyncs),
              static_cast<double>(kTotal) / static_cast<double>(stats.fsyncs),
              static_cast<unsigned long long>(stats.max_batch_entries));
}

TEST_F(LocalJournalTest, SixtyFourAppendersShareFsyncs) {
  constexpr int kThreads = 64;
  constexpr int kPerThread = 400;
  RecordingStateMachine sm;
  LocalJournal journal(Options());
  ASSERT_TRUE(journal.Open(&sm).ok());
  std::map<uint64_t, std::string> appended;
  double seconds = RunConcurrentAppends(&journal, kThreads, kPerThread, &appended);
  journal.Close();
  LocalJournalStats stats = journal.stats();
  double rate = kThreads * kPerThread / seconds;
  std::printf("[ throughput   ] %d appenders: %.0f entries/s, %.1f entries per fsync\n",
              kThreads, rate,
              static_cast<double>(stats.entries_appended) / static_cast<double>(stats.fsyncs));
  EXPECT_EQ(appended.size(), static_cast<size_t>(kThreads * kPerThread));
  // Speed is the benchmark's business (bench/RESULTS.md); this only catches a journal that
  // syncs once per entry. Kept low because on a tmpfs or an idle fast disk a sync is so quick
  // that fewer appenders pile up behind it.
  EXPECT_GT(static_cast<double>(stats.entries_appended) / static_cast<double>(stats.fsyncs), 1.5);
  EXPECT_GT(stats.max_batch_entries, 8u);
}

TEST_F(LocalJournalTest, ReopenReplaysOnlyEntriesAboveTheStateIndex) {
  {
    RecordingStateMachine sm;
    LocalJournal journal(Options());
    ASSERT_TRUE(journal.Open(&sm).ok());
    AppendSequential(&journal, 100);
  }
  {
    RecordingStateMachine sm(60);
    LocalJournal journal(Options());
    ASSERT_TRUE(journal.Open(&sm).ok());
    auto entries = sm.entries();
    ASSERT_EQ(entries.size(), 40u);
    EXPECT_EQ(entries.front().first, 61u);
    EXPECT_EQ(entries.front().second, "e60");
    EXPECT_EQ(entries.back().first, 100u);
    EXPECT_EQ(sm.out_of_order(), 0);
    EXPECT_EQ(journal.AppliedIndex(), 100u);
    EXPECT_EQ(journal.stats().entries_replayed, 40u);
    AppendOutcome out = AppendAndWait(&journal, "after reopen");
    ASSERT_TRUE(out.applied_status.ok()) << out.applied_status;
    EXPECT_EQ(out.pos.index, 101u);
  }
  {
    RecordingStateMachine sm(0);
    LocalJournal journal(Options());
    ASSERT_TRUE(journal.Open(&sm).ok());
    auto entries = sm.entries();
    ASSERT_EQ(entries.size(), 101u);
    EXPECT_EQ(entries[0].second, "e0");
    EXPECT_EQ(entries[100].second, "after reopen");
  }
  {
    RecordingStateMachine sm(101);
    LocalJournal journal(Options());
    ASSERT_TRUE(journal.Open(&sm).ok());
    EXPECT_TRUE(sm.entries().empty());
  }
}

TEST_F(LocalJournalTest, StateAheadOfTheLogContinuesAfterTheState) {
  {
    RecordingStateMachine sm;
    LocalJournal journal(Options());
    ASSERT_TRUE(journal.Open(&sm).ok());
    AppendSequential(&journal, 10);
  }
  {
    RecordingStateMachine sm(500);
    LocalJournal journal(Options());
    ASSERT_TRUE(journal.Open(&sm).ok());
    EXPECT_TRUE(sm.entries().empty());
    AppendOutcome out = AppendAndWait(&journal, "x");
    ASSERT_TRUE(out.applied_status.ok());
    EXPECT_EQ(out.pos.index, 501u);
  }
  // The log now starts at 501: a state at 500 replays it, a state that lost more is refused.
  {
    RecordingStateMachine sm(500);
    LocalJournal journal(Options());
    ASSERT_TRUE(journal.Open(&sm).ok());
    ASSERT_EQ(sm.entries().size(), 1u);
    EXPECT_EQ(sm.entries()[0].first, 501u);
  }
  {
    RecordingStateMachine sm(0);
    LocalJournal journal(Options());
    Status s = journal.Open(&sm);
    EXPECT_EQ(s.code(), ErrorCode::kCorruption) << s;
    EXPECT_TRUE(sm.entries().empty());
  }
}

TEST_F(LocalJournalTest, TornTailIsCutAndTheJournalContinues) {
  {
    RecordingStateMachine sm;
    LocalJournal journal(Options());
    ASSERT_TRUE(journal.Open(&sm).ok());
    AppendSequential(&journal, 50, /*pad=*/100);
  }
  auto files = SegmentFiles(dir_);
  ASSERT_EQ(files.size(), 1u);
  fs::resize_file(files[0], fs::file_size(files[0]) - 5);  // a crash mid-record
  {
    RecordingStateMachine sm;
    LocalJournal journal(Options());
    ASSERT_TRUE(journal.Open(&sm).ok());
    ASSERT_EQ(sm.entries().size(), 49u);
    EXPECT_EQ(journal.AppliedIndex(), 49u);
    AppendOutcome out = AppendAndWait(&journal, "replacement");
    ASSERT_TRUE(out.applied_status.ok());
    EXPECT_EQ(out.pos.index, 50u);
  }
  const auto good_size = fs::file_size(files[0]);
  {
    std::ofstream f(files[0], std::ios::app | std::ios::binary);
    f << std::string(37, '\xab') << std::string(4096, '\0');  // garbage after the last record
  }
  {
    RecordingStateMachine sm;
    LocalJournal journal(Options());
    ASSERT_TRUE(journal.Open(&sm).ok());
    ASSERT_EQ(sm.entries().size(), 50u);
    EXPECT_EQ(sm.entries().back().second, "replacement");
    EXPECT_EQ(fs::file_size(files[0]), good_size);
    AppendOutcome out = AppendAndWait(&journal, "after garbage");
    ASSERT_TRUE(out.applied_status.ok());
    EXPECT_EQ(out.pos.index, 51u);
  }
  {
    RecordingStateMachine sm;
    LocalJournal journal(Options());
    ASSERT_TRUE(journal.Open(&sm).ok());
    ASSERT_EQ(sm.entries().size(), 51u);
    EXPECT_EQ(sm.out_of_order(), 0);
  }
}

TEST_F(LocalJournalTest, DamageOutsideTheTailIsRefused) {
  {
    RecordingStateMachine sm;  // checkpoints are not durable: nothing is deleted
    LocalJournal journal(Options(/*segment_limit=*/2048));
    ASSERT_TRUE(journal.Open(&sm).ok());
    AppendSequential(&journal, 100, /*pad=*/200);
  }
  auto files = SegmentFiles(dir_);
  ASSERT_GE(files.size(), 4u);

  // A bit flip in the middle of the oldest segment.
  const uint64_t middle = fs::file_size(files[0]) / 2;
  FlipByte(files[0], middle);
  {
    RecordingStateMachine sm;
    LocalJournal journal(Options(2048));
    Status s = journal.Open(&sm);
    EXPECT_EQ(s.code(), ErrorCode::kCorruption) << s;
    EXPECT_TRUE(sm.entries().empty()) << "nothing may be applied from a damaged log";
  }
  FlipByte(files[0], middle);
  {
    RecordingStateMachine sm;
    LocalJournal journal(Options(2048));
    ASSERT_TRUE(journal.Open(&sm).ok());
    EXPECT_EQ(sm.entries().size(), 100u);
  }

  // A segment missing from the middle leaves a hole in the indexes.
  fs::rename(files[1], root_ + "/moved-away");
  {
    RecordingStateMachine sm;
    LocalJournal journal(Options(2048));
    Status s = journal.Open(&sm);
    EXPECT_EQ(s.code(), ErrorCode::kCorruption) << s;
    EXPECT_NE(s.message().find("gap"), std::string::npos) << s;
  }
  // ...unless the state already holds everything below the hole (an interrupted compaction).
  {
    RecordingStateMachine sm(FirstIndexOf(files[2]) - 1);
    LocalJournal journal(Options(2048));
    ASSERT_TRUE(journal.Open(&sm).ok());
    EXPECT_EQ(sm.entries().front().first, FirstIndexOf(files[2]));
    EXPECT_FALSE(fs::exists(files[0])) << "the stale segment before the hole is removed";
  }
}

TEST_F(LocalJournalTest, SegmentsRollAtTheLimitAndAreDeletedAfterCheckpoints) {
  constexpr uint64_t kLimit = 4096;
  RecordingStateMachine sm(0, /*durable_checkpoints=*/true);
  LocalJournal journal(Options(kLimit, /*checkpoint_every=*/50));
  ASSERT_TRUE(journal.Open(&sm).ok());
  std::map<uint64_t, std::string> appended;
  RunConcurrentAppends(&journal, 4, 100, &appended);
  // Large payloads so that segments fill quickly.
  for (int i = 0; i < 80; ++i) {
    ASSERT_TRUE(AppendAndWait(&journal, std::string(500, 'p')).applied_status.ok());
  }
  journal.Close();

  LocalJournalStats stats = journal.stats();
  auto files = SegmentFiles(dir_);
  EXPECT_GT(stats.segments_created, 5u);
  EXPECT_GT(stats.segments_deleted, 0u);
  EXPECT_GT(stats.checkpoints, 0u);
  EXPECT_EQ(files.size(), stats.segments_created - stats.segments_deleted);
  ASSERT_FALSE(files.empty());
  EXPECT_GT(FirstIndexOf(files[0]), 1u);
  EXPECT_LE(FirstIndexOf(files[0]), sm.checkpointed() + 1);
  for (size_t i = 0; i + 1 < files.size(); ++i) {
    EXPECT_GE(fs::file_size(files[i]), kLimit) << files[i] << " was closed before the limit";
  }

  // A state restored from the last checkpoint finds everything after it.
  const uint64_t checkpointed = sm.checkpointed();
  RecordingStateMachine restored(checkpointed);
  LocalJournal reopened(Options(kLimit, 50));
  ASSERT_TRUE(reopened.Open(&restored).ok());
  EXPECT_EQ(restored.entries().size(), 480u - checkpointed);
  EXPECT_EQ(reopened.AppliedIndex(), 480u);
}

TEST_F(LocalJournalTest, CloseDrainsQueuedEntriesAndRejectsNewOnes) {
  constexpr int kEntries = 2000;
  RecordingStateMachine sm;
  LocalJournal journal(Options());
  ASSERT_TRUE(journal.Open(&sm).ok());
  CallbackCounter counter;
  for (int i = 0; i < kEntries; ++i) {
    auto pos = journal.Append("queued" + std::to_string(i), counter.Callback());
    ASSERT_TRUE(pos.ok()) << pos.status();
    ASSERT_EQ(pos->index, static_cast<uint64_t>(i + 1));
  }
  journal.Close();
  // Close returns only after every queued entry was called back.
  EXPECT_EQ(counter.ok(), kEntries);
  EXPECT_EQ(counter.failed(), 0);
  EXPECT_EQ(sm.entries().size(), static_cast<size_t>(kEntries));

  auto late = journal.Append("late", counter.Callback());
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(late.status().message().find("closed"), std::string::npos) << late.status();
  EXPECT_FALSE(journal.IsLeader());
  journal.Close();  // idempotent
  EXPECT_EQ(counter.ok() + counter.failed(), kEntries);

  RecordingStateMachine again;
  LocalJournal reopened(Options());
  ASSERT_TRUE(reopened.Open(&again).ok());
  EXPECT_EQ(again.entries().size(), static_cast<size_t>(kEntries));
}

// Runs `body` in a forked child and returns its exit code (or -signal).
template <typename Body>
int RunInChild(Body body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int code = body();
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

TEST_F(LocalJournalTest, WriteFailureFailsPendingEntriesAndLaterAppends) {
  constexpr int kEntries = 200;
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  // The child may not write files beyond 64 KiB, so a write of ~200 KiB of entries fails
  // part way, like a full disk.
  int code = RunInChild([&]() -> int {
    ::close(pipe_fds[0]);
    ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {64 << 10, 64 << 10};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return 10;
    RecordingStateMachine sm;
    LocalJournal journal(Options());
    if (!journal.Open(&sm).ok()) return 11;
    CallbackCounter counter;
    int accepted = 0;
    for (; accepted < kEntries; ++accepted) {
      // Appends start failing once the failure is noticed, possibly before the loop ends.
      if (!journal.Append(std::string(1024, 'f'), counter.Callback()).ok()) break;
    }
    if (!counter.WaitFor(accepted)) return 12;
    if (counter.failed() == 0) return 13;
    if (counter.last_error().code() != ErrorCode::kIoError) return 14;
    auto late = journal.Append("late", nullptr);
    if (late.ok() || late.status().code() != ErrorCode::kIoError) return 15;
    if (journal.IsLeader()) return 16;
    journal.Close();
    int64_t ok = counter.ok();
    if (::write(pipe_fds[1], &ok, sizeof(ok)) != sizeof(ok)) return 17;
    return 0;
  });
  ::close(pipe_fds[1]);
  int64_t acknowledged = -1;
  ssize_t n = ::read(pipe_fds[0], &acknowledged, sizeof(acknowledged));
  ::close(pipe_fds[0]);
  ASSERT_EQ(code, 0) << "child failed at check " << code;
  ASSERT_EQ(n, static_cast<ssize_t>(sizeof(acknowledged)));
  ASSERT_LT(acknowledged, kEntries);

  // The failed batch was cut off: the log reopens with exactly what was acknowledged.
  RecordingStateMachine sm;
  LocalJournal journal(Options());
  ASSERT_TRUE(journal.Open(&sm).ok());
  EXPECT_EQ(sm.entries().size(), static_cast<size_t>(acknowledged));
}

TEST_F(LocalJournalTest, AcknowledgedEntriesSurviveSigkill) {
  constexpr int kThreads = 8;
  constexpr int kAcksBeforeKill = 3000;
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pipe_fds[0]);
    RecordingStateMachine sm;
    LocalJournal journal(Options(/*segment_limit=*/64 << 10));
    if (!journal.Open(&sm).ok()) ::_exit(1);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        // Bounded so an orphaned child cannot run forever.
        for (int i = 0; i < 200000; ++i) {
          AppendOutcome out =
              AppendAndWait(&journal, "t" + std::to_string(t) + "-" + std::to_string(i));
          if (!out.applied_status.ok()) ::_exit(2);
          uint64_t index = out.pos.index;
          if (::write(pipe_fds[1], &index, sizeof(index)) != sizeof(index)) ::_exit(3);
        }
      });
    }
    for (auto& th : threads) th.join();
    ::_exit(4);
  }
  ::close(pipe_fds[1]);

  std::set<uint64_t> acknowledged;
  auto read_acks = [&](int timeout_ms) {
    pollfd pfd{pipe_fds[0], POLLIN, 0};
    if (::poll(&pfd, 1, timeout_ms) <= 0) return false;
    uint64_t buf[512];
    ssize_t n = ::read(pipe_fds[0], buf, sizeof(buf));
    if (n <= 0) return false;
    // Each ack is written with one 8-byte write() to a pipe, which never splits it.
    for (ssize_t i = 0; i < n / 8; ++i) acknowledged.insert(buf[i]);
    return true;
  };
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (acknowledged.size() < kAcksBeforeKill && Clock::now() < deadline) {
    if (!read_acks(1000)) break;
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped on its own with " << status;
  while (read_acks(0)) {
  }
  ::close(pipe_fds[0]);
  ASSERT_GE(acknowledged.size(), static_cast<size_t>(kAcksBeforeKill));

  RecordingStateMachine sm;
  LocalJournal journal(Options(64 << 10));
  Status s = journal.Open(&sm);
  ASSERT_TRUE(s.ok()) << s;
  auto entries = sm.entries();
  EXPECT_EQ(sm.out_of_order(), 0);
  ASSERT_GE(entries.size(), static_cast<size_t>(*acknowledged.rbegin()));
  for (uint64_t index : acknowledged) {
    ASSERT_EQ(entries[index - 1].first, index);
    ASSERT_EQ(entries[index - 1].second[0], 't') << "entry " << index;
  }
  std::printf("[ crash        ] %zu acknowledged, %zu replayed after SIGKILL\n",
              acknowledged.size(), entries.size());
}

}  // namespace
}  // namespace talus
