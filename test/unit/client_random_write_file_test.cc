// RandomWriteFileImpl against an in-process fake namenode (with the copy-on-write calls) and
// fake datanodes speaking the transfer protocol over loopback: streaming at the end, switching
// to copy-on-write for writes elsewhere and truncations, reading its own unflushed writes, the
// dirty-bytes bound, error codes kept, and thousands of random operations against a model.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <variant>

#include "client/rewrite/random_write_file_impl.h"
#include "client/stream/input_stream_impl.h"
#include "common/transfer/checksum.h"
#include "common/transfer/stream_io.h"

namespace talus::client {
namespace {

using transfer::Deadline;

// Replica bytes of every fake datanode by (node, block id), with their stamps.
struct FakeStorage {
  std::mutex mu;
  std::map<std::pair<int, uint64_t>, std::string> data;
  std::map<std::pair<int, uint64_t>, uint64_t> genstamp;
  std::map<uint16_t, int> node_by_port;
  std::atomic<int> write_ops{0};
};

// Serves WRITE_BLOCK (storing for itself and every target, as a whole pipeline would) and
// READ_BLOCK on 127.0.0.1:<ephemeral>.
class FakeDatanode {
 public:
  FakeDatanode(int index, FakeStorage* storage) : index_(index), storage_(storage) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
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
  static Deadline Soon() { return transfer::DeadlineAfterMs(10000); }

  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      workers_.emplace_back([this, fd] {
        transfer::UniqueFd owned(fd);
        Result<transfer::TransferOp> op = transfer::ReadOp(fd, Soon());
        if (!op.ok()) return;
        if (auto* w = std::get_if<transfer::WriteBlockOp>(&*op)) return ServeWrite(fd, *w);
        if (auto* r = std::get_if<transfer::ReadBlockOp>(&*op)) return ServeRead(fd, *r);
      });
    }
  }

  void ServeWrite(int fd, const transfer::WriteBlockOp& op) {
    ++storage_->write_ops;
    std::vector<int> nodes = {index_};
    const uint64_t stamp = op.latest_genstamp != 0 ? op.latest_genstamp : op.genstamp;
    {
      std::lock_guard<std::mutex> lock(storage_->mu);
      for (const auto& t : op.targets) nodes.push_back(storage_->node_by_port.at(t.port));
      for (int n : nodes) {
        auto key = std::make_pair(n, op.block_id);
        if (op.stage == transfer::WriteStage::kCreate) {
          storage_->data[key].clear();
        } else if (storage_->genstamp[key] != op.genstamp ||
                   storage_->data[key].size() != op.min_bytes_rcvd) {
          transfer::OpResponse refused;
          refused.status = transfer::TransferStatus::kErrorStaleGenstamp;
          (void)transfer::WriteResponse(fd, refused, Soon());
          return;
        }
        storage_->genstamp[key] = stamp;
      }
    }
    if (!transfer::WriteResponse(fd, transfer::OpResponse{}, Soon()).ok()) return;
    transfer::PacketValidator::Options v;
    v.start_offset = op.stage == transfer::WriteStage::kCreate ? 0 : op.min_bytes_rcvd;
    v.max_data_len = transfer::kMaxPacketDataBytes;
    transfer::PacketValidator validator(v);
    transfer::PacketBuffer packet;
    while (true) {
      if (!transfer::ReadPacket(fd, Soon(), &validator, &packet).ok()) return;
      const auto& h = packet.header;
      if (h.heartbeat()) continue;
      Status ok = transfer::VerifyChunkChecksums(h.offset_in_block, packet.data.data(),
                                                 h.data_len, op.bytes_per_checksum,
                                                 packet.checksums.data(), h.checksum_len);
      transfer::PipelineAck ack;
      ack.seqno = h.seqno;
      {
        std::lock_guard<std::mutex> lock(storage_->mu);
        for (int n : nodes) {
          std::string& bytes = storage_->data[{n, op.block_id}];
          bytes.resize(h.offset_in_block);
          bytes.append(reinterpret_cast<const char*>(packet.data.data()), h.data_len);
          ack.replies.push_back(ok.ok() ? transfer::TransferStatus::kSuccess
                                        : transfer::TransferStatus::kErrorChecksum);
        }
      }
      if (!transfer::WriteAck(fd, ack, Soon()).ok() || h.last) return;
    }
  }

