// Client histories against real namenodes, checked for linearizability
// (test/support/linearizability.h): concurrent clients run random mkdir, create, rename, delete
// and getFileInfo on a few paths while the Raft leader is killed with SIGKILL and restarted;
// every answer must fit one sequential order that respects real time, the new leader must serve
// a mutation within 3 s (test Raft timings), and nothing acknowledged may be lost. The same
// check is run once against a deliberately broken group (followers serving reads from their
// own state, --raft_unsafe_stale_reads) to show it catches what it is meant to.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "talus/file_system.h"
#include "test/support/linearizability.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::lin::CheckHistory;
using test::lin::CheckOptions;
using test::lin::CheckResult;
using test::lin::History;
using test::lin::HistoryRecorder;
using test::lin::Operation;
using test::lin::OpKind;
using test::lin::Outcome;
using test::lin::RandomClientsOptions;
using test::lin::Verdict;

const std::vector<std::string> kGroups = {"/lin/g0", "/lin/g1", "/lin/g2", "/lin/g3",
                                          "/lin/g4", "/lin/g5", "/lin/g6", "/lin/g7"};

ClientOptions TestClientOptions() {
  ClientOptions options;
  options.rpc_timeout_ms = 5000;
  options.retry_deadline_ms = 15000;
  return options;
}

// Makes the groups' directories (before the recorded history: the checker's initial state).
void MakeGroups(const std::string& uri) {
  auto fs = FileSystem::Connect(uri, TestClientOptions());
  ASSERT_TRUE(fs.ok()) << fs.status();
  for (const std::string& g : kGroups) ASSERT_TRUE((*fs)->Mkdirs(g).ok()) << g;
}

size_t CountOps(const HistoryRecorder& recorder) { return recorder.Snapshot().size(); }

// Reads every path once more, one after another, into the history: what the namespace holds at
// the end is part of what must be linearizable.
void FinalReads(const std::string& uri, HistoryRecorder& recorder) {
  auto fs = FileSystem::Connect(uri, TestClientOptions());
  ASSERT_TRUE(fs.ok()) << fs.status();
  for (const std::string& path : test::lin::RandomClientPaths(kGroups)) {
    Operation op;
    op.client = 99;
    op.kind = OpKind::kGetFileInfo;
    op.path = path;
    test::lin::RunRecordedOp(**fs, recorder, op);
  }
}

struct Tally {
  size_t ops = 0;
  size_t mutations_ok = 0;
  size_t known = 0;
  size_t unknown = 0;
};

Tally Count(const History& h) {
  Tally t;
  t.ops = h.size();
  for (const Operation& op : h) {
    if (op.outcome == Outcome::kUnknown) {
      ++t.unknown;
    } else {
      ++t.known;
    }
    if (op.IsMutation() && op.outcome == Outcome::kOk) ++t.mutations_ok;
  }
  return t;
}

// Checks the history; a violation prints the part of the history that failed.
CheckResult CheckAndReport(const History& h) {
  const auto start = std::chrono::steady_clock::now();
  CheckResult r = CheckHistory(h, CheckOptions{kGroups});
  const auto took = std::chrono::steady_clock::now() - start;
  const Tally t = Count(h);
  std::cout << "history: " << t.ops << " operations (" << t.mutations_ok
            << " successful mutations, " << t.unknown << " of unknown outcome), " << r.parts
            << " parts; checked in " << std::chrono::duration_cast<milliseconds>(took).count()
            << " ms, " << r.steps << " steps: " << test::lin::VerdictName(r.verdict) << "\n";
  if (r.verdict == Verdict::kViolation) {
    History part;
    for (size_t i : r.part_ops) part.push_back(h[i]);
    std::cout << "the part that is not linearizable:\n"
              << test::lin::FormatHistory(part) << r.explanation << "\n";
  }
  return r;
}

