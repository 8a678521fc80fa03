#include "namenode/journal/local_journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <system_error>
#include <utility>

#include <glog/logging.h>

#include "common/metrics/metrics.h"
#include "common/wal/record_codec.h"
#include "common/wal/segment_file.h"

namespace talus {

namespace {
// Most entries applied before the state machine must store them (FinishBatch): bounds the
// memory a state machine holds back and the delay of the first answer in a large batch.
constexpr size_t kMaxEntriesPerFinish = 256;
}  // namespace

using wal::EnsureDirectory;
using wal::FsyncDirectory;
using wal::ListSegments;
using wal::RemoveSegments;
using wal::ScanSegment;
using wal::SegmentFileName;
using wal::SegmentPath;
using wal::SegmentScan;
using wal::SegmentWriter;

namespace {

// A single node never changes term.
constexpr uint64_t kTerm = 1;
// An encode buffer grown past this by an unusually large batch is released afterwards.
constexpr size_t kMaxRetainedBufferBytes = 4u << 20;

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// The journal's metrics (process-wide: a namenode has one journal).
struct JournalMetrics {
  metrics::Histogram* sync_seconds;
  metrics::Histogram* batch_entries;
  metrics::Counter* syncs;
  metrics::Counter* entries;
  metrics::Counter* bytes;
  metrics::Counter* failed;
  metrics::Histogram* apply_seconds;
  metrics::Histogram* commit_seconds;
  metrics::Gauge* applied_index;
};

const JournalMetrics& Metrics() {
  static const JournalMetrics* m = [] {
    metrics::Registry& r = metrics::DefaultRegistry();
    return new JournalMetrics{
        r.GetHistogram("talus_namenode_journal_sync_seconds",
                       "Time to write one batch of journal entries and fdatasync it, seconds.",
                       metrics::LatencyBuckets()),
        r.GetHistogram("talus_namenode_journal_batch_entries",
                       "Journal entries made durable by one fdatasync (group commit).",
                       {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}),
        r.GetCounter("talus_namenode_journal_syncs_total",
                     "Journal batches written and synced (fdatasync calls)."),
        r.GetCounter("talus_namenode_journal_entries_total",
                     "Journal entries written and synced."),
        r.GetCounter("talus_namenode_journal_bytes_total",
                     "Journal record bytes written and synced."),
        r.GetCounter("talus_namenode_journal_failed_entries_total",
                     "Journal entries answered with an error (write or sync failure, close)."),
        r.GetHistogram("talus_namenode_journal_apply_seconds",
                       "Time to apply a run of synced entries to the namespace and store it "
                       "(Apply and FinishBatch), seconds.",
                       metrics::LatencyBuckets()),
        r.GetHistogram("talus_namenode_journal_commit_seconds",
                       "Time from an entry's append to its application (queueing, write, "
                       "fdatasync and apply): what a mutation waits for, seconds.",
                       metrics::LatencyBuckets()),
        r.GetGauge("talus_namenode_journal_last_applied_index",
                   "Index of the last journal entry applied to the namespace."),
    };
  }();
  return *m;
}

void UpdateMax(std::atomic<uint64_t>* max, uint64_t value) {
  uint64_t seen = max->load(std::memory_order_relaxed);
  while (seen < value && !max->compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

}  // namespace

LocalJournal::LocalJournal(LocalJournalOptions options) : options_(std::move(options)) {}

LocalJournal::~LocalJournal() { Close(); }

Status LocalJournal::Open(StateMachine* sm) {
  if (sm == nullptr) return Status::InvalidArgument("journal needs a state machine");
  if (options_.directory.empty()) return Status::InvalidArgument("journal directory is empty");
  if (options_.segment_size_limit_bytes == 0) {
    return Status::InvalidArgument("journal segment size limit must be positive");
  }
  if (options_.checkpoint_every_entries == 0) {
    return Status::InvalidArgument("journal checkpoint interval must be positive");
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (state_ != State::kNew) {
      return Status::InvalidArgument("journal object was already opened or closed");
    }
  }
  sm_ = sm;
  Status s = OpenSegments();
  if (!s.ok()) {
    segment_.reset();
    segment_first_indexes_.clear();
    if (lock_fd_ >= 0) ::close(lock_fd_);
    lock_fd_ = -1;
    sm_ = nullptr;
    return s.Prepend("opening journal in " + options_.directory);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    state_ = State::kOpen;
    accepting_ = true;
  }
  writer_thread_ = std::thread([this] { WriterLoop(); });
  apply_thread_ = std::thread([this] { ApplyLoop(); });
  return Status::OK();
}

Status LocalJournal::OpenSegments() {
  const std::string& dir = options_.directory;
  RETURN_NOT_OK(EnsureDirectory(dir));

  // Two processes appending to one journal would interleave records; the flock goes away
  // with the process, so a crash never leaves the directory locked.
  std::string lock_path = dir + "/LOCK";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) return Status::FromErrno(errno, "opening " + lock_path);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Status::Busy(dir + " is in use by another journal");
    return Status::FromErrno(errno, "locking " + lock_path);
  }