  void ServeRead(int fd, const transfer::ReadBlockOp& op) {
    std::string bytes;
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
      const uint32_t len = static_cast<uint32_t>(std::min<uint64_t>(65536, stop - off));
      transfer::PacketHeader h;
      h.seqno = seqno++;
      h.offset_in_block = off;
      h.data_len = len;
      h.checksum_len = static_cast<uint32_t>(transfer::ChecksumCount(off, len, 512) * 4);
      const auto* p = reinterpret_cast<const uint8_t*>(bytes.data() + off);
      transfer::ComputeChunkChecksums(off, p, len, 512, sums.data());
      if (!transfer::WritePacket(fd, h, sums.data(), p, Soon()).ok()) return;
    }
    transfer::PacketHeader last;
    last.seqno = seqno;
    last.offset_in_block = std::max<uint64_t>(stop, r.first_chunk_offset);
    last.last = true;
    (void)transfer::WritePacket(fd, last, nullptr, nullptr, Soon());
  }

  const int index_;
  FakeStorage* const storage_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

// The namenode's data-path and copy-on-write calls over an in-memory namespace, with leases,
// checking what the real one checks (lease holder, old block ids, layout of the new list).
class FakeNamenode : public DataNamenode {
 public:
  FakeNamenode(std::vector<DatanodeInfo> nodes, FakeStorage* storage)
      : nodes_(std::move(nodes)), storage_(storage) {}

  struct File {
    uint64_t id = 0;
    int64_t block_size = 0;
    std::vector<LocatedBlock> blocks;
    std::string holder;  // lease holder; "" when closed
    bool under_construction = false;
  };

