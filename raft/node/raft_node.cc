#include "raft/node/raft_node.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <variant>

#include <glog/logging.h>

#include "common/metrics/metrics.h"
#include "raft/core/raft_core.h"
#include "raft/storage/disk_storage.h"
#include "raft/transport/transport.h"

namespace talus::raft {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxInboxMessages = 100000;  // beyond: inbound messages are dropped
constexpr size_t kStartApplyBatch = 1000;
constexpr char kOutgoingPrefix[] = "outgoing-";

struct NodeMetrics {
  metrics::Gauge* term;
  metrics::Gauge* commit_index;
  metrics::Gauge* is_leader;
  metrics::Histogram* persist_seconds;
  metrics::Counter* snapshot_sends_ok;
  metrics::Counter* snapshot_sends_failed;
  metrics::Counter* snapshot_installs;
};

const NodeMetrics& Metrics() {
  static const NodeMetrics m = [] {
    metrics::Registry& r = metrics::DefaultRegistry();
    NodeMetrics n;
    n.term = r.GetGauge("talus_raft_term", "The current Raft term of this member.");
    n.commit_index =
        r.GetGauge("talus_raft_commit_index", "The highest log index this member knows committed.");
    n.is_leader = r.GetGauge("talus_raft_is_leader", "1 while this member leads its group.");
    n.persist_seconds = r.GetHistogram(
        "talus_raft_persist_seconds",
        "Time to make one round of Raft log entries and hard state durable (fsync).",
        metrics::LatencyBuckets());
    const std::string sends_help = "Snapshot transfers to followers, by result.";
    n.snapshot_sends_ok =
        r.GetCounter("talus_raft_snapshot_sends_total", sends_help, {{"result", "ok"}});
    n.snapshot_sends_failed =
        r.GetCounter("talus_raft_snapshot_sends_total", sends_help, {{"result", "failed"}});
    n.snapshot_installs = r.GetCounter("talus_raft_snapshot_installs_total",
                                       "Snapshots received from a leader and installed.");
    return n;
  }();
  return m;
}

// A snapshot file this leader wrote for followers; deleted when the last transfer using it
// ends and a newer one replaced it.
struct SnapshotFile {
  std::string path;
  SnapshotMeta meta;
  ~SnapshotFile() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
};

}  // namespace

class RaftNode::Impl : public TransportHandler {
 public:
  Impl(RaftNodeOptions options, RaftStateMachine* sm) : options_(std::move(options)), sm_(sm) {}
  ~Impl() override { Stop(); }

  Status Start();
  void Stop();

  Result<std::pair<Term, Index>> Propose(std::string data);
  Status CheckRead() const;
  bool IsLeader() const;
  std::string LeaderClientAddress() const;
  RaftStatus GetStatus() const;
  void SetLeadershipListener(std::function<void(bool, Term)> listener) {
    std::lock_guard<std::mutex> lock(listener_mu_);
    listener_ = std::move(listener);
  }

  // TransportHandler (server threads).
  void OnMessages(NodeId from, const std::string& client_address,
                  std::vector<Message> msgs) override;
  void OnSnapshot(ReceivedSnapshot snapshot, const std::string& client_address) override;

 private:
  struct Inbound {
    std::vector<Message> msgs;
  };
  struct TransferDone {
    NodeId peer;
    bool ok;
  };
  struct PeerInfo {
    std::string raft_address;
    std::string client_address;
    std::optional<Clock::time_point> last_contact;
  };
  // Apply-thread work items.
  struct InstallJob {
    std::string path;
    SnapshotMeta meta;
    std::promise<Result<bool>> result;
  };
  struct RestartNotice {};
  using ApplyItem =
      std::variant<std::vector<Entry>, std::shared_ptr<InstallJob>, RestartNotice>;

  struct Transfer {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  Status Validate() const;
  Status OpenStorage();
  Status ApplyStoredCommitted();
  void NodeLoop();
  void HandleReady(Ready rd, bool leader);
  bool InstallSnapshot(const SnapshotMeta& meta);  // false: the core was rebuilt
  void StartSnapshotTransfer(const Message& msg);
  bool RunTransfer(NodeId peer, Term term, Index min_index, Clock::time_point not_before);
  Result<std::shared_ptr<SnapshotFile>> SnapshotFor(Index min_index);
  void ApplyLoop();
  void ApplyEntries(std::vector<Entry> entries);
  void MaybeCheckpoint();
  void PushApply(ApplyItem item);
  void ReportLeadership();
  Status NotLeaderStatus(NodeId leader) const;  // peers_mu_ must not be held
  std::string ClientAddressOf(NodeId id) const;
  std::string SnapshotDir() const { return options_.dir + "/snapshots"; }

  const RaftNodeOptions options_;
  RaftStateMachine* const sm_;
  std::unique_ptr<DiskStorage> storage_;  // the node thread's (Start before it)
  std::unique_ptr<Transport> transport_;

