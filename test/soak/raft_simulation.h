#pragma once

// Randomized simulation of the pure Raft core (raft/core), shared by the unit test
// (test/unit/raft_simulation_test.cc, 1,000 seeds) and the soak test (test/soak/
// raft_soak_test.cc, many more). A fake network drops, delays, duplicates, reorders and
// partitions; nodes crash and restart from what they persisted (their commit index persisted
// lazily, their state machine from its last checkpoint); nodes checkpoint and compact their logs
// at random, so lagging followers catch up by snapshot transfers that may be delayed or fail.
// Every run is determined by its seed. The Raft invariants are checked as the run goes; the
// first violation stops the run and is kept in violation() (no gtest here, so a test can also
// assert that a deliberately broken core IS caught).

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "raft/core/raft_core.h"

namespace talus::raft::sim {

struct SimOptions {
  int nodes = 3;
  int steps = 600;  // faulty steps; then the network heals and the group must recover
  UnsafeTestingBreak break_rule = UnsafeTestingBreak::kNone;
  int lease_ticks = 8;  // of election_ticks 10
  // Per step: a new partition (half of them a random set of cut links rather than two sides),
  // healing it, each node crashing, the leaders going quiet or busy again (a quiet leader
  // proposes nothing, so a node that stopped hearing it may still have an up-to-date log);
  // per message: dropping it.
  double partition_chance = 0.03;
  double quiet_chance = 0.03;
  double heal_chance = 0.02;
  double crash_chance = 0.01;
  double drop_chance = 0.15;
  int max_delay = 4;  // ticks a message may take
};

class Simulation {
 public:
  Simulation(uint64_t seed, SimOptions options) : rng_(seed), seed_(seed), options_(options) {
    for (int i = 1; i <= options.nodes; ++i) ids_.push_back(i);
    for (NodeId id : ids_) Restart(id);
  }

  // Runs the faulty phase, heals, and checks the group recovers. False on a violation.
  bool Run() {
    for (int s = 0; s < options_.steps && ok(); ++s) StepOnce();
    faults_off_ = true;
    cut_.clear();
    for (NodeId id : ids_) {
      if (!nodes_.at(id).core) nodes_.at(id).down_until = 0;
    }
    for (int s = 0; s < 200 && ok(); ++s) StepOnce();
    if (!ok()) return false;
    NodeId leader = kNoNode;
    for (NodeId id : ids_) {
      if (nodes_.at(id).core->role() == Role::kLeader) leader = id;
    }
    if (leader == kNoNode) return Fail("no leader after healing");
    auto index = nodes_.at(leader).core->Propose("final");
    if (!index.ok()) return Fail("the leader refused a proposal: " + index.status().ToString());
    for (int s = 0; s < 100 && ok(); ++s) StepOnce();
    for (NodeId id : ids_) {
      if (ok() && nodes_.at(id).applied.size() < *index) {
        Fail("node " + std::to_string(id) + " did not catch up after healing");
      }
    }
    return ok();
  }

  bool ok() const { return violation_.empty(); }
  // "seed S: what broke", empty while every invariant holds.
  const std::string& violation() const { return violation_; }
  size_t committed() const { return committed_.size(); }
  int snapshots_installed() const { return snapshots_installed_; }
  int lease_checks() const { return lease_checks_; }

 private:
  struct SimNode {
    MemoryStorage storage;         // survives crashes
    std::vector<Entry> durable;    // the state machine's last checkpoint; survives crashes
    std::unique_ptr<Core> core;    // null while crashed
    std::vector<Entry> applied;    // the state machine: entries 1..n in order
    int down_until = 0;
    int incarnation = 0;
  };
  struct InFlight {
    int deliver_at;
    Message msg;
  };
  // A snapshot streamed from `msg.from` to `msg.to`: delivered (msg.snapshot set to what `data`
  // holds) or failed at deliver_at; the sender learns the outcome through ReportSnapshot.
  struct Transfer {
    int deliver_at;
    Message msg;
    std::vector<Entry> data;
    int sender_incarnation;
    bool fails;
  };