  Result<OpenedFile> Create(const std::string& path, uint32_t, const std::string& client,
                            bool overwrite, bool, int16_t, int64_t block_size) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (files_.count(path) && !overwrite) return Status::AlreadyExists(path);
    File f;
    f.id = next_id_++;
    f.block_size = block_size;
    f.holder = client;
    f.under_construction = true;
    files_[path] = f;
    return Opened(f);
  }

  Result<AppendedFile> Append(const std::string& path, const std::string& client) override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(File * f, Lookup(path));
    if (!f->holder.empty()) return Status::LeaseConflict(path + " is held by " + f->holder);
    f->holder = client;
    f->under_construction = true;
    ++appends_;
    AppendedFile out;
    out.file = Opened(*f);
    if (!f->blocks.empty() &&
        f->blocks.back().block.num_bytes < static_cast<uint64_t>(f->block_size)) {
      out.previous_genstamp = f->blocks.back().block.genstamp;
      f->blocks.back().block.genstamp = next_genstamp_++;
      out.last_block = f->blocks.back();
    }
    return out;
  }

  Result<LocatedBlock> AddBlock(const std::string& path, const std::string& client,
                                const std::optional<BlockRef>& previous,
                                const std::vector<std::string>&, uint64_t) override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(File * f, Held(path, client));
    if (!f->blocks.empty()) {
      if (!previous || previous->block_id != f->blocks.back().block.block_id) {
        return Status::InvalidArgument("previous is not the last block");
      }
      f->blocks.back().block = *previous;
    }
    LocatedBlock lb = NewBlock();
    lb.offset = Length(*f);
    f->blocks.push_back(lb);
    return lb;
  }

  Status AbandonBlock(const std::string& path, const std::string&, const BlockRef&,
                      uint64_t) override {
    return Status::NotSupported("abandon " + path);
  }

  Result<bool> Complete(const std::string& path, const std::string& client,
                        const std::optional<BlockRef>& last, uint64_t) override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(File * f, Held(path, client));
    if (last) f->blocks.back().block = *last;
    f->holder.clear();
    f->under_construction = false;
    ++completes_;
    return true;
  }

  Result<LocatedBlocks> GetBlockLocations(const std::string& path, int64_t offset,
                                          int64_t length) override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(File * f, Lookup(path));
    LocatedBlocks out;
    out.under_construction = f->under_construction;
    int64_t pos = 0;
    for (LocatedBlock lb : f->blocks) {
      if (f->under_construction && lb.block.block_id == f->blocks.back().block.block_id) {
        // A block being written: what its replicas hold is what a reader may see.
        std::lock_guard<std::mutex> storage_lock(storage_->mu);
        lb.block.num_bytes = storage_->data[{0, lb.block.block_id}].size();
      }
      lb.offset = pos;
      pos += static_cast<int64_t>(lb.block.num_bytes);
      if (pos > offset && lb.offset - offset < length) out.blocks.push_back(lb);
    }
    out.file_length = pos;
    return out;
  }

  Status RenewLease(const std::string&) override { return Status::OK(); }
  Status ReportBadBlocks(const std::vector<LocatedBlock>&) override { return Status::OK(); }

  Result<OpenedFile> OpenForOverwrite(const std::string& path,
                                      const std::string& client) override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(File * f, Lookup(path));
    if (!f->holder.empty()) return Status::LeaseConflict(path + " is held by " + f->holder);
    f->holder = client;
    ++overwrites_;
    return Opened(*f);
  }

  Result<LocatedBlock> AllocateBlock(const std::string& path, uint64_t, const std::string& client,
                                     const std::vector<std::string>&) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (no_space_) return Status::NoSpace("cluster full");
    ASSIGN_OR_RETURN(File * f, Held(path, client));
    (void)f;
    return NewBlock();
  }

  Result<OpenedFile> CommitBlocks(const std::string& path, uint64_t, const std::string& client,
                                  const std::vector<BlockReplacement>& replacements,
                                  int64_t new_length, bool release) override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(File * f, Held(path, client));
    std::vector<LocatedBlock> blocks = f->blocks;
    for (const BlockReplacement& r : replacements) {
      if (r.index < 0 || static_cast<size_t>(r.index) > blocks.size()) {
        return Status::InvalidArgument("replacement index out of range");
      }
      const uint64_t current =
          static_cast<size_t>(r.index) < blocks.size() ? blocks[r.index].block.block_id : 0;
      if (current != r.old_block_id) return Status::InvalidArgument("old block id mismatch");
      LocatedBlock lb;
      lb.block = r.new_block;
      lb.locations = nodes_;
      if (static_cast<size_t>(r.index) == blocks.size()) {
        blocks.push_back(lb);
      } else {
        replaced_.push_back(blocks[r.index].block.block_id);
        blocks[r.index] = lb;
      }
    }
    int64_t sum = 0;
    size_t keep = 0;
    while (keep < blocks.size() && sum < new_length) {
      sum += static_cast<int64_t>(blocks[keep++].block.num_bytes);
    }
    if (sum != new_length) return Status::InvalidArgument("blocks do not sum to the length");
    for (size_t i = 0; i + 1 < keep; ++i) {
      if (static_cast<int64_t>(blocks[i].block.num_bytes) != f->block_size) {
        return Status::InvalidArgument("a block before the last is not full");
      }
    }
    for (size_t i = keep; i < blocks.size(); ++i) replaced_.push_back(blocks[i].block.block_id);
    blocks.resize(keep);
    f->blocks = blocks;
    if (release) f->holder.clear();
    ++commits_;
    return Opened(*f);
  }

  // A second client takes (or drops) the lease of `path`.
  void SetHolder(const std::string& path, const std::string& holder) {
    std::lock_guard<std::mutex> lock(mu_);
    files_.at(path).holder = holder;
  }
  std::string Holder(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    return files_.at(path).holder;
  }
  void SetNoSpace(bool on) {
    std::lock_guard<std::mutex> lock(mu_);
    no_space_ = on;
  }

  std::atomic<int> appends_{0}, completes_{0}, overwrites_{0}, commits_{0};
  std::vector<uint64_t> replaced_;

 private:
  Result<File*> Lookup(const std::string& path) {
    auto it = files_.find(path);
    if (it == files_.end()) return Status::NotFound(path);
    return &it->second;
  }
  Result<File*> Held(const std::string& path, const std::string& client) {
    ASSIGN_OR_RETURN(File * f, Lookup(path));
    if (f->holder != client) return Status::LeaseConflict(path + " is not leased to " + client);
    return f;
  }
  LocatedBlock NewBlock() {
    LocatedBlock lb;
    lb.block = BlockRef{next_block_++, next_genstamp_++, 0};
    lb.locations = nodes_;
    return lb;
  }
  static int64_t Length(const File& f) {
    int64_t n = 0;
    for (const LocatedBlock& lb : f.blocks) n += static_cast<int64_t>(lb.block.num_bytes);
    return n;
  }
  OpenedFile Opened(const File& f) {
    OpenedFile out(f.id, Length(f), f.block_size, 3);
    out.info.inode_id = f.id;
    out.info.length = out.length;
    out.info.block_size = f.block_size;
    out.info.replication = 3;
    out.info.mode = 0644;
    out.info.owner = "owner";
    return out;
  }

  const std::vector<DatanodeInfo> nodes_;
  FakeStorage* const storage_;
  std::mutex mu_;
  std::map<std::string, File> files_;
  uint64_t next_id_ = 1000;
  uint64_t next_block_ = 1;
  uint64_t next_genstamp_ = 100;
  bool no_space_ = false;
};

