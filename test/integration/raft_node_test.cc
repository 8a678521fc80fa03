// RaftNode end to end: three members in one process on loopback ports, real DiskStorage and the
// Thrift transport, a toy state machine (a list of applied strings). Checks what an owner of
// the node sees: one leader, the same history applied everywhere, failover, an isolated leader
// stepping down, a follower catching up by snapshot, and a restart of the whole group.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include "common/metrics/metrics.h"
#include "common/rpc/thrift_status.h"
#include "common/crc32c.h"
#include "raft/node/raft_node.h"
#include "raft/transport/snapshot_receiver.h"
#include "raft/transport/transport.h"
#include "talus_rpc/RaftService.h"
#include "test/support/mini_cluster.h"

namespace talus::raft {
namespace {

using std::chrono::milliseconds;
using test::WaitFor;

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Applied strings in order. Its durable state is what the last Checkpoint saw: CrashToDurable
// drops everything after it, as a process crash would.
class ToyStateMachine : public RaftStateMachine {
 public:
  Index LastAppliedIndex() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }
  void Apply(const std::vector<Entry>& committed) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Entry& e : committed) {
      EXPECT_EQ(e.index, last_ + 1) << "applied out of order";
      if (!e.data.empty()) values_.push_back(e.data);
      last_ = e.index;
    }
  }
  Result<Index> Checkpoint() override {
    std::lock_guard<std::mutex> lock(mu_);
    durable_values_ = values_;
    durable_last_ = last_;
    ++checkpoints_;
    return last_;
  }
  Result<Index> WriteSnapshot(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << last_ << "\n" << values_.size() << "\n";
    for (const std::string& v : values_) out << v.size() << " " << v << "\n";
    out.flush();
    if (!out) return Status::IoError("cannot write " + path);
    return last_;
  }
  Result<bool> InstallSnapshot(const std::string& path, const SnapshotMeta& meta) override {
    if (stage_) {
      // As the namenode does: keep the image aside; it replaces the state at the next start.
      std::lock_guard<std::mutex> lock(mu_);
      std::ifstream src(path, std::ios::binary);
      staged_image_.assign(std::istreambuf_iterator<char>(src), std::istreambuf_iterator<char>());
      staged_meta_ = meta;
      return true;
    }
    std::ifstream in(path, std::ios::binary);
    Index last = 0;
    size_t n = 0;
    in >> last >> n;
    std::vector<std::string> values;
    for (size_t i = 0; i < n && in; ++i) {
      size_t len = 0;
      in >> len;
      in.get();
      std::string v(len, '\0');
      in.read(v.data(), static_cast<std::streamsize>(len));
      values.push_back(std::move(v));
    }
    if (!in || last != meta.index) return Status::Corruption("bad toy snapshot " + path);
    std::lock_guard<std::mutex> lock(mu_);
    values_ = values;
    last_ = last;
    durable_values_ = values;  // "durably, before returning"
    durable_last_ = last;
    ++installs_;
    return false;
  }

  void set_stage(bool stage) { stage_ = stage; }
  // The restart after a staged install: the image becomes the state. Returns what it holds.
  SnapshotMeta SwapInStaged() {
    SnapshotMeta meta;
    std::string image;
    {
      std::lock_guard<std::mutex> lock(mu_);
      meta = staged_meta_;
      image = staged_image_;
    }
    const std::string tmp = ::testing::TempDir() + "/staged-" + std::to_string(::getpid());
    std::ofstream(tmp, std::ios::binary) << image;
    stage_ = false;
    EXPECT_TRUE(InstallSnapshot(tmp, meta).ok());
    ::unlink(tmp.c_str());
    return meta;
  }

  void CrashToDurable() {
    std::lock_guard<std::mutex> lock(mu_);
    values_ = durable_values_;
    last_ = durable_last_;
  }
  std::vector<std::string> values() const {
    std::lock_guard<std::mutex> lock(mu_);
    return values_;
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return values_.size();
  }
  int installs() const {
    std::lock_guard<std::mutex> lock(mu_);
    return installs_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> values_;
  Index last_ = 0;
  std::vector<std::string> durable_values_;
  Index durable_last_ = 0;
  int checkpoints_ = 0;
  int installs_ = 0;
  std::atomic<bool> stage_{false};
  std::string staged_image_;
  SnapshotMeta staged_meta_;
};

