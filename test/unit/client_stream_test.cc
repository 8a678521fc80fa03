// The client's streams against an in-process fake namenode and fake datanodes that speak the
// transfer protocol (protocol.h) over loopback: writes, hflush, append, reads with failover from
// a corrupt replica, pread, seek and the file checksum, without the real daemons.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <variant>

#include "client/stream/file_checksum.h"
#include "client/stream/input_stream_impl.h"
#include "client/stream/lease_renewer.h"
#include "client/stream/output_stream_impl.h"
#include "common/crc32c.h"
#include "common/transfer/checksum.h"
#include "common/transfer/stream_io.h"
#include "test/support/mini_cluster.h"

namespace talus::client {
namespace {

using transfer::Deadline;

constexpr int64_t kBlockSize = 1 << 20;

// Replica bytes of every fake datanode, by (node index, block id).
struct FakeStorage {
  std::mutex mu;
  std::map<std::pair<int, uint64_t>, std::string> data;
  std::map<std::pair<int, uint64_t>, uint64_t> genstamp;
  std::map<uint16_t, int> node_by_port;
  std::set<int> corrupt_nodes;  // nodes that flip a byte of every packet they serve
  std::atomic<int> write_ops{0};
  std::set<int> ack_error_nodes;    // these nodes' replies are ERROR...
  int64_t ack_error_from_seqno = 0;  // ...in the acks of packets from this seqno on
  std::vector<transfer::WriteBlockOp> recovery_ops;  // every WRITE_BLOCK with stage recovery
  // The latest WRITE_BLOCK of each block: an older one still reading stops storing (as a real
  // datanode's recovery stops the old writer first).
  std::map<uint64_t, int> writer_epoch;
  int refuse_node = -1;     // this node refuses WRITE_BLOCK
  int cut_reads_node = -1;  // this node hangs up halfway through every READ_BLOCK
};

// Accepts connections on 127.0.0.1:<ephemeral> and serves WRITE_BLOCK (acting for the whole
// pipeline: it stores the bytes for itself and each target), READ_BLOCK and BLOCK_CHECKSUM.
class FakeDatanode {
 public:
  FakeDatanode(int index, FakeStorage* storage) : index_(index), storage_(storage) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    CHECK_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    CHECK_EQ(::listen(listen_fd_, 64), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    {
      std::lock_guard<std::mutex> lock(storage_->mu);
      storage_->node_by_port[port_] = index_;
    }
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~FakeDatanode() {
    stop_ = true;
    acceptor_.join();
    ::close(listen_fd_);
    for (auto& t : workers_) t.join();
  }
  DatanodeInfo info() const {
    return DatanodeInfo{"storage-" + std::to_string(index_), "127.0.0.1", port_, 0, ""};
  }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      workers_.emplace_back([this, fd] {
        transfer::UniqueFd owned(fd);
        Serve(fd);
      });
    }
  }

  static Deadline Soon() { return transfer::DeadlineAfterMs(10000); }

  void Serve(int fd) {
    Result<transfer::TransferOp> op = transfer::ReadOp(fd, Soon());
    if (!op.ok()) return;
    if (auto* w = std::get_if<transfer::WriteBlockOp>(&*op)) return ServeWrite(fd, *w);
    if (auto* r = std::get_if<transfer::ReadBlockOp>(&*op)) return ServeRead(fd, *r);
    if (auto* c = std::get_if<transfer::BlockChecksumOp>(&*op)) return ServeChecksum(fd, *c);
  }