constexpr int64_t kBlockSize = 4096;

std::string Pattern(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

class RandomWriteFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i) datanodes_.push_back(std::make_unique<FakeDatanode>(i, &storage_));
    std::vector<DatanodeInfo> infos;
    for (auto& d : datanodes_) infos.push_back(d->info());
    namenode_ = std::make_unique<FakeNamenode>(infos, &storage_);
    ctx_.namenode = namenode_.get();
    ctx_.client_name = "writer";
    ctx_.options.datanode_timeout_ms = 10000;
    ctx_.options.default_block_size = kBlockSize;
    ctx_.options.write_packet_bytes = 1024;
  }

  std::unique_ptr<RandomWriteFileImpl> CreateFile(const std::string& path) {
    Result<OpenedFile> created =
        namenode_->Create(path, 0644, ctx_.client_name, true, true, 3, kBlockSize);
    EXPECT_TRUE(created.ok()) << created.status();
    return RandomWriteFileImpl::ForCreated(ctx_, path, *created, 3, kBlockSize);
  }

  std::unique_ptr<RandomWriteFileImpl> OpenFile(const std::string& path) {
    Result<LocatedBlocks> located = namenode_->GetBlockLocations(path, 0, 1LL << 40);
    EXPECT_TRUE(located.ok()) << located.status();
    FileInfo info;
    info.inode_id = 1;
    info.path = path;
    info.length = located.ok() ? located->file_length : 0;
    info.block_size = kBlockSize;
    info.replication = 3;
    return RandomWriteFileImpl::ForExisting(ctx_, path, info);
  }

  // The committed file as a fresh reader sees it.
  std::string ReadCommitted(const std::string& path) {
    auto in = InputStreamImpl::Open(ctx_, path);
    EXPECT_TRUE(in.ok()) << in.status();
    if (!in.ok()) return "";
    std::string out(static_cast<size_t>((*in)->Length()), '\0');
    size_t done = 0;
    while (done < out.size()) {
      auto n = (*in)->Pread(static_cast<int64_t>(done), out.data() + done, out.size() - done);
      EXPECT_TRUE(n.ok()) << n.status();
      if (!n.ok() || *n == 0) break;
      done += *n;
    }
    out.resize(done);
    return out;
  }

  std::string ReadThrough(RandomWriteFileImpl& f, int64_t offset, size_t n) {
    std::string out(n, '\0');
    auto got = f.Read(offset, out.data(), n);
    EXPECT_TRUE(got.ok()) << got.status();
    out.resize(got.ok() ? *got : 0);
    return out;
  }

  FakeStorage storage_;
  std::vector<std::unique_ptr<FakeDatanode>> datanodes_;
  std::unique_ptr<FakeNamenode> namenode_;
  StreamContext ctx_;
};

