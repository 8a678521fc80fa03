// A real talus-datanode's data port fed bad input: random bytes, an oversize frame, a truncated
// packet, a wrong checksum, an unknown block, a stale generation stamp, a range or packet over
// the limit, a create of an existing block. Each is refused with an error (or the connection is
// closed), and the datanode goes on serving: the file it holds still reads back byte for byte,
// from it alone.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "common/transfer/checksum.h"
#include "common/transfer/ops.h"
#include "common/transfer/packet.h"
#include "common/transfer/stream_io.h"
#include "talus/file_system.h"
#include "test/support/mini_cluster.h"

namespace talus {
namespace {

using transfer::ReadBlockOp;
using transfer::TransferStatus;
using transfer::WriteBlockOp;

transfer::Deadline Soon() { return transfer::DeadlineAfterMs(10000); }

struct Target {
  std::string host;
  uint16_t port = 0;
};

Target Parse(const std::string& address) {
  const size_t colon = address.rfind(':');
  return Target{address.substr(0, colon),
                static_cast<uint16_t>(std::stoi(address.substr(colon + 1)))};
}

// The generation stamp of block `id` as the datanode's meta file names it (blk_ID_GS.meta).
int64_t StampOnDisk(const std::vector<std::string>& dirs, uint64_t id) {
  const std::string prefix = "blk_" + std::to_string(id) + "_";
  for (const std::string& dir : dirs) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) == 0 && name.ends_with(".meta")) {
        return std::stoll(name.substr(prefix.size(), name.size() - prefix.size() - 5));
      }
    }
  }
  return -1;
}

class DatanodeBadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = test::MiniCluster::Start({.datanodes = 3});
    ASSERT_TRUE(started.ok()) << started.status();
    cluster_ = std::move(*started);
    auto fs = FileSystem::Connect(cluster_->uri());
    ASSERT_TRUE(fs.ok()) << fs.status();
    fs_ = std::move(*fs);
    std::mt19937_64 rng(42);
    data_.resize(200000);
    for (char& c : data_) c = static_cast<char>(rng());
    auto out = fs_->Create("/victim");
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_TRUE((*out)->Write(data_.data(), data_.size()).ok());
    ASSERT_TRUE((*out)->Close().ok());
    auto located = fs_->GetFileBlockLocations("/victim", 0, 1);
    ASSERT_TRUE(located.ok() && located->size() == 1u);
    block_id_ = (*located)[0].block_id;
    dn_ = Parse(cluster_->datanode_data_address(0));
    ASSERT_TRUE(test::WaitFor(
        [&] { return StampOnDisk(cluster_->datanode_data_dirs(0), block_id_) > 0; },
        std::chrono::seconds(10)));
    stamp_ = StampOnDisk(cluster_->datanode_data_dirs(0), block_id_);
  }

  transfer::UniqueFd Connect() {
    auto fd = transfer::SocketConnect(dn_.host, dn_.port, Soon());
    EXPECT_TRUE(fd.ok()) << fd.status();
    return fd.ok() ? std::move(*fd) : transfer::UniqueFd();
  }

  // Reads the victim's block from datanode 0 alone and compares every byte.
  void ExpectStillServed(const std::string& after) {
    SCOPED_TRACE("after " + after);
    ASSERT_EQ(::kill(cluster_->datanode_pid(0), 0), 0) << "the datanode died";
    transfer::UniqueFd fd = Connect();
    ReadBlockOp op;
    op.block_id = block_id_;
    op.genstamp = static_cast<uint64_t>(stamp_);
    op.length = transfer::kWholeBlock;
    op.client_name = "bad-input-test";
    ASSERT_TRUE(transfer::WriteOp(fd.get(), op, Soon()).ok());
    auto response = transfer::ReadResponse(fd.get(), Soon());
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->status, TransferStatus::kSuccess) << response->message;
    transfer::PacketValidator::Options vo;
    vo.start_offset = response->first_chunk_offset;
    vo.max_data_len = transfer::kMaxPacketDataBytes;
    transfer::PacketValidator validator(vo);
    transfer::PacketBuffer packet;
    std::string got;
    while (!validator.saw_last()) {
      ASSERT_TRUE(transfer::ReadPacket(fd.get(), Soon(), &validator, &packet).ok());
      const auto& h = packet.header;
      ASSERT_TRUE(transfer::VerifyChunkChecksums(h.offset_in_block, packet.data.data(),
                                                 h.data_len, 512, packet.checksums.data(),
                                                 h.checksum_len)
                      .ok());
      got.append(reinterpret_cast<const char*>(packet.data.data()), h.data_len);
    }
    EXPECT_TRUE(got == data_) << "the replica's bytes changed";
  }

  // An error response, or the connection closed without one: either way, refused.
  static bool Refused(int fd, TransferStatus* status) {
    auto response = transfer::ReadResponse(fd, Soon());
    if (!response.ok()) {
      *status = TransferStatus::kError;
      return true;
    }
    *status = response->status;
    return response->status != TransferStatus::kSuccess;
  }

  Result<transfer::UniqueFd> OpenWrite(uint64_t block_id) {
    transfer::UniqueFd fd = Connect();
    WriteBlockOp op;
    op.block_id = block_id;
    op.genstamp = 1000;
    op.client_name = "bad-input-test";
    RETURN_NOT_OK(transfer::WriteOp(fd.get(), op, Soon()));
    ASSIGN_OR_RETURN(transfer::OpResponse response, transfer::ReadResponse(fd.get(), Soon()));
    RETURN_NOT_OK(transfer::TransferStatusToStatus(response.status, response.message));
    return fd;
  }

  std::unique_ptr<test::MiniCluster> cluster_;
  std::unique_ptr<FileSystem> fs_;
  std::string data_;
  uint64_t block_id_ = 0;
  int64_t stamp_ = 0;
  Target dn_;
};