  void ServeWrite(int fd, const transfer::WriteBlockOp& op) {
    ++storage_->write_ops;
    std::vector<int> nodes = {index_};
    std::set<int> ack_error_nodes;
    int64_t ack_error_from = 0;
    int epoch = 0;
    const bool recovery = op.stage == transfer::WriteStage::kRecovery;
    const uint64_t new_stamp = op.latest_genstamp != 0 ? op.latest_genstamp : op.genstamp;
    {
      std::lock_guard<std::mutex> lock(storage_->mu);
      ack_error_nodes = storage_->ack_error_nodes;
      ack_error_from = storage_->ack_error_from_seqno;
      epoch = ++storage_->writer_epoch[op.block_id];
      if (recovery) storage_->recovery_ops.push_back(op);
      if (storage_->refuse_node == index_) {
        transfer::OpResponse refused;
        refused.status = transfer::TransferStatus::kErrorNoSpace;
        refused.message = "127.0.0.1:" + std::to_string(port_) + " is full";
        (void)transfer::WriteResponse(fd, refused, Soon());
        return;
      }
      for (const auto& t : op.targets) nodes.push_back(storage_->node_by_port.at(t.port));
      for (int n : nodes) {
        auto key = std::make_pair(n, op.block_id);
        const uint64_t have = storage_->genstamp[key];
        const size_t length = storage_->data[key].size();
        if (op.stage == transfer::WriteStage::kCreate) {
          storage_->data[key].clear();
        } else if (recovery ? (have < op.genstamp || have > new_stamp ||
                               length < op.min_bytes_rcvd || length > op.max_bytes_rcvd)
                            : (have != op.genstamp || length != op.min_bytes_rcvd)) {
          transfer::OpResponse refused;
          refused.status = transfer::TransferStatus::kErrorStaleGenstamp;
          (void)transfer::WriteResponse(fd, refused, Soon());
          return;
        }
      }
      // Every replica takes the write's stamp; a recovery cuts them to the acked length.
      for (int n : nodes) {
        storage_->genstamp[{n, op.block_id}] = new_stamp;
        if (recovery) storage_->data[{n, op.block_id}].resize(op.min_bytes_rcvd);
      }
    }
    if (!transfer::WriteResponse(fd, transfer::OpResponse{}, Soon()).ok()) return;
    transfer::PacketValidator::Options v;
    v.start_offset = op.stage == transfer::WriteStage::kCreate ? 0 : op.min_bytes_rcvd;
    v.max_data_len = transfer::kMaxPacketDataBytes;  // as the real datanode allows
    transfer::PacketValidator validator(v);
    transfer::PacketBuffer packet;
    while (true) {
      if (!transfer::ReadPacket(fd, Soon(), &validator, &packet).ok()) return;
      const auto& h = packet.header;
      if (h.heartbeat()) continue;
      transfer::PipelineAck ack;
      ack.seqno = h.seqno;
      Status ok = transfer::VerifyChunkChecksums(h.offset_in_block, packet.data.data(),
                                                 h.data_len, op.bytes_per_checksum,
                                                 packet.checksums.data(), h.checksum_len);
      {
        std::lock_guard<std::mutex> lock(storage_->mu);
        if (storage_->writer_epoch[op.block_id] != epoch) return;  // superseded
        for (int n : nodes) {
          std::string& bytes = storage_->data[{n, op.block_id}];
          bytes.resize(h.offset_in_block);
          bytes.append(reinterpret_cast<const char*>(packet.data.data()), h.data_len);
          const bool fail = ack_error_nodes.count(n) > 0 && h.seqno >= ack_error_from;
          ack.replies.push_back(!ok.ok() ? transfer::TransferStatus::kErrorChecksum
                                : fail   ? transfer::TransferStatus::kError
                                         : transfer::TransferStatus::kSuccess);
        }
      }
      if (!transfer::WriteAck(fd, ack, Soon()).ok() || h.last) return;
    }
  }

  void ServeRead(int fd, const transfer::ReadBlockOp& op) {
    std::string bytes;
    bool corrupt = false;
    bool cut = false;
    {
      std::lock_guard<std::mutex> lock(storage_->mu);
      auto key = std::make_pair(index_, op.block_id);
      auto it = storage_->data.find(key);
      if (it == storage_->data.end() || storage_->genstamp[key] != op.genstamp) {
        transfer::OpResponse refused;
        refused.status = transfer::TransferStatus::kErrorUnknownBlock;
        (void)transfer::WriteResponse(fd, refused, Soon());
        return;
      }
      bytes = it->second;
      corrupt = storage_->corrupt_nodes.count(index_) > 0;
      cut = storage_->cut_reads_node == index_;
    }
    const uint64_t end = std::min<uint64_t>(bytes.size(), op.offset + op.length);
    transfer::OpResponse r;
    r.checksum_type = transfer::ChecksumType::kCrc32c;
    r.bytes_per_checksum = 512;
    r.first_chunk_offset = op.offset - op.offset % 512;
    if (!transfer::WriteResponse(fd, r, Soon()).ok()) return;
    const uint64_t stop = std::min<uint64_t>(bytes.size(), (end + 511) / 512 * 512);
    int64_t seqno = 0;
    std::vector<uint8_t> sums(1024);
    for (uint64_t off = r.first_chunk_offset; off < stop; off += 65536) {
      if (cut && off >= r.first_chunk_offset + (stop - r.first_chunk_offset) / 2) return;
      const uint32_t len = static_cast<uint32_t>(std::min<uint64_t>(65536, stop - off));
      std::string piece = bytes.substr(off, len);
      transfer::PacketHeader h;
      h.seqno = seqno++;
      h.offset_in_block = off;
      h.data_len = len;
      h.checksum_len = static_cast<uint32_t>(transfer::ChecksumCount(off, len, 512) * 4);
      transfer::ComputeChunkChecksums(off, reinterpret_cast<const uint8_t*>(piece.data()), len,
                                      512, sums.data());
      if (corrupt) piece[0] ^= 0x55;
      if (!transfer::WritePacket(fd, h, sums.data(),
                                 reinterpret_cast<const uint8_t*>(piece.data()), Soon())
               .ok()) {
        return;
      }
    }
    transfer::PacketHeader last;
    last.seqno = seqno;
    last.offset_in_block = std::max<uint64_t>(stop, r.first_chunk_offset);
    last.last = true;
    (void)transfer::WritePacket(fd, last, nullptr, nullptr, Soon());
  }