std::vector<std::string> LostPaths(const std::string& uri, const History& h) {
  auto fs = FileSystem::Connect(uri, TestClientOptions());
  if (!fs.ok()) return {"cannot connect: " + fs.status().ToString()};
  return test::lin::LostAcknowledgedPaths(h, [&](const std::string& path) {
    return test::lin::OutcomeOfFileInfo((*fs)->GetFileInfo(path));
  });
}

// The model matches the real namespace: a fault-free history against one namenode.
TEST(NamenodeFailoverTest, SingleNamenodeHistoryIsLinearizable) {
  auto started = test::MiniCluster::Start();
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<test::MiniCluster> cluster = std::move(*started);
  MakeGroups(cluster->uri());
  HistoryRecorder recorder;
  RandomClientsOptions options;
  options.clients = 4;
  options.groups = kGroups;
  options.duration = seconds(3);
  options.max_ops_per_client = 1500;
  options.seed = 11;
  options.client_options = TestClientOptions();
  ASSERT_TRUE(test::lin::RunRandomClients(cluster->uri(), options, recorder).ok());
  FinalReads(cluster->uri(), recorder);
  const History h = recorder.Snapshot();
  const Tally t = Count(h);
  EXPECT_EQ(t.unknown, 0u);  // nothing failed: every answer is checked
  EXPECT_GT(t.mutations_ok, 100u);
  // Every kind of answer the model knows about showed up at least once.
  std::set<Outcome> seen;
  for (const Operation& op : h) seen.insert(op.outcome);
  for (Outcome o : {Outcome::kOk, Outcome::kFalse, Outcome::kNotFound, Outcome::kAlreadyExists,
                    Outcome::kIsADirectory, Outcome::kNotADirectory, Outcome::kNotEmpty,
                    Outcome::kFile, Outcome::kDirectory}) {
    EXPECT_TRUE(seen.count(o)) << "no operation answered " << test::lin::OutcomeName(o);
  }
  EXPECT_EQ(CheckAndReport(h).verdict, Verdict::kLinearizable);
  EXPECT_EQ(LostPaths(cluster->uri(), h), std::vector<std::string>{});
}

TEST(NamenodeFailoverTest, LeaderKilledUnderConcurrentClientsStaysLinearizable) {
  test::MiniClusterOptions cluster_options;
  cluster_options.namenodes = 3;
  cluster_options.datanodes = 3;
  auto started = test::MiniCluster::Start(cluster_options);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<test::MiniCluster> cluster = std::move(*started);
  MakeGroups(cluster->uri());

  HistoryRecorder recorder;
  std::atomic<bool> stop{false};
  RandomClientsOptions options;
  options.clients = 4;
  options.groups = kGroups;
  options.duration = seconds(40);  // a bound; `stop` ends the run
  options.max_ops_per_client = 20000;
  options.seed = 23;
  options.client_options = TestClientOptions();
  options.stop = &stop;
  Status run;
  std::thread clients(
      [&] { run = test::lin::RunRandomClients(cluster->uri(), options, recorder); });
  struct StopClients {
    std::atomic<bool>& stop;
    std::thread& clients;
    ~StopClients() {
      stop = true;
      if (clients.joinable()) clients.join();
    }
  } stop_clients{stop, clients};

  ASSERT_TRUE(test::WaitFor([&] { return CountOps(recorder) >= 1000; }, seconds(20)))
      << "the clients made no progress before the kill";
  Result<int> leader = cluster->LeaderIndex();
  ASSERT_TRUE(leader.ok()) << leader.status();
  const int64_t kill_ns = recorder.NowNs();
  ASSERT_TRUE(cluster->KillNamenode(*leader, SIGKILL).ok());
  const int64_t dead_ns = recorder.NowNs();  // reaped: nothing it answers comes after this

  // The first mutation called after the old leader was dead that succeeded, counted from the
  // kill: an upper bound of the failover time as a client sees it.
  int64_t first_ok_ns = -1;
  std::string first_ok;
  const bool served = test::WaitFor(
      [&] {
        for (const Operation& op : recorder.Snapshot()) {
          if (op.IsMutation() && op.outcome == Outcome::kOk && op.call_ns >= dead_ns &&
              (first_ok_ns < 0 || op.return_ns < first_ok_ns)) {
            first_ok_ns = op.return_ns;
            first_ok = op.Describe();
          }
        }
        return first_ok_ns >= 0;
      },
      seconds(15));
  ASSERT_TRUE(served) << "no mutation succeeded within 15 s of killing the leader";
  const double failover_ms = static_cast<double>(first_ok_ns - kill_ns) / 1e6;
  std::cout << "leader (namenode " << *leader << ") SIGKILLed: first successful mutation "
            << failover_ms << " ms later (" << first_ok << "; the kill itself took "
            << static_cast<double>(dead_ns - kill_ns) / 1e6 << " ms)\n";
  EXPECT_LT(failover_ms, 3000.0);

  // Let the new leader work, bring the old one back as a follower, and go on.
  const size_t after_failover = CountOps(recorder);
  ASSERT_TRUE(
      test::WaitFor([&] { return CountOps(recorder) >= after_failover + 1000; }, seconds(20)));
  ASSERT_TRUE(cluster->RestartNamenode(*leader).ok());
  const size_t after_restart = CountOps(recorder);
  ASSERT_TRUE(
      test::WaitFor([&] { return CountOps(recorder) >= after_restart + 1000; }, seconds(20)));
  stop = true;
  clients.join();
  ASSERT_TRUE(run.ok()) << run;

  FinalReads(cluster->uri(), recorder);
  const History h = recorder.Snapshot();
  const CheckResult r = CheckAndReport(h);
  EXPECT_EQ(r.verdict, Verdict::kLinearizable) << r.explanation;
  EXPECT_EQ(LostPaths(cluster->uri(), h), std::vector<std::string>{});
}