  bool Fail(const std::string& what) {
    if (violation_.empty()) {
      violation_ = "seed " + std::to_string(seed_) + " (step " + std::to_string(now_) + "): " + what;
    }
    return false;
  }

  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  void Restart(NodeId id) {
    SimNode& n = nodes_[id];
    Config c;
    c.id = id;
    c.peers = ids_;
    c.election_ticks = 10;
    c.heartbeat_ticks = 2;
    c.max_inflight = 3;
    c.max_entries_per_msg = 1;
    c.seed = seed_;
    c.lease_ticks = options_.lease_ticks;
    c.unsafe_testing_break = options_.break_rule;
    c.applied = n.durable.size();
    auto core = Core::Create(c, &n.storage);
    if (!core.ok()) {
      Fail("node " + std::to_string(id) + " cannot restart: " + core.status().ToString());
      return;
    }
    n.core = std::move(core).value();
    n.applied = n.durable;  // the state machine reopens from its checkpoint
    ++n.incarnation;
  }

  void Collect(NodeId id) {
    SimNode& n = nodes_.at(id);
    while (ok() && n.core->HasReady()) {
      Ready rd = n.core->TakeReady();
      if (rd.snapshot) InstallSnapshot(id, *rd.snapshot);
      n.storage.Append(rd.entries);  // persisted before any message leaves
      if (rd.hard_state) {
        HardState stored = n.storage.LoadHardState();
        bool commit_only = stored.term == rd.hard_state->term && stored.vote == rd.hard_state->vote;
        // A commit-only change is written without a sync: a crash may lose it.
        if (!(commit_only && Chance(0.5))) n.storage.SetHardState(*rd.hard_state);
      }
      for (Entry& e : rd.committed) Apply(id, std::move(e));
      for (Message& m : rd.messages) {
        if (m.type == MessageType::kInstallSnapshot) {
          StartTransfer(std::move(m));
        } else {
          Send(std::move(m));
        }
      }
    }
  }

  void Send(Message m) {
    if (!faults_off_ && Chance(options_.drop_chance)) return;
    int delay = faults_off_ ? 1 : Uniform(1, options_.max_delay);
    if (!faults_off_ && Chance(0.02)) net_.push_back({now_ + Uniform(1, 6), m});  // duplicated
    net_.push_back({now_ + delay, std::move(m)});
  }

  // The owner's side of a kInstallSnapshot: the sender's state machine as it is now (it holds
  // at least the named index: nodes compact only what they applied).
  void StartTransfer(Message m) {
    const SimNode& from = nodes_.at(m.from);
    if (from.applied.size() < m.snapshot.index) {
      Fail("node " + std::to_string(m.from) + " named snapshot " +
           std::to_string(m.snapshot.index) + " beyond its state machine");
      return;
    }
    Transfer t;
    t.data = from.applied;
    if (t.data.back().term > m.term) t.data.resize(m.snapshot.index);
    m.snapshot = SnapshotMeta{t.data.size(), t.data.back().term};
    t.msg = std::move(m);
    t.sender_incarnation = from.incarnation;
    t.fails = !faults_off_ && Chance(0.2);
    t.deliver_at = now_ + (faults_off_ ? 2 : Uniform(2, 12));
    transfers_.push_back(std::move(t));
  }

  void FinishTransfer(Transfer& t) {
    NodeId to = t.msg.to, from = t.msg.from;
    SimNode& receiver = nodes_.at(to);
    bool delivered = !t.fails && receiver.core && Connected(from, to);
    if (delivered) {
      staged_[to] = std::move(t.data);
      Status s = receiver.core->Step(t.msg);
      if (!s.ok()) {
        Fail("InstallSnapshot refused: " + s.ToString());
        return;
      }
      Collect(to);
    }
    SimNode& sender = nodes_.at(from);
    if (ok() && sender.core && sender.incarnation == t.sender_incarnation) {
      sender.core->ReportSnapshot(to, delivered);
      Collect(from);
    }
  }

  void InstallSnapshot(NodeId id, const SnapshotMeta& meta) {
    SimNode& n = nodes_.at(id);
    auto it = staged_.find(id);
    if (it == staged_.end() || it->second.size() != meta.index ||
        it->second.back().term != meta.term) {
      Fail("node " + std::to_string(id) + " installed a snapshot it was not sent");
      return;
    }
    const std::vector<Entry>& data = it->second;
    if (data.size() > committed_.size()) {
      Fail("a snapshot holds uncommitted entries");
      return;
    }
    for (size_t i = 0; i < data.size(); ++i) {
      if (!(data[i] == committed_[i])) {
        Fail("state machine safety broken by a snapshot at index " + std::to_string(i + 1));
        return;
      }
    }
    n.applied = data;
    n.durable = data;  // installed durably
    n.storage.ResetToSnapshot(meta);
    ++snapshots_installed_;
  }