class Group {
 public:
  explicit Group(int n = 3, uint64_t checkpoint_every = 100000, uint64_t retention = 10000) {
    for (int i = 0; i < n; ++i) {
      peers_.push_back(RaftPeer{static_cast<NodeId>(i + 1),
                                "127.0.0.1:" + std::to_string(FreePort())});
      sms_.push_back(std::make_unique<ToyStateMachine>());
      nodes_.emplace_back();
    }
    checkpoint_every_ = checkpoint_every;
    retention_ = retention;
  }
  ~Group() {
    for (auto& n : nodes_) {
      if (n) n->Stop();
    }
  }

  RaftNodeOptions Options(int i) const {
    RaftNodeOptions o;
    o.id = static_cast<NodeId>(i + 1);
    o.peers = peers_;
    o.dir = dir_.path() + "/node" + std::to_string(i + 1);
    o.client_address = "client-" + std::to_string(i + 1) + ":1";
    o.tick_ms = 20;
    o.election_ticks = 10;
    o.lease_ticks = 8;
    o.checkpoint_every_entries = checkpoint_every_;
    o.log_retention_entries = retention_;
    o.snapshot_chunk_bytes = 1024;  // several chunks even for a small snapshot
    o.enable_fault_injection = true;
    return o;
  }

  void Start(int i, const std::function<void(RaftNodeOptions&)>& tweak = nullptr) {
    RaftNodeOptions options = Options(i);
    if (tweak) tweak(options);
    auto node = RaftNode::Start(options, sms_[i].get());
    ASSERT_TRUE(node.ok()) << node.status();
    nodes_[i] = std::move(*node);
  }
  void StartAll() {
    for (size_t i = 0; i < nodes_.size(); ++i) Start(static_cast<int>(i));
  }
  void Stop(int i) {
    nodes_[i]->Stop();
    nodes_[i].reset();
  }

  RaftNode* node(int i) { return nodes_[i].get(); }
  ToyStateMachine& sm(int i) { return *sms_[i]; }
  const std::string& raft_address(int i) const { return peers_[i].raft_address; }
  int size() const { return static_cast<int>(nodes_.size()); }

  // The one running node that leads and may serve reads; -1 if none or more than one.
  int Leader(const std::set<int>& among = {}) {
    int found = -1;
    for (int i = 0; i < size(); ++i) {
      if (!nodes_[i] || (!among.empty() && !among.count(i))) continue;
      if (nodes_[i]->IsLeader() && nodes_[i]->CheckRead().ok()) {
        if (found != -1) return -1;
        found = i;
      }
    }
    return found;
  }
  int WaitForLeader(milliseconds timeout, const std::set<int>& among = {}) {
    int leader = -1;
    WaitFor([&] { return (leader = Leader(among)) >= 0; }, timeout);
    return leader;
  }

  // Proposes `value` to whichever node leads, retrying (bounded) while leadership moves.
  Status Propose(const std::string& value, const std::set<int>& among = {}) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    Status last = Status::Unavailable("no leader");
    while (std::chrono::steady_clock::now() < deadline) {
      int leader = -1;
      for (int i = 0; i < size(); ++i) {
        if (nodes_[i] && (among.empty() || among.count(i)) && nodes_[i]->IsLeader()) leader = i;
      }
      if (leader < 0) {
        WaitForLeader(milliseconds(500), among);
        continue;
      }
      auto r = nodes_[leader]->Propose(value);
      if (r.ok()) return Status::OK();
      last = r.status();
    }
    return last;
  }

 private:
  test::TempDir dir_;
  std::vector<RaftPeer> peers_;
  std::vector<std::unique_ptr<ToyStateMachine>> sms_;
  std::vector<std::unique_ptr<RaftNode>> nodes_;
  uint64_t checkpoint_every_;
  uint64_t retention_;
};

bool AllEqual(Group& g, const std::vector<int>& members, size_t at_least) {
  std::vector<std::string> first = g.sm(members[0]).values();
  if (first.size() < at_least) return false;
  for (int m : members) {
    if (g.sm(m).values() != first) return false;
  }
  return true;
}

