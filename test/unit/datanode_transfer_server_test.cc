// The datanode's transfer server over real loopback sockets: in-process servers on DataSets in
// temporary directories, driven by a small test-side writer and reader built on common/transfer.
#include "datanode/transfer/transfer_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/crc32c.h"
#include "common/transfer/checksum.h"
#include "common/transfer/stream_io.h"

namespace talus::datanode {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using transfer::BlockChecksumOp;
using transfer::HostPort;
using transfer::OpResponse;
using transfer::PacketHeader;
using transfer::PipelineAck;
using transfer::ReadBlockOp;
using transfer::TransferStatus;
using transfer::UniqueFd;
using transfer::WriteBlockOp;
using transfer::WriteStage;

constexpr int kIoTimeoutMs = 10000;

transfer::Deadline Soon() { return transfer::DeadlineAfterMs(kIoTimeoutMs); }

std::string Bytes(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::memcpy(&s[i], &x, 8);
  }
  for (; i < n; ++i) s[i] = static_cast<char>(i * 31 + seed);
  return s;
}

// Waits for a condition with a deadline instead of sleeping for a guessed time.
template <typename F>
bool WaitFor(F condition, std::chrono::milliseconds limit = 10s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return condition();
}

class RecordingEvents : public ReplicaEvents {
 public:
  void OnReceiving(const ReplicaInfo& replica) override {
    std::lock_guard<std::mutex> l(mu_);
    receiving_.push_back(replica.block_id);
  }
  void OnReceived(const ReplicaInfo& replica) override {
    std::lock_guard<std::mutex> l(mu_);
    received_.push_back(replica);
  }
  void OnBadReplica(uint64_t block_id, uint64_t genstamp) override {
    std::lock_guard<std::mutex> l(mu_);
    bad_.emplace_back(block_id, genstamp);
  }
  size_t received_count(uint64_t block_id) const {
    std::lock_guard<std::mutex> l(mu_);
    size_t n = 0;
    for (const auto& r : received_) n += r.block_id == block_id;
    return n;
  }
  size_t receiving_count(uint64_t block_id) const {
    std::lock_guard<std::mutex> l(mu_);
    size_t n = 0;
    for (uint64_t id : receiving_) n += id == block_id;
    return n;
  }
  std::vector<std::pair<uint64_t, uint64_t>> bad() const {
    std::lock_guard<std::mutex> l(mu_);
    return bad_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<uint64_t> receiving_;
  std::vector<ReplicaInfo> received_;
  std::vector<std::pair<uint64_t, uint64_t>> bad_;
};

// One datanode: a DataSet in its own directory and a transfer server on an ephemeral port.
struct Node {
  std::string dir;
  std::unique_ptr<DataSet> data;
  RecordingEvents events;
  std::unique_ptr<TransferServer> server;

