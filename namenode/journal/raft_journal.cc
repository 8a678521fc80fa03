#include "namenode/journal/raft_journal.h"

#include <glog/logging.h>

#include <charconv>
#include <set>
#include <utility>
#include <vector>

namespace talus {

namespace {

bool ValidHostPort(std::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == address.size()) return false;
  int port = 0;
  std::string_view digits = address.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  return ec == std::errc() && end == digits.data() + digits.size() && port > 0 && port < 65536;
}

}  // namespace

Result<std::vector<raft::RaftPeer>> ParseRaftPeers(const std::string& spec) {
  std::vector<raft::RaftPeer> peers;
  std::set<raft::NodeId> ids;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    if (comma == std::string::npos) comma = spec.size();
    std::string_view item(spec.data() + start, comma - start);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument("raft peer '" + std::string(item) + "' is not ID=HOST:PORT");
    }
    uint64_t id = 0;
    std::string_view id_text = item.substr(0, eq);
    auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (ec != std::errc() || end != id_text.data() + id_text.size() || id == 0) {
      return Status::InvalidArgument("raft peer id '" + std::string(id_text) +
                                     "' is not a positive integer");
    }
    std::string_view address = item.substr(eq + 1);
    if (!ValidHostPort(address)) {
      return Status::InvalidArgument("raft peer address '" + std::string(address) +
                                     "' is not HOST:PORT");
    }
    if (!ids.insert(id).second) {
      return Status::InvalidArgument("raft peer id " + std::to_string(id) + " is listed twice");
    }
    peers.push_back(raft::RaftPeer{id, std::string(address)});
    start = comma + 1;
  }
  if (peers.empty()) return Status::InvalidArgument("no raft peers");
  return peers;
}

RaftJournal::RaftJournal(RaftJournalOptions options) : options_(std::move(options)) {}

RaftJournal::~RaftJournal() { Close(); }

Status RaftJournal::Open(StateMachine* sm) {
  if (node_ != nullptr) return Status::Internal("the journal is already open");
  sm_ = sm;
  applied_index_.store(sm->LastAppliedIndex());
  Result<std::unique_ptr<raft::RaftNode>> node = raft::RaftNode::Start(options_.node, this);
  if (!node.ok()) return node.status();
  node_ = std::move(*node);
  role_thread_ = std::thread([this] { RoleLoop(); });
  node_->SetLeadershipListener(
      [this](bool is_leader, raft::Term term) { OnLeadership(is_leader, term); });
  return Status::OK();
}

Result<LogPosition> RaftJournal::Append(std::string entry, AppliedCallback done) {
  if (closed_.load() || node_ == nullptr) return Status::Unavailable("the journal is closed");
  if (entry.empty()) return Status::InvalidArgument("an empty journal entry");
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto position, node_->Propose(std::move(entry)));
  pending_[position.second] = Pending{position.first, std::move(done)};
  return LogPosition{position.first, position.second};
}

uint64_t RaftJournal::AppliedIndex() const { return applied_index_.load(); }

bool RaftJournal::IsLeader() const { return node_ != nullptr && !closed_ && node_->IsLeader(); }

Status RaftJournal::CheckServing() const {
  if (node_ == nullptr || closed_) return Status::Unavailable("the journal is closed");
  if (options_.unsafe_stale_reads) return Status::OK();
  Status serving = node_->CheckRead();
  if (serving.code() == ErrorCode::kUnavailable) {
    // A new leader still applying its predecessor's entries, or waiting for its lease: the
    // client should come back here shortly; NOT_LEADER naming ourselves says so (clients
    // treat Unavailable from a namenode as final).
    return Status::NotLeader(serving.message(), options_.node.client_address);
  }
  return serving;
}

JournalInfo RaftJournal::Info() const {
  JournalInfo info;
  info.kind = "raft";
  if (node_ == nullptr) return info;
  const raft::RaftStatus s = node_->GetStatus();
  info.id = s.id;
  info.role = s.role;
  info.term = s.term;
  info.leader_id = s.leader;
  info.leader_address = s.leader_client_address;
  info.commit_index = s.commit_index;
  info.applied_index = s.applied_index;
  info.last_index = s.last_index;
  info.first_index = s.first_index;
  info.snapshot_index = s.snapshot.index;
  for (const raft::RaftPeerStatus& p : s.peers) {
    JournalPeerInfo peer;
    peer.id = p.id;
    peer.raft_address = p.raft_address;
    peer.client_address = p.client_address;
    peer.match_index = p.match_index;
    peer.next_index = p.next_index;
    peer.state = p.state;
    peer.last_contact_ms = p.last_contact_ms;
    info.peers.push_back(std::move(peer));
  }
  return info;
}

