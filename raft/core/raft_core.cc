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
  HardState hs;
  std::vector<Entry> entries;
  if (storage != nullptr) {
    hs = storage->LoadHardState();
    entries = storage->LoadEntries();
  }
  Term prev_term = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].index != i + 1) return Status::Corruption("raft: stored log is not contiguous");
    if (entries[i].term < prev_term || entries[i].term > hs.term) {
      return Status::Corruption("raft: stored log terms out of order or beyond the stored term");
    }
    prev_term = entries[i].term;
  }
  if (hs.commit > entries.size()) {
    return Status::Corruption("raft: stored commit index beyond the stored log");
  }
  if (hs.vote != kNoNode && !unique.count(hs.vote)) {
    return Status::Corruption("raft: stored vote for an unknown node");
  }
  if (config.applied > hs.commit) {
    return Status::InvalidArgument("raft: applied index beyond the stored commit index");
  }
  return std::unique_ptr<Core>(new Core(config, hs, std::move(entries)));
}

Core::Core(const Config& config, HardState hs, std::vector<Entry> entries)
    : config_(config),
      id_(config.id),
      peers_(config.peers),
      rng_(config.seed * 0x9E3779B97F4A7C15ULL + config.id) {
  std::sort(peers_.begin(), peers_.end());
  log_.push_back(Entry{});
  for (Entry& e : entries) log_.push_back(std::move(e));
  term_ = hs.term;
  vote_ = hs.vote;
  commit_ = hs.commit;
  applied_ = config.applied;
  stable_ = last_index();
  persisted_hs_ = hs;
  BecomeFollower(term_, kNoNode);
}

bool Core::LogUpToDate(Index last_index, Term last_term) const {
  Term my_last_term = TermAt(this->last_index());
  return last_term > my_last_term || (last_term == my_last_term && last_index >= this->last_index());
}

// A node that heard from a live leader within the minimum election timeout ignores vote requests,
// so a node coming back from a partition cannot depose a healthy leader.
bool Core::InLease() const {
  return config_.check_quorum && leader_ != kNoNode && election_elapsed_ < config_.election_ticks;
}

void Core::ResetTimeouts() {
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  std::uniform_int_distribution<int> dist(config_.election_ticks, 2 * config_.election_ticks - 1);
  randomized_timeout_ = dist(rng_);
}

void Core::BecomeFollower(Term term, NodeId leader) {
  if (term > term_) {
    term_ = term;
    vote_ = kNoNode;
  }
  role_ = Role::kFollower;
  leader_ = leader;
  votes_.clear();
  progress_.clear();
  ResetTimeouts();
}

void Core::BecomePreCandidate() {
  role_ = Role::kPreCandidate;
  leader_ = kNoNode;
  votes_.clear();
  progress_.clear();
  ResetTimeouts();
}