  HostPort address() const { return {"127.0.0.1", server->port()}; }
};

// ---- Test-side client: just enough of a writer and a reader, on common/transfer. ----

Result<UniqueFd> Connect(uint16_t port) { return transfer::SocketConnect("127.0.0.1", port, Soon()); }

WriteBlockOp CreateOp(uint64_t block_id, uint64_t genstamp, std::vector<HostPort> targets = {}) {
  WriteBlockOp op;
  op.block_id = block_id;
  op.genstamp = genstamp;
  op.stage = WriteStage::kCreate;
  op.client_name = "test-client";
  op.targets = std::move(targets);
  return op;
}

Status SendPacket(int fd, int64_t seqno, uint64_t offset, std::string_view data, bool last,
                  bool sync = false, bool corrupt_checksum = false) {
  PacketHeader h;
  h.seqno = seqno;
  h.offset_in_block = offset;
  h.data_len = static_cast<uint32_t>(data.size());
  h.checksum_len = static_cast<uint32_t>(
      transfer::ChecksumCount(offset, data.size(), transfer::kDefaultBytesPerChecksum) * 4);
  h.last = last;
  h.sync = sync;
  std::vector<uint8_t> sums(h.checksum_len);
  transfer::ComputeChunkChecksums(offset, reinterpret_cast<const uint8_t*>(data.data()),
                                  data.size(), transfer::kDefaultBytesPerChecksum, sums.data());
  if (corrupt_checksum && !sums.empty()) sums[0] ^= 0x5a;
  return transfer::WritePacket(fd, h, sums.data(), reinterpret_cast<const uint8_t*>(data.data()),
                               Soon());
}

Status SendHeartbeat(int fd) {
  PacketHeader h;
  h.seqno = transfer::kHeartbeatSeqno;
  return transfer::WritePacket(fd, h, nullptr, nullptr, Soon());
}

// Opens a WRITE_BLOCK: connects, sends the op, reads the setup response.
struct OpenWrite {
  UniqueFd fd;
  OpResponse response;
};
Result<OpenWrite> StartWrite(uint16_t port, const WriteBlockOp& op) {
  OpenWrite w;
  ASSIGN_OR_RETURN(w.fd, Connect(port));
  RETURN_NOT_OK(transfer::WriteOp(w.fd.get(), op, Soon()));
  ASSIGN_OR_RETURN(w.response, transfer::ReadResponse(w.fd.get(), Soon()));
  return w;
}

// Streams data[0, n) as packets from block offset `start` (seqnos from first_seqno), the last
// one flagged if `last`, while a second thread reads the acks. Fails on any ack that is not all
// success; *nodes gets the reply count of the acks.
Status StreamPackets(int fd, uint64_t start, const std::string& data, size_t packet_bytes,
                     bool last, int64_t first_seqno = 0, size_t* nodes = nullptr) {
  const int64_t count = data.empty() ? (last ? 1 : 0)
                                     : static_cast<int64_t>((data.size() + packet_bytes - 1) /
                                                            packet_bytes);
  Status ack_status;
  size_t replies = 0;
  std::thread acker([&] {
    for (int64_t i = 0; i < count; ++i) {
      PipelineAck ack;
      Status s = transfer::ReadAck(fd, Soon(), &ack);
      if (s.ok() && ack.seqno != first_seqno + i) {
        s = Status::Corruption("ack seqno " + std::to_string(ack.seqno) + ", expected " +
                               std::to_string(first_seqno + i));
      }
      if (s.ok() && !ack.AllSucceeded()) {
        s = Status::IoError("ack " + std::to_string(ack.seqno) + " reports node " +
                            std::to_string(ack.FirstFailure()) + " failed: " +
                            transfer::TransferStatusName(ack.replies[ack.FirstFailure()]));
      }
      if (!s.ok()) {
        ack_status = s;
        return;
      }
      replies = ack.replies.size();
    }
  });
  Status send_status;
  for (int64_t i = 0; i < count && send_status.ok(); ++i) {
    size_t pos = static_cast<size_t>(i) * packet_bytes;
    std::string_view piece(data.data() + std::min(pos, data.size()),
                           std::min(packet_bytes, data.size() - std::min(pos, data.size())));
    send_status = SendPacket(fd, first_seqno + i, start + pos, piece, last && i == count - 1);
  }
  if (!send_status.ok()) ::shutdown(fd, SHUT_RDWR);
  acker.join();
  if (nodes != nullptr) *nodes = replies;
  RETURN_NOT_OK(send_status);
  return ack_status;
}

// Writes one whole block (create) to the first node of `pipeline` through the rest.
Status WriteBlock(uint16_t port, uint64_t block_id, uint64_t genstamp, const std::string& data,
                  std::vector<HostPort> targets = {}, size_t packet_bytes = 64 * 1024,
                  size_t* nodes = nullptr) {
  ASSIGN_OR_RETURN(OpenWrite w, StartWrite(port, CreateOp(block_id, genstamp, targets)));
  RETURN_NOT_OK(TransferStatusToStatus(w.response.status, w.response.message));
  return StreamPackets(w.fd.get(), 0, data, packet_bytes, /*last=*/true, 0, nodes);
}

struct ReadOutcome {
  OpResponse response;
  std::string data;  // exactly the requested (capped) range
  int packets = 0;
};

// One READ_BLOCK on an open connection: response, then packets until the last, each checked
// against its checksums.
Result<ReadOutcome> ReadOn(int fd, const ReadBlockOp& op) {
  ReadOutcome out;
  RETURN_NOT_OK(transfer::WriteOp(fd, op, Soon()));
  ASSIGN_OR_RETURN(out.response, transfer::ReadResponse(fd, Soon()));
  if (out.response.status != TransferStatus::kSuccess) return out;
  transfer::PacketValidator::Options vo;
  vo.start_offset = out.response.first_chunk_offset;
  vo.checksums = op.send_checksums;
  vo.max_data_len = transfer::kMaxPacketDataBytes;  // as real readers: the sender picks the size
  transfer::PacketValidator validator(vo);
  transfer::PacketBuffer packet;
  std::string all;
  while (!validator.saw_last()) {
    RETURN_NOT_OK(transfer::ReadPacket(fd, Soon(), &validator, &packet));
    const PacketHeader& h = packet.header;
    if (op.send_checksums) {
      RETURN_NOT_OK(transfer::VerifyChunkChecksums(h.offset_in_block, packet.data.data(),
                                                   h.data_len, 512, packet.checksums.data(),
                                                   h.checksum_len));
    }
    all.append(reinterpret_cast<const char*>(packet.data.data()), h.data_len);
    ++out.packets;
  }
  uint64_t skip = op.offset - out.response.first_chunk_offset;
  if (skip >= transfer::kDefaultBytesPerChecksum) {
    return Status::Corruption("first chunk offset is not the chunk holding the start offset");
  }
  skip = std::min<uint64_t>(skip, all.size());  // nothing to read at the visible end
  out.data = all.substr(skip, op.length == transfer::kWholeBlock ? std::string::npos
                                                                  : op.length);
  return out;
}

// Reads a whole block as a client would, into a reused buffer: checksums verified and bytes
// compared with `expected` packet by packet, nothing accumulated. Returns the bytes read.
Result<uint64_t> ReadAndCompare(uint16_t port, uint64_t block_id, uint64_t genstamp,
                                const std::string& expected) {
  ASSIGN_OR_RETURN(UniqueFd fd, Connect(port));
  ReadBlockOp op;
  op.block_id = block_id;
  op.genstamp = genstamp;
  op.length = transfer::kWholeBlock;
  RETURN_NOT_OK(transfer::WriteOp(fd.get(), op, Soon()));
  ASSIGN_OR_RETURN(OpResponse response, transfer::ReadResponse(fd.get(), Soon()));
  RETURN_NOT_OK(TransferStatusToStatus(response.status, response.message));
  transfer::PacketValidator::Options vo;
  vo.max_data_len = transfer::kMaxPacketDataBytes;
  transfer::PacketValidator validator(vo);
  transfer::PacketBuffer packet;
  uint64_t total = 0;
  while (!validator.saw_last()) {
    RETURN_NOT_OK(transfer::ReadPacket(fd.get(), Soon(), &validator, &packet));
    const PacketHeader& h = packet.header;
    RETURN_NOT_OK(transfer::VerifyChunkChecksums(h.offset_in_block, packet.data.data(),
                                                 h.data_len, 512, packet.checksums.data(),
                                                 h.checksum_len));
    if (h.offset_in_block + h.data_len > expected.size() ||
        std::memcmp(packet.data.data(), expected.data() + h.offset_in_block, h.data_len) != 0) {
      return Status::Corruption("bytes differ in the packet at " +
                                std::to_string(h.offset_in_block));
    }
    total += h.data_len;
  }
  return total;
}

Result<ReadOutcome> ReadBlock(uint16_t port, uint64_t block_id, uint64_t genstamp,
                              uint64_t offset = 0, uint64_t length = transfer::kWholeBlock,
                              bool send_checksums = true) {
  ASSIGN_OR_RETURN(UniqueFd fd, Connect(port));
  ReadBlockOp op;
  op.block_id = block_id;
  op.genstamp = genstamp;
  op.offset = offset;
  op.length = length;
  op.send_checksums = send_checksums;
  op.client_name = "test-reader";
  return ReadOn(fd.get(), op);
}

Result<OpResponse> BlockChecksum(uint16_t port, uint64_t block_id, uint64_t genstamp,
                                 uint64_t length = transfer::kWholeBlock) {
  ASSIGN_OR_RETURN(UniqueFd fd, Connect(port));
  BlockChecksumOp op;
  op.block_id = block_id;
  op.genstamp = genstamp;
  op.length = length;
  RETURN_NOT_OK(transfer::WriteOp(fd.get(), op, Soon()));
  return transfer::ReadResponse(fd.get(), Soon());
}

class TransferServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/talus_xfer_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    nodes_.clear();  // stops the servers before their data sets go
    fs::remove_all(root_);
  }

  Node* AddNode(TransferServerOptions options = {}) {
    auto node = std::make_unique<Node>();
    node->dir = root_ + "/dn" + std::to_string(nodes_.size());
    DataSetOptions dso;
    dso.volume_dirs = {node->dir + "/vol0"};
    ScanReport report;
    auto data = DataSet::Open(dso, &report);
    EXPECT_TRUE(data.ok()) << data.status();
    if (!data.ok()) return nullptr;
    node->data = std::move(data).value();
    options.socket_timeout_ms = options.socket_timeout_ms == 60000 ? kIoTimeoutMs
                                                                  : options.socket_timeout_ms;
    options.node_name = "dn" + std::to_string(nodes_.size());
    auto server = TransferServer::Start(options, node->data.get(), &node->events);
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return nullptr;
    node->server = std::move(server).value();
    nodes_.push_back(std::move(node));
    return nodes_.back().get();
  }

  // Every byte of a replica, straight from the node's DataSet (checksum-verified).
  std::string Stored(Node* node, uint64_t block_id) {
    auto info = node->data->GetReplica(block_id);
    EXPECT_TRUE(info.ok()) << info.status();
    if (!info.ok()) return "";
    std::string out;
    for (uint64_t pos = 0; pos < info->bytes_on_disk;) {
      uint64_t n = std::min<uint64_t>(4 << 20, info->bytes_on_disk - pos);
      auto r = node->data->Read(block_id, info->genstamp, pos, n);
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) return "";
      out.append(r->data, r->skip, n);
      pos += n;
    }
    return out;
  }

  // A good client is still served: a fresh block written and read back.
  void ExpectStillServing(Node* node) {
    static uint64_t next_id = 90000;
    uint64_t id = next_id++;
    std::string data = Bytes(70000, id);
    Status s = WriteBlock(node->server->port(), id, 1, data);
    ASSERT_TRUE(s.ok()) << s;
    auto r = ReadBlock(node->server->port(), id, 1);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->response.status, TransferStatus::kSuccess);
    EXPECT_TRUE(r->data == data);
  }

  std::string root_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