TEST(RaftNodeTest, ElectsOneLeaderAndAppliesTheSameHistoryEverywhere) {
  Group g;
  g.StartAll();
  const int leader = g.WaitForLeader(milliseconds(5000));
  ASSERT_GE(leader, 0);
  // Followers name the leader's client address.
  for (int i = 0; i < 3; ++i) {
    if (i == leader) continue;
    ASSERT_TRUE(WaitFor([&] { return g.node(i)->LeaderClientAddress() ==
                                      "client-" + std::to_string(leader + 1) + ":1"; },
                        milliseconds(3000)));
    Status read = g.node(i)->CheckRead();
    EXPECT_EQ(read.code(), ErrorCode::kNotLeader);
    EXPECT_EQ(read.detail(), "client-" + std::to_string(leader + 1) + ":1");
    auto p = g.node(i)->Propose("x");
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), ErrorCode::kNotLeader);
  }

  constexpr int kThreads = 4, kPerThread = 250;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!g.Propose("t" + std::to_string(t) + "-" + std::to_string(i)).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE(WaitFor([&] { return AllEqual(g, {0, 1, 2}, kThreads * kPerThread); },
                      milliseconds(20000)))
      << g.sm(0).size() << " " << g.sm(1).size() << " " << g.sm(2).size();
  std::vector<std::string> values = g.sm(0).values();
  std::set<std::string> unique(values.begin(), values.end());
  EXPECT_EQ(unique.size(), values.size()) << "an entry applied twice";
  EXPECT_EQ(values.size(), static_cast<size_t>(kThreads * kPerThread));
  // Each thread's proposals are applied in the order it made them.
  for (int t = 0; t < kThreads; ++t) {
    int next = 0;
    for (const std::string& v : values) {
      if (v.rfind("t" + std::to_string(t) + "-", 0) == 0) {
        EXPECT_EQ(v, "t" + std::to_string(t) + "-" + std::to_string(next));
        ++next;
      }
    }
  }

  RaftStatus st = g.node(leader)->GetStatus();
  EXPECT_EQ(st.role, "leader");
  EXPECT_GE(st.commit_index, static_cast<Index>(kThreads * kPerThread));
  ASSERT_EQ(st.peers.size(), 3u);
  for (const RaftPeerStatus& p : st.peers) {
    EXPECT_GE(p.match_index, static_cast<Index>(kThreads * kPerThread)) << p.id;
    EXPECT_GE(p.last_contact_ms, 0) << p.id;
    EXPECT_EQ(p.state, "replicate") << p.id;
  }

  const std::string text = metrics::DefaultRegistry().ExportText();
  for (const char* name : {"talus_raft_term ", "talus_raft_commit_index ", "talus_raft_is_leader ",
                           "talus_raft_messages_sent_total ", "talus_raft_messages_received_total ",
                           "talus_raft_persist_seconds_count "}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
}

TEST(RaftNodeTest, ANewLeaderTakesOverWhenTheLeaderStops) {
  Group g;
  g.StartAll();
  int leader = g.WaitForLeader(milliseconds(5000));
  ASSERT_GE(leader, 0);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(g.Propose("a" + std::to_string(i)).ok());
  ASSERT_TRUE(WaitFor([&] { return AllEqual(g, {0, 1, 2}, 20); }, milliseconds(5000)));

  const auto stopped_at = std::chrono::steady_clock::now();
  g.Stop(leader);
  std::set<int> rest;
  for (int i = 0; i < 3; ++i) {
    if (i != leader) rest.insert(i);
  }
  const int next = g.WaitForLeader(milliseconds(3000), rest);
  ASSERT_GE(next, 0) << "no new leader within 3 s";
  LOG(INFO) << "new leader after "
            << std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() -
                                                        stopped_at).count() << " ms";
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(g.Propose("b" + std::to_string(i), rest).ok());
  std::vector<int> live(rest.begin(), rest.end());
  ASSERT_TRUE(WaitFor([&] { return AllEqual(g, live, 40); }, milliseconds(5000)));

  // The old leader comes back as a follower and catches up.
  g.Start(leader);
  ASSERT_TRUE(WaitFor([&] { return AllEqual(g, {0, 1, 2}, 40); }, milliseconds(10000)));
}