  std::vector<uint64_t> firsts;
  RETURN_NOT_OK(ListSegments(dir, &firsts));
  const uint64_t applied = sm_->LastAppliedIndex();

  // Verify everything before changing anything.
  std::vector<SegmentScan> scans;
  for (size_t i = 0; i < firsts.size(); ++i) {
    std::string path = SegmentPath(dir, firsts[i]);
    ASSIGN_OR_RETURN(SegmentScan scan, ScanSegment(path, firsts[i], nullptr));
    if (!scan.damage.empty() && i + 1 != firsts.size()) {
      return Status::Corruption(path + ": " + scan.damage + " in a segment that is not the last");
    }
    scans.push_back(std::move(scan));
  }

  // Segments must follow each other without a hole. A hole is only acceptable when every
  // index below it is already in the state: compaction deletes oldest first, but a crash
  // can leave an older deletion undone while a newer one was done.
  size_t live_begin = 0;
  for (size_t i = 1; i < scans.size(); ++i) {
    uint64_t expected = scans[i - 1].last_index + 1;
    if (scans[i].first_index == expected) continue;
    if (scans[i].first_index > expected && scans[i].first_index - 1 <= applied) {
      live_begin = i;
      continue;
    }
    return Status::Corruption("index gap in the log: " + SegmentFileName(firsts[i - 1]) +
                              " ends at " + std::to_string(scans[i - 1].last_index) + " but " +
                              SegmentFileName(firsts[i]) + " starts at " +
                              std::to_string(scans[i].first_index));
  }
  std::vector<uint64_t> obsolete(firsts.begin(), firsts.begin() + live_begin);
  scans.erase(scans.begin(), scans.begin() + live_begin);

  bool fresh_segment = scans.empty();
  uint64_t log_last = 0;
  if (!scans.empty()) {
    uint64_t log_first = scans.front().first_index;
    log_last = scans.back().last_index;
    if (log_first > applied + 1) {
      return Status::Corruption("the log starts at index " + std::to_string(log_first) +
                                " but the state has applied only up to " +
                                std::to_string(applied) + ": the entries between are lost");
    }
    if (log_last < applied) {
      // The state holds everything the log has (it was restored from a checkpoint newer than
      // the log): start a new log after it rather than leave a hole.
      LOG(INFO) << "State is at index " << applied << ", beyond the end of the log ("
                << log_last << "); starting a new segment";
      for (const SegmentScan& scan : scans) obsolete.push_back(scan.first_index);
      scans.clear();
      fresh_segment = true;
    }
  }

  if (fresh_segment) {
    next_index_ = std::max(applied, log_last) + 1;
    ASSIGN_OR_RETURN(segment_, SegmentWriter::Create(dir, next_index_));
    stats_.segments_created.fetch_add(1, std::memory_order_relaxed);
    RETURN_NOT_OK(RemoveSegments(dir, obsolete));
    segment_first_indexes_.assign(1, next_index_);
    applied_index_.store(applied);
    LOG(INFO) << "Journal " << dir << " opened empty; next index " << next_index_;
    return Status::OK();
  }

  RETURN_NOT_OK(RemoveSegments(dir, obsolete));
  const SegmentScan& last = scans.back();
  if (!last.damage.empty()) {
    LOG(WARNING) << "Cutting a torn tail off " << SegmentPath(dir, last.first_index) << " ("
                 << last.damage << "): " << (last.file_bytes - last.valid_bytes)
                 << " bytes after index " << last.last_index << " dropped";
  }
  ASSIGN_OR_RETURN(segment_, SegmentWriter::OpenForAppend(dir, last.first_index,
                                                          last.valid_bytes));