TEST_F(TransferServerTest, SingleNodeRoundTripsEveryEdgeSize) {
  Node* dn = AddNode();
  ASSERT_NE(dn, nullptr);
  const std::vector<size_t> sizes = {0,     1,     511,   512,   513,
                                     65535, 65536, 65537, (3 << 20) + 1234};
  uint64_t id = 1;
  for (size_t size : sizes) {
    SCOPED_TRACE("size " + std::to_string(size));
    std::string data = Bytes(size, id);
    ASSERT_TRUE(WriteBlock(dn->server->port(), id, 7, data).ok());
    auto info = dn->data->GetReplica(id);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->state, ReplicaState::kFinalized);
    EXPECT_EQ(info->bytes_on_disk, size);
    EXPECT_EQ(dn->events.received_count(id), 1u);
    EXPECT_EQ(dn->events.receiving_count(id), 1u);
    auto visible = dn->server->VisibleLength(id, 7);
    ASSERT_TRUE(visible.ok());
    EXPECT_EQ(*visible, size);

    auto whole = ReadBlock(dn->server->port(), id, 7);
    ASSERT_TRUE(whole.ok()) << whole.status();
    ASSERT_EQ(whole->response.status, TransferStatus::kSuccess) << whole->response.message;
    EXPECT_EQ(whole->response.checksum_type, transfer::ChecksumType::kCrc32c);
    EXPECT_EQ(whole->response.bytes_per_checksum, 512u);
    EXPECT_EQ(whole->response.first_chunk_offset, 0u);
    EXPECT_TRUE(whole->data == data);
    EXPECT_TRUE(Stored(dn, id) == data);

    // A range starting mid-chunk: the first packet starts at the chunk boundary before it.
    uint64_t offset = size / 3, length = size / 2;
    auto part = ReadBlock(dn->server->port(), id, 7, offset, length);
    ASSERT_TRUE(part.ok()) << part.status();
    EXPECT_EQ(part->response.first_chunk_offset, offset / 512 * 512);
    EXPECT_TRUE(part->data == data.substr(offset, length));

    // Without checksums the bytes are the same.
    auto plain = ReadBlock(dn->server->port(), id, 7, 0, transfer::kWholeBlock, false);
    ASSERT_TRUE(plain.ok()) << plain.status();
    EXPECT_TRUE(plain->data == data);
    ++id;
  }
  TransferCounters c = dn->server->counters();
  EXPECT_EQ(c.checksum_errors, 0u);
  EXPECT_GT(c.bytes_written, 3u << 20);
  EXPECT_GT(c.bytes_read, 3u << 20);
}

TEST_F(TransferServerTest, OneConnectionCarriesSeveralReads) {
  Node* dn = AddNode();
  ASSERT_NE(dn, nullptr);
  std::string data = Bytes(200000, 3);
  ASSERT_TRUE(WriteBlock(dn->server->port(), 5, 1, data).ok());
  auto fd = Connect(dn->server->port());
  ASSERT_TRUE(fd.ok());
  for (uint64_t offset : {0ull, 1000ull, 199999ull, 200000ull}) {
    ReadBlockOp op;
    op.block_id = 5;
    op.genstamp = 1;
    op.offset = offset;
    op.length = 70000;
    auto r = ReadOn(fd->get(), op);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->response.status, TransferStatus::kSuccess);
    EXPECT_TRUE(r->data == data.substr(offset, 70000)) << offset;
  }
}

TEST_F(TransferServerTest, ThreeNodePipelineFinalizesIdenticalReplicas) {
  Node* dn1 = AddNode();
  Node* dn2 = AddNode();
  Node* dn3 = AddNode();
  ASSERT_TRUE(dn1 && dn2 && dn3);
  std::string data = Bytes((5 << 20) + 777, 11);
  size_t nodes = 0;
  Status s = WriteBlock(dn1->server->port(), 42, 3, data, {dn2->address(), dn3->address()},
                        64 * 1024, &nodes);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(nodes, 3u);  // every ack carried the three nodes' statuses
  for (Node* dn : {dn1, dn2, dn3}) {
    auto info = dn->data->GetReplica(42);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->state, ReplicaState::kFinalized);
    EXPECT_EQ(info->genstamp, 3u);
    EXPECT_EQ(dn->events.received_count(42), 1u);
    EXPECT_TRUE(Stored(dn, 42) == data);
    auto r = ReadBlock(dn->server->port(), 42, 3);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->data == data);
  }
  // Large packets (1 MiB, within the default limit) go through the pipeline as well.
  std::string big = Bytes(4 << 20, 12);
  s = WriteBlock(dn1->server->port(), 43, 3, big, {dn2->address(), dn3->address()}, 1 << 20);
  ASSERT_TRUE(s.ok()) << s;
  for (Node* dn : {dn1, dn2, dn3}) EXPECT_TRUE(Stored(dn, 43) == big);
}