  void ServeChecksum(int fd, const transfer::BlockChecksumOp& op) {
    std::string bytes;
    {
      std::lock_guard<std::mutex> lock(storage_->mu);
      bytes = storage_->data[{index_, op.block_id}];
    }
    transfer::OpResponse r;
    r.block_crc_length = std::min<uint64_t>(op.length, bytes.size());
    r.block_crc = crc32c::Value(bytes.data(), r.block_crc_length);
    (void)transfer::WriteResponse(fd, r, Soon());
  }

  const int index_;
  FakeStorage* const storage_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> workers_;  // joined at the end (tests are short)
};

// The namenode's data-path calls over an in-memory namespace.
class FakeNamenode : public DataNamenode {
 public:
  explicit FakeNamenode(std::vector<DatanodeInfo> nodes) : nodes_(std::move(nodes)) {}

  struct File {
    uint64_t id = 0;
    int64_t block_size = 0;
    std::vector<LocatedBlock> blocks;
    bool under_construction = true;
  };

  Result<OpenedFile> Create(const std::string& path, uint32_t, const std::string&, bool overwrite,
                            bool, int16_t replication, int64_t block_size) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (files_.count(path) && !overwrite) return Status::AlreadyExists(path);
    File f;
    f.id = next_id_++;
    f.block_size = block_size;
    files_[path] = f;
    replication_ = replication;
    return OpenedFile{f.id, 0, block_size, replication};
  }

