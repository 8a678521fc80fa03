// CopyReplica (datanode-to-datanode copies) against in-process transfer servers over loopback:
// whole replicas down a pipeline of targets, a prefix of a replica being written, a corrupt or
// short local replica reported and never sent, refusing and full targets named in the error,
// the stop flag, and the token bucket that caps the copies' rate.
#include "datanode/transfer/block_copier.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/transfer/stream_io.h"
#include "datanode/storage/block_meta.h"
#include "test/support/mini_cluster.h"

namespace talus::datanode {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using transfer::HostPort;

std::string Bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1103515245 + 12345;
    s[i] = static_cast<char>(seed >> 16);
  }
  return s;
}

class Events : public ReplicaEvents {
 public:
  void OnReceived(const ReplicaInfo& replica) override {
    std::lock_guard<std::mutex> l(mu_);
    received_.push_back(replica.block_id);
  }
  void OnBadReplica(uint64_t block_id, uint64_t genstamp) override {
    std::lock_guard<std::mutex> l(mu_);
    bad_.emplace_back(block_id, genstamp);
  }
  size_t received(uint64_t id) const {
    std::lock_guard<std::mutex> l(mu_);
    size_t n = 0;
    for (uint64_t r : received_) n += r == id;
    return n;
  }
  std::vector<std::pair<uint64_t, uint64_t>> bad() const {
    std::lock_guard<std::mutex> l(mu_);
    return bad_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<uint64_t> received_;
  std::vector<std::pair<uint64_t, uint64_t>> bad_;
};

struct Node {
  std::string dir;
  std::unique_ptr<DataSet> data;
  Events events;
  std::unique_ptr<TransferServer> server;
  HostPort address() const { return {"127.0.0.1", server->port()}; }
};

class CopierTest : public ::testing::Test {
 protected:
  Node* AddNode(uint64_t expected_block_bytes = 0, const std::string& volume = "") {
    auto node = std::make_unique<Node>();
    node->dir = volume.empty() ? dir_.path() + "/n" + std::to_string(nodes_.size()) : volume;
    DataSetOptions options;
    options.volume_dirs = {node->dir};
    options.expected_block_bytes = expected_block_bytes;
    ScanReport report;
    auto data = DataSet::Open(options, &report);
    EXPECT_TRUE(data.ok()) << data.status();
    if (!data.ok()) return nullptr;
    node->data = std::move(*data);
    TransferServerOptions server_options;
    server_options.socket_timeout_ms = 10000;
    server_options.node_name = "node" + std::to_string(nodes_.size());
    auto server = TransferServer::Start(server_options, node->data.get(), &node->events);
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return nullptr;
    node->server = std::move(*server);
    nodes_.push_back(std::move(node));
    return nodes_.back().get();
  }

  // Writes `data` as a replica of `id`, finalized unless `finalize` is false.
  static ReplicaInfo PutReplica(Node* node, uint64_t id, uint64_t gs, const std::string& data,
                                bool finalize = true) {
    auto created = node->data->CreateRbw(id, gs, 0);
    EXPECT_TRUE(created.ok()) << created.status();
    for (size_t off = 0; off < data.size(); off += 1 << 20) {
      std::string_view piece(data.data() + off, std::min<size_t>(1 << 20, data.size() - off));
      EXPECT_TRUE(node->data->Append(id, gs, off, piece, ComputeChecksums(piece, off)).ok());
    }
    if (finalize) {
      EXPECT_TRUE(node->data->Finalize(id, gs).ok());
    }
    return *node->data->GetReplica(id);
  }

  static std::string Contents(Node* node, uint64_t id, uint64_t gs) {
    auto info = node->data->GetReplica(id);
    if (!info.ok()) return "<" + info.status().ToString() + ">";
    auto read = node->data->Read(id, gs, 0, info->bytes_on_disk);
    if (!read.ok()) return "<" + read.status().ToString() + ">";
    return read->data;
  }

  static CopyRequest Request(uint64_t id, uint64_t gs, std::vector<HostPort> targets) {
    CopyRequest r;
    r.block_id = id;
    r.genstamp = gs;
    r.targets = std::move(targets);
    r.timeout_ms = 10000;
    return r;
  }

