#include "common/transfer/ops.h"

#include <gtest/gtest.h>

#include <string>

#include "common/transfer/byte_codec.h"

namespace talus::transfer {
namespace {

// Splits an encoded frame back into a Frame the way ReadFrame does, checking prefix and CRC.
Result<Frame> Parse(const std::string& bytes) {
  if (bytes.size() < kFramePrefixBytes) return Status::Corruption("short frame");
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  Frame frame;
  ASSIGN_OR_RETURN(uint32_t len, DecodeFramePrefix(p, &frame.kind));
  if (bytes.size() != kFramePrefixBytes + len) return Status::Corruption("length mismatch");
  frame.body = bytes.substr(kFramePrefixBytes);
  RETURN_NOT_OK(CheckFrameBody(p, frame.body));
  return frame;
}

TransferOp RoundTrip(const TransferOp& op) {
  Result<std::string> bytes = EncodeOp(op);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  Result<Frame> frame = Parse(*bytes);
  EXPECT_TRUE(frame.ok()) << frame.status();
  Result<TransferOp> back = DecodeOp(*frame);
  EXPECT_TRUE(back.ok()) << back.status();
  return *back;
}

WriteBlockOp SampleWrite() {
  WriteBlockOp op;
  op.block_id = 0x1122334455667788ull;
  op.genstamp = 1001;
  op.latest_genstamp = 1002;
  op.stage = WriteStage::kRecovery;
  op.min_bytes_rcvd = 4096;
  op.max_bytes_rcvd = 8192;
  op.client_name = "talus-client-42";
  op.targets = {{"dn2.example", 50010}, {"127.0.0.1", 9867}};
  return op;
}

TEST(TransferOpsTest, WriteBlockRoundTrips) {
  WriteBlockOp op = SampleWrite();
  EXPECT_EQ(std::get<WriteBlockOp>(RoundTrip(op)), op);
  op.stage = WriteStage::kCreate;
  op.targets.clear();
  op.client_name.clear();
  EXPECT_EQ(std::get<WriteBlockOp>(RoundTrip(op)), op);
  op.stage = WriteStage::kAppend;
  op.targets.assign(kMaxPipelineNodes - 1, HostPort{std::string(kMaxHostBytes, 'h'), 65535});
  op.client_name.assign(kMaxClientNameBytes, 'c');
  EXPECT_EQ(std::get<WriteBlockOp>(RoundTrip(op)), op);
}

TEST(TransferOpsTest, ReadBlockAndBlockChecksumRoundTrip) {
  ReadBlockOp read{7, 8, 512 * 3 + 5, 1 << 20, false, "reader"};
  EXPECT_EQ(std::get<ReadBlockOp>(RoundTrip(read)), read);
  read.send_checksums = true;
  EXPECT_EQ(std::get<ReadBlockOp>(RoundTrip(read)), read);
  BlockChecksumOp sum{9, 10, kWholeBlock};
  EXPECT_EQ(std::get<BlockChecksumOp>(RoundTrip(sum)), sum);
}

TEST(TransferOpsTest, TransferBlockRoundTripsAndNeedsATarget) {
  TransferBlockOp op;
  op.block_id = 11;
  op.genstamp = 12;
  op.length = 3 << 20;
  op.client_name = "writer";
  op.targets = {{"127.0.0.1", 5000}, {"dn7.example", 65535}};
  EXPECT_EQ(std::get<TransferBlockOp>(RoundTrip(op)), op);
  op.targets.clear();
  EXPECT_FALSE(EncodeOp(op).ok());
  op.targets.assign(kMaxPipelineNodes, HostPort{"h", 1});
  EXPECT_FALSE(EncodeOp(op).ok());
  op.targets = {{"", 1}};
  EXPECT_FALSE(EncodeOp(op).ok());
  // A body whose target count is 0 is refused on decoding too.
  TransferBlockOp none;
  none.targets = {{"h", 1}};
  std::string body = Parse(*EncodeOp(none))->body;
  body[body.size() - 6] = 0;  // target_count: before host "h" (u16 length + 1 byte) and port
  EXPECT_FALSE(DecodeTransferBlockBody(body).ok());
}

TEST(TransferOpsTest, ResponseRoundTrips) {
  OpResponse r;
  r.status = TransferStatus::kErrorStaleGenstamp;
  r.message = "replica has genstamp 5, request 4";
  r.checksum_type = ChecksumType::kCrc32c;
  r.bytes_per_checksum = 512;
  r.first_chunk_offset = 1024;
  r.block_crc = 0xdeadbeef;
  r.block_crc_length = 123456;
  Result<std::string> bytes = EncodeResponse(r);
  ASSERT_TRUE(bytes.ok());
  Result<Frame> frame = Parse(*bytes);
  ASSERT_TRUE(frame.ok()) << frame.status();
  Result<OpResponse> back = DecodeResponse(*frame);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, r);
  // A response is not an op, and an op is not a response.
  EXPECT_EQ(DecodeOp(*frame).status().code(), ErrorCode::kInvalidArgument);
  Frame op_frame = *Parse(*EncodeOp(SampleWrite()));
  EXPECT_EQ(DecodeResponse(op_frame).status().code(), ErrorCode::kInvalidArgument);
}

TEST(TransferOpsTest, DownstreamOpDropsTheNextNode) {
  WriteBlockOp op = SampleWrite();
  WriteBlockOp next = DownstreamOp(op);
  ASSERT_EQ(next.targets.size(), 1u);
  EXPECT_EQ(next.targets[0], op.targets[1]);
  next.targets = op.targets;
  EXPECT_EQ(next, op);
  EXPECT_TRUE(DownstreamOp(DownstreamOp(op)).targets.empty());
}

TEST(TransferOpsTest, StatusConversionNamesTheStatus) {
  EXPECT_TRUE(TransferStatusToStatus(TransferStatus::kSuccess, "x").ok());
  Status s = TransferStatusToStatus(TransferStatus::kErrorChecksum, "at 512");
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_EQ(s.message(), "ERROR_CHECKSUM: at 512");
  EXPECT_EQ(TransferStatusToStatus(TransferStatus::kErrorUnknownBlock, "").code(),
            ErrorCode::kNotFound);
}

TEST(TransferOpsTest, EncoderRejectsOutOfBoundsFields) {
  WriteBlockOp op = SampleWrite();
  op.targets.assign(kMaxPipelineNodes, HostPort{"h", 1});
  EXPECT_EQ(EncodeOp(op).status().code(), ErrorCode::kInvalidArgument);
  op = SampleWrite();
  op.client_name.assign(kMaxClientNameBytes + 1, 'c');
  EXPECT_EQ(EncodeOp(op).status().code(), ErrorCode::kInvalidArgument);
  op = SampleWrite();
  op.targets[0].port = 0;
  EXPECT_EQ(EncodeOp(op).status().code(), ErrorCode::kInvalidArgument);
  op = SampleWrite();
  op.bytes_per_checksum = 0;
  EXPECT_EQ(EncodeOp(op).status().code(), ErrorCode::kInvalidArgument);
  op = SampleWrite();
  op.min_bytes_rcvd = op.max_bytes_rcvd + 1;
  EXPECT_EQ(EncodeOp(op).status().code(), ErrorCode::kInvalidArgument);
  ReadBlockOp read{1, 1, UINT64_MAX, 2, true, ""};
  EXPECT_EQ(EncodeOp(read).status().code(), ErrorCode::kInvalidArgument);
  OpResponse r;
  r.message.assign(kMaxMessageBytes + 1, 'm');
  EXPECT_EQ(EncodeResponse(r).status().code(), ErrorCode::kInvalidArgument);
}

class TransferFramePrefixTest : public ::testing::Test {
 protected:
  void SetUp() override { frame_ = *EncodeOp(SampleWrite()); }
  uint8_t* p() { return reinterpret_cast<uint8_t*>(frame_.data()); }
  Status Decode() {
    uint8_t kind = 0;
    return DecodeFramePrefix(p(), &kind).status();
  }
  std::string frame_;
};

TEST_F(TransferFramePrefixTest, RejectsBadMagic) {
  p()[0] = 'X';
  Status s = Decode();
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_NE(s.message().find("magic"), std::string::npos) << s;
}

TEST_F(TransferFramePrefixTest, RejectsOtherVersions) {
  StoreLe16(p() + 4, 2);
  Status s = Decode();
  EXPECT_EQ(s.code(), ErrorCode::kNotSupported);
  EXPECT_NE(s.message().find("version 2"), std::string::npos) << s;
}

TEST_F(TransferFramePrefixTest, RejectsUnknownOps) {
  for (uint8_t op : {0, 5, 0x7f, 0x81, 0xff}) {
    p()[6] = op;
    Status s = Decode();
    EXPECT_EQ(s.code(), ErrorCode::kNotSupported) << int{op};
    EXPECT_NE(s.message().find("unknown data transfer op"), std::string::npos) << s;
  }
}

TEST_F(TransferFramePrefixTest, RejectsOversizeBodyBeforeAllocating) {
  StoreLe32(p() + 8, kMaxFrameBodyBytes + 1);
  EXPECT_EQ(Decode().code(), ErrorCode::kInvalidArgument);
  StoreLe32(p() + 8, UINT32_MAX);
  Status s = Decode();
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("exceeds the limit"), std::string::npos) << s;
}