TEST_F(DatanodeBadInputTest, EveryKindOfBadInputIsRefusedAndTheDatanodeGoesOn) {
  ExpectStillServed("nothing");

  {  // Random bytes instead of an op: the connection is closed.
    transfer::UniqueFd fd = Connect();
    std::mt19937 rng(1);
    std::string junk(4096, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    (void)transfer::WriteFully(fd.get(), junk.data(), junk.size(), Soon());
    TransferStatus status;
    EXPECT_TRUE(Refused(fd.get(), &status));
  }
  ExpectStillServed("random bytes");

  {  // A frame prefix with the right magic claiming a 1 GiB body.
    transfer::UniqueFd fd = Connect();
    const uint8_t prefix[16] = {0x54, 0x4C, 0x44, 0x54, 1, 0, 2, 0, 0, 0, 0, 0x40, 0, 0, 0, 0};
    (void)transfer::WriteFully(fd.get(), prefix, sizeof(prefix), Soon());
    TransferStatus status;
    EXPECT_TRUE(Refused(fd.get(), &status));
  }
  ExpectStillServed("an oversize frame");

  {  // Unknown block.
    transfer::UniqueFd fd = Connect();
    ReadBlockOp op;
    op.block_id = block_id_ + 1000000;
    op.genstamp = static_cast<uint64_t>(stamp_);
    op.length = 100;
    ASSERT_TRUE(transfer::WriteOp(fd.get(), op, Soon()).ok());
    TransferStatus status;
    EXPECT_TRUE(Refused(fd.get(), &status));
    EXPECT_EQ(status, TransferStatus::kErrorUnknownBlock);
  }
  {  // A generation stamp the replica does not have (newer: the reader knows of a recovery).
    transfer::UniqueFd fd = Connect();
    ReadBlockOp op;
    op.block_id = block_id_;
    op.genstamp = static_cast<uint64_t>(stamp_) + 1;
    op.length = 100;
    ASSERT_TRUE(transfer::WriteOp(fd.get(), op, Soon()).ok());
    TransferStatus status;
    EXPECT_TRUE(Refused(fd.get(), &status));
    EXPECT_EQ(status, TransferStatus::kErrorStaleGenstamp);
  }
  {  // A range starting past the replica's end.
    transfer::UniqueFd fd = Connect();
    ReadBlockOp op;
    op.block_id = block_id_;
    op.genstamp = static_cast<uint64_t>(stamp_);
    op.offset = data_.size() + 1;
    op.length = 100;
    ASSERT_TRUE(transfer::WriteOp(fd.get(), op, Soon()).ok());
    TransferStatus status;
    EXPECT_TRUE(Refused(fd.get(), &status));
  }
  {  // Creating a replica of a block the node already holds.
    transfer::UniqueFd fd = Connect();
    WriteBlockOp op;
    op.block_id = block_id_;
    op.genstamp = static_cast<uint64_t>(stamp_);
    op.client_name = "bad-input-test";
    ASSERT_TRUE(transfer::WriteOp(fd.get(), op, Soon()).ok());
    TransferStatus status;
    EXPECT_TRUE(Refused(fd.get(), &status));
    EXPECT_EQ(status, TransferStatus::kErrorExists);
  }
  ExpectStillServed("unknown block, stale stamp, bad range, existing block");

  const uint64_t scratch = block_id_ + 2000000;
  {  // A packet whose data does not match its checksums: acked as a checksum error.
    auto fd = OpenWrite(scratch);
    ASSERT_TRUE(fd.ok()) << fd.status();
    std::string payload(4096, 'x');
    std::vector<uint8_t> sums(transfer::ChecksumCount(0, payload.size(), 512) * 4);
    transfer::ComputeChunkChecksums(0, reinterpret_cast<const uint8_t*>(payload.data()),
                                    payload.size(), 512, sums.data());
    payload[1000] ^= 1;
    transfer::PacketHeader h;
    h.seqno = 0;
    h.data_len = static_cast<uint32_t>(payload.size());
    h.checksum_len = static_cast<uint32_t>(sums.size());
    ASSERT_TRUE(transfer::WritePacket(fd->get(), h, sums.data(),
                                      reinterpret_cast<const uint8_t*>(payload.data()), Soon())
                    .ok());
    transfer::PipelineAck ack;
    Status read = transfer::ReadAck(fd->get(), Soon(), &ack);
    if (read.ok()) {
      ASSERT_FALSE(ack.replies.empty());
      EXPECT_EQ(ack.replies[0], TransferStatus::kErrorChecksum);
    }  // else the node closed the stream at once, which refuses it as well
  }
  ExpectStillServed("a wrong checksum");

  {  // A packet cut short: its header promises 64 KiB, 100 bytes come, then the writer hangs up.
    auto fd = OpenWrite(scratch + 1);
    ASSERT_TRUE(fd.ok()) << fd.status();
    transfer::PacketHeader h;
    h.seqno = 0;
    h.data_len = 65536;
    h.checksum_len = 128 * 4;
    transfer::EncodedPacketHeader encoded = transfer::EncodePacketHeader(h);
    ASSERT_TRUE(transfer::WriteFully(fd->get(), encoded.data(), encoded.size(), Soon()).ok());
    std::string partial(100, 'p');
    ASSERT_TRUE(transfer::WriteFully(fd->get(), partial.data(), partial.size(), Soon()).ok());
    ::shutdown(fd->get(), SHUT_WR);
    transfer::PipelineAck ack;
    Status read = transfer::ReadAck(fd->get(), Soon(), &ack);
    if (read.ok()) {  // an error ack for the packet it could not finish, or nothing at all
      ASSERT_FALSE(ack.replies.empty());
      EXPECT_NE(ack.replies[0], TransferStatus::kSuccess);
    }
  }
  ExpectStillServed("a truncated packet");

  {  // A packet header declaring more data than any packet may carry.
    auto fd = OpenWrite(scratch + 2);
    ASSERT_TRUE(fd.ok()) << fd.status();
    transfer::PacketHeader h;
    h.seqno = 0;
    h.data_len = transfer::kMaxPacketDataBytes + 1;
    h.checksum_len = 0;
    transfer::EncodedPacketHeader encoded = transfer::EncodePacketHeader(h);
    ASSERT_TRUE(transfer::WriteFully(fd->get(), encoded.data(), encoded.size(), Soon()).ok());
    transfer::PipelineAck ack;
    Status read = transfer::ReadAck(fd->get(), Soon(), &ack);
    if (read.ok()) {
      ASSERT_FALSE(ack.replies.empty());
      EXPECT_NE(ack.replies[0], TransferStatus::kSuccess);
    }
  }
  ExpectStillServed("a packet over the limit");

  // And the cluster as a whole: the file reads back through the client.
  auto in = fs_->Open("/victim");
  ASSERT_TRUE(in.ok()) << in.status();
  std::string back(data_.size(), '\0');
  auto n = (*in)->Pread(0, back.data(), back.size());
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, data_.size());
  EXPECT_TRUE(back == data_);
}

}  // namespace
}  // namespace talus
