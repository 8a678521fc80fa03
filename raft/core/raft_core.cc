#include "raft/core/raft_core.h"

#include <algorithm>
#include <utility>

namespace talus::raft {

const char* MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kRequestVote: return "RequestVote";
    case MessageType::kRequestVoteReply: return "RequestVoteReply";
    case MessageType::kAppendEntries: return "AppendEntries";
    case MessageType::kAppendEntriesReply: return "AppendEntriesReply";
    case MessageType::kInstallSnapshot: return "InstallSnapshot";
  }
  return "Unknown";
}

const char* RoleName(Role role) {
  switch (role) {
    case Role::kFollower: return "follower";
    case Role::kPreCandidate: return "pre-candidate";
    case Role::kCandidate: return "candidate";
    case Role::kLeader: return "leader";
  }
  return "unknown";
}

Result<std::unique_ptr<Core>> Core::Create(const Config& config, const Storage* storage) {
  if (config.id == kNoNode) return Status::InvalidArgument("raft: node id 0 is reserved");
  std::set<NodeId> unique(config.peers.begin(), config.peers.end());
  if (unique.size() != config.peers.size()) {
    return Status::InvalidArgument("raft: duplicate peer id");
  }
  if (!unique.count(config.id)) return Status::InvalidArgument("raft: id is not among the peers");
  if (unique.count(kNoNode)) return Status::InvalidArgument("raft: peer id 0 is reserved");
  if (config.election_ticks < 2 || config.heartbeat_ticks < 1 ||
      config.heartbeat_ticks >= config.election_ticks) {
    return Status::InvalidArgument("raft: need 1 <= heartbeat_ticks < election_ticks, 2 <= election_ticks");
  }
  if (config.max_inflight < 1 || config.max_entries_per_msg < 1) {
    return Status::InvalidArgument("raft: max_inflight and max_entries_per_msg must be >= 1");
  }
  if (config.lease_ticks < 0 || config.lease_ticks >= config.election_ticks) {
    return Status::InvalidArgument("raft: need 0 <= lease_ticks < election_ticks");
  }
  HardState hs;
  SnapshotMeta snap;
  std::vector<Entry> entries;
  if (storage != nullptr) {
    hs = storage->LoadHardState();
    snap = storage->LoadSnapshotMeta();
    entries = storage->LoadEntries();
  }
  if ((snap.index == 0) != (snap.term == 0) || snap.term > hs.term) {
    return Status::Corruption("raft: stored snapshot meta inconsistent with the stored term");
  }
  Term prev_term = snap.term;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].index != snap.index + i + 1) {
      return Status::Corruption("raft: stored log is not contiguous after the snapshot");
    }
    if (entries[i].term < prev_term || entries[i].term > hs.term) {
      return Status::Corruption("raft: stored log terms out of order or beyond the stored term");
    }
    prev_term = entries[i].term;
  }
  Index last = snap.index + entries.size();
  if (hs.commit > last) {
    return Status::Corruption("raft: stored commit index beyond the stored log");
  }
  if (hs.vote != kNoNode && !unique.count(hs.vote)) {
    return Status::Corruption("raft: stored vote for an unknown node");
  }
  if (config.applied > last) {
    return Status::InvalidArgument("raft: applied index beyond the stored log");
  }
  if (config.applied < snap.index) {
    return Status::InvalidArgument("raft: applied index below the log's snapshot");
  }
  return std::unique_ptr<Core>(new Core(config, hs, snap, std::move(entries)));
}

Core::Core(const Config& config, HardState hs, SnapshotMeta snap, std::vector<Entry> entries)
    : config_(config),
      id_(config.id),
      peers_(config.peers),
      rng_(config.seed * 0x9E3779B97F4A7C15ULL + config.id) {
  std::sort(peers_.begin(), peers_.end());
  log_.reserve(entries.size() + 1);
  log_.push_back(Entry{snap.term, snap.index, std::string()});
  for (Entry& e : entries) log_.push_back(std::move(e));
  term_ = hs.term;
  vote_ = hs.vote;
  // Applied entries are committed by definition, and so is everything in the snapshot.
  commit_ = std::max({hs.commit, config.applied, snap.index});
  applied_ = config.applied;
  stable_ = last_index();
  persisted_hs_ = hs;
  BecomeFollower(term_, kNoNode);
  // With leases, a restarted node may have acknowledged a leader's lease just before it went
  // down: it stays sticky for a full election timeout as if it had just heard that leader.
  since_leader_ = config_.lease_ticks > 0 ? 0 : config_.election_ticks;
}