  // The core: the node thread's, and Propose/CheckRead/status readers' under core_mu_.
  mutable std::mutex core_mu_;
  std::unique_ptr<Core> core_;
  bool restart_required_ = false;  // guarded by core_mu_

  // Inbox of the node thread.
  std::mutex inbox_mu_;
  std::condition_variable inbox_cv_;
  std::vector<Inbound> inbox_;                  // guarded by inbox_mu_
  size_t inbox_messages_ = 0;                   // guarded by inbox_mu_
  std::vector<ReceivedSnapshot> inbox_snapshots_;  // guarded by inbox_mu_
  std::vector<TransferDone> inbox_transfers_;  // guarded by inbox_mu_
  Index inbox_compact_ = 0;                    // guarded by inbox_mu_
  struct Backoff {
    int failures = 0;
    Clock::time_point not_before{};
  };
  std::map<NodeId, Backoff> transfer_backoff_;  // guarded by inbox_mu_
  bool wake_ = false;                          // guarded by inbox_mu_
  bool stop_loop_ = false;                     // guarded by inbox_mu_

  // Peers as last heard.
  mutable std::mutex peers_mu_;
  std::map<NodeId, PeerInfo> peers_;  // guarded by peers_mu_

  // Node thread only.
  std::map<std::pair<Index, Term>, std::string> received_;  // staged snapshot files
  std::map<NodeId, std::unique_ptr<Transfer>> transfers_;
  std::map<NodeId, Message> deferred_transfers_;
  HardState persisted_hs_;  // as last written
  bool reported_leader_ = false;
  Term reported_term_ = 0;
  bool reported_once_ = false;

  // Snapshot files written for followers.
  std::mutex snapshot_mu_;  // serialises writing them
  std::shared_ptr<SnapshotFile> latest_snapshot_;  // guarded by snapshot_mu_
  uint64_t snapshot_serial_ = 0;                   // guarded by snapshot_mu_
  std::atomic<bool> cancel_transfers_{false};
  std::mutex cancel_mu_;
  std::condition_variable cancel_cv_;

  // Apply thread.
  std::mutex apply_mu_;
  std::condition_variable apply_cv_;
  std::deque<ApplyItem> apply_queue_;  // guarded by apply_mu_
  bool stop_apply_ = false;            // guarded by apply_mu_
  std::atomic<Index> applied_{0};
  bool applying_stopped_ = false;  // apply thread only: a staged snapshot awaits a restart
  bool restart_notified_ = false;  // apply thread only
  uint64_t applied_since_checkpoint_ = 0;  // apply thread only
  Index last_compact_request_ = 0;         // apply thread only

  std::mutex listener_mu_;
  std::function<void(bool, Term)> listener_;  // guarded by listener_mu_