  Result<AppendedFile> Append(const std::string& path, const std::string&) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(path);
    if (it == files_.end()) return Status::NotFound(path);
    File& f = it->second;
    f.under_construction = true;
    AppendedFile out;
    out.file = OpenedFile{f.id, Length(f), f.block_size, 3};
    if (!f.blocks.empty() &&
        f.blocks.back().block.num_bytes < static_cast<uint64_t>(f.block_size)) {
      out.previous_genstamp = f.blocks.back().block.genstamp;
      f.blocks.back().block.genstamp = next_genstamp_++;
      out.last_block = f.blocks.back();
    }
    return out;
  }

  Result<LocatedBlock> AddBlock(const std::string& path, const std::string&,
                                const std::optional<BlockRef>& previous,
                                const std::vector<std::string>& excluded, uint64_t) override {
    std::lock_guard<std::mutex> lock(mu_);
    File& f = files_.at(path);
    if (!f.blocks.empty()) {
      if (!previous || previous->block_id != f.blocks.back().block.block_id) {
        return Status::InvalidArgument("previous is not the last block");
      }
      f.blocks.back().block = *previous;
    } else if (previous) {
      return Status::InvalidArgument("previous given for a file without blocks");
    }
    LocatedBlock lb;
    lb.block = BlockRef{next_block_++, next_genstamp_++, 0};
    lb.offset = Length(f);
    for (const DatanodeInfo& n : nodes_) {
      if (std::find(excluded.begin(), excluded.end(), n.storage_id) == excluded.end() &&
          lb.locations.size() < static_cast<size_t>(replication_)) {
        lb.locations.push_back(n);
      }
    }
    f.blocks.push_back(lb);
    return lb;
  }

  Status AbandonBlock(const std::string& path, const std::string&, const BlockRef& block,
                      uint64_t) override {
    std::lock_guard<std::mutex> lock(mu_);
    File& f = files_.at(path);
    if (f.blocks.empty() || f.blocks.back().block.block_id != block.block_id) {
      return Status::InvalidArgument("not the last block");
    }
    f.blocks.pop_back();
    return Status::OK();
  }

  Result<bool> Complete(const std::string& path, const std::string&,
                        const std::optional<BlockRef>& last, uint64_t) override {
    std::lock_guard<std::mutex> lock(mu_);
    // The first call answers "not yet", as a namenode waiting for block reports would.
    if (++complete_calls_ % 2 == 1) return false;
    File& f = files_.at(path);
    if (last) f.blocks.back().block = *last;
    f.under_construction = false;
    return true;
  }

  Result<LocatedBlocks> GetBlockLocations(const std::string& path, int64_t offset,
                                          int64_t length) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(path);
    if (it == files_.end()) return Status::NotFound(path);
    const File& f = it->second;
    LocatedBlocks out;
    out.file_length = Length(f);
    out.under_construction = f.under_construction;
    for (const LocatedBlock& lb : f.blocks) {
      const int64_t end = lb.offset + static_cast<int64_t>(lb.block.num_bytes);
      if (end > offset && lb.offset - offset < length) out.blocks.push_back(lb);
    }
    return out;
  }

  Result<uint64_t> UpdateBlockForPipeline(const BlockRef& block, const std::string&) override {
    std::lock_guard<std::mutex> lock(mu_);
    LocatedBlock* last = LastBlock(block.block_id);
    if (last == nullptr || last->block.genstamp != block.genstamp) {
      return Status::InvalidArgument("not the last block at its stamp");
    }
    return next_genstamp_++;
  }

  Status UpdatePipeline(const std::string&, const BlockRef& old_block, const BlockRef& new_block,
                        const std::vector<DatanodeInfo>& nodes) override {
    std::lock_guard<std::mutex> lock(mu_);
    LocatedBlock* last = LastBlock(old_block.block_id);
    if (last == nullptr || last->block.genstamp != old_block.genstamp ||
        new_block.genstamp <= old_block.genstamp) {
      return Status::InvalidArgument("bad pipeline update");
    }
    last->block = new_block;
    last->locations = nodes;
    pipeline_updates_.push_back(new_block);
    return Status::OK();
  }

  std::vector<BlockRef> pipeline_updates() {
    std::lock_guard<std::mutex> lock(mu_);
    return pipeline_updates_;
  }

  Status RenewLease(const std::string&) override {
    ++renewals_;
    return Status::OK();
  }

  Status ReportBadBlocks(const std::vector<LocatedBlock>& blocks) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const LocatedBlock& lb : blocks) bad_.push_back(lb);
    return Status::OK();
  }

  std::vector<LocatedBlock> bad() {
    std::lock_guard<std::mutex> lock(mu_);
    return bad_;
  }
  // Puts `node` first among the locations of every block of `path` (a node reads try first).
  void PrependLocation(const std::string& path, const DatanodeInfo& node) {
    std::lock_guard<std::mutex> lock(mu_);
    for (LocatedBlock& lb : files_.at(path).blocks) lb.locations.insert(lb.locations.begin(), node);
  }
  const File& file(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    return files_.at(path);
  }
  std::atomic<int> renewals_{0};

 private:
  LocatedBlock* LastBlock(uint64_t block_id) {
    for (auto& [path, f] : files_) {
      if (!f.blocks.empty() && f.blocks.back().block.block_id == block_id) {
        return &f.blocks.back();
      }
    }
    return nullptr;
  }

  static int64_t Length(const File& f) {
    int64_t n = 0;
    for (const LocatedBlock& lb : f.blocks) n += static_cast<int64_t>(lb.block.num_bytes);
    return n;
  }

  const std::vector<DatanodeInfo> nodes_;
  std::mutex mu_;
  std::map<std::string, File> files_;
  uint64_t next_id_ = 1000;
  uint64_t next_block_ = 1;
  uint64_t next_genstamp_ = 100;
  int complete_calls_ = 0;
  int16_t replication_ = 3;
  std::vector<LocatedBlock> bad_;
  std::vector<BlockRef> pipeline_updates_;
};

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(&s[i], &v, std::min<size_t>(8, n - i));
  }
  return s;
}

class ClientStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i) datanodes_.push_back(std::make_unique<FakeDatanode>(i, &storage_));
    std::vector<DatanodeInfo> infos;
    for (auto& d : datanodes_) infos.push_back(d->info());
    namenode_ = std::make_unique<FakeNamenode>(infos);
    leases_ = std::make_unique<LeaseRenewer>([this] { return namenode_->RenewLease("c"); }, 20);
    ctx_.namenode = namenode_.get();
    ctx_.client_name = "test-client";
    ctx_.options.datanode_timeout_ms = 10000;
    ctx_.options.default_block_size = kBlockSize;
    ctx_.leases = leases_.get();
  }

  void WriteFile(const std::string& path, const std::string& data, size_t chunk = 10000) {
    CreateOptions co;
    co.block_size = kBlockSize;
    auto out = OutputStreamImpl::Create(ctx_, path, co);
    ASSERT_TRUE(out.ok()) << out.status();
    for (size_t off = 0; off < data.size(); off += chunk) {
      ASSERT_TRUE((*out)->Write(data.data() + off, std::min(chunk, data.size() - off)).ok());
    }
    EXPECT_EQ((*out)->Tell(), static_cast<int64_t>(data.size()));
    Status s = (*out)->Close();
    ASSERT_TRUE(s.ok()) << s;
  }

  std::string ReadAll(const std::string& path, size_t chunk = 100000) {
    auto in = InputStreamImpl::Open(ctx_, path);
    EXPECT_TRUE(in.ok()) << in.status();
    if (!in.ok()) return "";
    std::string out;
    std::string buf(chunk, '\0');
    while (true) {
      auto n = (*in)->Read(buf.data(), buf.size());
      EXPECT_TRUE(n.ok()) << n.status();
      if (!n.ok() || *n == 0) break;
      out.append(buf.data(), *n);
    }
    return out;
  }

  FakeStorage storage_;
  std::vector<std::unique_ptr<FakeDatanode>> datanodes_;
  std::unique_ptr<FakeNamenode> namenode_;
  std::unique_ptr<LeaseRenewer> leases_;
  StreamContext ctx_;
};