void RaftJournal::Close() {
  if (closed_.exchange(true)) return;
  if (node_ != nullptr) node_->Stop();
  {
    std::lock_guard<std::mutex> lock(role_mu_);
    role_stop_ = true;
  }
  role_cv_.notify_all();
  if (role_thread_.joinable()) role_thread_.join();
  FailPending(Status::Unavailable("the journal closed"));
}

raft::Index RaftJournal::LastAppliedIndex() const { return sm_->LastAppliedIndex(); }

void RaftJournal::Apply(const std::vector<raft::Entry>& committed) {
  struct Done {
    uint64_t index;
    uint64_t term;
    ApplyResult result;
    bool noop;
  };
  std::vector<Done> applied;
  applied.reserve(committed.size());
  for (const raft::Entry& e : committed) {
    // A leader's no-op entry changes no state; the namespace's applied index skips it.
    if (e.data.empty()) {
      applied.push_back(Done{e.index, e.term, {}, true});
      continue;
    }
    applied.push_back(Done{e.index, e.term, sm_->Apply(LogPosition{e.term, e.index}, e.data), false});
  }
  sm_->FinishBatch();
  if (!committed.empty()) applied_index_.store(committed.back().index);

  std::vector<std::pair<AppliedCallback, std::pair<Status, ApplyResult>>> calls;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Done& d : applied) {
      // Anything registered below this index was overwritten by another leader's entries
      // (its index was applied before with another term): it will never apply as appended.
      for (auto it = pending_.begin(); it != pending_.end() && it->first < d.index;) {
        calls.push_back({std::move(it->second.done),
                         {Status::NotLeader("leadership changed before the entry committed", ""),
                          ApplyResult{}}});
        it = pending_.erase(it);
      }
      auto it = pending_.find(d.index);
      if (it == pending_.end()) continue;
      if (it->second.term == d.term && !d.noop) {
        calls.push_back({std::move(it->second.done), {Status::OK(), std::move(d.result)}});
      } else {
        calls.push_back({std::move(it->second.done),
                         {Status::NotLeader("leadership changed before the entry committed", ""),
                          ApplyResult{}}});
      }
      pending_.erase(it);
    }
  }
  for (auto& [done, outcome] : calls) {
    if (done) done(outcome.first, outcome.second);
  }
}

Result<raft::Index> RaftJournal::Checkpoint() { return sm_->Checkpoint(); }

Result<raft::Index> RaftJournal::WriteSnapshot(const std::string& path) {
  return sm_->WriteSnapshot(path);
}

Result<bool> RaftJournal::InstallSnapshot(const std::string& path,
                                          const raft::SnapshotMeta& meta) {
  RETURN_NOT_OK(sm_->StageSnapshot(path, meta.index, meta.term));
  LOG(WARNING) << "Staged the leader's namespace snapshot at index " << meta.index << " (term "
               << meta.term << "); restarting to install it";
  return true;
}

void RaftJournal::OnLeadership(bool is_leader, raft::Term term) {
  if (!is_leader) {
    // Entries of this term may or may not commit under the next leader; their callers retry
    // there with the same call id and the replicated retry cache gives the answer.
    FailPending(Status::NotLeader("this namenode lost leadership", node_->LeaderClientAddress()));
  }
  {
    std::lock_guard<std::mutex> lock(role_mu_);
    node_leads_ = is_leader;
    node_term_ = term;
    role_changed_ = true;
  }
  role_cv_.notify_all();
}

void RaftJournal::RoleLoop() {
  bool reported_leader = false;
  uint64_t reported_term = 0;
  std::unique_lock<std::mutex> lock(role_mu_);
  while (!role_stop_) {
    // While a new leader catches up, look again every few milliseconds.
    const bool catching_up = node_leads_ && !reported_leader;
    if (catching_up) {
      role_cv_.wait_for(lock, std::chrono::milliseconds(5),
                        [this] { return role_stop_ || role_changed_; });
    } else {
      role_cv_.wait(lock, [this] { return role_stop_ || role_changed_; });
    }
    if (role_stop_) break;
    role_changed_ = false;
    const bool leads = node_leads_;
    const uint64_t term = node_term_;
    lock.unlock();
    if (!leads || term != reported_term) {
      if (reported_leader) {
        reported_leader = false;
        if (options_.on_leadership_change) options_.on_leadership_change(false, term);
      }
    }
    if (leads && !reported_leader && node_->IsLeader() && node_->CheckRead().ok()) {
      reported_leader = true;
      reported_term = term;
      if (options_.on_leadership_change) options_.on_leadership_change(true, term);
    }
    lock.lock();
  }
}

void RaftJournal::FailPending(const Status& status) {
  std::map<uint64_t, Pending> failed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    failed.swap(pending_);
  }
  for (auto& [index, p] : failed) {
    if (p.done) p.done(status, ApplyResult{});
  }
}

}  // namespace talus