  std::thread node_thread_;
  std::thread apply_thread_;
  std::mutex stop_mu_;
  bool stopped_ = false;  // guarded by stop_mu_
  std::atomic<bool> running_{false};
};

// ---- Start / Stop ---------------------------------------------------------------------------

Status RaftNode::Impl::Validate() const {
  if (sm_ == nullptr) return Status::InvalidArgument("raft: no state machine");
  if (options_.id == kNoNode) return Status::InvalidArgument("raft: node id 0 is reserved");
  if (options_.dir.empty()) return Status::InvalidArgument("raft: no directory");
  if (options_.tick_ms <= 0) return Status::InvalidArgument("raft: tick_ms must be positive");
  if (options_.lease_ticks >= options_.election_ticks) {
    return Status::InvalidArgument("raft: lease_ticks must stay below election_ticks");
  }
  if (options_.checkpoint_every_entries == 0) {
    return Status::InvalidArgument("raft: checkpoint_every_entries must be positive");
  }
  std::set<NodeId> ids;
  bool self = false;
  for (const RaftPeer& p : options_.peers) {
    if (p.id == kNoNode || !ids.insert(p.id).second) {
      return Status::InvalidArgument("raft: peer ids must be positive and distinct");
    }
    RETURN_NOT_OK(ParseHostPort(p.raft_address).status());
    self = self || p.id == options_.id;
  }
  if (!self) return Status::InvalidArgument("raft: this node's id is not among the peers");
  return Status::OK();
}

Status RaftNode::Impl::OpenStorage() {
  DiskStorageOptions so;
  so.dir = options_.dir + "/log";
  ASSIGN_OR_RETURN(storage_, DiskStorage::Open(so));
  const SnapshotMeta installed = options_.installed_snapshot;
  if (installed.index > 0 && storage_->LoadSnapshotMeta().index < installed.index) {
    LOG(INFO) << "raft: the state machine holds snapshot index " << installed.index << " term "
              << installed.term << "; resetting the log to start after it";
    RETURN_NOT_OK(storage_->ResetToSnapshot(installed));
  }
  return Status::OK();
}

// Committed entries in the local log that the state machine does not hold yet are applied
// before the node serves, so a restarted leader candidate starts from its whole state.
Status RaftNode::Impl::ApplyStoredCommitted() {
  const Index applied = sm_->LastAppliedIndex();
  const SnapshotMeta snap = storage_->LoadSnapshotMeta();
  if (applied < snap.index) {
    return Status::Corruption("raft: the state machine holds index " + std::to_string(applied) +
                              " but the log starts after " + std::to_string(snap.index));
  }
  const Index commit = std::min(storage_->LoadHardState().commit, storage_->LastIndex());
  Index next = applied + 1;
  while (next <= commit) {
    Index hi = std::min<Index>(commit + 1, next + kStartApplyBatch);
    ASSIGN_OR_RETURN(std::vector<Entry> batch, storage_->Entries(next, hi, 64 << 20));
    if (batch.empty() || batch.front().index != next) {
      return Status::Corruption("raft: the stored log misses committed entry " +
                                std::to_string(next));
    }
    next = batch.back().index + 1;
    sm_->Apply(batch);
  }
  if (commit > applied) {
    LOG(INFO) << "raft: applied stored committed entries " << applied + 1 << ".." << commit;
  }
  applied_ = sm_->LastAppliedIndex();
  return Status::OK();
}

Status RaftNode::Impl::Start() {
  RETURN_NOT_OK(Validate());
  std::error_code ec;
  std::filesystem::create_directories(SnapshotDir(), ec);
  if (ec) return Status::IoError("raft: cannot create " + SnapshotDir() + ": " + ec.message());
  for (const auto& entry : std::filesystem::directory_iterator(SnapshotDir(), ec)) {
    if (entry.path().filename().string().rfind(kOutgoingPrefix, 0) == 0) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
  RETURN_NOT_OK(OpenStorage());
  RETURN_NOT_OK(ApplyStoredCommitted());

  Config config;
  config.id = options_.id;
  for (const RaftPeer& p : options_.peers) config.peers.push_back(p.id);
  config.election_ticks = options_.election_ticks;
  config.heartbeat_ticks = options_.heartbeat_ticks;
  config.max_inflight = options_.max_inflight;
  config.max_entries_per_msg = options_.max_entries_per_msg;
  config.seed = options_.seed != 0
                    ? options_.seed
                    : static_cast<uint64_t>(Clock::now().time_since_epoch().count()) ^
                          (static_cast<uint64_t>(::getpid()) << 20);
  config.applied = applied_.load();
  config.lease_ticks = options_.lease_ticks;
  ASSIGN_OR_RETURN(core_, Core::Create(config, storage_.get()));
  persisted_hs_ = storage_->LoadHardState();

  TransportOptions to;
  to.id = options_.id;
  to.client_address = options_.client_address;
  to.snapshot_dir = SnapshotDir();
  to.enable_fault_injection = options_.enable_fault_injection;
  // One call carries up to a few full AppendEntries; the frame limit leaves room for them.
  to.max_batch_bytes = std::max<size_t>(options_.max_bytes_per_msg, 1 << 20) * 2;
  // The core bounds a message by entry count, not bytes: the frame limit leaves room for a
  // full message of large entries (DiskStorage takes entries up to 16 MiB).
  to.max_frame_bytes = static_cast<int>(std::clamp<size_t>(
      std::max(to.max_batch_bytes, options_.snapshot_chunk_bytes) * 2 + (1 << 20), 128u << 20,
      1u << 30));
  to.rpc_timeout_ms = std::max(1000, options_.tick_ms * options_.election_ticks);
  for (const RaftPeer& p : options_.peers) {
    if (p.id == options_.id) {
      to.listen_address = p.raft_address;
    } else {
      to.peers[p.id] = p.raft_address;
    }
    peers_[p.id].raft_address = p.raft_address;
  }
  peers_[options_.id].client_address = options_.client_address;
  ASSIGN_OR_RETURN(transport_, Transport::Start(to, this));

  running_ = true;
  apply_thread_ = std::thread([this] { ApplyLoop(); });
  node_thread_ = std::thread([this] { NodeLoop(); });
  LOG(INFO) << "raft: node " << options_.id << " started (term " << core_->term() << ", commit "
            << core_->commit() << ", applied " << applied_.load() << ", log "
            << core_->first_index() << ".." << core_->last_index() << ")";
  return Status::OK();
}

void RaftNode::Impl::Stop() {
  const std::thread::id self = std::this_thread::get_id();
  if (self == node_thread_.get_id() || self == apply_thread_.get_id()) {
    // From a callback: it would join its own thread. The owner stops the node from elsewhere.
    LOG(DFATAL) << "raft: RaftNode::Stop called from the node's own callback; ignored";
    return;
  }
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  running_ = false;
  if (transport_) transport_->Stop();  // no handler call after this
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    stop_loop_ = true;
  }
  inbox_cv_.notify_all();
  if (node_thread_.joinable()) node_thread_.join();
  {
    std::lock_guard<std::mutex> lock(cancel_mu_);
    cancel_transfers_ = true;
  }
  cancel_cv_.notify_all();
  for (auto& [peer, t] : transfers_) {
    if (t->thread.joinable()) t->thread.join();
  }
  transfers_.clear();
  {
    std::lock_guard<std::mutex> lock(apply_mu_);
    stop_apply_ = true;
  }
  apply_cv_.notify_all();
  if (apply_thread_.joinable()) apply_thread_.join();
  storage_.reset();  // releases the log directory's lock for a next Start
  {
    std::lock_guard<std::mutex> lock(snapshot_mu_);
    latest_snapshot_.reset();
  }
  for (auto& [key, path] : received_) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
  received_.clear();
  {
    std::lock_guard<std::mutex> lock(core_mu_);
    if (core_ && core_->role() == Role::kLeader) Metrics().is_leader->Set(0);
  }
  if (core_) LOG(INFO) << "raft: node " << options_.id << " stopped";
}

// ---- Inbound --------------------------------------------------------------------------------

void RaftNode::Impl::OnMessages(NodeId from, const std::string& client_address,
                                std::vector<Message> msgs) {
  {
    std::lock_guard<std::mutex> lock(peers_mu_);
    PeerInfo& p = peers_[from];
    if (p.client_address != client_address) p.client_address = client_address;
    p.last_contact = Clock::now();
  }
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    if (stop_loop_) return;
    if (inbox_messages_ + msgs.size() > kMaxInboxMessages) {
      CountDroppedMessages("inbox_full", msgs.size());
      return;
    }
    inbox_messages_ += msgs.size();
    inbox_.push_back(Inbound{std::move(msgs)});
  }
  inbox_cv_.notify_one();
}