TEST_F(ClientStreamTest, RoundTripsOfEverySize) {
  for (size_t size : {0ul, 1ul, 511ul, 512ul, 513ul, 65535ul, 65536ul, 65537ul,
                      static_cast<size_t>(kBlockSize - 1), static_cast<size_t>(kBlockSize),
                      static_cast<size_t>(kBlockSize + 1),
                      static_cast<size_t>(3 * kBlockSize + 777)}) {
    const std::string path = "/f" + std::to_string(size);
    const std::string data = RandomBytes(size, size);
    WriteFile(path, data, 7777);
    EXPECT_EQ(namenode_->file(path).blocks.size(), (size + kBlockSize - 1) / kBlockSize) << size;
    EXPECT_TRUE(ReadAll(path) == data) << "size " << size;
    EXPECT_TRUE(ReadAll(path, 3) == data) << "size " << size << " read 3 bytes at a time";
    auto sum = ComputeFileChecksum(namenode_.get(), path, 5000);
    ASSERT_TRUE(sum.ok()) << sum.status();
    EXPECT_EQ(sum->crc, crc32c::Value(data.data(), data.size()));
    EXPECT_EQ(sum->length, static_cast<int64_t>(size));
  }
}

TEST_F(ClientStreamTest, HflushMidChunkThenContinue) {
  CreateOptions co;
  co.block_size = kBlockSize;
  auto out = OutputStreamImpl::Create(ctx_, "/h", co);
  ASSERT_TRUE(out.ok());
  const std::string data = RandomBytes(300000, 5);
  size_t off = 0;
  for (size_t step : {100ul, 1000ul, 700ul, 65536ul, 3ul, 100000ul}) {
    ASSERT_TRUE((*out)->Write(data.data() + off, step).ok());
    off += step;
    ASSERT_TRUE(((off % 2) ? (*out)->Hflush() : (*out)->Hsync()).ok());
    std::lock_guard<std::mutex> lock(storage_.mu);
    for (int n = 0; n < 3; ++n) {
      const std::string& held = storage_.data[std::make_pair(n, uint64_t{1})];
      EXPECT_TRUE(held == data.substr(0, off)) << "node " << n << " after " << off;
    }
  }
  ASSERT_TRUE((*out)->Write(data.data() + off, data.size() - off).ok());
  ASSERT_TRUE((*out)->Close().ok());
  EXPECT_TRUE(ReadAll("/h") == data);
}

TEST_F(ClientStreamTest, AppendSeveralTimesKeepsTheChecksum) {
  const std::string data = RandomBytes(kBlockSize * 2 + 5000, 9);
  // Cut points include a block boundary exactly and mid-chunk ones.
  std::vector<size_t> cuts = {0, 1000, 1500, static_cast<size_t>(kBlockSize), kBlockSize + 513ul,
                              data.size()};
  WriteFile("/a", data.substr(0, cuts[1]));
  for (size_t i = 1; i + 1 < cuts.size(); ++i) {
    auto out = OutputStreamImpl::Append(ctx_, "/a");
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ((*out)->Tell(), static_cast<int64_t>(cuts[i]));
    ASSERT_TRUE((*out)->Write(data.data() + cuts[i], cuts[i + 1] - cuts[i]).ok());
    Status s = (*out)->Close();
    ASSERT_TRUE(s.ok()) << s;
  }
  EXPECT_TRUE(ReadAll("/a") == data);
  WriteFile("/whole", data);
  auto a = ComputeFileChecksum(namenode_.get(), "/a", 5000);
  auto whole = ComputeFileChecksum(namenode_.get(), "/whole", 5000);
  ASSERT_TRUE(a.ok() && whole.ok());
  EXPECT_EQ(a->crc, whole->crc);
  EXPECT_EQ(a->crc, crc32c::Value(data.data(), data.size()));
}