  // Replay what the state lacks.
  uint64_t replayed = 0;
  auto replay = [&](uint64_t term, uint64_t index, std::string_view payload) {
    if (index > applied) {
      sm_->Apply(LogPosition{term, index}, payload);
      ++replayed;
      if (replayed % kMaxEntriesPerFinish == 0) sm_->FinishBatch();
    }
    return Status::OK();
  };
  for (const SegmentScan& scan : scans) {
    if (scan.last_index <= applied) continue;
    std::string path = SegmentPath(dir, scan.first_index);
    ASSIGN_OR_RETURN(SegmentScan again, ScanSegment(path, scan.first_index, replay));
    if (!again.damage.empty() || again.last_index != scan.last_index) {
      return Status::Corruption(path + " changed while the journal was opening it");
    }
  }
  sm_->FinishBatch();
  stats_.entries_replayed.store(replayed);
  applied_index_.store(std::max(applied, log_last));
  Metrics().applied_index->Set(static_cast<int64_t>(std::max(applied, log_last)));
  next_index_ = log_last + 1;
  for (const SegmentScan& scan : scans) segment_first_indexes_.push_back(scan.first_index);
  LOG(INFO) << "Journal " << dir << " opened: " << scans.size() << " segment(s), indexes "
            << scans.front().first_index << ".." << log_last << ", replayed " << replayed
            << " entries above " << applied;
  return Status::OK();
}

Result<LogPosition> LocalJournal::Append(std::string entry, AppliedCallback done) {
  if (entry.size() > wal::kMaxPayloadBytes) {
    return Status::InvalidArgument("journal entry of " + std::to_string(entry.size()) +
                                   " bytes is over the limit of " +
                                   std::to_string(wal::kMaxPayloadBytes));
  }
  uint64_t index;
  bool wake_writer;
  const SteadyClock::time_point appended = SteadyClock::now();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!accepting_) {
      if (!failure_.ok()) {
        return Status::IoError("journal stopped after a write failure: " + failure_.message());
      }
      return Status::Unavailable(state_ == State::kNew ? "journal is not open"
                                                       : "journal is closed");
    }
    index = next_index_++;
    queue_.push_back(PendingEntry{index, std::move(entry), std::move(done), appended});
    wake_writer = queue_.size() >= writer_wakeup_at_;
  }
  if (wake_writer) writer_cv_.notify_one();
  stats_.entries_appended.fetch_add(1, std::memory_order_relaxed);
  return LogPosition{kTerm, index};
}

uint64_t LocalJournal::AppliedIndex() const {
  return applied_index_.load(std::memory_order_acquire);
}

bool LocalJournal::IsLeader() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return accepting_;
}

void LocalJournal::Close() {
  CHECK(std::this_thread::get_id() != apply_thread_.get_id() &&
        std::this_thread::get_id() != writer_thread_.get_id())
      << "LocalJournal::Close must not be called from an AppliedCallback";
  std::lock_guard<std::mutex> close_lock(close_mutex_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (state_ == State::kClosed) return;
    bool was_open = state_ == State::kOpen;
    state_ = State::kClosed;
    accepting_ = false;
    if (!was_open) return;
  }
  writer_cv_.notify_all();
  writer_thread_.join();
  apply_thread_.join();
  bool failed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    failed = !failure_.ok();
  }
  if (segment_ && !failed) {
    // Leave no zero-filled room behind on a clean close (a crash may, and Open cuts it).
    Status sealed = segment_->Seal();
    if (!sealed.ok()) LOG(WARNING) << "sealing the last segment: " << sealed;
  }
  segment_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);
  lock_fd_ = -1;
  LOG(INFO) << "Journal " << options_.directory << " closed at applied index "
            << applied_index_.load();
}

LocalJournalStats LocalJournal::stats() const {
  LocalJournalStats out;
  out.entries_appended = stats_.entries_appended.load(std::memory_order_relaxed);
  out.entries_applied = stats_.entries_applied.load(std::memory_order_relaxed);
  out.entries_replayed = stats_.entries_replayed.load(std::memory_order_relaxed);
  out.entries_failed = stats_.entries_failed.load(std::memory_order_relaxed);
  out.fsyncs = stats_.fsyncs.load(std::memory_order_relaxed);
  out.bytes_written = stats_.bytes_written.load(std::memory_order_relaxed);
  out.max_batch_entries = stats_.max_batch_entries.load(std::memory_order_relaxed);
  out.segments_created = stats_.segments_created.load(std::memory_order_relaxed);
  out.segments_deleted = stats_.segments_deleted.load(std::memory_order_relaxed);
  out.checkpoints = stats_.checkpoints.load(std::memory_order_relaxed);
  return out;
}