void RaftNode::Impl::OnSnapshot(ReceivedSnapshot snapshot, const std::string& client_address) {
  {
    std::lock_guard<std::mutex> lock(peers_mu_);
    PeerInfo& p = peers_[snapshot.from];
    p.client_address = client_address;
    p.last_contact = Clock::now();
  }
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    if (!stop_loop_) {
      inbox_snapshots_.push_back(std::move(snapshot));
      snapshot.path.clear();
    }
  }
  if (!snapshot.path.empty()) {
    std::error_code ec;
    std::filesystem::remove(snapshot.path, ec);
  }
  inbox_cv_.notify_one();
}

// ---- The node thread ------------------------------------------------------------------------

void RaftNode::Impl::NodeLoop() {
  const auto tick = std::chrono::milliseconds(options_.tick_ms);
  Clock::time_point next_tick = Clock::now() + tick;
  ReportLeadership();
  for (;;) {
    std::vector<Inbound> inbound;
    std::vector<ReceivedSnapshot> snapshots;
    std::vector<TransferDone> transfers;
    Index compact = 0;
    {
      std::unique_lock<std::mutex> lock(inbox_mu_);
      inbox_cv_.wait_until(lock, next_tick, [this] {
        return stop_loop_ || wake_ || !inbox_.empty() || !inbox_snapshots_.empty() ||
               !inbox_transfers_.empty() || inbox_compact_ != 0;
      });
      if (stop_loop_) break;
      inbound.swap(inbox_);
      inbox_messages_ = 0;
      snapshots.swap(inbox_snapshots_);
      transfers.swap(inbox_transfers_);
      compact = inbox_compact_;
      inbox_compact_ = 0;
      wake_ = false;
    }

    // Finished transfer threads are joined here, off the core lock.
    for (auto it = transfers_.begin(); it != transfers_.end();) {
      if (it->second->done.load()) {
        it->second->thread.join();
        it = transfers_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = deferred_transfers_.begin(); it != deferred_transfers_.end();) {
      if (transfers_.count(it->first)) {
        ++it;
        continue;
      }
      Message m = std::move(it->second);
      it = deferred_transfers_.erase(it);
      StartSnapshotTransfer(m);
    }

    Ready rd;
    bool leader = false;
    std::optional<SnapshotMeta> compacted;
    {
      std::lock_guard<std::mutex> lock(core_mu_);
      for (Inbound& in : inbound) {
        for (const Message& m : in.msgs) {
          Status s = core_->Step(m);
          if (!s.ok()) VLOG(1) << "raft: dropped a message from " << m.from << ": " << s;
        }
      }
      for (ReceivedSnapshot& snap : snapshots) {
        Message m;
        m.type = MessageType::kInstallSnapshot;
        m.from = snap.from;
        m.to = options_.id;
        m.term = snap.term;
        m.snapshot = snap.meta;
        auto key = std::make_pair(snap.meta.index, snap.meta.term);
        auto old = received_.find(key);
        if (old != received_.end() && old->second != snap.path) {
          std::error_code ec;
          std::filesystem::remove(old->second, ec);
        }
        received_[key] = snap.path;
        Status s = core_->Step(m);
        if (!s.ok()) LOG(WARNING) << "raft: snapshot from " << snap.from << " refused: " << s;
      }
      for (const TransferDone& t : transfers) core_->ReportSnapshot(t.peer, t.ok);
      if (compact != 0 && compact >= core_->first_index() && compact <= core_->applied()) {
        Term term = core_->TermAt(compact);
        Status s = core_->Compact(compact);
        if (s.ok() && term != 0) {
          compacted = SnapshotMeta{compact, term};
        } else if (!s.ok()) {
          LOG(WARNING) << "raft: cannot compact the log to " << compact << ": " << s;
        }
      }
      Clock::time_point now = Clock::now();
      // Every elapsed tick counts, even after a stall: a leader's lease is measured in ticks,
      // so its ticks must never run slower than real time.
      while (now >= next_tick) {
        core_->Tick();
        next_tick += tick;
      }
      if (core_->HasReady()) rd = core_->TakeReady();
      leader = core_->role() == Role::kLeader;
      Metrics().term->Set(static_cast<int64_t>(core_->term()));
      Metrics().commit_index->Set(static_cast<int64_t>(core_->commit()));
      Metrics().is_leader->Set(core_->role() == Role::kLeader ? 1 : 0);
    }
    ReportLeadership();
    if (compacted) {
      Status s = storage_->Compact(*compacted);
      if (!s.ok()) {
        LOG(WARNING) << "raft: compacting the stored log to " << compacted->index
                     << " failed: " << s;
      } else {
        VLOG(1) << "raft: log compacted up to " << compacted->index;
      }
      // Received snapshot files at or below the new start are of no use any more.
      for (auto it = received_.begin(); it != received_.end();) {
        if (it->first.first <= compacted->index) {
          std::error_code ec;
          std::filesystem::remove(it->second, ec);
          it = received_.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (!rd.empty()) HandleReady(std::move(rd), leader);
  }
}

void RaftNode::Impl::HandleReady(Ready rd, bool leader) {
  if (rd.snapshot && !InstallSnapshot(*rd.snapshot)) return;  // the core was rebuilt
  std::vector<Message> out;
  out.reserve(rd.messages.size());
  // A leader's AppendEntries go out before its own fsync, which then overlaps the followers'
  // (Raft thesis 10.2.1): a follower's answer is handled in a later round of this thread, so
  // only after the leader's entries are durable; and they do not depend on a term or vote
  // still to be written (checked: only the commit may change in this round's hard state).
  const bool early = leader && (!rd.hard_state || (rd.hard_state->term == persisted_hs_.term &&
                                                   rd.hard_state->vote == persisted_hs_.vote));
  if (early) {
    std::vector<Message> rest;
    for (Message& m : rd.messages) {
      (m.type == MessageType::kAppendEntries ? out : rest).push_back(std::move(m));
    }
    rd.messages = std::move(rest);
    if (!out.empty()) transport_->Send(std::move(out));
    out.clear();
  }
  if (!rd.entries.empty() || rd.hard_state) {
    const Clock::time_point start = Clock::now();
    if (!rd.entries.empty()) {
      Status s = storage_->Append(rd.entries);
      // The core already counts these entries as durable; a node that cannot persist must not
      // go on answering (it would acknowledge what it may lose).
      if (!s.ok()) LOG(FATAL) << "raft: cannot persist log entries: " << s;
    }
    if (rd.hard_state) {
      Status s = storage_->SetHardState(*rd.hard_state);
      if (!s.ok()) LOG(FATAL) << "raft: cannot persist the hard state: " << s;
      persisted_hs_ = *rd.hard_state;
    }
    Metrics().persist_seconds->Observe(
        std::chrono::duration<double>(Clock::now() - start).count());
  }
  for (Message& m : rd.messages) {
    if (m.type == MessageType::kInstallSnapshot) {
      StartSnapshotTransfer(m);
    } else {
      out.push_back(std::move(m));
    }
  }
  if (!out.empty()) transport_->Send(std::move(out));
  if (!rd.committed.empty()) PushApply(std::move(rd.committed));
}

bool RaftNode::Impl::InstallSnapshot(const SnapshotMeta& meta) {
  auto it = received_.find({meta.index, meta.term});
  Result<bool> staged = Status::NotFound("no received snapshot file for index " +
                                         std::to_string(meta.index));
  std::string path;
  if (it != received_.end()) {
    path = it->second;
    received_.erase(it);
    auto job = std::make_shared<InstallJob>();
    job->path = path;
    job->meta = meta;
    std::future<Result<bool>> done = job->result.get_future();
    PushApply(job);
    staged = done.get();
  }
  if (!path.empty()) {
    std::error_code ec;
    std::filesystem::remove(path, ec);  // the state machine keeps what it needs
  }
  if (!staged.ok()) {
    // The core already moved to the snapshot; nothing of this round was persisted or sent, so
    // starting the core again from the durable state is what a crash and restart would do.
    LOG(ERROR) << "raft: installing the snapshot at index " << meta.index
               << " failed: " << staged.status() << "; restarting the core from disk";
    std::lock_guard<std::mutex> lock(core_mu_);
    Config config;
    config.id = options_.id;
    for (const RaftPeer& p : options_.peers) config.peers.push_back(p.id);
    config.election_ticks = options_.election_ticks;
    config.heartbeat_ticks = options_.heartbeat_ticks;
    config.max_inflight = options_.max_inflight;
    config.max_entries_per_msg = options_.max_entries_per_msg;
    config.seed = static_cast<uint64_t>(Clock::now().time_since_epoch().count());
    config.applied = std::max(applied_.load(), storage_->LoadSnapshotMeta().index);
    config.lease_ticks = options_.lease_ticks;
    Result<std::unique_ptr<Core>> core = Core::Create(config, storage_.get());
    if (!core.ok()) LOG(FATAL) << "raft: cannot restart the core from disk: " << core.status();
    core_ = std::move(*core);
    return false;
  }
  Status s = storage_->ResetToSnapshot(meta);
  if (!s.ok()) LOG(FATAL) << "raft: cannot reset the log to the installed snapshot: " << s;
  Metrics().snapshot_installs->Increment();
  if (*staged) {
    LOG(INFO) << "raft: snapshot at index " << meta.index << " term " << meta.term
              << " staged; the state takes it at the next start";
    {
      std::lock_guard<std::mutex> lock(core_mu_);
      restart_required_ = true;
    }
    PushApply(RestartNotice{});
  } else {
    LOG(INFO) << "raft: installed the snapshot at index " << meta.index << " term "
              << meta.term;
  }
  return true;
}

void RaftNode::Impl::ReportLeadership() {
  bool leader;
  Term term;
  NodeId leader_id;
  {
    std::lock_guard<std::mutex> lock(core_mu_);
    leader = core_->role() == Role::kLeader;
    term = core_->term();
    leader_id = core_->leader();
  }
  if (reported_once_ && leader == reported_leader_ && term == reported_term_) return;
  if (leader && !reported_leader_) {
    LOG(INFO) << "raft: node " << options_.id << " became leader of term " << term;
  } else if (!leader && reported_leader_) {
    LOG(INFO) << "raft: node " << options_.id << " stepped down in term " << term;
  } else if (reported_once_ && term != reported_term_) {
    LOG(INFO) << "raft: node " << options_.id << " at term " << term
              << (leader_id == kNoNode ? std::string(" (no leader known)")
                                       : " (leader " + std::to_string(leader_id) + ")");
  }
  reported_once_ = true;
  reported_leader_ = leader;
  reported_term_ = term;
  std::function<void(bool, Term)> listener;
  {
    std::lock_guard<std::mutex> lock(listener_mu_);
    listener = listener_;
  }
  if (listener) listener(leader, term);
}

// ---- Snapshot transfers (leader) ------------------------------------------------------------

void RaftNode::Impl::StartSnapshotTransfer(const Message& msg) {
  const NodeId peer = msg.to;
  if (transfers_.count(peer)) {
    // One transfer per peer at a time. A request while one runs comes from a new term's
    // progress: it starts when the running one ends (its outcome alone would not answer it).
    deferred_transfers_[peer] = msg;
    return;
  }
  Clock::time_point not_before;
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    not_before = transfer_backoff_[peer].not_before;
  }
  auto t = std::make_unique<Transfer>();
  Transfer* raw = t.get();
  const Term term = msg.term;
  const Index min_index = msg.snapshot.index;
  t->thread = std::thread([this, raw, peer, term, min_index, not_before] {
    const bool ok = RunTransfer(peer, term, min_index, not_before);
    {
      std::lock_guard<std::mutex> lock(inbox_mu_);
      inbox_transfers_.push_back(TransferDone{peer, ok});
      Backoff& b = transfer_backoff_[peer];
      if (ok) {
        b = Backoff{};
      } else {
        // The core asks again at its next heartbeat; a failing peer is not hammered.
        b.failures = std::min(b.failures + 1, 6);
        b.not_before = Clock::now() + std::chrono::milliseconds(std::max(options_.tick_ms, 50) *
                                                                (1 << b.failures));
      }
      // Set with the report, so the loop that sees the report can join this thread at once.
      raw->done = true;
    }
    inbox_cv_.notify_one();
  });
  transfers_.emplace(peer, std::move(t));
}

bool RaftNode::Impl::RunTransfer(NodeId peer, Term term, Index min_index,
                                 Clock::time_point not_before) {
  {
    std::unique_lock<std::mutex> lock(cancel_mu_);
    cancel_cv_.wait_until(lock, not_before, [this] { return cancel_transfers_.load(); });
  }
  Status result;
  std::shared_ptr<SnapshotFile> file;
  if (cancel_transfers_) {
    result = Status::Unavailable("stopping");
  } else {
    Result<std::shared_ptr<SnapshotFile>> f = SnapshotFor(min_index);
    if (!f.ok()) {
      result = f.status();
    } else {
      file = *f;
      LOG(INFO) << "raft: sending the snapshot at index " << file->meta.index << " to node "
                << peer;
      result = transport_->SendSnapshot(peer, term, file->meta, file->path,
                                        options_.snapshot_chunk_bytes, cancel_transfers_);
    }
  }
  if (result.ok()) {
    Metrics().snapshot_sends_ok->Increment();
    LOG(INFO) << "raft: snapshot at index " << file->meta.index << " sent to node " << peer;
  } else if (!cancel_transfers_) {
    Metrics().snapshot_sends_failed->Increment();
    LOG(WARNING) << "raft: snapshot transfer to node " << peer << " failed: " << result;
  }
  return result.ok();
}

Result<std::shared_ptr<SnapshotFile>> RaftNode::Impl::SnapshotFor(Index min_index) {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  if (latest_snapshot_ && latest_snapshot_->meta.index >= min_index) return latest_snapshot_;
  const std::string tmp =
      SnapshotDir() + "/" + kOutgoingPrefix + std::to_string(++snapshot_serial_) + ".tmp";
  Result<Index> index = sm_->WriteSnapshot(tmp);
  if (!index.ok()) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    return index.status();
  }
  Term term;
  {
    std::lock_guard<std::mutex> core_lock(core_mu_);
    term = core_->TermAt(*index);
  }
  if (*index < min_index || term == 0) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    return Status::Internal("raft: the state machine's snapshot holds index " +
                            std::to_string(*index) + ", the log needs " +
                            std::to_string(min_index) + " and has its term: " +
                            (term == 0 ? "no" : "yes"));
  }
  auto file = std::make_shared<SnapshotFile>();
  file->path = SnapshotDir() + "/" + kOutgoingPrefix + std::to_string(snapshot_serial_) + "-" +
               std::to_string(*index) + "-" + std::to_string(term);
  file->meta = SnapshotMeta{*index, term};
  std::error_code ec;
  std::filesystem::rename(tmp, file->path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return Status::IoError("raft: cannot rename the snapshot file: " + ec.message());
  }
  LOG(INFO) << "raft: wrote a snapshot of the state at index " << *index << " for followers";
  latest_snapshot_ = file;
  return file;
}

// ---- The apply thread -----------------------------------------------------------------------

void RaftNode::Impl::PushApply(ApplyItem item) {
  {
    std::lock_guard<std::mutex> lock(apply_mu_);
    apply_queue_.push_back(std::move(item));
  }
  apply_cv_.notify_one();
}

void RaftNode::Impl::ApplyLoop() {
  for (;;) {
    ApplyItem item;
    {
      std::unique_lock<std::mutex> lock(apply_mu_);
      apply_cv_.wait(lock, [this] { return stop_apply_ || !apply_queue_.empty(); });
      if (stop_apply_) return;  // what is left is applied again from the log at the next start
      item = std::move(apply_queue_.front());
      apply_queue_.pop_front();
    }
    if (auto* entries = std::get_if<std::vector<Entry>>(&item)) {
      ApplyEntries(std::move(*entries));
    } else if (auto* job = std::get_if<std::shared_ptr<InstallJob>>(&item)) {
      Result<bool> staged = sm_->InstallSnapshot((*job)->path, (*job)->meta);
      if (staged.ok()) {
        if (*staged) {
          applying_stopped_ = true;
        } else {
          applied_ = (*job)->meta.index;
          applied_since_checkpoint_ = 0;
        }
      }
      (*job)->result.set_value(std::move(staged));
    } else if (std::holds_alternative<RestartNotice>(item)) {
      if (!restart_notified_) {
        restart_notified_ = true;
        LOG(INFO) << "raft: node " << options_.id << " needs a restart to take the snapshot";
        if (options_.on_restart_required) options_.on_restart_required();
      }
    }
  }
}

void RaftNode::Impl::ApplyEntries(std::vector<Entry> entries) {
  if (applying_stopped_) return;
  const Index applied = applied_.load();
  // Entries the state already holds (a snapshot installed meanwhile) are skipped.
  auto first = std::find_if(entries.begin(), entries.end(),
                            [applied](const Entry& e) { return e.index > applied; });
  if (first == entries.end()) return;
  if (first->index != applied + 1) {
    LOG(FATAL) << "raft: committed entry " << first->index << " follows applied index "
               << applied << " (a gap)";
  }
  entries.erase(entries.begin(), first);
  const Index last = entries.back().index;
  const size_t n = entries.size();
  sm_->Apply(entries);
  applied_ = last;
  applied_since_checkpoint_ += n;
  if (applied_since_checkpoint_ >= options_.checkpoint_every_entries) MaybeCheckpoint();
}

void RaftNode::Impl::MaybeCheckpoint() {
  applied_since_checkpoint_ = 0;
  Result<Index> durable = sm_->Checkpoint();
  if (!durable.ok()) {
    LOG(WARNING) << "raft: checkpoint failed (the log is kept): " << durable.status();
    return;
  }
  if (*durable <= options_.log_retention_entries) return;
  const Index target = *durable - options_.log_retention_entries;
  if (target <= last_compact_request_) return;
  last_compact_request_ = target;
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    inbox_compact_ = std::max(inbox_compact_, target);
  }
  inbox_cv_.notify_one();
}