TEST_F(TransferServerTest, HflushedBytesBecomeVisibleAsAcksReturn) {
  Node* dn1 = AddNode();
  Node* dn2 = AddNode();
  Node* dn3 = AddNode();
  ASSERT_TRUE(dn1 && dn2 && dn3);
  auto w = StartWrite(dn1->server->port(), CreateOp(7, 2, {dn2->address(), dn3->address()}));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->response.status, TransferStatus::kSuccess) << w->response.message;
  for (Node* dn : {dn1, dn2, dn3}) {
    auto v = dn->server->VisibleLength(7, 2);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, 0u);
    EXPECT_EQ(dn->events.receiving_count(7), 1u);
  }
  const int fd = w->fd.get();
  std::string data = Bytes(300000, 8);
  // Packets cut at odd places: each hflush leaves a partial chunk that the next one continues.
  const std::vector<size_t> cuts = {700, 1000, 66000, 130001, 200000, 300000};
  uint64_t pos = 0;
  int64_t seqno = 0;
  for (size_t cut : cuts) {
    SCOPED_TRACE("hflush at " + std::to_string(cut));
    bool sync = seqno % 2 == 1;
    ASSERT_TRUE(SendPacket(fd, seqno, pos, std::string_view(data).substr(pos, cut - pos),
                           /*last=*/false, sync)
                    .ok());
    PipelineAck ack;
    ASSERT_TRUE(transfer::ReadAck(fd, Soon(), &ack).ok());
    EXPECT_EQ(ack.seqno, seqno);
    ASSERT_EQ(ack.replies.size(), 3u);
    EXPECT_TRUE(ack.AllSucceeded());
    // The client has its ack: every node has the bytes and counts them as visible.
    for (Node* dn : {dn1, dn2, dn3}) {
      auto v = dn->server->VisibleLength(7, 2);
      ASSERT_TRUE(v.ok());
      EXPECT_EQ(*v, cut);
      EXPECT_EQ(dn->data->GetReplica(7)->state, ReplicaState::kRbw);
    }
    // A reader of the replica being written sees exactly the acknowledged bytes.
    auto r = ReadBlock(dn3->server->port(), 7, 2);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->response.status, TransferStatus::kSuccess);
    EXPECT_EQ(r->data.size(), cut);
    EXPECT_TRUE(r->data == data.substr(0, cut));
    auto sum = BlockChecksum(dn2->server->port(), 7, 2);
    ASSERT_TRUE(sum.ok());
    EXPECT_EQ(sum->block_crc_length, cut);
    EXPECT_EQ(sum->block_crc, crc32c::Value(data.data(), cut));
    pos = cut;
    ++seqno;
  }
  // Heartbeats keep the stream alive and are acked like packets.
  ASSERT_TRUE(SendHeartbeat(fd).ok());
  PipelineAck hb;
  ASSERT_TRUE(transfer::ReadAck(fd, Soon(), &hb).ok());
  EXPECT_EQ(hb.seqno, transfer::kHeartbeatSeqno);
  EXPECT_TRUE(hb.AllSucceeded());
  // An empty last packet closes the block.
  ASSERT_TRUE(SendPacket(fd, seqno, pos, {}, /*last=*/true).ok());
  PipelineAck last;
  ASSERT_TRUE(transfer::ReadAck(fd, Soon(), &last).ok());
  EXPECT_EQ(last.seqno, seqno);
  EXPECT_TRUE(last.AllSucceeded());
  for (Node* dn : {dn1, dn2, dn3}) {
    EXPECT_EQ(dn->data->GetReplica(7)->state, ReplicaState::kFinalized);
    EXPECT_TRUE(Stored(dn, 7) == data);
  }
}

TEST_F(TransferServerTest, AppendsToAFinalizedReplicaUnderANewStamp) {
  Node* dn1 = AddNode();
  Node* dn2 = AddNode();
  ASSERT_TRUE(dn1 && dn2);
  std::string first = Bytes(1000, 21);
  ASSERT_TRUE(WriteBlock(dn1->server->port(), 9, 1, first, {dn2->address()}).ok());

  std::string more = Bytes(150000, 22);
  WriteBlockOp op = CreateOp(9, 1, {dn2->address()});
  op.stage = WriteStage::kAppend;
  op.latest_genstamp = 2;
  op.min_bytes_rcvd = op.max_bytes_rcvd = first.size();
  auto w = StartWrite(dn1->server->port(), op);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->response.status, TransferStatus::kSuccess) << w->response.message;
  // The first packet continues the partial last chunk (offset 1000).
  Status s = StreamPackets(w->fd.get(), first.size(), more, 64 * 1024, true);
  ASSERT_TRUE(s.ok()) << s;
  std::string all = first + more;
  for (Node* dn : {dn1, dn2}) {
    auto info = dn->data->GetReplica(9);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->genstamp, 2u);
    EXPECT_EQ(info->state, ReplicaState::kFinalized);
    EXPECT_EQ(dn->events.received_count(9), 2u);
    EXPECT_TRUE(Stored(dn, 9) == all);
  }
  // A reader holding the old stamp is served (the data only grew); a newer stamp than the
  // replica's means the replica is stale.
  auto old = ReadBlock(dn2->server->port(), 9, 1);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->response.status, TransferStatus::kSuccess);
  EXPECT_TRUE(old->data == all);
  auto stale = ReadBlock(dn2->server->port(), 9, 3);
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->response.status, TransferStatus::kErrorStaleGenstamp);

  // Append with a length the replica does not have, or an old stamp, is refused unchanged.
  op.genstamp = 2;
  op.latest_genstamp = 3;
  op.min_bytes_rcvd = op.max_bytes_rcvd = 5;
  auto bad_len = StartWrite(dn1->server->port(), op);
  ASSERT_TRUE(bad_len.ok());
  EXPECT_EQ(bad_len->response.status, TransferStatus::kErrorInvalid);
  op.genstamp = 1;
  op.min_bytes_rcvd = op.max_bytes_rcvd = all.size();
  auto bad_gs = StartWrite(dn1->server->port(), op);
  ASSERT_TRUE(bad_gs.ok());
  EXPECT_EQ(bad_gs->response.status, TransferStatus::kErrorStaleGenstamp);
  EXPECT_EQ(dn1->data->GetReplica(9)->genstamp, 2u);
  EXPECT_EQ(dn1->data->GetReplica(9)->state, ReplicaState::kFinalized);
}

TEST_F(TransferServerTest, PipelineRecoveryResumesFromTheAckedLength) {
  Node* dn1 = AddNode();
  Node* dn2 = AddNode();
  ASSERT_TRUE(dn1 && dn2);
  std::string data = Bytes(400000, 31);
  const size_t acked = 100000, sent = 150000;
  {
    auto w = StartWrite(dn1->server->port(), CreateOp(12, 5, {dn2->address()}));
    ASSERT_TRUE(w.ok());
    ASSERT_EQ(w->response.status, TransferStatus::kSuccess);
    ASSERT_TRUE(StreamPackets(w->fd.get(), 0, data.substr(0, acked), 50000, false).ok());
    // Sent but never acked, then the client goes away.
    ASSERT_TRUE(SendPacket(w->fd.get(), 2, acked, std::string_view(data).substr(acked, 50000),
                           false)
                    .ok());
  }
  for (Node* dn : {dn1, dn2}) {
    ASSERT_TRUE(WaitFor([&] { return dn->server->active_transfers() == 0; }));
    EXPECT_EQ(dn->data->GetReplica(12)->state, ReplicaState::kRbw);
    auto v = dn->server->VisibleLength(12, 5);
    ASSERT_TRUE(v.ok());
    EXPECT_GE(*v, acked);
  }
  WriteBlockOp op = CreateOp(12, 5, {dn2->address()});
  op.stage = WriteStage::kRecovery;
  op.latest_genstamp = 6;
  op.min_bytes_rcvd = acked;
  op.max_bytes_rcvd = sent;
  auto w = StartWrite(dn1->server->port(), op);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->response.status, TransferStatus::kSuccess) << w->response.message;
  Status s = StreamPackets(w->fd.get(), acked, data.substr(acked), 64 * 1024, true);
  ASSERT_TRUE(s.ok()) << s;
  for (Node* dn : {dn1, dn2}) {
    auto info = dn->data->GetReplica(12);
    EXPECT_EQ(info->genstamp, 6u);
    EXPECT_EQ(info->state, ReplicaState::kFinalized);
    EXPECT_TRUE(Stored(dn, 12) == data);
  }
}

