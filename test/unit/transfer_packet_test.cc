#include "common/transfer/packet.h"

#include <gtest/gtest.h>

#include <string>

#include "common/crc32c.h"
#include "common/transfer/byte_codec.h"
#include "common/transfer/checksum.h"
#include "common/transfer/pipeline_ack.h"

namespace talus::transfer {
namespace {

PacketHeader Data(int64_t seqno, uint64_t offset, uint32_t len, uint32_t bpc = 512) {
  PacketHeader h;
  h.seqno = seqno;
  h.offset_in_block = offset;
  h.data_len = len;
  h.checksum_len = static_cast<uint32_t>(ChecksumCount(offset, len, bpc) * kChecksumBytes);
  return h;
}

TEST(TransferPacketTest, HeaderRoundTrips) {
  for (bool last : {false, true}) {
    for (bool sync : {false, true}) {
      PacketHeader h{123456789012345ll, 1ull << 40, kDefaultPacketDataBytes, 512, last, sync};
      EncodedPacketHeader bytes = EncodePacketHeader(h);
      PacketHeader back;
      ASSERT_TRUE(DecodePacketHeader(bytes.data(), &back).ok());
      EXPECT_EQ(back, h);
    }
  }
  PacketHeader heartbeat{kHeartbeatSeqno, 0, 0, 0, false, false};
  PacketHeader back;
  ASSERT_TRUE(DecodePacketHeader(EncodePacketHeader(heartbeat).data(), &back).ok());
  EXPECT_TRUE(back.heartbeat());
}

// Re-encodes a header after a field was changed behind the encoder's back, fixing the CRC so
// the decoder's other checks are the ones exercised.
Status DecodeTampered(PacketHeader h, size_t pos, uint8_t value) {
  EncodedPacketHeader bytes = EncodePacketHeader(h);
  bytes[pos] = value;
  StoreLe32(bytes.data() + 28, crc32c::Value(bytes.data(), 28));
  PacketHeader out;
  return DecodePacketHeader(bytes.data(), &out);
}

TEST(TransferPacketTest, DecoderRejectsInconsistentHeaders) {
  PacketHeader h{5, 0, 1024, 8, false, false};
  EncodedPacketHeader bytes = EncodePacketHeader(h);
  bytes[3] ^= 1;
  PacketHeader out;
  Status s = DecodePacketHeader(bytes.data(), &out);
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
  EXPECT_NE(s.message().find("header checksum"), std::string::npos) << s;

  EXPECT_EQ(DecodeTampered(h, 24, 4).code(), ErrorCode::kCorruption);   // unknown flag
  EXPECT_EQ(DecodeTampered(h, 26, 1).code(), ErrorCode::kCorruption);   // reserved
  EXPECT_EQ(DecodeTampered(h, 7, 0x80).code(), ErrorCode::kCorruption); // seqno < -1

  PacketHeader big = h;
  big.data_len = kMaxPacketDataBytes + 1;
  s = DecodePacketHeader(EncodePacketHeader(big).data(), &out);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("exceeds the limit"), std::string::npos) << s;

  PacketHeader odd = h;
  odd.checksum_len = 7;
  EXPECT_EQ(DecodePacketHeader(EncodePacketHeader(odd).data(), &out).code(),
            ErrorCode::kInvalidArgument);
  odd.checksum_len = 4 * 1025;  // more checksums than bytes
  EXPECT_EQ(DecodePacketHeader(EncodePacketHeader(odd).data(), &out).code(),
            ErrorCode::kInvalidArgument);
  PacketHeader wrap = h;
  wrap.offset_in_block = UINT64_MAX - 10;
  EXPECT_EQ(DecodePacketHeader(EncodePacketHeader(wrap).data(), &out).code(),
            ErrorCode::kInvalidArgument);
}

TEST(TransferPacketTest, ValidatorAcceptsAWellFormedStream) {
  PacketValidator v({});
  EXPECT_TRUE(v.Accept(Data(0, 0, 65536)).ok());
  EXPECT_TRUE(v.Accept(PacketHeader{kHeartbeatSeqno, 0, 0, 0, false, false}).ok());
  PacketHeader flush = Data(1, 65536, 700);  // hflush of a partial chunk
  flush.sync = true;
  EXPECT_TRUE(v.Accept(flush).ok());
  // The next packet starts mid-chunk: its first checksum covers up to the boundary.
  PacketHeader next = Data(2, 66236, 1000);
  EXPECT_EQ(next.checksum_len, 12u);
  EXPECT_TRUE(v.Accept(next).ok());
  PacketHeader last = Data(3, 67236, 0);
  last.last = true;
  EXPECT_TRUE(v.Accept(last).ok());
  EXPECT_TRUE(v.saw_last());
  EXPECT_EQ(v.next_offset(), 67236u);
}

TEST(TransferPacketTest, ValidatorRejectsStreamErrorsAndStaysUnchanged) {
  PacketValidator v({.start_offset = 4096, .first_seqno = 0});
  ASSERT_TRUE(v.Accept(Data(0, 4096, 1024)).ok());

  Status s = v.Accept(Data(1, 6144, 512));  // gap
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("not contiguous"), std::string::npos) << s;
  EXPECT_EQ(v.Accept(Data(1, 4096, 512)).code(), ErrorCode::kInvalidArgument);  // overlap
  s = v.Accept(Data(2, 5120, 512));  // skipped seqno
  EXPECT_NE(s.message().find("expected seqno 1"), std::string::npos) << s;
  EXPECT_EQ(v.Accept(Data(0, 5120, 512)).code(), ErrorCode::kInvalidArgument);  // replayed