// ---- Calls from the owner -------------------------------------------------------------------

std::string RaftNode::Impl::ClientAddressOf(NodeId id) const {
  if (id == kNoNode) return std::string();
  if (id == options_.id) return options_.client_address;
  std::lock_guard<std::mutex> lock(peers_mu_);
  auto it = peers_.find(id);
  return it == peers_.end() ? std::string() : it->second.client_address;
}

Status RaftNode::Impl::NotLeaderStatus(NodeId leader) const {
  return Status::NotLeader("this namenode is not the Raft leader", ClientAddressOf(leader));
}

Result<std::pair<Term, Index>> RaftNode::Impl::Propose(std::string data) {
  Term term;
  NodeId leader;
  {
    std::lock_guard<std::mutex> lock(core_mu_);
    if (!running_) return Status::Unavailable("raft: the node is stopped");
    if (restart_required_) {
      return Status::Unavailable("raft: this node restarts to take a snapshot");
    }
    Result<Index> index = core_->Propose(std::move(data));
    term = core_->term();
    leader = core_->leader();
    if (index.ok()) {
      {
        std::lock_guard<std::mutex> inbox_lock(inbox_mu_);
        wake_ = true;
      }
      inbox_cv_.notify_one();
      return std::make_pair(term, *index);
    }
  }
  return NotLeaderStatus(leader == options_.id ? kNoNode : leader);
}