TEST(RaftNodeTest, AnIsolatedLeaderStepsDownAndCommitsNothing) {
  Group g;
  g.StartAll();
  const int old = g.WaitForLeader(milliseconds(5000));
  ASSERT_GE(old, 0);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(g.Propose("a" + std::to_string(i)).ok());
  ASSERT_TRUE(WaitFor([&] { return AllEqual(g, {0, 1, 2}, 10); }, milliseconds(5000)));

  std::vector<NodeId> others;
  std::set<int> rest;
  for (int i = 0; i < 3; ++i) {
    if (i != old) {
      others.push_back(static_cast<NodeId>(i + 1));
      rest.insert(i);
    }
  }
  ASSERT_TRUE(SetRemoteBlockedPeers(g.raft_address(old), others).ok());
  const Index commit_at_isolation = g.node(old)->GetStatus().commit_index;
  // Accepted (it still believes it leads) but can never commit.
  auto doomed = g.node(old)->Propose("doomed");

  // It loses its read lease, then steps down (check-quorum).
  ASSERT_TRUE(WaitFor([&] { return !g.node(old)->CheckRead().ok(); }, milliseconds(2000)));
  ASSERT_TRUE(WaitFor([&] { return !g.node(old)->IsLeader(); }, milliseconds(3000)));
  const int next = g.WaitForLeader(milliseconds(5000), rest);
  ASSERT_GE(next, 0);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(g.Propose("b" + std::to_string(i), rest).ok());
  std::vector<int> live(rest.begin(), rest.end());
  ASSERT_TRUE(WaitFor([&] { return AllEqual(g, live, 20); }, milliseconds(5000)));
  EXPECT_EQ(g.node(old)->GetStatus().commit_index, commit_at_isolation);
  EXPECT_EQ(g.sm(old).size(), 10u);

  // Healed: it follows, its uncommitted entry is replaced, everyone holds the same history.
  ASSERT_TRUE(SetRemoteBlockedPeers(g.raft_address(old), {}).ok());
  ASSERT_TRUE(WaitFor([&] { return AllEqual(g, {0, 1, 2}, 20); }, milliseconds(10000)));
  for (const std::string& v : g.sm(old).values()) EXPECT_NE(v, "doomed");
  (void)doomed;
}

TEST(RaftNodeTest, AFollowerBehindTheCompactedLogCatchesUpBySnapshot) {
  Group g(3, /*checkpoint_every=*/50, /*retention=*/10);
  g.StartAll();
  const int leader = g.WaitForLeader(milliseconds(5000));
  ASSERT_GE(leader, 0);
  const int follower = (leader + 1) % 3;
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(g.Propose("a" + std::to_string(i)).ok());
  ASSERT_TRUE(WaitFor([&] { return AllEqual(g, {0, 1, 2}, 20); }, milliseconds(5000)));

  g.Stop(follower);
  g.sm(follower).CrashToDurable();
  std::set<int> rest;
  for (int i = 0; i < 3; ++i) {
    if (i != follower) rest.insert(i);
  }
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(g.Propose("b" + std::to_string(i), rest).ok());
  std::vector<int> live(rest.begin(), rest.end());
  ASSERT_TRUE(WaitFor([&] { return AllEqual(g, live, 320); }, milliseconds(10000)));
  // The leader's log no longer holds what the follower lacks.
  ASSERT_TRUE(WaitFor([&] {
    int l = g.Leader(rest);
    return l >= 0 && g.node(l)->GetStatus().first_index > 100;
  }, milliseconds(5000)));

  g.Start(follower);
  ASSERT_TRUE(WaitFor([&] { return AllEqual(g, {0, 1, 2}, 320); }, milliseconds(15000)))
      << "follower holds " << g.sm(follower).size();
  EXPECT_GE(g.sm(follower).installs(), 1);
  EXPECT_GT(g.node(follower)->GetStatus().snapshot.index, 0u);
  // And it keeps following by the log afterwards.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(g.Propose("c" + std::to_string(i)).ok());
  ASSERT_TRUE(WaitFor([&] { return AllEqual(g, {0, 1, 2}, 330); }, milliseconds(5000)));
}

