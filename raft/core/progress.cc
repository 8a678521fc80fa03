#include "raft/core/progress.h"

#include <algorithm>

namespace talus::raft {

const char* Progress::StateName(State state) {
  switch (state) {
    case State::kProbe: return "probe";
    case State::kReplicate: return "replicate";
    case State::kSnapshot: return "snapshot";
  }
  return "unknown";
}

bool Progress::Paused() const {
  if (state_ == State::kSnapshot) return true;
  if (state_ == State::kProbe) return probe_sent_;
  return inflight_.size() >= max_inflight_;
}

void Progress::SentEntries(Index last) {
  if (state_ == State::kSnapshot) return;
  if (state_ == State::kProbe) {
    probe_sent_ = true;
    return;
  }
  inflight_.push_back(last);
  next_ = last + 1;
}

bool Progress::MaybeUpdate(Index match) {
  bool advanced = false;
  if (match > match_) {
    match_ = match;
    advanced = true;
  }
  next_ = std::max(next_, match + 1);
  while (!inflight_.empty() && inflight_.front() <= match) inflight_.pop_front();
  if (state_ == State::kSnapshot) {
    // The follower already holds what the snapshot would bring (e.g. it caught up from its own
    // log); otherwise keep waiting for the transfer.
    if (match_ < pending_snapshot_) return advanced;
    BecomeProbe();
  }
  if (state_ == State::kProbe) {
    probe_sent_ = false;
    if (advanced || match == match_) BecomeReplicate();
  }
  return advanced;
}

bool Progress::MaybeDecrease(Index rejected, Index hint) {
  if (state_ == State::kSnapshot) return false;  // a heartbeat's rejection: the snapshot decides
  if (state_ == State::kReplicate) {
    // Entries up to match_ are known to match: a rejection at or below is from an old message.
    if (rejected <= match_) return false;
    BecomeProbe();
    next_ = std::max(match_ + 1, std::min(rejected, hint + 1));
    return true;
  }
  // A probe only sends prev = next_ - 1; any other rejection is stale.
  if (next_ == 0 || rejected != next_ - 1) return false;
  next_ = std::max(match_ + 1, std::min(rejected, hint + 1));
  probe_sent_ = false;
  return true;
}

void Progress::HeartbeatAnswered() {
  if (state_ == State::kProbe) {
    probe_sent_ = false;
  } else if (inflight_.size() >= max_inflight_ && !inflight_.empty()) {
    inflight_.pop_front();
  }
}

void Progress::SentSnapshot(Index index) {
  state_ = State::kSnapshot;
  pending_snapshot_ = index;
  probe_sent_ = false;
  inflight_.clear();
}

void Progress::SnapshotDone(bool ok) {
  if (state_ != State::kSnapshot) return;
  BecomeProbe();
  if (ok) {
    next_ = std::max(match_, pending_snapshot_) + 1;
  } else {
    probe_sent_ = true;  // paused until the next heartbeat resumes the probe
  }
  pending_snapshot_ = 0;
}

void Progress::BecomeProbe() {
  state_ = State::kProbe;
  probe_sent_ = false;
  inflight_.clear();
}

void Progress::BecomeReplicate() {
  state_ = State::kReplicate;
  probe_sent_ = false;
  inflight_.clear();
  next_ = match_ + 1;
}

}  // namespace talus::raft