bool Core::LogUpToDate(Index last_index, Term last_term) const {
  Term my_last_term = TermAt(this->last_index());
  return last_term > my_last_term || (last_term == my_last_term && last_index >= this->last_index());
}

// A node that heard from a live leader within the minimum election timeout ignores vote requests,
// so a node coming back from a partition cannot depose a healthy leader, and no new leader can
// be elected while the old one's read lease (< election_ticks since a quorum heard it) lasts.
// Measured from when a leader was last heard, not from role changes: a follower moved to a
// higher term by some other message still protects the lease it acknowledged.
bool Core::InLease() const {
  if (!config_.check_quorum && config_.lease_ticks == 0) return false;
  if (Broken(UnsafeTestingBreak::kNoLeaseStickiness)) return false;
  return role_ == Role::kLeader || since_leader_ < config_.election_ticks;
}

void Core::ResetTimeouts() {
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  std::uniform_int_distribution<int> dist(config_.election_ticks, 2 * config_.election_ticks - 1);
  randomized_timeout_ = dist(rng_);
}

void Core::ClearLeadership() {
  votes_.clear();
  progress_.clear();
  acks_.clear();
  term_start_ = 0;
  ResetTimeouts();
}

void Core::BecomeFollower(Term term, NodeId leader) {
  if (term > term_) {
    term_ = term;
    vote_ = kNoNode;
  }
  role_ = Role::kFollower;
  leader_ = leader;
  ClearLeadership();
}

void Core::BecomePreCandidate() {
  role_ = Role::kPreCandidate;
  leader_ = kNoNode;
  ClearLeadership();
}

void Core::BecomeCandidate() {
  role_ = Role::kCandidate;
  term_ += 1;
  vote_ = id_;
  leader_ = kNoNode;
  ClearLeadership();
}

void Core::BecomeLeader() {
  role_ = Role::kLeader;
  leader_ = id_;
  votes_.clear();
  ResetTimeouts();
  progress_.clear();
  for (NodeId p : peers_) {
    Progress pr(last_index() + 1, config_.max_inflight);
    pr.set_recent_active(true);
    progress_.emplace(p, pr);
  }
  acks_.clear();
  stall_.clear();
  owed_.clear();
  // An entry of the new term: earlier terms' entries commit only through it (Raft §5.4.2).
  AppendLocal(std::string());
  term_start_ = last_index();
  MaybeCommit();
  BroadcastAppend(/*heartbeat=*/false);
}

void Core::Campaign(bool pre_vote) {
  if (pre_vote) {
    BecomePreCandidate();
  } else {
    BecomeCandidate();
  }
  votes_[id_] = true;
  if (votes_.size() >= Quorum()) {  // a single-node group
    if (pre_vote) {
      Campaign(false);
    } else {
      BecomeLeader();
    }
    return;
  }
  for (NodeId p : peers_) {
    if (p == id_) continue;
    Message m;
    m.type = MessageType::kRequestVote;
    m.to = p;
    m.term = pre_vote ? term_ + 1 : term_;
    m.pre_vote = pre_vote;
    m.last_log_index = last_index();
    m.last_log_term = TermAt(last_index());
    Send(std::move(m));
  }
}

void Core::Send(Message msg) {
  msg.from = id_;
  if (msg.term == 0) msg.term = term_;
  msgs_.push_back(std::move(msg));
}