TEST(RaftNodeTest, TheWholeGroupRestartsFromDisk) {
  Group g(3, /*checkpoint_every=*/40, /*retention=*/5);
  g.StartAll();
  ASSERT_GE(g.WaitForLeader(milliseconds(5000)), 0);
  for (int i = 0; i < 150; ++i) ASSERT_TRUE(g.Propose("a" + std::to_string(i)).ok());
  ASSERT_TRUE(WaitFor([&] { return AllEqual(g, {0, 1, 2}, 150); }, milliseconds(10000)));
  const std::vector<std::string> before = g.sm(0).values();

  for (int i = 0; i < 3; ++i) {
    g.Stop(i);
    g.sm(i).CrashToDurable();  // everything after the last checkpoint comes from the log
  }
  g.StartAll();
  ASSERT_GE(g.WaitForLeader(milliseconds(5000)), 0);
  ASSERT_TRUE(WaitFor([&] { return AllEqual(g, {0, 1, 2}, before.size()); },
                      milliseconds(10000)));
  EXPECT_EQ(g.sm(0).values(), before);
  ASSERT_TRUE(g.Propose("after").ok());
  ASSERT_TRUE(WaitFor([&] { return AllEqual(g, {0, 1, 2}, before.size() + 1); },
                      milliseconds(5000)));
}

// Bad input from the network is refused without harm; fault injection needs its option.
TEST(RaftNodeTest, TheTransportRefusesBadInput) {
  Group g;
  g.StartAll();
  ASSERT_GE(g.WaitForLeader(milliseconds(5000)), 0);
  auto hp = ParseHostPort(g.raft_address(0));
  ASSERT_TRUE(hp.ok());
  auto socket = std::make_shared<apache::thrift::transport::TSocket>(hp->first, hp->second);
  auto transport = std::make_shared<apache::thrift::transport::TFramedTransport>(socket);
  transport->open();
  rpc::RaftServiceClient client(
      std::make_shared<apache::thrift::protocol::TBinaryProtocol>(transport));

  rpc::RaftEnvelope env;
  env.sender = 99;  // not a member
  env.client_address = "evil:1";
  EXPECT_THROW(client.step(env), rpc::TalusError);
  env.sender = 2;
  rpc::RaftMessage m;
  m.type = static_cast<rpc::RaftMessageType::type>(77);
  m.to = 1;
  m.term = 1;
  env.messages.push_back(m);
  m.type = rpc::RaftMessageType::APPEND_ENTRIES;
  m.to = 3;  // not this node
  env.messages.push_back(m);
  m.to = 1;
  rpc::RaftEntry e;
  e.term = 1;
  e.index = 5;  // does not follow prev_log_index 0
  m.__set_entries({e});
  env.messages.push_back(m);
  EXPECT_NO_THROW(client.step(env));  // dropped, one by one

  rpc::SnapshotChunk chunk;
  chunk.sender = 2;
  chunk.to = 1;
  chunk.term = 1;
  chunk.snapshot_index = 1;
  chunk.snapshot_term = 1;
  chunk.offset = 100;  // nothing received before
  chunk.data = "x";
  rpc::SnapshotChunkAck ack;
  EXPECT_THROW(client.installSnapshotChunk(ack, chunk), rpc::TalusError);
  transport->close();

  // The group still works.
  ASSERT_TRUE(g.Propose("still fine").ok());
  ASSERT_TRUE(WaitFor([&] { return AllEqual(g, {0, 1, 2}, 1); }, milliseconds(5000)));
}

TEST(RaftNodeTest, FaultInjectionIsRefusedUnlessEnabled) {
  ToyStateMachine sm;
  test::TempDir dir;
  RaftNodeOptions o;
  o.id = 1;
  o.peers = {RaftPeer{1, "127.0.0.1:" + std::to_string(FreePort())}};
  o.dir = dir.path();
  o.client_address = "c:1";
  o.tick_ms = 20;
  auto node = RaftNode::Start(o, &sm);
  ASSERT_TRUE(node.ok()) << node.status();
  Status s = SetRemoteBlockedPeers(o.peers[0].raft_address, {2});
  EXPECT_EQ(s.code(), ErrorCode::kNotPermitted) << s;
  // A single member elects itself and commits alone.
  ASSERT_TRUE(WaitFor([&] { return (*node)->IsLeader(); }, milliseconds(3000)));
  ASSERT_TRUE((*node)->Propose("solo").ok());
  ASSERT_TRUE(WaitFor([&] { return sm.size() == 1; }, milliseconds(3000)));
}