  test::TempDir dir_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

TEST_F(CopierTest, CopiesAWholeReplicaDownAPipelineAndEachTargetFinalizesIt) {
  Node* source = AddNode();
  Node* b = AddNode();
  Node* c = AddNode();
  ASSERT_TRUE(source && b && c);
  // Several read batches and packets, and a partial last chunk.
  const std::string data = Bytes((9 << 20) + 700, 1);
  PutReplica(source, 10, 1001, data);
  CopyRequest request = Request(10, 1001, {b->address(), c->address()});
  request.expected_length = data.size();
  CopyStats stats;
  Status s = CopyReplica(source->data.get(), request, nullptr, nullptr, &source->events, &stats);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(stats.bytes_sent, data.size());
  for (Node* target : {b, c}) {
    auto info = target->data->GetReplica(10);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->state, ReplicaState::kFinalized);
    EXPECT_EQ(info->genstamp, 1001u);
    EXPECT_EQ(info->bytes_on_disk, data.size());
    EXPECT_TRUE(Contents(target, 10, 1001) == data);
    EXPECT_EQ(target->events.received(10), 1u) << "the target reports the replica itself";
  }
  EXPECT_TRUE(source->events.bad().empty());
  EXPECT_EQ(source->data->GetReplica(10)->state, ReplicaState::kFinalized);
}

TEST_F(CopierTest, AnEmptyReplicaIsCopiedToo) {
  Node* source = AddNode();
  Node* b = AddNode();
  ASSERT_TRUE(source && b);
  PutReplica(source, 11, 1001, "");
  Status s = CopyReplica(source->data.get(), Request(11, 1001, {b->address()}), nullptr, nullptr,
                         nullptr);
  ASSERT_TRUE(s.ok()) << s;
  auto info = b->data->GetReplica(11);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state, ReplicaState::kFinalized);
  EXPECT_EQ(info->bytes_on_disk, 0u);
}

TEST_F(CopierTest, APrefixOfAReplicaBeingWrittenCanBeSentFinalizedOrLeftBeingWritten) {
  Node* source = AddNode();
  Node* b = AddNode();
  Node* c = AddNode();
  ASSERT_TRUE(source && b && c);
  const std::string data = Bytes(300000, 2);
  PutReplica(source, 12, 1001, data, /*finalize=*/false);
  // Not a whole number of chunks, and shorter than the replica: the last piece's checksum is
  // computed for the bytes sent.
  const uint64_t prefix = 200000 + 77;
  CopyRequest request = Request(12, 1001, {b->address()});
  request.require_finalized = false;
  request.length = prefix;
  Status s = CopyReplica(source->data.get(), request, nullptr, nullptr, nullptr);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(b->data->GetReplica(12)->state, ReplicaState::kFinalized);
  EXPECT_TRUE(Contents(b, 12, 1001) == data.substr(0, prefix));

  request.targets = {c->address()};
  request.finalize = false;
  s = CopyReplica(source->data.get(), request, nullptr, nullptr, nullptr);
  ASSERT_TRUE(s.ok()) << s;
  auto info = c->data->GetReplica(12);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state, ReplicaState::kRbw);
  EXPECT_EQ(info->bytes_on_disk, prefix);
  EXPECT_TRUE(Contents(c, 12, 1001) == data.substr(0, prefix));

  // A copy that needs a finalized replica refuses this one.
  request.require_finalized = true;
  request.targets = {b->address()};
  s = CopyReplica(source->data.get(), request, nullptr, nullptr, nullptr);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << s;
}