void Core::Tick() {
  ++ticks_;
  if (since_leader_ < config_.election_ticks) ++since_leader_;
  if (role_ == Role::kLeader) {
    ++election_elapsed_;
    ++heartbeat_elapsed_;
    if (election_elapsed_ >= config_.election_ticks) {
      election_elapsed_ = 0;
      if (config_.check_quorum) {
        size_t active = 0;
        for (auto& [p, pr] : progress_) {
          if (p == id_ || pr.recent_active()) ++active;
          pr.set_recent_active(false);
        }
        if (active < Quorum()) {
          BecomeFollower(term_, kNoNode);
          return;
        }
      }
    }
    CheckStalls();
    if (heartbeat_elapsed_ >= config_.heartbeat_ticks) {
      heartbeat_elapsed_ = 0;
      BroadcastAppend(/*heartbeat=*/true);
    }
    return;
  }
  ++election_elapsed_;
  if (election_elapsed_ >= randomized_timeout_) Campaign(config_.pre_vote);
}

Status Core::Step(const Message& msg) {
  if (msg.to != id_) return Status::InvalidArgument("raft: message for another node");
  if (msg.from == id_ || !std::binary_search(peers_.begin(), peers_.end(), msg.from)) {
    return Status::InvalidArgument("raft: message from an unknown node");
  }
  if (msg.type == MessageType::kAppendEntries) {
    Index expect = msg.prev_log_index;
    Term prev_term = msg.prev_log_term;
    for (const Entry& e : msg.entries) {
      if (e.index != ++expect || e.term > msg.term || e.term < prev_term) {
        return Status::InvalidArgument("raft: AppendEntries with malformed entries");
      }
      prev_term = e.term;
    }
  }
  if (msg.type != MessageType::kAppendEntries && !msg.entries.empty()) {
    return Status::InvalidArgument("raft: entries in a message that carries none");
  }
  if (msg.type == MessageType::kInstallSnapshot &&
      (msg.snapshot.index == 0 || msg.snapshot.term == 0 || msg.snapshot.term > msg.term)) {
    return Status::InvalidArgument("raft: InstallSnapshot with a malformed snapshot");
  }
  bool from_leader =
      msg.type == MessageType::kAppendEntries || msg.type == MessageType::kInstallSnapshot;

  if (msg.term > term_) {
    bool vote_request = msg.type == MessageType::kRequestVote;
    if (vote_request && InLease()) return Status::OK();  // ignored: we have a live leader
    if (vote_request && msg.pre_vote) {
      // A pre-vote does not move our term.
    } else if (msg.type == MessageType::kRequestVoteReply && msg.pre_vote && msg.granted) {
      // A granted pre-vote carries the term the pre-candidate asked for.
    } else {
      BecomeFollower(msg.term, from_leader ? msg.from : kNoNode);
    }
  } else if (msg.term < term_) {
    if (from_leader) {
      // Tell a stale leader the newer term so it steps down (it would otherwise wait forever:
      // with pre-vote and check-quorum nobody else would raise its term).
      Message reply = ReplyTo(msg);
      reply.reject = true;
      reply.rejected_index = msg.prev_log_index;
      reply.hint_index = last_index();
      Send(std::move(reply));
    } else if (msg.type == MessageType::kRequestVote && msg.pre_vote) {
      Message reply;
      reply.type = MessageType::kRequestVoteReply;
      reply.to = msg.from;
      reply.pre_vote = true;
      reply.granted = false;
      Send(std::move(reply));
    }
    return Status::OK();
  }

  switch (msg.type) {
    case MessageType::kRequestVote:
      HandleVoteRequest(msg);
      break;
    case MessageType::kRequestVoteReply:
      HandleVoteReply(msg);
      break;
    case MessageType::kAppendEntries:
      HandleAppendEntries(msg);
      break;
    case MessageType::kAppendEntriesReply:
      HandleAppendReply(msg);
      break;
    case MessageType::kInstallSnapshot:
      HandleInstallSnapshot(msg);
      break;
  }
  return Status::OK();
}

// The reply to a leader's message echoes its stamp (read leases).
Message Core::ReplyTo(const Message& msg) const {
  Message reply;
  reply.type = MessageType::kAppendEntriesReply;
  reply.to = msg.from;
  reply.context = msg.context;
  return reply;
}