TEST_F(TransferServerTest, RecoveryReopensAReplicaFinalizedAtTheOldStamp) {
  // The last packet reached both nodes (each finalized the replica under stamp 5) but its ack
  // never reached the client, which resumes from what it saw acknowledged (HDFS
  // PIPELINE_CLOSE_RECOVERY).
  Node* dn1 = AddNode();
  Node* dn2 = AddNode();
  ASSERT_TRUE(dn1 && dn2);
  const std::string data = Bytes(150000, 33);
  const size_t acked = 100000;
  ASSERT_TRUE(WriteBlock(dn1->server->port(), 14, 5, data, {dn2->address()}).ok());
  ASSERT_EQ(dn2->data->GetReplica(14)->state, ReplicaState::kFinalized);
  WriteBlockOp op = CreateOp(14, 5, {dn2->address()});
  op.stage = WriteStage::kRecovery;
  op.latest_genstamp = 6;
  op.min_bytes_rcvd = acked;
  op.max_bytes_rcvd = data.size();
  auto w = StartWrite(dn1->server->port(), op);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->response.status, TransferStatus::kSuccess) << w->response.message;
  ASSERT_TRUE(StreamPackets(w->fd.get(), acked, data.substr(acked), 64 * 1024, true).ok());
  for (Node* dn : {dn1, dn2}) {
    auto info = dn->data->GetReplica(14);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->genstamp, 6u);
    EXPECT_EQ(info->state, ReplicaState::kFinalized);
    EXPECT_TRUE(Stored(dn, 14) == data);
  }
  // Finalized already under the recovery's own stamp: nothing to resume.
  auto again = StartWrite(dn1->server->port(), op);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->response.status, TransferStatus::kSuccess);
}

TEST_F(TransferServerTest, RecoveryStartsAMissingReplicaOnlyWhenNothingWasAcked) {
  Node* dn1 = AddNode();
  ASSERT_TRUE(dn1);
  const std::string data = Bytes(70000, 34);
  WriteBlockOp op = CreateOp(15, 5);
  op.stage = WriteStage::kRecovery;
  op.latest_genstamp = 6;
  op.min_bytes_rcvd = 512;
  op.max_bytes_rcvd = 1024;
  auto refused = StartWrite(dn1->server->port(), op);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->response.status, TransferStatus::kErrorUnknownBlock);
  EXPECT_FALSE(dn1->data->GetReplica(15).ok());
  // A node joining a pipeline before any byte was acknowledged starts the replica empty.
  op.min_bytes_rcvd = 0;
  op.max_bytes_rcvd = 1024;
  auto w = StartWrite(dn1->server->port(), op);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->response.status, TransferStatus::kSuccess) << w->response.message;
  ASSERT_TRUE(StreamPackets(w->fd.get(), 0, data, 64 * 1024, true).ok());
  auto info = dn1->data->GetReplica(15);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->genstamp, 6u);
  EXPECT_TRUE(Stored(dn1, 15) == data);
}

TEST_F(TransferServerTest, StopWriterAbortsAWriteInProgress) {
  Node* dn1 = AddNode();
  Node* dn2 = AddNode();
  ASSERT_TRUE(dn1 && dn2);
  auto w = StartWrite(dn1->server->port(), CreateOp(13, 1, {dn2->address()}));
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->response.status, TransferStatus::kSuccess);
  ASSERT_TRUE(StreamPackets(w->fd.get(), 0, Bytes(2000, 1), 1024, false).ok());
  EXPECT_EQ(dn1->server->active_transfers(), 1);
  dn1->server->StopWriter(13);  // returns once the writer has stopped
  EXPECT_TRUE(WaitFor([&] { return dn1->server->active_transfers() == 0; }));
  // The client's connection is gone; the replica waits, RBW, for recovery.
  char byte;
  EXPECT_LE(::recv(w->fd.get(), &byte, 1, 0), 0);
  EXPECT_EQ(dn1->data->GetReplica(13)->state, ReplicaState::kRbw);
  EXPECT_TRUE(WaitFor([&] { return dn2->server->active_transfers() == 0; }));
  dn1->server->StopWriter(13);  // nothing to stop: returns at once
  ExpectStillServing(dn1);
}

TEST_F(TransferServerTest, StopWriterCutsAPipelineSetupWaitingOnASilentNode) {
  Node* dn1 = AddNode();
  ASSERT_NE(dn1, nullptr);
  // A "datanode" that accepts connections (the kernel does) and never answers.
  UniqueFd silent(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(silent.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(silent.get(), 4), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(silent.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  HostPort target{"127.0.0.1", ntohs(addr.sin_port)};

  auto fd = Connect(dn1->server->port());
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(transfer::WriteOp(fd->get(), CreateOp(60, 1, {target}), Soon()).ok());
  // Once the node has connected onwards, it is past its setup and waiting for the answer.
  UniqueFd accepted(::accept(silent.get(), nullptr, nullptr));
  ASSERT_TRUE(accepted.valid());
  auto start = std::chrono::steady_clock::now();
  dn1->server->StopWriter(60);
  // Not the 10 s socket timeout: the wait on the silent node was cut.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_TRUE(WaitFor([&] { return dn1->server->active_transfers() == 0; }));
}

TEST_F(TransferServerTest, BlockChecksumIsTheCrcOfTheData) {
  Node* dn = AddNode();
  ASSERT_NE(dn, nullptr);
  std::string data = Bytes((2 << 20) + 99, 41);
  ASSERT_TRUE(WriteBlock(dn->server->port(), 15, 4, data).ok());
  for (uint64_t length : {uint64_t{0}, uint64_t{1}, uint64_t{513}, uint64_t{1} << 20,
                          uint64_t{data.size()}, transfer::kWholeBlock}) {
    auto r = BlockChecksum(dn->server->port(), 15, 4, length);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->status, TransferStatus::kSuccess) << r->message;
    uint64_t covered = length == transfer::kWholeBlock ? data.size() : length;
    EXPECT_EQ(r->block_crc_length, covered);
    EXPECT_EQ(r->block_crc, crc32c::Value(data.data(), covered)) << length;
  }
  auto over = BlockChecksum(dn->server->port(), 15, 4, data.size() + 1);
  ASSERT_TRUE(over.ok());
  EXPECT_EQ(over->status, TransferStatus::kErrorInvalid);
}

TEST_F(TransferServerTest, CorruptReplicaIsReportedByTheChecksumOp) {
  Node* dn = AddNode();
  ASSERT_NE(dn, nullptr);
  std::string data = Bytes(100000, 51);
  ASSERT_TRUE(WriteBlock(dn->server->port(), 16, 2, data).ok());
  auto info = dn->data->GetReplica(16);
  ASSERT_TRUE(info.ok());
  {
    std::fstream f(info->data_path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(70000);
    char c = static_cast<char>(data[70000] ^ 0x01);
    f.write(&c, 1);
  }
  auto sum = BlockChecksum(dn->server->port(), 16, 2);
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->status, TransferStatus::kErrorChecksum);
  auto bad = dn->events.bad();
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0], std::make_pair(uint64_t{16}, uint64_t{2}));
  EXPECT_EQ(dn->server->counters().checksum_errors, 1u);
  // A reader gets the stored checksums and catches the corruption itself.
  auto r = ReadBlock(dn->server->port(), 16, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCorruption) << r.status();
  // The bytes before the bad chunk are still served and correct.
  auto head = ReadBlock(dn->server->port(), 16, 2, 0, 69632);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_TRUE(head->data == data.substr(0, 69632));
}