TEST_F(RandomWriteFileTest, SequentialWritesStreamWithoutCopyOnWrite) {
  auto f = CreateFile("/seq");
  EXPECT_EQ(f->opened_info().owner, "owner");
  EXPECT_EQ(f->opened_info().mode, 0644u);
  const std::string data = Pattern(3 * kBlockSize + 777, 1);
  for (size_t off = 0; off < data.size(); off += 1000) {
    ASSERT_TRUE(f->Write(off, data.data() + off, std::min<size_t>(1000, data.size() - off)).ok());
  }
  EXPECT_EQ(f->Length(), static_cast<int64_t>(data.size()));
  EXPECT_TRUE(f->Dirty());
  // Its own unflushed bytes read back (through an hflush).
  EXPECT_EQ(ReadThrough(*f, 100, 5000), data.substr(100, 5000));
  ASSERT_TRUE(f->Close().ok());
  EXPECT_EQ(ReadCommitted("/seq"), data);
  EXPECT_EQ(namenode_->overwrites_.load(), 0);
  EXPECT_EQ(namenode_->commits_.load(), 0);
  EXPECT_EQ(f->stats().streams, 1);
  EXPECT_EQ(namenode_->Holder("/seq"), "");
}

TEST_F(RandomWriteFileTest, AppendAfterFlushReopensTheStream) {
  auto f = CreateFile("/app");
  const std::string data = Pattern(2 * kBlockSize + 100, 2);
  ASSERT_TRUE(f->Write(0, data.data(), 5000).ok());
  ASSERT_TRUE(f->Flush().ok());
  EXPECT_FALSE(f->Dirty());
  EXPECT_EQ(namenode_->Holder("/app"), "");  // released: others may write now
  EXPECT_EQ(ReadCommitted("/app"), data.substr(0, 5000));
  ASSERT_TRUE(f->Write(5000, data.data() + 5000, data.size() - 5000).ok());
  ASSERT_TRUE(f->Close().ok());
  EXPECT_EQ(ReadCommitted("/app"), data);
  EXPECT_EQ(namenode_->appends_.load(), 1);
  EXPECT_EQ(namenode_->commits_.load(), 0);
}

// The kernel's writeback cache sends the last partial page again with the bytes after it.
TEST_F(RandomWriteFileTest, RewritingTheLastPageWithTheSameBytesKeepsStreaming) {
  auto f = CreateFile("/page");
  const std::string data = Pattern(3 * kBlockSize, 9);
  ASSERT_TRUE(f->Write(0, data.data(), 1000).ok());
  ASSERT_TRUE(f->Write(512, data.data() + 512, 2000).ok());  // repeats [512, 1000)
  ASSERT_TRUE(f->Flush().ok());
  // Idle now: the repeated bytes are checked against the committed file.
  ASSERT_TRUE(f->Write(2048, data.data() + 2048, 3000).ok());
  ASSERT_TRUE(f->Write(4096, data.data() + 4096, data.size() - 4096).ok());
  EXPECT_EQ(f->Length(), static_cast<int64_t>(data.size()));
  ASSERT_TRUE(f->Close().ok());
  EXPECT_EQ(ReadCommitted("/page"), data);
  EXPECT_EQ(namenode_->overwrites_.load(), 0);
  EXPECT_EQ(f->stats().streams, 2);

  // Different bytes before the end: copy-on-write.
  auto g = OpenFile("/page");
  std::string changed = data.substr(data.size() - 10) + "new";
  changed[0] ^= 1;
  ASSERT_TRUE(g->Write(data.size() - 10, changed.data(), changed.size()).ok());
  ASSERT_TRUE(g->Close().ok());
  EXPECT_EQ(namenode_->overwrites_.load(), 1);
  EXPECT_EQ(ReadCommitted("/page"), data.substr(0, data.size() - 10) + changed);
}

TEST_F(RandomWriteFileTest, OverwriteInTheMiddleIsOneCommitOfWholeBlocks) {
  auto f = CreateFile("/mid");
  std::string model = Pattern(3 * kBlockSize + 10, 3);
  ASSERT_TRUE(f->Write(0, model.data(), model.size()).ok());
  ASSERT_TRUE(f->Flush().ok());
  const std::string patch = Pattern(kBlockSize, 4);
  ASSERT_TRUE(f->Write(kBlockSize / 2, patch.data(), patch.size()).ok());  // blocks 0 and 1
  model.replace(kBlockSize / 2, patch.size(), patch);
  EXPECT_EQ(ReadThrough(*f, 0, model.size()), model);
  // Not yet visible to others: the committed file is the old one.
  EXPECT_NE(ReadCommitted("/mid"), model);
  ASSERT_TRUE(f->Flush().ok());
  EXPECT_EQ(ReadCommitted("/mid"), model);
  EXPECT_EQ(namenode_->commits_.load(), 1);
  EXPECT_EQ(f->stats().blocks_written, 2);
  EXPECT_EQ(namenode_->replaced_.size(), 2u);
  EXPECT_EQ(namenode_->Holder("/mid"), "");
}