TEST_F(ClientStreamTest, CorruptReplicaFailsOverAndIsReported) {
  const std::string data = RandomBytes(kBlockSize + 4000, 11);
  WriteFile("/c", data);
  {
    std::lock_guard<std::mutex> lock(storage_.mu);
    storage_.corrupt_nodes.insert(0);
  }
  EXPECT_TRUE(ReadAll("/c") == data);
  auto bad = namenode_->bad();
  ASSERT_GE(bad.size(), 1u);
  EXPECT_EQ(bad[0].locations.size(), 1u);
  EXPECT_EQ(bad[0].locations[0].storage_id, "storage-0");
  // Every replica bad: a Corruption error naming the block.
  {
    std::lock_guard<std::mutex> lock(storage_.mu);
    storage_.corrupt_nodes = {0, 1, 2};
  }
  auto in = InputStreamImpl::Open(ctx_, "/c");
  ASSERT_TRUE(in.ok());
  std::string buf(1000, '\0');
  auto n = (*in)->Read(buf.data(), buf.size());
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), ErrorCode::kCorruption) << n.status();
  EXPECT_NE(n.status().message().find("blk_1_"), std::string::npos) << n.status();
}

TEST_F(ClientStreamTest, PreadAndSeekAtRandomOffsets) {
  const std::string data = RandomBytes(3 * kBlockSize + 12345, 13);
  WriteFile("/p", data, 1 << 20);
  auto in = InputStreamImpl::Open(ctx_, "/p");
  ASSERT_TRUE(in.ok());
  EXPECT_EQ((*in)->Length(), static_cast<int64_t>(data.size()));
  std::mt19937_64 rng(1);
  std::string buf;
  for (int i = 0; i < 60; ++i) {
    const int64_t off = static_cast<int64_t>(rng() % (data.size() + 10));
    const size_t n = rng() % (i % 3 == 0 ? 2 * kBlockSize : 3000);
    buf.assign(n, '\0');
    auto got = (*in)->Pread(off, buf.data(), n);
    ASSERT_TRUE(got.ok()) << got.status();
    const size_t want = off >= static_cast<int64_t>(data.size())
                            ? 0
                            : std::min(n, data.size() - static_cast<size_t>(off));
    ASSERT_EQ(*got, want);
    EXPECT_TRUE(buf.substr(0, want) == data.substr(std::min<size_t>(off, data.size()), want));
  }
  // Seeks, forward (short and long) and backward, interleaved with reads.
  int64_t pos = 0;
  for (int i = 0; i < 60; ++i) {
    const int64_t target = i % 4 == 0 ? static_cast<int64_t>(rng() % data.size())
                                      : std::min<int64_t>(pos + rng() % 5000, data.size());
    ASSERT_TRUE((*in)->Seek(target).ok());
    EXPECT_EQ((*in)->Tell(), target);
    const size_t n = rng() % 70000;
    buf.assign(n, '\0');
    auto got = (*in)->Read(buf.data(), n);
    ASSERT_TRUE(got.ok()) << got.status();
    const size_t want = std::min(n, data.size() - static_cast<size_t>(target));
    ASSERT_EQ(*got, want);
    EXPECT_TRUE(buf.substr(0, want) == data.substr(target, want)) << "at " << target;
    pos = target + static_cast<int64_t>(want);
  }
  EXPECT_FALSE((*in)->Seek(data.size() + 1).ok());
  EXPECT_TRUE((*in)->Seek(data.size()).ok());
  auto end = (*in)->Read(buf.data(), 10);
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(*end, 0u);
}