// ---- Bad input: each rejected with the right status, and the server goes on serving. ----

TEST_F(TransferServerTest, RejectsATruncatedPacket) {
  Node* dn = AddNode();
  ASSERT_NE(dn, nullptr);
  auto w = StartWrite(dn->server->port(), CreateOp(20, 1));
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->response.status, TransferStatus::kSuccess);
  std::string data = Bytes(4096, 2);
  PacketHeader h;
  h.seqno = 0;
  h.data_len = 4096;
  h.checksum_len = 32;
  auto header = transfer::EncodePacketHeader(h);
  std::vector<uint8_t> sums(32);
  transfer::ComputeChunkChecksums(0, reinterpret_cast<const uint8_t*>(data.data()), 4096, 512,
                                  sums.data());
  ASSERT_TRUE(transfer::WriteFully(w->fd.get(), header.data(), header.size(), Soon()).ok());
  ASSERT_TRUE(transfer::WriteFully(w->fd.get(), sums.data(), sums.size(), Soon()).ok());
  ASSERT_TRUE(transfer::WriteFully(w->fd.get(), data.data(), 1000, Soon()).ok());
  ::shutdown(w->fd.get(), SHUT_WR);  // the rest never comes
  PipelineAck ack;
  ASSERT_TRUE(transfer::ReadAck(w->fd.get(), Soon(), &ack).ok());
  EXPECT_EQ(ack.seqno, 0);
  EXPECT_EQ(ack.replies[0], TransferStatus::kErrorInvalid);
  EXPECT_EQ(dn->data->GetReplica(20)->bytes_on_disk, 0u);
  EXPECT_EQ(dn->data->GetReplica(20)->state, ReplicaState::kRbw);
  ExpectStillServing(dn);
}

TEST_F(TransferServerTest, AnErrorAckSurvivesAWriterThatKeepsSending) {
  // The writer goes on sending after the packet the node refused, and reads the acks only
  // later: the node must not close on unread data (the kernel would reset the connection and
  // could destroy the error ack before the writer reads it); it drains until the writer hangs up.
  Node* dn = AddNode();
  ASSERT_TRUE(dn);
  auto w = StartWrite(dn->server->port(), CreateOp(26, 1));
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->response.status, TransferStatus::kSuccess);
  const std::string data = Bytes(64 * 1024, 5);
  ASSERT_TRUE(SendPacket(w->fd.get(), 0, 0, data, false, false, /*corrupt_checksum=*/true).ok());
  // Wait until the node has given up on the stream, then send more.
  ASSERT_TRUE(WaitFor([&] { return dn->server->counters().ops_failed == 1; }));
  for (int64_t seqno = 1; seqno < 20; ++seqno) {
    Status sent = SendPacket(w->fd.get(), seqno, seqno * data.size(), data, false);
    ASSERT_TRUE(sent.ok()) << "the node reset the connection: " << sent;
  }
  PipelineAck ack;
  Status read = transfer::ReadAck(w->fd.get(), Soon(), &ack);
  ASSERT_TRUE(read.ok()) << read;
  EXPECT_EQ(ack.seqno, 0);
  EXPECT_EQ(ack.replies[0], TransferStatus::kErrorChecksum);
  // Then the node's end of stream, not a reset.
  char byte;
  EXPECT_EQ(::recv(w->fd.get(), &byte, 1, 0), 0);
}

TEST_F(TransferServerTest, RejectsAWrongChecksum) {
  Node* dn1 = AddNode();
  Node* dn2 = AddNode();
  ASSERT_TRUE(dn1 && dn2);
  auto w = StartWrite(dn1->server->port(), CreateOp(21, 1, {dn2->address()}));
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->response.status, TransferStatus::kSuccess);
  std::string data = Bytes(10000, 3);
  ASSERT_TRUE(SendPacket(w->fd.get(), 0, 0, data.substr(0, 5000), false).ok());
  ASSERT_TRUE(SendPacket(w->fd.get(), 1, 5000, data.substr(5000), false, false,
                         /*corrupt_checksum=*/true)
                  .ok());
  PipelineAck ack;
  ASSERT_TRUE(transfer::ReadAck(w->fd.get(), Soon(), &ack).ok());
  EXPECT_EQ(ack.seqno, 0);
  EXPECT_TRUE(ack.AllSucceeded());
  ASSERT_TRUE(transfer::ReadAck(w->fd.get(), Soon(), &ack).ok());
  EXPECT_EQ(ack.seqno, 1);
  EXPECT_EQ(ack.replies[0], TransferStatus::kErrorChecksum);
  // The stream ends there; nothing of the bad packet was stored.
  char byte;
  EXPECT_LE(::recv(w->fd.get(), &byte, 1, 0), 0);
  EXPECT_EQ(dn1->data->GetReplica(21)->bytes_on_disk, 5000u);
  auto v = dn1->server->VisibleLength(21, 1);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 5000u);
  EXPECT_EQ(dn1->server->counters().checksum_errors, 1u);
  EXPECT_TRUE(WaitFor([&] { return dn2->server->counters().checksum_errors == 1; }));
  ExpectStillServing(dn1);
}

TEST_F(TransferServerTest, RejectsUnknownBlocksAndStaleStamps) {
  Node* dn = AddNode();
  ASSERT_NE(dn, nullptr);
  ASSERT_TRUE(WriteBlock(dn->server->port(), 22, 5, Bytes(3000, 4)).ok());
  auto unknown = ReadBlock(dn->server->port(), 999, 5);
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->response.status, TransferStatus::kErrorUnknownBlock);
  auto unknown_sum = BlockChecksum(dn->server->port(), 999, 5);
  ASSERT_TRUE(unknown_sum.ok());
  EXPECT_EQ(unknown_sum->status, TransferStatus::kErrorUnknownBlock);
  EXPECT_TRUE(dn->server->VisibleLength(999, 5).status().IsNotFound());

  auto stale = ReadBlock(dn->server->port(), 22, 6);
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->response.status, TransferStatus::kErrorStaleGenstamp);
  auto stale_sum = BlockChecksum(dn->server->port(), 22, 6);
  ASSERT_TRUE(stale_sum.ok());
  EXPECT_EQ(stale_sum->status, TransferStatus::kErrorStaleGenstamp);
  EXPECT_EQ(dn->server->VisibleLength(22, 6).status().code(), ErrorCode::kInvalidArgument);

  WriteBlockOp append = CreateOp(999, 5);
  append.stage = WriteStage::kAppend;
  append.latest_genstamp = 6;
  auto w = StartWrite(dn->server->port(), append);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->response.status, TransferStatus::kErrorUnknownBlock);
  auto exists = StartWrite(dn->server->port(), CreateOp(22, 5));
  ASSERT_TRUE(exists.ok());
  EXPECT_EQ(exists->response.status, TransferStatus::kErrorExists);
  EXPECT_TRUE(Stored(dn, 22) == Bytes(3000, 4));

  // An offset past the visible length is invalid; a length past it is simply capped.
  auto past = ReadBlock(dn->server->port(), 22, 5, 3001, 10);
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(past->response.status, TransferStatus::kErrorInvalid);
  auto capped = ReadBlock(dn->server->port(), 22, 5, 2500, 1 << 30);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->response.status, TransferStatus::kSuccess);
  EXPECT_TRUE(capped->data == Bytes(3000, 4).substr(2500));
  ExpectStillServing(dn);
}