TEST_F(TransferFramePrefixTest, RejectsReservedByteAndBodyCrc) {
  p()[7] = 1;
  EXPECT_EQ(Decode().code(), ErrorCode::kCorruption);
  p()[7] = 0;
  frame_.back() ^= 1;
  EXPECT_EQ(Parse(frame_).status().code(), ErrorCode::kCorruption);
}

// Every prefix of a valid body is rejected as truncated, naming a field.
TEST(TransferOpsTest, TruncatedBodiesAreRejected) {
  std::string body = Parse(*EncodeOp(SampleWrite()))->body;
  for (size_t n = 0; n < body.size(); ++n) {
    Result<WriteBlockOp> r = DecodeWriteBlockBody(body.substr(0, n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().code(), ErrorCode::kCorruption) << n;
    EXPECT_NE(r.status().message().find("truncated"), std::string::npos) << r.status();
  }
  std::string read = Parse(*EncodeOp(ReadBlockOp{1, 2, 3, 4, true, "c"}))->body;
  for (size_t n = 0; n < read.size(); ++n) {
    EXPECT_FALSE(DecodeReadBlockBody(read.substr(0, n)).ok()) << n;
  }
  std::string sum = Parse(*EncodeOp(BlockChecksumOp{1, 2, 3}))->body;
  for (size_t n = 0; n < sum.size(); ++n) {
    EXPECT_FALSE(DecodeBlockChecksumBody(sum.substr(0, n)).ok()) << n;
  }
}

TEST(TransferOpsTest, MalformedBodiesAreRejected) {
  const std::string good = Parse(*EncodeOp(SampleWrite()))->body;
  auto decode_with = [&](size_t pos, uint8_t value) {
    std::string b = good;
    b[pos] = static_cast<char>(value);
    return DecodeWriteBlockBody(b).status();
  };
  // Layout offsets: stage 24, checksum_type 25, reserved 26, bytes_per_checksum 28.
  EXPECT_EQ(decode_with(24, 3).code(), ErrorCode::kInvalidArgument);  // unknown stage
  EXPECT_EQ(decode_with(25, 0).code(), ErrorCode::kInvalidArgument);  // no checksums on write
  EXPECT_EQ(decode_with(26, 1).code(), ErrorCode::kCorruption);       // reserved
  {
    std::string b = good;
    b += 'x';
    Status s = DecodeWriteBlockBody(b).status();
    EXPECT_EQ(s.code(), ErrorCode::kCorruption);
    EXPECT_NE(s.message().find("trailing"), std::string::npos) << s;
  }
  {
    // client_name length claims more than the limit.
    std::string b = good;
    StoreLe16(reinterpret_cast<uint8_t*>(b.data()) + 48, kMaxClientNameBytes + 1);
    Status s = DecodeWriteBlockBody(b).status();
    EXPECT_EQ(s.code(), ErrorCode::kCorruption);
    EXPECT_NE(s.message().find("client_name"), std::string::npos) << s;
  }
  {
    // Too many targets.
    WriteBlockOp op = SampleWrite();
    op.targets.clear();
    op.client_name.clear();
    std::string b = Parse(*EncodeOp(op))->body;
    b.back() = static_cast<char>(kMaxPipelineNodes);
    EXPECT_EQ(DecodeWriteBlockBody(b).status().code(), ErrorCode::kCorruption);
  }
  {
    std::string b = Parse(*EncodeOp(ReadBlockOp{1, 2, 3, 4, true, ""}))->body;
    b[32] = 2;  // send_checksums is a bool
    EXPECT_EQ(DecodeReadBlockBody(b).status().code(), ErrorCode::kCorruption);
  }
}

}  // namespace
}  // namespace talus::transfer
