#include "datanode/server/block_scanner.h"

#include <fcntl.h>

#include <algorithm>
#include <vector>

#include <glog/logging.h>

#include "datanode/storage/block_meta.h"
#include "datanode/storage/file_util.h"
#include "datanode/transfer/transfer_metrics.h"

namespace talus::datanode {
namespace {

std::string Name(const ReplicaInfo& r) {
  return "blk_" + std::to_string(r.block_id) + " stamp " + std::to_string(r.genstamp);
}

}  // namespace

BlockScanner::BlockScanner(DataSet* data, BlockScannerOptions options, Callbacks callbacks)
    : data_(data), options_(options), callbacks_(std::move(callbacks)),
      throttle_(options.bytes_per_sec) {}

BlockScanner::~BlockScanner() { Stop(); }

void BlockScanner::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void BlockScanner::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  throttle_.Cancel();
  if (thread_.joinable()) thread_.join();
}

bool BlockScanner::Stopping() {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

BlockScannerCounters BlockScanner::counters() const {
  BlockScannerCounters c;
  c.bytes_scanned = bytes_scanned_.load();
  c.replicas_scanned = replicas_scanned_.load();
  c.corrupt_found = corrupt_found_.load();
  c.missing_found = missing_found_.load();
  c.passes = passes_.load();
  return c;
}

void BlockScanner::MarkSuspect(uint64_t block_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    suspects_.insert(block_id);
  }
  cv_.notify_all();
}

bool BlockScanner::Unchanged(const ReplicaInfo& replica) const {
  Result<ReplicaInfo> now = data_->GetReplica(replica.block_id);
  return now.ok() && now->state == ReplicaState::kFinalized &&
         now->genstamp == replica.genstamp && now->bytes_on_disk == replica.bytes_on_disk &&
         now->data_path == replica.data_path && now->meta_path == replica.meta_path;
}

BlockScanner::Verdict BlockScanner::Verify(const ReplicaInfo& replica, Throttler* throttle,
                                           std::string* why) {
  if (replica.state != ReplicaState::kFinalized) return Verdict::kSkipped;
  // A failure counts only if the replica is still the one we started on, and it repeats.
  auto conclude = [&](const Status& first, const std::function<Status()>& again) {
    if (!Unchanged(replica)) return Verdict::kSkipped;
    Status s = again();
    if (s.ok() || !Unchanged(replica)) return Verdict::kSkipped;
    if (s.IsNotFound() && s.code() == first.code()) {
      *why = s.message();
      return Verdict::kMissing;
    }
    if (s.code() == ErrorCode::kCorruption) {
      *why = s.message();
      return Verdict::kCorrupt;
    }
    // An I/O error marks the volume failed (DataSet::CheckIo); its replicas leave with it.
    VLOG(1) << "Scanning " << Name(replica) << ": " << s;
    return Verdict::kSkipped;
  };

  // Both files present, and the meta header intact (reads below only look at checksums).
  auto check_files = [&]() -> Status {
    RETURN_NOT_OK(FileSizeAt(replica.data_path).status());
    ASSIGN_OR_RETURN(ScopedFd meta, OpenFile(replica.meta_path, O_RDONLY));
    std::string header(kMetaHeaderBytes, '\0');
    RETURN_NOT_OK(PreadAll(meta.get(), header.data(), header.size(), 0, replica.meta_path));
    return DecodeMetaHeader(header, replica.meta_path);
  };
  Status files = check_files();
  if (!files.ok()) return conclude(files, check_files);

  const uint64_t length = replica.bytes_on_disk;
  for (uint64_t offset = 0; offset < length;) {
    const uint64_t n = std::min(options_.read_bytes, length - offset);
    if (throttle != nullptr && !throttle->Acquire(n)) return Verdict::kSkipped;
    auto read = [&]() {
      return data_->Read(replica.block_id, replica.genstamp, offset, n).status();
    };
    Status s = read();
    if (!s.ok()) {
      // A file that vanished under Read is NotFound (no retry of the read: see if it is gone).
      if (s.IsNotFound()) return conclude(s, check_files);
      return conclude(s, read);
    }
    if (throttle != nullptr) {
      bytes_scanned_.fetch_add(n, std::memory_order_relaxed);
      GetDatanodeMetrics().scanner_bytes_verified->Increment(static_cast<int64_t>(n));
    }
    offset += n;
    if (throttle != nullptr && Stopping()) return Verdict::kSkipped;
  }
  return Verdict::kGood;
}