void Core::HandleVoteRequest(const Message& msg) {
  bool grant;
  if (msg.pre_vote) {
    grant = msg.term > term_ && LogUpToDate(msg.last_log_index, msg.last_log_term);
  } else {
    // InLease again: our term may have moved on (a reply from a higher term) since we last
    // heard the leader, whose lease still counts on us.
    grant = (vote_ == msg.from || (vote_ == kNoNode && leader_ == kNoNode && !InLease())) &&
            LogUpToDate(msg.last_log_index, msg.last_log_term);
  }
  Message reply;
  reply.type = MessageType::kRequestVoteReply;
  reply.to = msg.from;
  reply.pre_vote = msg.pre_vote;
  reply.granted = grant;
  // A granted pre-vote answers in the asked-for term so the pre-candidate counts it.
  reply.term = (msg.pre_vote && grant) ? msg.term : term_;
  if (grant && !msg.pre_vote) {
    vote_ = msg.from;
    election_elapsed_ = 0;
  }
  Send(std::move(reply));
}

void Core::HandleVoteReply(const Message& msg) {
  bool pre = role_ == Role::kPreCandidate;
  if (!(pre || role_ == Role::kCandidate) || msg.pre_vote != pre) return;
  if (pre && msg.granted && msg.term != term_ + 1) return;
  votes_.emplace(msg.from, msg.granted);
  size_t granted = 0, rejected = 0;
  for (auto& [p, g] : votes_) (g ? granted : rejected) += 1;
  if (granted >= Quorum()) {
    if (pre) {
      Campaign(false);
    } else {
      BecomeLeader();
    }
  } else if (rejected >= Quorum()) {
    BecomeFollower(term_, kNoNode);
  }
}

void Core::HandleAppendEntries(const Message& msg) {
  if (role_ != Role::kFollower) BecomeFollower(term_, msg.from);
  leader_ = msg.from;
  election_elapsed_ = 0;
  since_leader_ = 0;

  Message reply = ReplyTo(msg);
  if (msg.prev_log_index < commit_) {
    // Everything up to commit_ matches any leader's log of this term or later.
    reply.match_index = commit_;
    Send(std::move(reply));
    return;
  }
  if (msg.prev_log_index > last_index() || TermAt(msg.prev_log_index) != msg.prev_log_term) {
    reply.reject = true;
    reply.rejected_index = msg.prev_log_index;
    if (msg.prev_log_index > last_index()) {
      reply.hint_index = last_index();
    } else {
      // Skip the whole conflicting term at once: the leader probes just before it.
      Term conflict = TermAt(msg.prev_log_index);
      Index i = msg.prev_log_index;
      while (i > commit_ && TermAt(i - 1) == conflict) --i;
      reply.hint_index = i - 1;
    }
    Send(std::move(reply));
    return;
  }
  for (const Entry& e : msg.entries) {
    if (e.index <= last_index()) {
      if (TermAt(e.index) == e.term) continue;
      // Conflict: entries after commit_ are never committed, so dropping them is safe.
      log_.resize(e.index - snapshot_index());
      stable_ = std::min(stable_, e.index - 1);
    }
    log_.push_back(e);
  }
  Index match = msg.prev_log_index + msg.entries.size();
  commit_ = std::max(commit_, std::min(msg.commit, match));
  reply.match_index = match;
  Send(std::move(reply));
}