void LocalJournal::WriterLoop() {
  for (;;) {
    Batch batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      writer_cv_.wait(lock, [this] { return !queue_.empty() || !accepting_; });
      // Not accepting (closed or failed) and nothing left to write.
      if (queue_.empty()) break;
      if (options_.group_commit_delay_us > 0 && last_batch_entries_ > 1 &&
          queue_.size() < last_batch_entries_ && accepting_) {
        // The callers of the last batch are likely on their way back with their next entry:
        // give them a moment, so one sync carries them all.
        writer_wakeup_at_ = last_batch_entries_;
        writer_cv_.wait_for(lock, std::chrono::microseconds(options_.group_commit_delay_us),
                            [this] {
                              return queue_.size() >= last_batch_entries_ || !accepting_;
                            });
        writer_wakeup_at_ = 1;
      }
      batch.entries.swap(queue_);
      last_batch_entries_ = batch.entries.size();
    }
    Status s = WriteBatch(&batch);
    if (!s.ok()) {
      // Whatever the cause (EIO, ENOSPC, EFBIG...), callers see one kind of failure: the
      // entries are not durable.
      if (s.code() != ErrorCode::kIoError) s = Status::IoError(s.message());
      LOG(ERROR) << "Journal " << options_.directory << " failed; refusing further entries: "
                 << s;
      std::vector<PendingEntry> rest;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        failure_ = s;
        accepting_ = false;
        rest.swap(queue_);
      }
      batch.status = s;
      for (PendingEntry& e : rest) batch.entries.push_back(std::move(e));
    }
    PushToApplier(std::move(batch));
  }
  {
    std::lock_guard<std::mutex> lock(apply_mutex_);
    writer_done_ = true;
  }
  apply_cv_.notify_one();
}

Status LocalJournal::WriteBatch(Batch* batch) {
  if (segment_->size() >= options_.segment_size_limit_bytes &&
      segment_->size() > wal::kSegmentHeaderSize) {
    uint64_t first = batch->entries.front().index;
    RETURN_NOT_OK(segment_->Seal());
    ASSIGN_OR_RETURN(std::unique_ptr<SegmentWriter> next,
                     SegmentWriter::Create(options_.directory, first));
    {
      std::lock_guard<std::mutex> lock(segments_mutex_);
      segment_first_indexes_.push_back(first);
    }
    segment_ = std::move(next);
    batch->segment_rolled = true;
    stats_.segments_created.fetch_add(1, std::memory_order_relaxed);
  }

  encode_buffer_.clear();
  for (const PendingEntry& e : batch->entries) {
    wal::AppendRecord(kTerm, e.index, e.data, &encode_buffer_);
  }
  const uint64_t size_before = segment_->size();
  const SteadyClock::time_point write_start = SteadyClock::now();
  Status s = segment_->Append(encode_buffer_);
  if (s.ok()) s = segment_->Sync();
  if (!s.ok()) {
    // The outcome of these entries is unknown; try not to leave them on disk.
    Status cut = segment_->TruncateTo(size_before);
    if (!cut.ok()) LOG(ERROR) << "Could not cut off the failed batch: " << cut;
    return s;
  }
  const JournalMetrics& m = Metrics();
  m.sync_seconds->Observe(SecondsSince(write_start));
  m.batch_entries->Observe(static_cast<double>(batch->entries.size()));
  m.syncs->Increment();
  m.entries->Increment(static_cast<int64_t>(batch->entries.size()));
  m.bytes->Increment(static_cast<int64_t>(encode_buffer_.size()));
  stats_.fsyncs.fetch_add(1, std::memory_order_relaxed);
  stats_.bytes_written.fetch_add(encode_buffer_.size(), std::memory_order_relaxed);
  UpdateMax(&stats_.max_batch_entries, batch->entries.size());
  if (encode_buffer_.capacity() > kMaxRetainedBufferBytes) std::string().swap(encode_buffer_);
  return Status::OK();
}

void LocalJournal::PushToApplier(Batch batch) {
  {
    std::lock_guard<std::mutex> lock(apply_mutex_);
    // A small batch with nothing ahead of it is applied right here: handing it to the idle
    // apply thread would only add a wakeup to the latency of a lone caller. Larger batches go
    // to the apply thread, so the next sync overlaps their apply.
    if (batch.entries.size() > options_.inline_apply_max_entries || !apply_queue_.empty() ||
        applier_busy_) {
      apply_queue_.push_back(std::move(batch));
      apply_cv_.notify_one();
      return;
    }
    applier_busy_ = true;
  }
  ApplyBatch(&batch);
  std::lock_guard<std::mutex> lock(apply_mutex_);
  applier_busy_ = false;
  if (!apply_queue_.empty()) apply_cv_.notify_one();
}