Status RaftNode::Impl::CheckRead() const {
  NodeId leader;
  {
    std::lock_guard<std::mutex> lock(core_mu_);
    if (!running_) return Status::Unavailable("raft: the node is stopped");
    if (core_->role() == Role::kLeader) {
      if (core_->HasReadLease() && !restart_required_ &&
          applied_.load() >= core_->TermStartIndex() && core_->TermStartIndex() != 0) {
        return Status::OK();
      }
      return Status::Unavailable("new leader catching up");
    }
    leader = core_->leader();
  }
  return NotLeaderStatus(leader);
}

bool RaftNode::Impl::IsLeader() const {
  std::lock_guard<std::mutex> lock(core_mu_);
  return running_ && core_->role() == Role::kLeader;
}

std::string RaftNode::Impl::LeaderClientAddress() const {
  NodeId leader;
  {
    std::lock_guard<std::mutex> lock(core_mu_);
    leader = core_->leader();
  }
  return ClientAddressOf(leader);
}

RaftStatus RaftNode::Impl::GetStatus() const {
  RaftStatus st;
  st.id = options_.id;
  std::map<NodeId, Progress> progress;
  {
    std::lock_guard<std::mutex> lock(core_mu_);
    st.role = RoleName(core_->role());
    st.term = core_->term();
    st.leader = core_->leader();
    st.commit_index = core_->commit();
    st.last_index = core_->last_index();
    st.first_index = core_->first_index();
    st.snapshot = core_->snapshot();
    progress = core_->progress();
  }
  st.applied_index = applied_.load();
  st.leader_client_address = ClientAddressOf(st.leader);
  const Clock::time_point now = Clock::now();
  std::lock_guard<std::mutex> lock(peers_mu_);
  for (const RaftPeer& p : options_.peers) {
    RaftPeerStatus ps;
    ps.id = p.id;
    ps.raft_address = p.raft_address;
    auto info = peers_.find(p.id);
    if (p.id == options_.id) {
      ps.client_address = options_.client_address;
      ps.last_contact_ms = 0;
    } else if (info != peers_.end()) {
      ps.client_address = info->second.client_address;
      if (info->second.last_contact) {
        ps.last_contact_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 now - *info->second.last_contact)
                                 .count();
      }
    }
    auto pr = progress.find(p.id);
    if (pr != progress.end()) {
      ps.match_index = p.id == options_.id ? st.last_index : pr->second.match();
      ps.next_index = p.id == options_.id ? st.last_index + 1 : pr->second.next();
      ps.state = Progress::StateName(pr->second.state());
    }
    st.peers.push_back(std::move(ps));
  }
  return st;
}

// ---- RaftNode -------------------------------------------------------------------------------

Result<std::unique_ptr<RaftNode>> RaftNode::Start(RaftNodeOptions options, RaftStateMachine* sm) {
  auto impl = std::make_unique<Impl>(std::move(options), sm);
  Status s = impl->Start();
  if (!s.ok()) {
    impl->Stop();
    return s;
  }
  return std::unique_ptr<RaftNode>(new RaftNode(std::move(impl)));
}

RaftNode::RaftNode(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RaftNode::~RaftNode() { Stop(); }
Result<std::pair<Term, Index>> RaftNode::Propose(std::string data) {
  return impl_->Propose(std::move(data));
}
Status RaftNode::CheckRead() const { return impl_->CheckRead(); }
bool RaftNode::IsLeader() const { return impl_->IsLeader(); }
std::string RaftNode::LeaderClientAddress() const { return impl_->LeaderClientAddress(); }
RaftStatus RaftNode::GetStatus() const { return impl_->GetStatus(); }
void RaftNode::SetLeadershipListener(std::function<void(bool is_leader, Term term)> listener) {
  impl_->SetLeadershipListener(std::move(listener));
}
void RaftNode::Stop() { impl_->Stop(); }

}  // namespace talus::raft