void Core::HandleAppendReply(const Message& msg) {
  if (role_ != Role::kLeader) return;
  auto it = progress_.find(msg.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.set_recent_active(true);
  stall_[msg.from].heard = true;
  if (msg.context <= ticks_) {  // a stamp from the future is not ours: ignore it
    uint64_t& ack = acks_[msg.from];
    ack = std::max(ack, msg.context);
  }
  if (msg.reject) {
    if (pr.MaybeDecrease(msg.rejected_index, msg.hint_index)) SendAppend(msg.from, false);
    return;
  }
  if (msg.match_index > last_index()) return;  // cannot match what we never had
  bool advanced = pr.MaybeUpdate(msg.match_index);
  if (advanced) {
    if (MaybeCommit()) {
      OweAll();
    } else if (pr.next() <= last_index()) {
      Owe(msg.from);
    }
    return;
  }
  // No progress (a heartbeat's answer, or a duplicate): a probing follower gets its next probe;
  // one in replicate state gets whatever it has not been sent yet. Entries lost in flight are
  // found by CheckStalls.
  pr.HeartbeatAnswered();
  if (pr.state() == Progress::State::kProbe ? pr.match() < last_index()
                                            : pr.next() <= last_index()) {
    Owe(msg.from);
  }
}

void Core::OweAll() {
  for (NodeId p : peers_) {
    if (p != id_) owed_.insert(p);
  }
}

void Core::FlushOwed() {
  if (role_ != Role::kLeader) {
    owed_.clear();
    return;
  }
  for (NodeId p : owed_) SendAppend(p, /*heartbeat=*/false);
  owed_.clear();
}

void Core::CheckStalls() {
  const int limit = std::max(2, config_.election_ticks / 2);
  for (auto& [p, pr] : progress_) {
    if (p == id_ || pr.state() != Progress::State::kReplicate) continue;
    Stall& st = stall_[p];
    if (pr.match() >= last_index() || pr.match() != st.match) {
      st = Stall{pr.match(), 0, false};
      continue;
    }
    if (!st.heard) continue;
    st.heard = false;
    if (++st.ticks >= limit) {
      st.ticks = 0;
      pr.Stalled();  // the heartbeat below probes from match + 1
    }
  }
}

void Core::AppendLocal(std::string data) {
  Entry e;
  e.term = term_;
  e.index = last_index() + 1;
  e.data = std::move(data);
  log_.push_back(std::move(e));
  auto self = progress_.find(id_);
  if (self != progress_.end()) self->second.MaybeUpdate(last_index());
}

Result<Index> Core::Propose(std::string data) {
  if (role_ != Role::kLeader) {
    return Status::NotLeader("raft: not the leader",
                             leader_ == kNoNode ? std::string() : std::to_string(leader_));
  }
  AppendLocal(std::move(data));
  Index index = last_index();
  MaybeCommit();
  OweAll();
  return index;
}

void Core::SendAppend(NodeId to, bool heartbeat) {
  Progress& pr = progress_.at(to);
  Message m;
  m.type = MessageType::kAppendEntries;
  m.to = to;
  m.context = ticks_;
  if (heartbeat) {
    if (pr.state() != Progress::State::kProbe) {
      // Anchored at what is known to match, so it is never rejected for entries still in flight;
      // or, when that entry was compacted away, at the snapshot point: a follower lacking it is
      // rejected, which turns the progress to probing and so to sending a snapshot.
      Index anchor = std::max(pr.match(), snapshot_index());
      m.prev_log_index = anchor;
      m.prev_log_term = TermAt(anchor);
      m.commit = std::min(commit_, anchor);
      Send(std::move(m));
      return;
    }
    pr.ResumeProbe();  // a probe doubles as the heartbeat
  }
  if (pr.Paused()) return;
  if (pr.next() <= snapshot_index()) {
    // The follower needs entries that were compacted away: the owner streams the snapshot.
    m.type = MessageType::kInstallSnapshot;
    m.snapshot = snapshot();
    m.commit = commit_;
    pr.SentSnapshot(m.snapshot.index);
    Send(std::move(m));
    return;
  }
  m.prev_log_index = pr.next() - 1;
  m.prev_log_term = TermAt(m.prev_log_index);
  Index last = std::min<Index>(last_index(), m.prev_log_index + config_.max_entries_per_msg);
  for (Index i = pr.next(); i <= last; ++i) m.entries.push_back(At(i));
  m.commit = commit_;
  if (!m.entries.empty() || pr.state() == Progress::State::kProbe) pr.SentEntries(last);
  Send(std::move(m));
}

void Core::BroadcastAppend(bool heartbeat) {
  for (NodeId p : peers_) {
    if (p != id_) SendAppend(p, heartbeat);
  }
}

bool Core::MaybeCommit() {
  std::vector<Index> matches;
  for (auto& [p, pr] : progress_) matches.push_back(p == id_ ? last_index() : pr.match());
  std::sort(matches.begin(), matches.end(), std::greater<Index>());
  Index candidate = matches[Quorum() - 1];
  bool by_count = Broken(UnsafeTestingBreak::kCommitPreviousTermByCount);
  if (candidate > commit_ && (TermAt(candidate) == term_ || by_count)) {
    commit_ = candidate;
    return true;
  }
  return false;
}

bool Core::HasReady() const {
  return stable_ < last_index() || CurrentHardState() != persisted_hs_ || !msgs_.empty() ||
         applied_ < commit_ || pending_snapshot_ || (!owed_.empty() && role_ == Role::kLeader);
}

Ready Core::TakeReady() {
  FlushOwed();
  Ready rd;
  rd.snapshot = pending_snapshot_;
  pending_snapshot_.reset();
  for (Index i = stable_ + 1; i <= last_index(); ++i) rd.entries.push_back(At(i));
  stable_ = last_index();
  if (CurrentHardState() != persisted_hs_) {
    rd.hard_state = CurrentHardState();
    persisted_hs_ = *rd.hard_state;
  }
  rd.messages = std::move(msgs_);
  msgs_.clear();
  for (Index i = applied_ + 1; i <= commit_; ++i) rd.committed.push_back(At(i));
  applied_ = commit_;
  return rd;
}

Status Core::Compact(Index index) {
  if (index > applied_) {
    return Status::InvalidArgument("raft: compaction beyond the applied index " +
                                   std::to_string(applied_));
  }
  if (index <= snapshot_index()) return Status::OK();
  // The entry at index becomes the sentinel: its term stays known for the next AppendEntries.
  log_.erase(log_.begin(), log_.begin() + (index - snapshot_index()));
  log_[0].data.clear();
  log_[0].data.shrink_to_fit();
  return Status::OK();
}

void Core::HandleInstallSnapshot(const Message& msg) {
  if (role_ != Role::kFollower) BecomeFollower(term_, msg.from);
  leader_ = msg.from;
  election_elapsed_ = 0;
  since_leader_ = 0;

  const SnapshotMeta& snap = msg.snapshot;
  Message reply = ReplyTo(msg);
  if (snap.index <= commit_) {
    // Nothing new in it: everything up to commit_ matches the leader's log already.
    reply.match_index = commit_;
  } else if (TermAt(snap.index) == snap.term) {
    // Our log holds the snapshot's last entry, hence (log matching) everything before it: keep
    // the log and apply those entries from it.
    commit_ = snap.index;
    reply.match_index = snap.index;
  } else {
    // Replace everything: committed entries not handed out yet are in the snapshot.
    log_.clear();
    log_.push_back(Entry{snap.term, snap.index, std::string()});
    commit_ = snap.index;
    applied_ = snap.index;
    stable_ = snap.index;
    pending_snapshot_ = snap;
    reply.match_index = snap.index;
  }
  Send(std::move(reply));
}

void Core::ReportSnapshot(NodeId peer, bool ok) {
  if (role_ != Role::kLeader) return;
  auto it = progress_.find(peer);
  if (it == progress_.end() || it->second.state() != Progress::State::kSnapshot) return;
  it->second.SnapshotDone(ok);
  if (ok) SendAppend(peer, /*heartbeat=*/false);
}

bool Core::HasReadLease() const {
  if (role_ != Role::kLeader || config_.lease_ticks == 0) return false;
  std::vector<uint64_t> ages;  // ticks since each acknowledged stamp, this node's being 0
  for (NodeId p : peers_) {
    if (p == id_) {
      ages.push_back(0);
      continue;
    }
    auto it = acks_.find(p);
    if (it != acks_.end()) ages.push_back(ticks_ - it->second);
  }
  if (ages.size() < Quorum()) return false;
  std::sort(ages.begin(), ages.end());
  return ages[Quorum() - 1] < static_cast<uint64_t>(config_.lease_ticks);
}

Index Core::TermStartIndex() const { return role_ == Role::kLeader ? term_start_ : 0; }

}  // namespace talus::raft
