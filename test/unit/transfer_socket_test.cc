#include <sys/socket.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
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

// Many pieces, some empty, much larger in total than the socket buffer, read in small bites:
// sendmsg returns short counts and the iovec bookkeeping must resume at the right byte.
TEST_F(TransferSocketTest, WritevResumesCorrectlyAfterPartialWrites) {
  std::mt19937 rng(5);
  std::vector<std::vector<uint8_t>> pieces(300);
  std::vector<uint8_t> expected;
  for (auto& piece : pieces) {
    piece.resize(rng() % 4 == 0 ? 0 : rng() % 40000);
    for (auto& b : piece) b = static_cast<uint8_t>(rng());
    expected.insert(expected.end(), piece.begin(), piece.end());
  }
  std::vector<struct iovec> iov;
  for (auto& piece : pieces) iov.push_back({piece.data(), piece.size()});
  Status writer_status;
  std::thread writer([&] {
    writer_status = WritevFully(a_.get(), iov.data(), static_cast<int>(iov.size()),
                                DeadlineAfterMs(30000));
  });
  std::vector<uint8_t> got(expected.size());
  size_t done = 0;
  while (done < got.size()) {
    size_t bite = std::min<size_t>(777, got.size() - done);
    ASSERT_TRUE(ReadFully(b_.get(), got.data() + done, bite, DeadlineAfterMs(30000)).ok());
    done += bite;
  }
  writer.join();
  ASSERT_TRUE(writer_status.ok()) << writer_status;
  EXPECT_TRUE(got == expected);
}

// A datanode serving a read sends packet data straight from the replica file with sendfile.
TEST_F(TransferSocketTest, PacketsFromAFileArriveIntactOverANonBlockingSocket) {
  constexpr size_t kSize = 1024 * 1024 + 300;
  std::vector<uint8_t> content(kSize);
  std::mt19937 rng(8);
  for (auto& b : content) b = static_cast<uint8_t>(rng());
  std::string path = ::testing::TempDir() + "/transfer_sendfile_XXXXXX";
  UniqueFd file(::mkstemp(path.data()));
  ASSERT_TRUE(file.valid());
  ::unlink(path.c_str());
  ASSERT_EQ(::write(file.get(), content.data(), kSize), static_cast<ssize_t>(kSize));
  ASSERT_TRUE(SetNonBlocking(a_.get()).ok());

  // The reader asked for block offset 1000: the stream starts at the chunk boundary 512.
  const uint64_t start = 512;
  Status writer_status;
  std::thread writer([&] {
    writer_status = [&]() -> Status {
      std::vector<uint8_t> sums;
      int64_t seqno = 0;
      for (uint64_t off = start;; ++seqno) {
        size_t len = std::min<size_t>(kDefaultPacketDataBytes, kSize - off);
        PacketHeader h{seqno, off, static_cast<uint32_t>(len), 0, len == 0, false};
        h.checksum_len = static_cast<uint32_t>(ChecksumCount(off, len, 512) * kChecksumBytes);
        sums.resize(h.checksum_len);
        ComputeChunkChecksums(off, content.data() + off, len, 512, sums.data());
        RETURN_NOT_OK(WritePacketFromFile(a_.get(), h, sums.data(), file.get(), off,
                                          DeadlineAfterMs(30000)));
        if (h.last) return Status::OK();
        off += len;
      }
    }();
  });
  PacketValidator validator({.start_offset = start});
  PacketBuffer packet;
  std::vector<uint8_t> got;
  while (!validator.saw_last()) {
    Status s = ReadPacket(b_.get(), DeadlineAfterMs(30000), &validator, &packet);
    ASSERT_TRUE(s.ok()) << s;
    const PacketHeader& h = packet.header;
    s = VerifyChunkChecksums(h.offset_in_block, packet.data.data(), h.data_len, 512,
                             packet.checksums.data(), h.checksum_len);
    ASSERT_TRUE(s.ok()) << s;
    got.insert(got.end(), packet.data.begin(), packet.data.begin() + h.data_len);
  }
  writer.join();
  ASSERT_TRUE(writer_status.ok()) << writer_status;
  ASSERT_EQ(got.size(), kSize - start);
  EXPECT_TRUE(std::equal(got.begin(), got.end(), content.begin() + start));

  // A file shorter than the packet says is an error, not a hang or a short packet.
  PacketHeader h{0, 0, 100, 4, false, false};
  uint8_t sum[4] = {};
  Status s = WritePacketFromFile(a_.get(), h, sum, file.get(), kSize - 50, DeadlineAfterMs(5000));
  EXPECT_EQ(s.code(), ErrorCode::kIoError) << s;
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