// The namenode's way: the state machine stages the image and asks for a restart; at the next
// start the image is the state and the node is told so (installed_snapshot).
TEST(RaftNodeTest, AStagedSnapshotTakesEffectAfterARestart) {
  Group g(3, /*checkpoint_every=*/50, /*retention=*/10);
  g.StartAll();
  const int leader = g.WaitForLeader(milliseconds(5000));
  ASSERT_GE(leader, 0);
  const int follower = (leader + 2) % 3;
  g.Stop(follower);
  g.sm(follower).set_stage(true);
  std::set<int> rest;
  for (int i = 0; i < 3; ++i) {
    if (i != follower) rest.insert(i);
  }
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(g.Propose("a" + std::to_string(i), rest).ok());
  ASSERT_TRUE(WaitFor([&] {
    int l = g.Leader(rest);
    return l >= 0 && g.node(l)->GetStatus().first_index > 100;
  }, milliseconds(10000)));

  std::atomic<int> restarts{0};
  g.Start(follower, [&](RaftNodeOptions& o) { o.on_restart_required = [&] { ++restarts; }; });
  ASSERT_TRUE(WaitFor([&] { return restarts.load() == 1; }, milliseconds(10000)));
  EXPECT_EQ(g.sm(follower).size(), 0u);  // nothing applied on top of the old state
  // New entries still reach it (its log follows the leader) but are not applied.
  ASSERT_TRUE(g.Propose("b", rest).ok());
  EXPECT_EQ(g.node(follower)->CheckRead().code(), ErrorCode::kNotLeader);
  g.Stop(follower);
  EXPECT_EQ(restarts.load(), 1);

  const SnapshotMeta meta = g.sm(follower).SwapInStaged();
  EXPECT_GT(meta.index, 100u);
  g.Start(follower, [&](RaftNodeOptions& o) { o.installed_snapshot = meta; });
  ASSERT_TRUE(WaitFor([&] { return AllEqual(g, {0, 1, 2}, 201); }, milliseconds(10000)))
      << g.sm(follower).size();
}

// The receiving end of snapshot streams: chunks strictly in order, a newer snapshot replaces a
// half-received one, an older one is refused, the CRC decides.
TEST(RaftNodeTest, TheSnapshotReceiverTakesChunksInOrderAndChecksTheCrc) {
  test::TempDir dir;
  auto opened = SnapshotReceiver::Open(dir.path() + "/in");
  ASSERT_TRUE(opened.ok()) << opened.status();
  SnapshotReceiver& r = **opened;
  std::optional<ReceivedSnapshot> done;
  auto chunk = [](Term term, Index index, uint64_t offset, std::string data, bool last,
                  uint32_t crc = 0) {
    SnapshotChunkIn c;
    c.from = 2;
    c.term = term;
    c.meta = SnapshotMeta{index, term};
    c.offset = offset;
    c.data = std::move(data);
    c.last = last;
    c.crc = crc;
    return c;
  };
  const uint32_t crc = crc32c::Value("hello world", 11);

  ASSERT_TRUE(r.Receive(chunk(3, 50, 0, "hello ", false), &done).ok());
  EXPECT_EQ(r.Receive(chunk(3, 50, 3, "xx", false), &done).status().code(),
            ErrorCode::kInvalidArgument);  // a gap
  // An older snapshot cannot take over; a newer one can.
  EXPECT_FALSE(r.Receive(chunk(3, 40, 0, "old", false), &done).ok());
  ASSERT_TRUE(r.Receive(chunk(4, 60, 0, "hello ", false), &done).ok());
  EXPECT_FALSE(r.Receive(chunk(3, 50, 6, "world", true, crc), &done).ok());
  // A wrong CRC drops the file; the sender starts over.
  EXPECT_EQ(r.Receive(chunk(4, 60, 6, "world", true, crc ^ 1), &done).status().code(),
            ErrorCode::kCorruption);
  EXPECT_FALSE(done.has_value());
  EXPECT_FALSE(r.Receive(chunk(4, 60, 6, "world", true, crc), &done).ok());
  ASSERT_TRUE(r.Receive(chunk(4, 60, 0, "hello ", false), &done).ok());
  auto got = r.Receive(chunk(4, 60, 6, "world", true, crc), &done);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, 11u);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->meta, (SnapshotMeta{60, 4}));
  EXPECT_EQ(done->from, 2u);
  std::ifstream in(done->path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "hello world");
}

}  // namespace
}  // namespace talus::raft
