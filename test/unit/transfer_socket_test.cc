#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "common/transfer/checksum.h"
#include "common/transfer/stream_io.h"

namespace talus::transfer {
namespace {

class TransferSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    a_.Reset(fds[0]);
    b_.Reset(fds[1]);
  }
  UniqueFd a_, b_;
};

// A writer streams a few MiB of checksummed packets (with an unaligned hflush in the middle and
// an empty last packet) to a reader that validates each header and verifies the checksums;
// acks flow back. Every byte is compared.
TEST_F(TransferSocketTest, StreamsPacketsWithVerifiedChecksumsAndAcks) {
  constexpr size_t kTotal = 4 * 1024 * 1024 + 777;
  std::vector<uint8_t> block(kTotal);
  std::mt19937 rng(12345);
  for (auto& b : block) b = static_cast<uint8_t>(rng());

  std::vector<uint8_t> received;
  Status reader_status;
  int64_t acked = -1;
  std::thread reader([&] {
    reader_status = [&]() -> Status {
      Deadline deadline = DeadlineAfterMs(30000);
      ASSIGN_OR_RETURN(TransferOp op, ReadOp(b_.get(), deadline));
      const auto& write = std::get<WriteBlockOp>(op);
      RETURN_NOT_OK(WriteResponse(b_.get(), OpResponse{}, deadline));
      PacketValidator validator({.bytes_per_checksum = write.bytes_per_checksum});
      PacketBuffer packet;
      while (!validator.saw_last()) {
        RETURN_NOT_OK(ReadPacket(b_.get(), deadline, &validator, &packet));
        const PacketHeader& h = packet.header;
        if (h.heartbeat()) continue;
        RETURN_NOT_OK(VerifyChunkChecksums(h.offset_in_block, packet.data.data(), h.data_len,
                                           write.bytes_per_checksum, packet.checksums.data(),
                                           h.checksum_len));
        received.insert(received.end(), packet.data.begin(), packet.data.begin() + h.data_len);
        RETURN_NOT_OK(WriteAck(b_.get(), PipelineAck{h.seqno, {TransferStatus::kSuccess}},
                               deadline));
      }
      return Status::OK();
    }();
  });

  Deadline deadline = DeadlineAfterMs(30000);
  WriteBlockOp op;
  op.block_id = 1;
  op.genstamp = 1;
  op.client_name = "test";
  ASSERT_TRUE(WriteOp(a_.get(), op, deadline).ok());
  Result<OpResponse> resp = ReadResponse(a_.get(), deadline);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, TransferStatus::kSuccess);

  std::vector<uint8_t> sums;
  uint64_t offset = 0;
  int64_t seqno = 0;
  while (true) {
    // 64 KiB packets, except one odd-sized packet that leaves the stream mid-chunk.
    size_t len = std::min<size_t>(seqno == 3 ? 1000 : kDefaultPacketDataBytes, kTotal - offset);
    PacketHeader h;
    h.seqno = seqno;
    h.offset_in_block = offset;
    h.data_len = static_cast<uint32_t>(len);
    h.checksum_len = static_cast<uint32_t>(ChecksumCount(offset, len, 512) * kChecksumBytes);
    h.last = len == 0;
    h.sync = seqno == 3;
    sums.resize(h.checksum_len);
    ComputeChunkChecksums(offset, block.data() + offset, len, 512, sums.data());
    ASSERT_TRUE(WritePacket(a_.get(), h, sums.data(), block.data() + offset, deadline).ok());
    if (seqno == 5) {
      PacketHeader heartbeat{kHeartbeatSeqno, 0, 0, 0, false, false};
      ASSERT_TRUE(WritePacket(a_.get(), heartbeat, nullptr, nullptr, deadline).ok());
    }
    if (h.last) break;
    PipelineAck ack;
    Status s = ReadAck(a_.get(), deadline, &ack);
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_EQ(ack.seqno, seqno);
    ASSERT_TRUE(ack.AllSucceeded());
    acked = ack.seqno;
    offset += len;
    ++seqno;
  }
  reader.join();
  ASSERT_TRUE(reader_status.ok()) << reader_status;
  EXPECT_GT(acked, 60);
  ASSERT_EQ(received.size(), block.size());
  EXPECT_TRUE(received == block);
}