TEST_F(ClientStreamTest, ConcurrentPreads) {
  const std::string data = RandomBytes(2 * kBlockSize + 999, 17);
  WriteFile("/cp", data, 1 << 20);
  auto in = InputStreamImpl::Open(ctx_, "/cp");
  ASSERT_TRUE(in.ok());
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      std::string buf;
      for (int i = 0; i < 20; ++i) {
        const size_t off = rng() % data.size();
        const size_t n = rng() % 200000;
        buf.assign(n, '\0');
        auto got = (*in)->Pread(static_cast<int64_t>(off), buf.data(), n);
        const size_t want = std::min(n, data.size() - off);
        if (!got.ok() || *got != want || buf.compare(0, want, data, off, want) != 0) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(ClientStreamTest, LeaseRenewedWhileAStreamIsOpen) {
  CreateOptions co;
  co.block_size = kBlockSize;
  auto out = OutputStreamImpl::Create(ctx_, "/l", co);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(leases_->open_streams(), 1);
  const int before = namenode_->renewals_.load();
  EXPECT_TRUE(test::WaitFor([&] { return namenode_->renewals_.load() >= before + 2; },
                            std::chrono::seconds(5)));
  ASSERT_TRUE((*out)->Close().ok());
  EXPECT_EQ(leases_->open_streams(), 0);
}

TEST_F(ClientStreamTest, WriteAfterCloseFailsAndEmptyAppendKeepsData) {
  WriteFile("/e", "hello");
  auto out = OutputStreamImpl::Append(ctx_, "/e");
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE((*out)->Close().ok());
  EXPECT_FALSE((*out)->Write("x", 1).ok());
  EXPECT_EQ(ReadAll("/e"), "hello");
}

TEST_F(ClientStreamTest, WithoutRecoveryANodesErrorAckBreaksTheStreamNamingIt) {
  {
    std::lock_guard<std::mutex> lock(storage_.mu);
    storage_.ack_error_nodes = {2};
  }
  ctx_.options.pipeline_recovery_retries = 0;
  CreateOptions co;
  co.block_size = kBlockSize;
  auto out = OutputStreamImpl::Create(ctx_, "/broken", co);
  ASSERT_TRUE(out.ok());
  const std::string data = RandomBytes(200000, 3);
  Status s = (*out)->Write(data.data(), data.size());
  if (s.ok()) s = (*out)->Hflush();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(datanodes_[2]->info().DataAddress()), std::string::npos) << s;
  EXPECT_NE(s.message().find("node 3 of pipeline"), std::string::npos) << s;
  // Broken for good: later calls give the same error.
  EXPECT_EQ((*out)->Write("x", 1).message(), s.message());
  EXPECT_FALSE((*out)->Close().ok());
}

TEST_F(ClientStreamTest, AnErrorAckDropsThatNodeAndTheWriteGoesOn) {
  constexpr size_t kPacket = 64 * 1024;
  {
    std::lock_guard<std::mutex> lock(storage_.mu);
    storage_.ack_error_nodes = {1};
    storage_.ack_error_from_seqno = 3;
  }
  ctx_.options.write_packet_bytes = kPacket;
  CreateOptions co;
  co.block_size = kBlockSize;
  auto out = OutputStreamImpl::Create(ctx_, "/recovered", co);
  ASSERT_TRUE(out.ok());
  auto* stream = static_cast<OutputStreamImpl*>(out->get());
  const std::string data = RandomBytes(10 * kPacket + 100, 7);
  ASSERT_TRUE((*out)->Write(data.data(), data.size()).ok());
  ASSERT_TRUE((*out)->Hflush().ok());
  EXPECT_EQ(stream->pipeline_recoveries(), 1);
  std::optional<LocatedBlock> block = stream->CurrentBlock();
  ASSERT_TRUE(block.has_value());
  ASSERT_EQ(block->locations.size(), 2u);
  EXPECT_EQ(block->locations[0].storage_id, "storage-0");
  EXPECT_EQ(block->locations[1].storage_id, "storage-2");
  ASSERT_TRUE((*out)->Close().ok());

  // The survivors resumed at the acknowledged length (packets 0-2) under a new stamp, every
  // later packet was sent again, and the namenode got the new stamp, length and nodes.
  std::vector<transfer::WriteBlockOp> ops;
  {
    std::lock_guard<std::mutex> lock(storage_.mu);
    ops = storage_.recovery_ops;
  }
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].min_bytes_rcvd, 3 * kPacket);
  // At most what was queued when the node failed: the failed packet at least.
  EXPECT_GE(ops[0].max_bytes_rcvd, 4 * kPacket);
  EXPECT_LE(ops[0].max_bytes_rcvd, data.size());
  EXPECT_GT(ops[0].latest_genstamp, ops[0].genstamp);
  ASSERT_EQ(ops[0].targets.size(), 1u);
  std::vector<BlockRef> updates = namenode_->pipeline_updates();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].genstamp, ops[0].latest_genstamp);
  EXPECT_EQ(updates[0].num_bytes, 3 * kPacket);
  const LocatedBlock& last = namenode_->file("/recovered").blocks[0];
  EXPECT_EQ(last.block.genstamp, ops[0].latest_genstamp);
  EXPECT_EQ(last.block.num_bytes, data.size());
  EXPECT_TRUE(ReadAll("/recovered") == data);
}