TEST_F(CopierTest, ACorruptLocalReplicaIsReportedAndNeverSent) {
  Node* source = AddNode();
  Node* b = AddNode();
  ASSERT_TRUE(source && b);
  const std::string data = Bytes(1 << 20, 3);
  ReplicaInfo info = PutReplica(source, 13, 1001, data);
  {
    std::fstream f(info.data_path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(70000);
    f.put(static_cast<char>(data[70000] ^ 0x01));
  }
  CopyRequest request = Request(13, 1001, {b->address()});
  request.expected_length = data.size();
  Status s = CopyReplica(source->data.get(), request, nullptr, nullptr, &source->events);
  EXPECT_EQ(s.code(), ErrorCode::kCorruption) << s;
  ASSERT_EQ(source->events.bad().size(), 1u);
  EXPECT_EQ(source->events.bad()[0], std::make_pair(uint64_t{13}, uint64_t{1001}));
  EXPECT_TRUE(b->data->GetReplica(13).status().IsNotFound()) << "nothing reached the target";
}

TEST_F(CopierTest, AReplicaShorterThanTheNamenodeKnowsIsCorruptAnotherStampIsNot) {
  Node* source = AddNode();
  Node* b = AddNode();
  ASSERT_TRUE(source && b);
  PutReplica(source, 14, 1001, Bytes(5000, 4));
  CopyRequest request = Request(14, 1001, {b->address()});
  request.expected_length = 6000;
  Status s = CopyReplica(source->data.get(), request, nullptr, nullptr, &source->events);
  EXPECT_EQ(s.code(), ErrorCode::kCorruption) << s;
  EXPECT_EQ(source->events.bad().size(), 1u);

  request = Request(14, 1002, {b->address()});
  s = CopyReplica(source->data.get(), request, nullptr, nullptr, &source->events);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << s;
  request = Request(15, 1001, {b->address()});
  s = CopyReplica(source->data.get(), request, nullptr, nullptr, &source->events);
  EXPECT_TRUE(s.IsNotFound()) << s;
  EXPECT_EQ(source->events.bad().size(), 1u) << "a stale or unknown block is not corrupt";
  EXPECT_TRUE(b->data->GetReplica(14).status().IsNotFound());
}

TEST_F(CopierTest, ARefusingTargetIsNamedInTheError) {
  Node* source = AddNode();
  Node* b = AddNode();
  Node* c = AddNode();
  ASSERT_TRUE(source && b && c);
  PutReplica(source, 16, 1001, Bytes(4096, 5));
  PutReplica(c, 16, 1001, Bytes(4096, 5));  // c has it already: a create there fails
  Status s = CopyReplica(source->data.get(), Request(16, 1001, {b->address(), c->address()}),
                         nullptr, nullptr, nullptr);
  ASSERT_FALSE(s.ok());
  const std::string c_name = "127.0.0.1:" + std::to_string(c->server->port());
  EXPECT_NE(s.message().find(std::string(kBadNodePrefix) + c_name), std::string::npos) << s;

  // Nothing listens on a closed port.
  uint16_t closed;
  {
    Node* d = AddNode();
    ASSERT_TRUE(d);
    closed = d->server->port();
    d->server->Stop();
  }
  s = CopyReplica(source->data.get(), Request(16, 1001, {HostPort{"127.0.0.1", closed}}), nullptr,
                  nullptr, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("127.0.0.1:" + std::to_string(closed)), std::string::npos) << s;
}

TEST_F(CopierTest, ATargetWithoutRoomForABlockRefusesWithNoSpace) {
  Node* source = AddNode();
  Node* full = AddNode(/*expected_block_bytes=*/uint64_t{1} << 60);
  ASSERT_TRUE(source && full);
  PutReplica(source, 17, 1001, Bytes(4096, 6));
  Status s = CopyReplica(source->data.get(), Request(17, 1001, {full->address()}), nullptr,
                         nullptr, nullptr);
  EXPECT_EQ(s.code(), ErrorCode::kNoSpace) << s;
  EXPECT_NE(s.message().find("ERROR_NO_SPACE"), std::string::npos) << s;
  EXPECT_NE(s.message().find("127.0.0.1:" + std::to_string(full->server->port())),
            std::string::npos) << s;
  EXPECT_TRUE(full->data->GetReplica(17).status().IsNotFound()) << "no empty replica left";
}

// A target whose disk fills in the middle of the block: it answers an error ack, the copy
// fails naming it, and what it keeps is a replica being written that matches its checksums,
// never a finalized one.
TEST_F(CopierTest, ATargetRunningOutOfSpaceMidBlockLeavesNoFinalizedReplica) {
  const std::string mount = dir_.path() + "/small";
  fs::create_directories(mount);
  if (::mount("tmpfs", mount.c_str(), "tmpfs", 0, "size=2m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs (" << std::strerror(errno) << "); needs root";
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mount};
  Node* source = AddNode();
  Node* small = AddNode(0, mount + "/vol");
  ASSERT_TRUE(source && small);
  const std::string data = Bytes(4 << 20, 7);
  PutReplica(source, 18, 1001, data);
  Status s = CopyReplica(source->data.get(), Request(18, 1001, {small->address()}), nullptr,
                         nullptr, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kNoSpace) << s;
  auto info = small->data->GetReplica(18);
  if (info.ok()) {
    EXPECT_EQ(info->state, ReplicaState::kRbw);
    EXPECT_LT(info->bytes_on_disk, data.size());
    EXPECT_EQ(fs::file_size(info->data_path), info->bytes_on_disk);
    EXPECT_EQ(fs::file_size(info->meta_path), MetaFileLength(info->bytes_on_disk));
    auto read = small->data->Read(18, 1001, 0, info->bytes_on_disk);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_TRUE(read->data == data.substr(0, info->bytes_on_disk));
  }
  EXPECT_EQ(small->events.received(18), 0u);
}

TEST_F(CopierTest, TheStopFlagEndsACopy) {
  Node* source = AddNode();
  Node* b = AddNode();
  ASSERT_TRUE(source && b);
  PutReplica(source, 19, 1001, Bytes(1 << 20, 8));
  std::atomic<bool> stop{true};
  Status s = CopyReplica(source->data.get(), Request(19, 1001, {b->address()}), nullptr, &stop,
                         nullptr);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(b->data->GetReplica(19).ok() &&
                b->data->GetReplica(19)->state == ReplicaState::kFinalized,
            false);
}

// A target that takes the op and the packets but never acks: the stop flag still ends the
// copy within a moment, not after the socket timeout.
TEST_F(CopierTest, TheStopFlagEndsACopyWaitingOnAHungTarget) {
  Node* source = AddNode();
  ASSERT_TRUE(source);
  PutReplica(source, 22, 1001, Bytes(1 << 20, 11));
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::atomic<bool> answered{false};
  std::thread hung([&] {
    int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) return;
    const auto deadline = transfer::DeadlineAfterMs(10000);
    if (transfer::ReadOp(fd, deadline).ok() &&
        transfer::WriteResponse(fd, transfer::OpResponse{}, deadline).ok()) {
      answered = true;
      char buf[65536];
      while (::read(fd, buf, sizeof(buf)) > 0) {
      }
    }
    ::close(fd);
  });
  std::atomic<bool> stop{false};
  CopyRequest request = Request(22, 1001, {HostPort{"127.0.0.1", ntohs(addr.sin_port)}});
  request.timeout_ms = 30000;
  std::thread stopper([&] {
    test::WaitFor([&] { return answered.load(); }, 10s);
    stop = true;
  });
  const auto start = std::chrono::steady_clock::now();
  Status s = CopyReplica(source->data.get(), request, nullptr, &stop, nullptr);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  stopper.join();
  ::close(listener);
  hung.join();
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable) << s;
  EXPECT_LT(elapsed, 5s);
}