// The check catches a broken group: a follower cut off from the others that serves reads from
// its own, frozen state (--raft_unsafe_stale_reads), read by clients that talk only to it,
// while writers go on with the majority.
TEST(NamenodeFailoverTest, StaleFollowerReadsAreCaught) {
  test::MiniClusterOptions cluster_options;
  cluster_options.namenodes = 3;
  cluster_options.extra_flags = {"--raft_unsafe_stale_reads=true"};
  auto started = test::MiniCluster::Start(cluster_options);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<test::MiniCluster> cluster = std::move(*started);
  MakeGroups(cluster->uri());
  Result<int> leader = cluster->LeaderIndex();
  ASSERT_TRUE(leader.ok()) << leader.status();
  const int follower = (*leader + 1) % 3;
  // The follower is cut off from both others (it blocks them; they block it).
  std::vector<int> others;
  for (int i = 0; i < 3; ++i) {
    if (i != follower) others.push_back(i + 1);
  }
  ASSERT_TRUE(cluster->SetBlockedPeers(follower, others).ok());
  for (int i = 0; i < 3; ++i) {
    if (i != follower) {
      ASSERT_TRUE(cluster->SetBlockedPeers(i, {follower + 1}).ok());
    }
  }

  HistoryRecorder recorder;
  RandomClientsOptions options;
  options.clients = 2;
  options.reader_uris = {"talus://" + cluster->namenode_address(follower),
                         "talus://" + cluster->namenode_address(follower)};
  options.groups = kGroups;
  options.duration = seconds(3);
  options.max_ops_per_client = 1000;
  options.seed = 5;
  options.client_options = TestClientOptions();
  ASSERT_TRUE(test::lin::RunRandomClients(cluster->uri(), options, recorder).ok());
  const History h = recorder.Snapshot();
  EXPECT_GT(Count(h).mutations_ok, 50u);
  const CheckResult r = CheckAndReport(h);
  EXPECT_EQ(r.verdict, Verdict::kViolation) << "stale reads went unnoticed";
  EXPECT_NE(r.explanation.find("getFileInfo"), std::string::npos) << r.explanation;
}

}  // namespace
}  // namespace talus