BlockScanner::Verdict BlockScanner::VerifyNow(uint64_t block_id, std::string* why) {
  Result<ReplicaInfo> info = data_->GetReplica(block_id);
  if (!info.ok()) return Verdict::kSkipped;
  std::string ignored;
  return Verify(*info, nullptr, why != nullptr ? why : &ignored);
}

void BlockScanner::ScanOne(const ReplicaInfo& replica) {
  std::string why;
  Verdict verdict = Verify(replica, &throttle_, &why);
  if (verdict == Verdict::kSkipped && Stopping()) return;
  last_scan_[replica.block_id] = LastScan{replica.genstamp, Clock::now()};
  if (verdict == Verdict::kSkipped) return;
  replicas_scanned_.fetch_add(1, std::memory_order_relaxed);
  const DatanodeMetrics& m = GetDatanodeMetrics();
  m.scanner_replicas_verified->Increment();
  if (verdict == Verdict::kGood) return;
  if (!reported_.insert({replica.block_id, replica.genstamp}).second) return;
  if (verdict == Verdict::kCorrupt) {
    corrupt_found_.fetch_add(1, std::memory_order_relaxed);
    m.checksum_failures_scanner->Increment();
    LOG(WARNING) << "Block scanner: " << Name(replica) << " on " << replica.volume->root()
                 << " is corrupt: " << why;
    if (callbacks_.on_corrupt) callbacks_.on_corrupt(replica, why);
  } else {
    missing_found_.fetch_add(1, std::memory_order_relaxed);
    m.scanner_missing_replicas->Increment();
    LOG(WARNING) << "Block scanner: " << Name(replica) << " on " << replica.volume->root()
                 << " lost a file: " << why;
    if (callbacks_.on_missing) callbacks_.on_missing(replica, why);
  }
}

void BlockScanner::Run() {
  while (!Stopping()) {
    auto scan_suspects = [&] {
      std::set<uint64_t> suspects;
      {
        std::lock_guard<std::mutex> lock(mu_);
        suspects.swap(suspects_);
      }
      for (uint64_t id : suspects) {
        Result<ReplicaInfo> info = data_->GetReplica(id);
        if (info.ok() && info->state == ReplicaState::kFinalized &&
            reported_.count({id, info->genstamp}) == 0) {
          ScanOne(*info);
        }
      }
    };
    scan_suspects();
    const std::vector<ReplicaInfo> replicas = data_->Replicas();  // sorted by block id
    // Forget what no longer exists (deleted replicas, older stamps).
    {
      std::map<uint64_t, LastScan> kept;
      std::set<std::pair<uint64_t, uint64_t>> kept_reported;
      for (const ReplicaInfo& r : replicas) {
        auto it = last_scan_.find(r.block_id);
        if (it != last_scan_.end() && it->second.genstamp == r.genstamp) kept.insert(*it);
        if (reported_.count({r.block_id, r.genstamp}) != 0) {
          kept_reported.insert({r.block_id, r.genstamp});
        }
      }
      last_scan_.swap(kept);
      reported_.swap(kept_reported);
    }
    Clock::time_point next_due = Clock::now() + options_.max_idle;
    bool scanned = false;
    for (const ReplicaInfo& r : replicas) {
      if (Stopping()) return;
      if (r.state != ReplicaState::kFinalized) continue;
      if (reported_.count({r.block_id, r.genstamp}) != 0) continue;
      auto it = last_scan_.find(r.block_id);
      if (it != last_scan_.end() && it->second.genstamp == r.genstamp) {
        Clock::time_point due = it->second.when + options_.period;
        if (due > Clock::now()) {
          next_due = std::min(next_due, due);
          continue;
        }
      }
      ScanOne(r);
      scanned = true;
      scan_suspects();
    }
    passes_.fetch_add(1, std::memory_order_relaxed);
    if (scanned) continue;  // list again: replicas may have come meanwhile
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_until(lock, next_due, [&] { return stopping_ || !suspects_.empty(); });
  }
}

}  // namespace talus::datanode