  PacketHeader wrong_sums = Data(1, 5120, 1024);
  wrong_sums.checksum_len = 4;
  s = v.Accept(wrong_sums);
  EXPECT_NE(s.message().find("expected 8"), std::string::npos) << s;
  wrong_sums.checksum_len = 0;
  EXPECT_EQ(v.Accept(wrong_sums).code(), ErrorCode::kInvalidArgument);

  EXPECT_EQ(v.Accept(Data(1, 5120, kDefaultPacketDataBytes + 1)).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(v.Accept(PacketHeader{kHeartbeatSeqno, 0, 1, 4, false, false}).code(),
            ErrorCode::kInvalidArgument);

  EXPECT_EQ(v.next_offset(), 5120u);
  EXPECT_EQ(v.next_seqno(), 1);
  PacketHeader last = Data(1, 5120, 10);
  last.last = true;
  ASSERT_TRUE(v.Accept(last).ok());
  s = v.Accept(Data(2, 5130, 10));
  EXPECT_NE(s.message().find("after the last packet"), std::string::npos) << s;
}

TEST(TransferPacketTest, ValidatorWithoutChecksumsWantsNone) {
  PacketValidator v({.checksums = false});
  PacketHeader h = Data(0, 0, 1000);
  EXPECT_EQ(v.Accept(h).code(), ErrorCode::kInvalidArgument);
  h.checksum_len = 0;
  EXPECT_TRUE(v.Accept(h).ok());
}

TEST(TransferAckTest, RoundTripsAndFindsTheFailedNode) {
  PipelineAck ack{42, {TransferStatus::kSuccess, TransferStatus::kErrorChecksum,
                       TransferStatus::kSuccess}};
  std::string bytes;
  ASSERT_TRUE(EncodePipelineAck(ack, &bytes).ok());
  EXPECT_EQ(bytes.size(), kAckPrefixBytes + 3 + 4);
  size_t rest = 0;
  ASSERT_TRUE(DecodeAckPrefix(reinterpret_cast<const uint8_t*>(bytes.data()), &rest).ok());
  EXPECT_EQ(rest, 7u);
  PipelineAck back;
  ASSERT_TRUE(DecodePipelineAck(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                                &back).ok());
  EXPECT_EQ(back, ack);
  EXPECT_FALSE(back.AllSucceeded());
  EXPECT_EQ(back.FirstFailure(), 1);

  PipelineAck all_statuses{kHeartbeatSeqno, {}};
  for (uint8_t s = 0; s <= kMaxTransferStatus; ++s) {
    all_statuses.replies.push_back(static_cast<TransferStatus>(s));
  }
  ASSERT_TRUE(EncodePipelineAck(all_statuses, &bytes).ok());
  ASSERT_TRUE(DecodePipelineAck(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                                &back).ok());
  EXPECT_EQ(back, all_statuses);
}

TEST(TransferAckTest, UpstreamAckPutsOwnStatusFirst) {
  PipelineAck last = MakeUpstreamAck(9, TransferStatus::kSuccess, nullptr);
  EXPECT_EQ(last, (PipelineAck{9, {TransferStatus::kSuccess}}));
  PipelineAck middle = MakeUpstreamAck(9, TransferStatus::kSuccess, &last);
  PipelineAck first = MakeUpstreamAck(9, TransferStatus::kErrorChecksum, &middle);
  EXPECT_EQ(first.replies, (std::vector<TransferStatus>{TransferStatus::kErrorChecksum,
                                                         TransferStatus::kSuccess,
                                                         TransferStatus::kSuccess}));
  EXPECT_EQ(first.FirstFailure(), 0);
  PipelineAck full{1, std::vector<TransferStatus>(kMaxPipelineNodes)};
  EXPECT_EQ(MakeUpstreamAck(1, TransferStatus::kSuccess, &full).replies.size(), kMaxPipelineNodes);
}

TEST(TransferAckTest, RejectsMalformedAcks) {
  std::string bytes;
  EXPECT_EQ(EncodePipelineAck({1, {}}, &bytes).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(EncodePipelineAck({1, std::vector<TransferStatus>(kMaxPipelineNodes + 1)}, &bytes)
                .code(),
            ErrorCode::kInvalidArgument);

  ASSERT_TRUE(EncodePipelineAck({7, {TransferStatus::kSuccess, TransferStatus::kSuccess}}, &bytes)
                  .ok());
  auto decode = [](std::string b) {
    PipelineAck out;
    return DecodePipelineAck(reinterpret_cast<const uint8_t*>(b.data()), b.size(), &out);
  };
  auto refresh_crc = [](std::string* b) {
    auto* p = reinterpret_cast<uint8_t*>(b->data());
    StoreLe32(p + b->size() - 4, crc32c::Value(p, b->size() - 4));
  };
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(decode(bytes.substr(0, n)).code(), ErrorCode::kCorruption) << n;
  }
  std::string b = bytes;
  b[12] = 1;  // status flipped but CRC not updated
  Status s = decode(b);
  EXPECT_NE(s.message().find("checksum mismatch"), std::string::npos) << s;
  b[12] = static_cast<char>(kMaxTransferStatus + 1);
  refresh_crc(&b);
  s = decode(b);
  EXPECT_NE(s.message().find("unknown status"), std::string::npos) << s;
  b = bytes;
  b[8] = static_cast<char>(kMaxPipelineNodes + 1);
  EXPECT_EQ(decode(b).code(), ErrorCode::kCorruption);
  b = bytes;
  b[8] = 0;
  EXPECT_EQ(decode(b).code(), ErrorCode::kCorruption);
  b = bytes;
  b[10] = 1;
  refresh_crc(&b);
  EXPECT_EQ(decode(b).code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace talus::transfer