TEST_F(TransferSocketTest, CorruptDataIsCaughtByTheReceiver) {
  std::vector<uint8_t> data(3000, 0x5a), sums(ChecksumCount(0, 3000, 512) * 4);
  ComputeChunkChecksums(0, data.data(), data.size(), 512, sums.data());
  data[2600] ^= 1;  // corrupted "in flight", after the checksums were computed
  PacketHeader h{0, 0, 3000, static_cast<uint32_t>(sums.size()), true, false};
  ASSERT_TRUE(WritePacket(a_.get(), h, sums.data(), data.data(), DeadlineAfterMs(5000)).ok());
  PacketValidator validator({});
  PacketBuffer packet;
  ASSERT_TRUE(ReadPacket(b_.get(), DeadlineAfterMs(5000), &validator, &packet).ok());
  uint64_t bad = 0;
  Status s = VerifyChunkChecksums(0, packet.data.data(), 3000, 512, packet.checksums.data(),
                                  packet.header.checksum_len, &bad);
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_EQ(bad, 2560u);
}

TEST_F(TransferSocketTest, ReadTimesOutWhenNothingArrives) {
  uint8_t buf[16];
  auto start = Clock::now();
  Status s = ReadFully(b_.get(), buf, sizeof(buf), DeadlineAfterMs(100));
  auto elapsed = Clock::now() - start;
  EXPECT_EQ(s.code(), ErrorCode::kTimedOut) << s;
  EXPECT_GE(elapsed, std::chrono::milliseconds(100));
  EXPECT_LT(elapsed, std::chrono::seconds(5));

  // Half a message, then silence: still a timeout, not a hang.
  ASSERT_TRUE(WriteFully(a_.get(), buf, 8, DeadlineAfterMs(1000)).ok());
  EXPECT_EQ(ReadFully(b_.get(), buf, sizeof(buf), DeadlineAfterMs(100)).code(),
            ErrorCode::kTimedOut);
}

TEST_F(TransferSocketTest, WriteTimesOutWhenThePeerDoesNotRead) {
  std::vector<uint8_t> big(8 * 1024 * 1024);  // far more than a socket buffer
  Status s = WriteFully(a_.get(), big.data(), big.size(), DeadlineAfterMs(200));
  EXPECT_EQ(s.code(), ErrorCode::kTimedOut) << s;
}

TEST_F(TransferSocketTest, PeerCloseIsAnErrorAndCleanEofIsTold) {
  uint8_t buf[16] = {};
  ASSERT_TRUE(WriteFully(a_.get(), buf, 4, DeadlineAfterMs(1000)).ok());
  a_.Reset();
  bool clean = true;
  Status s = ReadFully(b_.get(), buf, sizeof(buf), DeadlineAfterMs(1000), &clean);
  EXPECT_EQ(s.code(), ErrorCode::kIoError);
  EXPECT_FALSE(clean);
  Result<TransferOp> op = ReadOp(b_.get(), DeadlineAfterMs(1000), &clean);
  EXPECT_FALSE(op.ok());
  EXPECT_TRUE(clean);
  // Writing to a closed peer fails with a Status instead of killing the process with SIGPIPE.
  EXPECT_FALSE(WriteFully(b_.get(), buf, sizeof(buf), DeadlineAfterMs(1000)).ok());
}

TEST_F(TransferSocketTest, OversizeFrameIsRejectedWithoutReadingTheBody) {
  uint8_t prefix[kFramePrefixBytes] = {};
  std::string good = *EncodeOp(BlockChecksumOp{1, 1, kWholeBlock});
  std::memcpy(prefix, good.data(), sizeof(prefix));
  prefix[8] = prefix[9] = prefix[10] = prefix[11] = 0xff;
  ASSERT_TRUE(WriteFully(a_.get(), prefix, sizeof(prefix), DeadlineAfterMs(1000)).ok());
  Result<TransferOp> op = ReadOp(b_.get(), DeadlineAfterMs(1000));
  EXPECT_EQ(op.status().code(), ErrorCode::kInvalidArgument) << op.status();
}

TEST(TransferConnectTest, ConnectsToAListenerAndFailsOnAClosedPort) {
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(listener.valid());
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  uint16_t port = ntohs(addr.sin_port);

  Result<UniqueFd> fd = SocketConnect("127.0.0.1", port, DeadlineAfterMs(5000));
  ASSERT_TRUE(fd.ok()) << fd.status();
  UniqueFd server(::accept(listener.get(), nullptr, nullptr));
  ASSERT_TRUE(server.valid());
  ASSERT_TRUE(WriteOp(fd->get(), BlockChecksumOp{3, 4, 100}, DeadlineAfterMs(5000)).ok());
  Result<TransferOp> op = ReadOp(server.get(), DeadlineAfterMs(5000));
  ASSERT_TRUE(op.ok()) << op.status();
  EXPECT_EQ(std::get<BlockChecksumOp>(*op), (BlockChecksumOp{3, 4, 100}));

  listener.Reset();
  Result<UniqueFd> refused = SocketConnect("127.0.0.1", port, DeadlineAfterMs(5000));
  EXPECT_EQ(refused.status().code(), ErrorCode::kUnavailable) << refused.status();
}

}  // namespace
}  // namespace talus::transfer