TEST_F(ClientStreamTest, AFailedAppendSetupIsRecoveredOnTheOtherNodes) {
  const std::string first = RandomBytes(70000, 9);
  WriteFile("/app", first);
  const uint64_t old_stamp = namenode_->file("/app").blocks[0].block.genstamp;
  {
    std::lock_guard<std::mutex> lock(storage_.mu);
    storage_.refuse_node = 0;
  }
  auto out = OutputStreamImpl::Append(ctx_, "/app");
  ASSERT_TRUE(out.ok()) << out.status();
  const std::string more = RandomBytes(90000, 10);
  ASSERT_TRUE((*out)->Write(more.data(), more.size()).ok());
  ASSERT_TRUE((*out)->Close().ok());
  {
    std::lock_guard<std::mutex> lock(storage_.mu);
    ASSERT_EQ(storage_.recovery_ops.size(), 1u);
    // Replicas the append never reached still have the stamp from before it.
    EXPECT_EQ(storage_.recovery_ops[0].genstamp, old_stamp);
    EXPECT_EQ(storage_.recovery_ops[0].min_bytes_rcvd, first.size());
  }
  const LocatedBlock& block = namenode_->file("/app").blocks[0];
  ASSERT_EQ(block.locations.size(), 2u);
  EXPECT_EQ(block.locations[0].storage_id, "storage-1");
  EXPECT_EQ(block.block.num_bytes, first.size() + more.size());
  EXPECT_TRUE(ReadAll("/app") == first + more);
}

TEST_F(ClientStreamTest, WhenEveryNodeFailsTheWriterSeesTheError) {
  {
    std::lock_guard<std::mutex> lock(storage_.mu);
    storage_.ack_error_nodes = {0, 1, 2};
  }
  CreateOptions co;
  co.block_size = kBlockSize;
  auto out = OutputStreamImpl::Create(ctx_, "/lost", co);
  ASSERT_TRUE(out.ok());
  const std::string data = RandomBytes(100000, 8);
  Status s = (*out)->Write(data.data(), data.size());
  if (s.ok()) s = (*out)->Hflush();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("all datanodes of the pipeline failed"), std::string::npos) << s;
  // Each rebuild drops the first failing node: pipelines of two nodes, then of one, were
  // tried; then none was left.
  std::lock_guard<std::mutex> lock(storage_.mu);
  EXPECT_EQ(storage_.recovery_ops.size(), 2u);
}

TEST_F(ClientStreamTest, ARefusingNodeIsLeftOutOfANewPipeline) {
  {
    std::lock_guard<std::mutex> lock(storage_.mu);
    storage_.refuse_node = 0;
  }
  const std::string data = RandomBytes(kBlockSize + 10, 4);
  WriteFile("/refused", data);
  const auto& file = namenode_->file("/refused");
  ASSERT_EQ(file.blocks.size(), 2u);
  for (const LocatedBlock& lb : file.blocks) {
    ASSERT_EQ(lb.locations.size(), 2u);
    EXPECT_NE(lb.locations[0].storage_id, "storage-0");
    EXPECT_NE(lb.locations[1].storage_id, "storage-0");
  }
  EXPECT_TRUE(ReadAll("/refused") == data);
}

TEST_F(ClientStreamTest, ReadsFailOverFromADeadNodeAndAConnectionCutMidway) {
  const std::string data = RandomBytes(2 * kBlockSize + 100, 23);
  WriteFile("/dead", data);
  // First location: nothing listens there. Second: hangs up halfway through each read.
  DatanodeInfo dead{"storage-dead", "127.0.0.1", 1, 0, ""};
  namenode_->PrependLocation("/dead", dead);
  {
    std::lock_guard<std::mutex> lock(storage_.mu);
    storage_.cut_reads_node = 0;
  }
  EXPECT_TRUE(ReadAll("/dead", 1 << 20) == data);
  auto in = InputStreamImpl::Open(ctx_, "/dead");
  ASSERT_TRUE(in.ok());
  std::string buf(300000, '\0');
  auto got = (*in)->Pread(kBlockSize - 1000, buf.data(), buf.size());
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(*got, buf.size());
  EXPECT_TRUE(buf == data.substr(kBlockSize - 1000, buf.size()));
  // Neither failure is a checksum mismatch: nothing reported as corrupt.
  EXPECT_TRUE(namenode_->bad().empty());
}

TEST_F(ClientStreamTest, AReaderFollowsABlockToItsNewStampAfterAnAppend) {
  const std::string data = RandomBytes(5000, 29);
  WriteFile("/stamp", data);
  auto in = InputStreamImpl::Open(ctx_, "/stamp");
  ASSERT_TRUE(in.ok());
  // The append moves the last block to a new generation stamp: the cached one is refused.
  auto out = OutputStreamImpl::Append(ctx_, "/stamp");
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE((*out)->Write("more", 4).ok());
  ASSERT_TRUE((*out)->Close().ok());
  std::string buf(data.size(), '\0');
  auto got = (*in)->Read(buf.data(), buf.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, data.size());
  EXPECT_TRUE(buf == data);
  auto length = (*in)->RefreshLength();
  ASSERT_TRUE(length.ok());
  EXPECT_EQ(*length, static_cast<int64_t>(data.size() + 4));
}

}  // namespace
}  // namespace talus::client