TEST_F(TransferServerTest, RejectsPacketsOverTheLengthLimit) {
  TransferServerOptions options;
  options.max_packet_data_bytes = 128 * 1024;
  Node* dn = AddNode(options);
  ASSERT_NE(dn, nullptr);
  auto w = StartWrite(dn->server->port(), CreateOp(23, 1));
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->response.status, TransferStatus::kSuccess);
  ASSERT_TRUE(SendPacket(w->fd.get(), 0, 0, Bytes(256 * 1024, 5), true).ok());
  PipelineAck ack;
  ASSERT_TRUE(transfer::ReadAck(w->fd.get(), Soon(), &ack).ok());
  EXPECT_EQ(ack.replies[0], TransferStatus::kErrorInvalid);
  EXPECT_EQ(dn->data->GetReplica(23)->bytes_on_disk, 0u);

  // A frame longer than the protocol allows is refused from its prefix alone.
  auto fd = Connect(dn->server->port());
  ASSERT_TRUE(fd.ok());
  uint8_t prefix[16] = {0x54, 0x4C, 0x44, 0x54, 1, 0, 1, 0, 0, 0, 0, 0x40, 0, 0, 0, 0};
  ASSERT_TRUE(transfer::WriteFully(fd->get(), prefix, sizeof(prefix), Soon()).ok());
  auto response = transfer::ReadResponse(fd->get(), Soon());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, TransferStatus::kErrorInvalid);
  ExpectStillServing(dn);
}

TEST_F(TransferServerTest, RejectsRandomBytesAndGarbagePrefixes) {
  Node* dn = AddNode();
  ASSERT_NE(dn, nullptr);
  for (const std::string& junk :
       {Bytes(4096, 6), std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), std::string(16, '\0'),
        std::string("TLDT") + Bytes(100, 7)}) {
    auto fd = Connect(dn->server->port());
    ASSERT_TRUE(fd.ok());
    ASSERT_TRUE(transfer::WriteFully(fd->get(), junk.data(), junk.size(), Soon()).ok());
    auto response = transfer::ReadResponse(fd->get(), Soon());
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, TransferStatus::kErrorInvalid);
    EXPECT_FALSE(response->message.empty());
  }
  // A write stream whose packets are junk after a good setup.
  auto w = StartWrite(dn->server->port(), CreateOp(24, 1));
  ASSERT_TRUE(w.ok());
  std::string junk = Bytes(1000, 8);
  ASSERT_TRUE(transfer::WriteFully(w->fd.get(), junk.data(), junk.size(), Soon()).ok());
  PipelineAck ack;
  ASSERT_TRUE(transfer::ReadAck(w->fd.get(), Soon(), &ack).ok());
  EXPECT_EQ(ack.replies[0], TransferStatus::kErrorInvalid);
  // Out-of-order packets are junk too.
  auto w2 = StartWrite(dn->server->port(), CreateOp(25, 1));
  ASSERT_TRUE(w2.ok());
  ASSERT_TRUE(SendPacket(w2->fd.get(), 1, 0, Bytes(100, 1), false).ok());
  ASSERT_TRUE(transfer::ReadAck(w2->fd.get(), Soon(), &ack).ok());
  EXPECT_EQ(ack.replies[0], TransferStatus::kErrorInvalid);
  // A client that connects and leaves says nothing and harms nothing.
  { auto idle = Connect(dn->server->port()); }
  ExpectStillServing(dn);
  EXPECT_TRUE(WaitFor([&] { return dn->server->active_connections() == 0; }));
}

// Seeded mutations of a valid write stream (one byte flipped, or cut short): the server answers
// or hangs up, never stores wrong bytes, and keeps serving.
TEST_F(TransferServerTest, MutatedWriteStreamsNeverStoreWrongBytes) {
  Node* dn = AddNode();
  ASSERT_NE(dn, nullptr);
  const std::string data = Bytes(5000, 10);
  uint64_t seed = 12345;
  auto next = [&] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return seed >> 33;
  };
  for (uint64_t id = 100; id < 160; ++id) {
    SCOPED_TRACE("block " + std::to_string(id));
    // The stream a good client would send: op, then packets of 2000 bytes, the last flagged.
    auto op = transfer::EncodeOp(CreateOp(id, 1));
    ASSERT_TRUE(op.ok());
    std::string stream = *op;
    for (size_t pos = 0; pos < data.size(); pos += 2000) {
      std::string_view piece = std::string_view(data).substr(pos, 2000);
      PacketHeader h;
      h.seqno = static_cast<int64_t>(pos / 2000);
      h.offset_in_block = pos;
      h.data_len = static_cast<uint32_t>(piece.size());
      h.checksum_len = static_cast<uint32_t>(transfer::ChecksumCount(pos, piece.size(), 512) * 4);
      h.last = pos + 2000 >= data.size();
      auto header = transfer::EncodePacketHeader(h);
      std::string sums(h.checksum_len, '\0');
      transfer::ComputeChunkChecksums(pos, reinterpret_cast<const uint8_t*>(piece.data()),
                                      piece.size(), 512, reinterpret_cast<uint8_t*>(sums.data()));
      stream.append(reinterpret_cast<const char*>(header.data()), header.size());
      stream += sums;
      stream.append(piece);
    }
    if (id % 3 == 0) {
      stream.resize(next() % stream.size());
    } else {
      // Every other flip lands in the op frame or the first packet header.
      size_t span = id % 3 == 1 ? std::min(stream.size(), op->size() + 32)
                                : stream.size();
      stream[next() % span] ^= static_cast<char>(1 + next() % 255);
    }
    auto fd = Connect(dn->server->port());
    ASSERT_TRUE(fd.ok());
    ASSERT_TRUE(transfer::WriteFully(fd->get(), stream.data(), stream.size(), Soon()).ok());
    ::shutdown(fd->get(), SHUT_WR);
    // Whatever comes back (a response, acks, or nothing), the server ends the exchange.
    char sink[4096];
    while (::recv(fd->get(), sink, sizeof(sink), 0) > 0) {
    }
    auto info = dn->data->GetReplica(id);
    if (info.ok() && info->state == ReplicaState::kFinalized) {
      EXPECT_TRUE(Stored(dn, id) == data);
    }
  }
  ASSERT_TRUE(WaitFor([&] { return dn->server->active_connections() == 0; }));
  ExpectStillServing(dn);
}