  void Apply(NodeId id, Entry e) {
    SimNode& n = nodes_.at(id);
    if (e.index != n.applied.size() + 1) {
      Fail("node " + std::to_string(id) + " applied index " + std::to_string(e.index) +
           " after " + std::to_string(n.applied.size()));
      return;
    }
    if (e.index <= committed_.size()) {
      if (!(committed_[e.index - 1] == e)) {
        Fail("state machine safety broken at index " + std::to_string(e.index) + " on node " +
             std::to_string(id));
        return;
      }
      commit_term_[e.index - 1] = std::min(commit_term_[e.index - 1], n.core->term());
    } else {
      committed_.push_back(e);
      commit_term_.push_back(n.core->term());
    }
    n.applied.push_back(std::move(e));
  }

  // The owner checkpoints its state machine now and then and compacts the log up to (at most)
  // what the checkpoint holds.
  void MaybeCompact(NodeId id) {
    SimNode& n = nodes_.at(id);
    if (!Chance(0.04)) return;
    n.durable = n.applied;
    Index lo = n.core->snapshot().index, hi = n.durable.size();
    if (hi <= lo) return;
    Index index = Chance(0.5) ? hi : lo + Uniform(1, static_cast<int>(hi - lo));
    SnapshotMeta meta{index, n.core->TermAt(index)};
    Status s = n.core->Compact(index);
    if (!s.ok()) {
      Fail("Compact(" + std::to_string(index) + ") refused: " + s.ToString());
      return;
    }
    n.storage.Compact(meta);
  }

  bool Connected(NodeId a, NodeId b) const {
    return faults_off_ || !cut_.count({std::min(a, b), std::max(a, b)});
  }

  void NewPartition() {
    cut_.clear();
    if (Chance(0.5)) {  // two sides
      std::set<NodeId> side;
      for (NodeId id : ids_) {
        if (Chance(0.4)) side.insert(id);
      }
      for (NodeId a : ids_) {
        for (NodeId b : ids_) {
          if (a < b && side.count(a) != side.count(b)) cut_.insert({a, b});
        }
      }
    } else {  // some links cut: not even transitive reachability
      for (NodeId a : ids_) {
        for (NodeId b : ids_) {
          if (a < b && Chance(0.3)) cut_.insert({a, b});
        }
      }
    }
  }

  void StepOnce() {
    ++now_;
    if (!faults_off_) {
      if (Chance(options_.partition_chance)) {
        NewPartition();
      } else if (Chance(options_.heal_chance)) {
        cut_.clear();
      }
      if (Chance(options_.quiet_chance)) quiet_ = !quiet_;
      for (NodeId id : ids_) {
        SimNode& n = nodes_.at(id);
        if (n.core && Chance(options_.crash_chance)) {
          n.core.reset();
          n.down_until = now_ + Uniform(1, 40);
        }
      }
    }
    for (NodeId id : ids_) {
      SimNode& n = nodes_.at(id);
      if (!n.core && now_ >= n.down_until) Restart(id);
      if (!ok()) return;
      if (!n.core) continue;
      n.core->Tick();
      if (n.core->role() == Role::kLeader && !(quiet_ && !faults_off_) && Chance(0.3)) {
        if (!n.core->Propose("v" + std::to_string(next_value_++)).ok()) {
          Fail("a leader refused a proposal");
          return;
        }
      }
      Collect(id);
      if (!ok()) return;
      MaybeCompact(id);
    }
    // Deliver what is due, in random order.
    std::vector<Message> due;
    std::vector<InFlight> later;
    for (InFlight& f : net_) {
      (f.deliver_at <= now_ ? due.push_back(std::move(f.msg)) : later.push_back(std::move(f)));
    }
    net_ = std::move(later);
    std::shuffle(due.begin(), due.end(), rng_);
    for (Message& m : due) {
      SimNode& n = nodes_.at(m.to);
      if (!n.core || !Connected(m.from, m.to)) continue;
      Status s = n.core->Step(m);
      if (!s.ok()) {
        Fail(std::string("a ") + MessageTypeName(m.type) + " was refused: " + s.ToString());
        return;
      }
      Collect(m.to);
      if (!ok()) return;
    }
    std::vector<Transfer> transfers;
    transfers.swap(transfers_);
    for (Transfer& t : transfers) {
      if (t.deliver_at > now_) {
        transfers_.push_back(std::move(t));
      } else {
        FinishTransfer(t);
        if (!ok()) return;
      }
    }
    CheckInvariants();
  }