TEST_F(RandomWriteFileTest, TruncateDownUpAndToZeroThenRewrite) {
  auto f = CreateFile("/trunc");
  std::string model = Pattern(2 * kBlockSize + 300, 5);
  ASSERT_TRUE(f->Write(0, model.data(), model.size()).ok());
  ASSERT_TRUE(f->Close().ok());

  auto g = OpenFile("/trunc");
  ASSERT_TRUE(g->Truncate(kBlockSize + 10).ok());
  ASSERT_TRUE(g->Truncate(kBlockSize + 500).ok());  // the 490 bytes regrown are zeros
  model.resize(kBlockSize + 10);
  model.resize(kBlockSize + 500, '\0');
  EXPECT_EQ(g->Length(), static_cast<int64_t>(model.size()));
  EXPECT_EQ(ReadThrough(*g, 0, 1 << 20), model);
  ASSERT_TRUE(g->Flush().ok());
  EXPECT_EQ(ReadCommitted("/trunc"), model);

  // O_TRUNC and a new content: the truncation commits, the writes stream.
  const int commits = namenode_->commits_.load();
  ASSERT_TRUE(g->Truncate(0).ok());
  const std::string fresh = Pattern(kBlockSize + 1, 6);
  ASSERT_TRUE(g->Write(0, fresh.data(), fresh.size()).ok());
  ASSERT_TRUE(g->Close().ok());
  EXPECT_EQ(ReadCommitted("/trunc"), fresh);
  EXPECT_EQ(namenode_->commits_.load(), commits + 1);
  EXPECT_GE(g->stats().streams, 1);
}

TEST_F(RandomWriteFileTest, GrowingTruncateAndHolesStreamZeros) {
  auto f = CreateFile("/holes");
  ASSERT_TRUE(f->Write(10, "abc", 3).ok());  // a hole before the first write
  ASSERT_TRUE(f->Truncate(kBlockSize * 2).ok());
  ASSERT_TRUE(f->Close().ok());
  std::string model(kBlockSize * 2, '\0');
  model.replace(10, 3, "abc");
  EXPECT_EQ(ReadCommitted("/holes"), model);
  EXPECT_EQ(namenode_->commits_.load(), 0);
}

TEST_F(RandomWriteFileTest, DirtyBytesPastTheBoundFlushByThemselves) {
  ctx_.options.max_dirty_bytes = 3 * kBlockSize;
  auto f = CreateFile("/bound");
  std::string model = Pattern(8 * kBlockSize, 7);
  ASSERT_TRUE(f->Write(0, model.data(), model.size()).ok());
  ASSERT_TRUE(f->Flush().ok());
  // Backwards, so that nothing is at the end: all copy-on-write.
  for (int64_t b = 7; b >= 0; --b) {
    const std::string patch = Pattern(kBlockSize, 100 + b);
    ASSERT_TRUE(f->Write(b * kBlockSize, patch.data(), patch.size()).ok());
    model.replace(b * kBlockSize, kBlockSize, patch);
  }
  EXPECT_GE(namenode_->commits_.load(), 2);  // at least one flush came from the bound
  ASSERT_TRUE(f->Close().ok());
  EXPECT_EQ(ReadCommitted("/bound"), model);
}

TEST_F(RandomWriteFileTest, ErrorsKeepTheirCodes) {
  auto f = CreateFile("/err");
  std::string data = Pattern(kBlockSize, 8);
  ASSERT_TRUE(f->Write(0, data.data(), data.size()).ok());
  ASSERT_TRUE(f->Flush().ok());
  namenode_->SetHolder("/err", "someone-else");
  Status s = f->Write(5, "x", 1);
  EXPECT_EQ(s.code(), ErrorCode::kLeaseConflict) << s;
  s = f->Write(kBlockSize, "x", 1);  // at the end: append refused the same way
  EXPECT_EQ(s.code(), ErrorCode::kLeaseConflict) << s;
  namenode_->SetHolder("/err", "");
  ASSERT_TRUE(f->Write(5, "x", 1).ok());
  namenode_->SetNoSpace(true);
  s = f->Flush();
  EXPECT_EQ(s.code(), ErrorCode::kNoSpace) << s;
  EXPECT_TRUE(f->Dirty());  // kept: a later flush may succeed
  namenode_->SetNoSpace(false);
  ASSERT_TRUE(f->Flush().ok());
  data[5] = 'x';
  EXPECT_EQ(ReadCommitted("/err"), data);
  ASSERT_TRUE(f->Close().ok());
  EXPECT_FALSE(f->Write(0, "y", 1).ok());
}