void Core::BecomeCandidate() {
  role_ = Role::kCandidate;
  term_ += 1;
  vote_ = id_;
  leader_ = kNoNode;
  votes_.clear();
  progress_.clear();
  ResetTimeouts();
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
  // An entry of the new term: earlier terms' entries commit only through it (Raft §5.4.2).
  AppendLocal(std::string());
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

  if (msg.term > term_) {
    bool vote_request = msg.type == MessageType::kRequestVote;
    if (vote_request && InLease()) return Status::OK();  // ignored: we have a live leader
    if (vote_request && msg.pre_vote) {
      // A pre-vote does not move our term.
    } else if (msg.type == MessageType::kRequestVoteReply && msg.pre_vote && msg.granted) {
      // A granted pre-vote carries the term the pre-candidate asked for.
    } else {
      BecomeFollower(msg.term, msg.type == MessageType::kAppendEntries ? msg.from : kNoNode);
    }
  } else if (msg.term < term_) {
    if (msg.type == MessageType::kAppendEntries) {
      // Tell a stale leader the newer term so it steps down (it would otherwise wait forever:
      // with pre-vote and check-quorum nobody else would raise its term).
      Message reply;
      reply.type = MessageType::kAppendEntriesReply;
      reply.to = msg.from;
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
  }
  return Status::OK();
}

void Core::HandleVoteRequest(const Message& msg) {
  bool grant;
  if (msg.pre_vote) {
    grant = msg.term > term_ && LogUpToDate(msg.last_log_index, msg.last_log_term);
  } else {
    grant = (vote_ == kNoNode || vote_ == msg.from) && leader_ == kNoNode &&
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

  Message reply;
  reply.type = MessageType::kAppendEntriesReply;
  reply.to = msg.from;
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
      log_.resize(e.index);
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
  if (msg.reject) {
    if (pr.MaybeDecrease(msg.rejected_index, msg.hint_index)) SendAppend(msg.from, false);
    return;
  }
  if (msg.match_index > last_index()) return;  // cannot match what we never had
  bool advanced = pr.MaybeUpdate(msg.match_index);
  if (advanced) {
    if (MaybeCommit()) {
      BroadcastAppend(/*heartbeat=*/false);
    } else if (pr.next() <= last_index()) {
      SendAppend(msg.from, false);
    }
    return;
  }
  // No progress (a heartbeat's answer, or a duplicate): if the follower is behind, send from
  // next_ even when that carries nothing, so entries lost in flight are found by its rejection.
  pr.HeartbeatAnswered();
  if (pr.match() < last_index()) SendAppend(msg.from, false);
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
  BroadcastAppend(/*heartbeat=*/false);
  return index;
}

void Core::SendAppend(NodeId to, bool heartbeat) {
  Progress& pr = progress_.at(to);
  Message m;
  m.type = MessageType::kAppendEntries;
  m.to = to;
  if (heartbeat) {
    if (pr.state() == Progress::State::kReplicate) {
      // Anchored at what is known to match, so it is never rejected for entries still in flight.
      m.prev_log_index = pr.match();
      m.prev_log_term = TermAt(pr.match());
      m.commit = std::min(commit_, pr.match());
      Send(std::move(m));
      return;
    }
    pr.ResumeProbe();  // a probe doubles as the heartbeat
  }
  if (pr.Paused()) return;
  m.prev_log_index = pr.next() - 1;
  m.prev_log_term = TermAt(m.prev_log_index);
  Index last = std::min<Index>(last_index(), m.prev_log_index + config_.max_entries_per_msg);
  for (Index i = pr.next(); i <= last; ++i) m.entries.push_back(log_[i]);
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
  if (candidate > commit_ && TermAt(candidate) == term_) {
    commit_ = candidate;
    return true;
  }
  return false;
}

bool Core::HasReady() const {
  return stable_ < last_index() || CurrentHardState() != persisted_hs_ || !msgs_.empty() ||
         applied_ < commit_;
}

Ready Core::TakeReady() {
  Ready rd;
  for (Index i = stable_ + 1; i <= last_index(); ++i) rd.entries.push_back(log_[i]);
  stable_ = last_index();
  if (CurrentHardState() != persisted_hs_) {
    rd.hard_state = CurrentHardState();
    persisted_hs_ = *rd.hard_state;
  }
  rd.messages = std::move(msgs_);
  msgs_.clear();
  for (Index i = applied_ + 1; i <= commit_; ++i) rd.committed.push_back(log_[i]);
  applied_ = commit_;
  return rd;
}

}  // namespace talus::raft

namespace talus::raft {

// Placeholders until snapshots and read leases land (docs/raft.md step 3).
Status Core::Compact(Index index) {
  (void)index;
  return Status::NotSupported("raft: compaction not built yet");
}
void Core::ReportSnapshot(NodeId peer, bool ok) {
  (void)peer;
  (void)ok;
}
bool Core::HasReadLease() const { return false; }
Index Core::TermStartIndex() const { return 0; }

}  // namespace talus::raft