TEST_F(CopierTest, AThrottledCopyKeepsToItsRate) {
  Node* source = AddNode();
  Node* b = AddNode();
  ASSERT_TRUE(source && b);
  const std::string data = Bytes(3 << 20, 9);
  PutReplica(source, 20, 1001, data);
  // 8 MiB/s with a 1 MiB bucket: the first MiB goes at once, the other two take ~250 ms.
  Throttler throttle(8 << 20, 1 << 20);
  const auto start = std::chrono::steady_clock::now();
  Status s = CopyReplica(source->data.get(), Request(20, 1001, {b->address()}), &throttle,
                         nullptr, nullptr);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_GE(elapsed, 200ms);
  EXPECT_TRUE(Contents(b, 20, 1001) == data);
}

// Copy throughput for one block to one target, when TALUS_COPY_BENCH_MIB says how large.
TEST_F(CopierTest, ThroughputWhenAsked) {
  const char* env = std::getenv("TALUS_COPY_BENCH_MIB");
  if (env == nullptr) GTEST_SKIP() << "set TALUS_COPY_BENCH_MIB to measure";
  const size_t mib = std::strtoul(env, nullptr, 10);
  Node* source = AddNode();
  Node* b = AddNode();
  ASSERT_TRUE(source && b);
  PutReplica(source, 21, 1001, Bytes(mib << 20, 10));
  const auto start = std::chrono::steady_clock::now();
  Status s = CopyReplica(source->data.get(), Request(21, 1001, {b->address()}), nullptr, nullptr,
                         nullptr);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(s.ok()) << s;
  std::printf("copied %zu MiB in %.3f s: %.1f MiB/s\n", mib, seconds,
              static_cast<double>(mib) / seconds);
}

TEST(ThrottlerTest, AcquireWaitsForTokensAndCancelReleasesWaiters) {
  Throttler unlimited(0);
  EXPECT_TRUE(unlimited.Acquire(uint64_t{1} << 40));

  Throttler t(1 << 20, 64 << 10);  // 1 MiB/s, 64 KiB bucket
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(t.Acquire(64 << 10));  // 3 x 64 KiB to wait for
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);

  // A waiter for a whole second's worth is released by Cancel, and later calls fail at once.
  std::atomic<bool> returned{false};
  bool result = true;
  std::thread waiter([&] {
    result = t.Acquire(1 << 20);
    returned = true;
  });
  t.Cancel();
  waiter.join();
  EXPECT_TRUE(returned);
  EXPECT_FALSE(result);
  EXPECT_FALSE(t.Acquire(1));
}

}  // namespace
}  // namespace talus::datanode