TEST_F(TransferServerTest, PipelineSetupFailureNamesTheFirstBadNode) {
  Node* dn1 = AddNode();
  Node* dn2 = AddNode();
  ASSERT_TRUE(dn1 && dn2);
  // A port nobody listens on: bind one, note it, close it.
  uint16_t dead_port;
  {
    Node* tmp = AddNode();
    ASSERT_NE(tmp, nullptr);
    dead_port = tmp->server->port();
    tmp->server->Stop();
  }
  HostPort dead{"127.0.0.1", dead_port};
  auto w = StartWrite(dn1->server->port(), CreateOp(30, 1, {dn2->address(), dead}));
  ASSERT_TRUE(w.ok());
  EXPECT_NE(w->response.status, TransferStatus::kSuccess);
  std::string expected = std::string(kBadNodePrefix) + "127.0.0.1:" + std::to_string(dead_port);
  EXPECT_EQ(w->response.message.rfind(expected, 0), 0u) << w->response.message;
  // The nodes that did set up dropped their empty replicas.
  EXPECT_TRUE(WaitFor([&] { return !dn2->data->GetReplica(30).ok(); }));
  EXPECT_FALSE(dn1->data->GetReplica(30).ok());

  // A downstream that refuses (the replica exists there) is named too.
  ASSERT_TRUE(WriteBlock(dn2->server->port(), 31, 1, "x").ok());
  auto w2 = StartWrite(dn1->server->port(), CreateOp(31, 1, {dn2->address()}));
  ASSERT_TRUE(w2.ok());
  EXPECT_EQ(w2->response.status, TransferStatus::kErrorExists);
  expected = std::string(kBadNodePrefix) + "127.0.0.1:" + std::to_string(dn2->server->port());
  EXPECT_EQ(w2->response.message.rfind(expected, 0), 0u) << w2->response.message;
  ExpectStillServing(dn1);
}

TEST_F(TransferServerTest, AckNamesADownstreamNodeThatFailsMidStream) {
  Node* dn1 = AddNode();
  Node* dn2 = AddNode();
  Node* dn3 = AddNode();
  ASSERT_TRUE(dn1 && dn2 && dn3);
  auto w = StartWrite(dn1->server->port(), CreateOp(50, 1, {dn2->address(), dn3->address()}));
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->response.status, TransferStatus::kSuccess);
  std::string data = Bytes(3000, 9);
  ASSERT_TRUE(StreamPackets(w->fd.get(), 0, data.substr(0, 2000), 1000, false).ok());
  dn3->server->Stop();  // the last node dies
  ASSERT_TRUE(SendPacket(w->fd.get(), 2, 2000, std::string_view(data).substr(2000), false).ok());
  PipelineAck ack;
  ASSERT_TRUE(transfer::ReadAck(w->fd.get(), Soon(), &ack).ok());
  EXPECT_EQ(ack.seqno, 2);
  ASSERT_EQ(ack.replies.size(), 3u);
  EXPECT_EQ(ack.replies[0], TransferStatus::kSuccess);
  EXPECT_EQ(ack.replies[1], TransferStatus::kSuccess);
  EXPECT_EQ(ack.replies[2], TransferStatus::kError);
  EXPECT_EQ(ack.FirstFailure(), 2);
  // Only what all three acknowledged is visible; the survivors keep their RBW replicas.
  for (Node* dn : {dn1, dn2}) {
    ASSERT_TRUE(WaitFor([&] { return dn->server->active_transfers() == 0; }));
    EXPECT_EQ(*dn->server->VisibleLength(50, 1), 2000u);
    EXPECT_EQ(dn->data->GetReplica(50)->state, ReplicaState::kRbw);
    // The acked length is kept while the replica waits, and dropped once it is gone.
    EXPECT_EQ(dn->server->SweepTrackerForTests(), 1u);
    ASSERT_TRUE(dn->data->Delete(50, 1).ok());
    EXPECT_EQ(dn->server->SweepTrackerForTests(), 0u);
  }
}

TEST_F(TransferServerTest, RefusesConnectionsBeyondTheLimit) {
  TransferServerOptions options;
  options.max_connections = 2;
  Node* dn = AddNode(options);
  ASSERT_NE(dn, nullptr);
  auto a = Connect(dn->server->port());
  auto b = Connect(dn->server->port());
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(WaitFor([&] { return dn->server->active_connections() == 2; }));
  auto c = Connect(dn->server->port());
  ASSERT_TRUE(c.ok());
  auto refused = transfer::ReadResponse(c->get(), Soon());
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->status, TransferStatus::kError);
  EXPECT_NE(refused->message.find("busy"), std::string::npos) << refused->message;
  EXPECT_EQ(dn->server->counters().connections_refused, 1u);
  a->Reset();
  b->Reset();
  ASSERT_TRUE(WaitFor([&] { return dn->server->active_connections() == 0; }));
  ExpectStillServing(dn);
}

TEST_F(TransferServerTest, StopsWithTransfersInProgress) {
  Node* dn1 = AddNode();
  Node* dn2 = AddNode();
  ASSERT_TRUE(dn1 && dn2);
  auto w = StartWrite(dn1->server->port(), CreateOp(40, 1, {dn2->address()}));
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->response.status, TransferStatus::kSuccess);
  auto idle = Connect(dn1->server->port());
  ASSERT_TRUE(idle.ok());
  auto start = std::chrono::steady_clock::now();
  dn1->server->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(dn1->server->active_connections(), 0);
  EXPECT_TRUE(WaitFor([&] { return dn2->server->active_transfers() == 0; }));
}

// Throughput of a three-node in-process pipeline (all on this machine's one disk), durable at
// the end. TALUS_TRANSFER_BENCH_MB sets the size (default 64 MiB, in 64 MiB blocks).
TEST_F(TransferServerTest, ThreeNodePipelineThroughput) {
  Node* dn1 = AddNode();
  Node* dn2 = AddNode();
  Node* dn3 = AddNode();
  ASSERT_TRUE(dn1 && dn2 && dn3);
  uint64_t total_mb = 64;
  if (const char* env = std::getenv("TALUS_TRANSFER_BENCH_MB")) total_mb = std::atoi(env);
  const uint64_t block_mb = std::min<uint64_t>(64, total_mb);
  std::string block = Bytes(block_mb << 20, 77);
  const uint64_t blocks = total_mb / block_mb;
  auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < blocks; ++i) {
    Status s = WriteBlock(dn1->server->port(), 1000 + i, 1, block,
                          {dn2->address(), dn3->address()});
    ASSERT_TRUE(s.ok()) << s;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double mib_per_s = static_cast<double>(blocks * block_mb) / seconds;
  std::printf("3-node pipeline: %llu MiB in %.2f s = %.1f MiB/s\n",
              static_cast<unsigned long long>(blocks * block_mb), seconds, mib_per_s);
  RecordProperty("mib_per_s", std::to_string(mib_per_s));
  uint32_t crc = crc32c::Value(block.data(), block.size());
  for (Node* dn : {dn1, dn2, dn3}) {
    auto sum = BlockChecksum(dn->server->port(), 1000, 1);
    ASSERT_TRUE(sum.ok());
    EXPECT_EQ(sum->block_crc, crc);
    EXPECT_EQ(sum->block_crc_length, block.size());
  }
  // Read back from one node through the data port.
  start = std::chrono::steady_clock::now();
  auto r = ReadAndCompare(dn3->server->port(), 1000, 1, block);
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, block.size());
  std::printf("read of one %llu MiB block (checksums verified, bytes compared): %.1f MiB/s\n",
              static_cast<unsigned long long>(block_mb), block_mb / seconds);
}

}  // namespace
}  // namespace talus::datanode