TEST_F(RandomWriteFileTest, ConcurrentWritersOfDisjointRanges) {
  auto f = CreateFile("/conc");
  std::string model(4 * kBlockSize, '\0');
  ASSERT_TRUE(f->Write(0, model.data(), model.size()).ok());
  ASSERT_TRUE(f->Flush().ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string patch = Pattern(kBlockSize, 200 + t);
      for (int64_t off = 0; off < kBlockSize; off += 512) {
        EXPECT_TRUE(f->Write(t * kBlockSize + off, patch.data() + off, 512).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) model.replace(t * kBlockSize, kBlockSize, Pattern(kBlockSize, 200 + t));
  ASSERT_TRUE(f->Close().ok());
  EXPECT_EQ(ReadCommitted("/conc"), model);
}

// Random writes, truncations, reads, flushes and reopenings against a model: every byte read
// through the file and, after each flush, through a fresh reader.
TEST_F(RandomWriteFileTest, RandomOperationsMatchAModel) {
  for (uint64_t seed : {11u, 12u, 13u}) {
    const std::string path = "/model-" + std::to_string(seed);
    std::mt19937_64 rng(seed);
    std::string model;
    auto f = CreateFile(path);
    for (int op = 0; op < 1200; ++op) {
      const int kind = static_cast<int>(rng() % 100);
      if (kind < 45) {
        // Writes cluster near the end half of the time (the streaming path), anywhere otherwise.
        const int64_t off = (rng() % 2 == 0 && !model.empty())
                                ? static_cast<int64_t>(model.size()) - static_cast<int64_t>(rng() % 16)
                                : static_cast<int64_t>(rng() % (model.size() + kBlockSize));
        const size_t n = 1 + rng() % (2 * kBlockSize);
        std::string data = Pattern(n, rng());
        if (rng() % 2 == 0 && off < static_cast<int64_t>(model.size())) {
          // Repeats what the file holds up to its end (a re-sent last page).
          const size_t same = std::min<size_t>(n, model.size() - off);
          data.replace(0, same, model, off, same);
        }
        ASSERT_TRUE(f->Write(off, data.data(), n).ok()) << "op " << op;
        if (model.size() < off + n) model.resize(off + n, '\0');
        model.replace(off, n, data);
      } else if (kind < 55) {
        const int64_t len = static_cast<int64_t>(rng() % (model.size() + 2 * kBlockSize));
        ASSERT_TRUE(f->Truncate(len).ok()) << "op " << op;
        model.resize(len, '\0');
      } else if (kind < 85) {
        const int64_t off = static_cast<int64_t>(rng() % (model.size() + 10));
        const size_t n = 1 + rng() % (3 * kBlockSize);
        const std::string expect =
            off < static_cast<int64_t>(model.size()) ? model.substr(off, n) : "";
        ASSERT_EQ(ReadThrough(*f, off, n), expect) << "seed " << seed << " op " << op;
      } else if (kind < 95) {
        ASSERT_TRUE((rng() % 2 ? f->Flush() : f->Sync()).ok()) << "op " << op;
        ASSERT_EQ(ReadCommitted(path), model) << "seed " << seed << " op " << op;
      } else {
        ASSERT_TRUE(f->Close().ok()) << "op " << op;
        ASSERT_EQ(ReadCommitted(path), model) << "seed " << seed << " op " << op;
        f = OpenFile(path);
      }
      ASSERT_EQ(f->Length(), static_cast<int64_t>(model.size())) << "op " << op;
    }
    ASSERT_TRUE(f->Close().ok());
    EXPECT_EQ(ReadCommitted(path), model);
  }
}

}  // namespace
}  // namespace talus::client