  // The committed entry at index on node n: from its log, or from its state machine when the
  // log no longer holds it. False when n holds nothing at index.
  bool Holds(const SimNode& n, Index index, const Entry& want) const {
    if (index >= n.core->first_index()) {
      return index <= n.core->last_index() && n.core->EntryAt(index) == want;
    }
    return index <= n.applied.size() && n.applied[index - 1] == want;
  }

  void CheckInvariants() {
    // Election safety: at most one leader per term, ever.
    for (NodeId id : ids_) {
      const SimNode& n = nodes_.at(id);
      if (!n.core || n.core->role() != Role::kLeader) continue;
      auto [it, inserted] = leaders_.emplace(n.core->term(), id);
      if (it->second != id) {
        Fail("two leaders in term " + std::to_string(n.core->term()));
        return;
      }
    }
    for (NodeId id : ids_) {
      const SimNode& n = nodes_.at(id);
      if (!n.core || n.core->role() != Role::kLeader) continue;
      // Leader completeness: a leader holds every entry committed in an earlier term.
      for (size_t i = 0; i < committed_.size(); ++i) {
        if (commit_term_[i] < n.core->term() && !Holds(n, i + 1, committed_[i])) {
          Fail("leader " + std::to_string(id) + " lacks committed index " + std::to_string(i + 1));
          return;
        }
      }
      // Read lease: a leader that may serve reads (lease held, an entry of its term applied)
      // holds every entry any node committed so far, so a read there sees every acknowledged
      // write. Stronger, and what makes that so: nobody leads a later term meanwhile.
      if (n.core->HasReadLease() && n.core->applied() >= n.core->TermStartIndex()) {
        ++lease_checks_;
        for (NodeId other : ids_) {
          const SimNode& o = nodes_.at(other);
          if (o.core && o.core->role() == Role::kLeader && o.core->term() > n.core->term()) {
            Fail("leader " + std::to_string(id) + " of term " + std::to_string(n.core->term()) +
                 " holds a read lease while " + std::to_string(other) + " leads term " +
                 std::to_string(o.core->term()));
            return;
          }
        }
        for (size_t i = 0; i < committed_.size(); ++i) {
          if (!Holds(n, i + 1, committed_[i])) {
            Fail("leader " + std::to_string(id) + " holds a read lease but lacks committed index " +
                 std::to_string(i + 1));
            return;
          }
        }
      }
    }
    // Log matching, every few steps (it is the costly one): same index and term, same prefix.
    if (now_ % 5 != 0) return;
    for (size_t a = 0; a < ids_.size(); ++a) {
      for (size_t b = a + 1; b < ids_.size(); ++b) {
        const SimNode& x = nodes_.at(ids_[a]);
        const SimNode& y = nodes_.at(ids_[b]);
        if (!x.core || !y.core) continue;
        Index lo = std::max(x.core->first_index(), y.core->first_index());
        Index i = std::min(x.core->last_index(), y.core->last_index());
        while (i >= lo && x.core->TermAt(i) != y.core->TermAt(i)) --i;
        for (; i >= lo; --i) {
          if (!(x.core->EntryAt(i) == y.core->EntryAt(i))) {
            Fail("log matching broken at " + std::to_string(i));
            return;
          }
        }
      }
    }
  }

  std::mt19937_64 rng_;
  uint64_t seed_;
  SimOptions options_;
  std::vector<NodeId> ids_;
  std::map<NodeId, SimNode> nodes_;
  std::vector<InFlight> net_;
  std::vector<Transfer> transfers_;
  std::map<NodeId, std::vector<Entry>> staged_;  // the snapshot a node's core is about to take
  std::set<std::pair<NodeId, NodeId>> cut_;  // links down, (lower id, higher id)
  bool faults_off_ = false;
  bool quiet_ = false;
  int now_ = 0;
  uint64_t next_value_ = 0;
  std::vector<Entry> committed_;   // index i + 1: the one entry ever applied there
  std::vector<Term> commit_term_;  // an upper bound of the term that committed it
  std::map<Term, NodeId> leaders_;
  std::string violation_;
  int snapshots_installed_ = 0;
  int lease_checks_ = 0;
};

}  // namespace talus::raft::sim