void LocalJournal::ApplyLoop() {
  for (;;) {
    std::deque<Batch> batches;
    {
      std::unique_lock<std::mutex> lock(apply_mutex_);
      apply_cv_.wait(lock, [this] {
        return !applier_busy_ && (!apply_queue_.empty() || writer_done_);
      });
      if (apply_queue_.empty()) break;
      batches.swap(apply_queue_);
      applier_busy_ = true;
    }
    for (Batch& batch : batches) ApplyBatch(&batch);
    std::lock_guard<std::mutex> lock(apply_mutex_);
    applier_busy_ = false;
  }
}

void LocalJournal::ApplyBatch(Batch* batch) {
  if (!batch->status.ok()) {
    const ApplyResult failed{batch->status, 0};
    for (PendingEntry& e : batch->entries) {
      if (e.done) e.done(batch->status, failed);
    }
    stats_.entries_failed.fetch_add(batch->entries.size(), std::memory_order_relaxed);
    Metrics().failed->Increment(static_cast<int64_t>(batch->entries.size()));
    return;
  }
  const JournalMetrics& m = Metrics();
  // In runs: apply each entry, let the state machine store the run in one write, then
  // answer. Nothing is acknowledged before FinishBatch made it visible.
  std::vector<ApplyResult> results;
  for (size_t begin = 0; begin < batch->entries.size(); begin += kMaxEntriesPerFinish) {
    const size_t end = std::min(batch->entries.size(), begin + kMaxEntriesPerFinish);
    results.clear();
    const SteadyClock::time_point apply_start = SteadyClock::now();
    for (size_t i = begin; i < end; ++i) {
      const PendingEntry& e = batch->entries[i];
      results.push_back(sm_->Apply(LogPosition{kTerm, e.index}, e.data));
    }
    sm_->FinishBatch();
    const SteadyClock::time_point applied = SteadyClock::now();
    m.apply_seconds->Observe(std::chrono::duration<double>(applied - apply_start).count());
    applied_index_.store(batch->entries[end - 1].index, std::memory_order_release);
    m.applied_index->Set(static_cast<int64_t>(batch->entries[end - 1].index));
    stats_.entries_applied.fetch_add(end - begin, std::memory_order_relaxed);
    for (size_t i = begin; i < end; ++i) {
      PendingEntry& e = batch->entries[i];
      m.commit_seconds->Observe(std::chrono::duration<double>(applied - e.appended).count());
      if (e.done) e.done(Status::OK(), results[i - begin]);
    }
    applied_since_checkpoint_ += end - begin;
    if (applied_since_checkpoint_ >= options_.checkpoint_every_entries) CheckpointAndCompact();
  }
  // Every entry of the segment just closed is applied now, so it can go once checkpointed.
  if (batch->segment_rolled) CheckpointAndCompact();
}

void LocalJournal::CheckpointAndCompact() {
  applied_since_checkpoint_ = 0;
  Result<uint64_t> durable = sm_->Checkpoint();
  if (!durable.ok()) {
    LOG(WARNING) << "Checkpoint failed; keeping every journal segment: " << durable.status();
    return;
  }
  stats_.checkpoints.fetch_add(1, std::memory_order_relaxed);
  uint64_t upto = *durable;
  uint64_t applied = applied_index_.load(std::memory_order_relaxed);
  if (upto > applied) {
    LOG(WARNING) << "Checkpoint claims index " << upto << " beyond the applied index " << applied;
    upto = applied;
  }
  int removed = 0;
  {
    std::lock_guard<std::mutex> lock(segments_mutex_);
    // The last segment is being written and is never removed; every other segment ends just
    // before the next one starts.
    while (segment_first_indexes_.size() > 1 && segment_first_indexes_[1] - 1 <= upto) {
      std::string path = SegmentPath(options_.directory, segment_first_indexes_.front());
      if (::unlink(path.c_str()) != 0) {
        LOG(WARNING) << Status::FromErrno(errno, "removing " + path);
        break;
      }
      segment_first_indexes_.pop_front();
      ++removed;
    }
  }
  if (removed > 0) {
    stats_.segments_deleted.fetch_add(removed, std::memory_order_relaxed);
    Status s = FsyncDirectory(options_.directory);
    if (!s.ok()) LOG(WARNING) << "After removing old segments: " << s;
    VLOG(1) << "Removed " << removed << " segment(s) up to index " << upto;
  }
}

}  // namespace talus
