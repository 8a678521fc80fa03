#include "common/wal/record_codec.h"

#include <cstring>

#include "common/crc32c.h"
#include "common/little_endian.h"

namespace talus::wal {
namespace {

using le::GetU32;
using le::GetU64;
using le::PutU32;
using le::PutU64;

// Segment header: magic[8] | version u32 | crc u32 | first_index u64. The CRC covers the
// magic, the version and the first index.
uint32_t SegmentHeaderCrc(const char* header) {
  uint32_t crc = crc32c::Value(header, 12);
  return crc32c::Extend(crc, header + 16, 8);
}

// Record: length u32 | crc u32 | term u64 | index u64 | payload. The CRC covers the length,
// term, index and payload, so a damaged length field is caught too.
uint32_t RecordCrc(const char* header, std::string_view payload) {
  uint32_t crc = crc32c::Value(header, 4);
  crc = crc32c::Extend(crc, header + 8, 16);
  return crc32c::Extend(crc, payload.data(), payload.size());
}

}  // namespace

std::string EncodeSegmentHeader(uint64_t first_index) {
  std::string header(kSegmentHeaderSize, '\0');
  std::memcpy(header.data(), kSegmentMagic.data(), 8);
  PutU32(header.data() + 8, kSegmentVersion);
  PutU64(header.data() + 16, first_index);
  PutU32(header.data() + 12, SegmentHeaderCrc(header.data()));
  return header;
}

Result<uint64_t> DecodeSegmentHeader(std::string_view bytes) {
  if (bytes.size() < kSegmentHeaderSize) {
    return Status::Corruption("segment header is truncated (" + std::to_string(bytes.size()) +
                              " bytes)");
  }
  if (bytes.substr(0, 8) != kSegmentMagic) {
    return Status::Corruption("segment header has a bad magic number");
  }
  if (GetU32(bytes.data() + 12) != SegmentHeaderCrc(bytes.data())) {
    return Status::Corruption("segment header checksum mismatch");
  }
  uint32_t version = GetU32(bytes.data() + 8);
  if (version != kSegmentVersion) {
    return Status::Corruption("unsupported segment version " + std::to_string(version));
  }
  return GetU64(bytes.data() + 16);
}

void AppendRecord(uint64_t term, uint64_t index, std::string_view payload, std::string* out) {
  char header[kRecordHeaderSize];
  PutU32(header, static_cast<uint32_t>(payload.size()));
  PutU64(header + 8, term);
  PutU64(header + 16, index);
  PutU32(header + 4, RecordCrc(header, payload));
  out->append(header, kRecordHeaderSize);
  out->append(payload);
}

const char* DecodeOutcomeName(DecodeOutcome outcome) {
  switch (outcome) {
    case DecodeOutcome::kOk: return "ok";
    case DecodeOutcome::kTruncated: return "truncated record";
    case DecodeOutcome::kBadLength: return "record length out of range";
    case DecodeOutcome::kBadChecksum: return "record checksum mismatch";
  }
  return "unknown";
}

DecodeOutcome DecodeRecord(std::string_view input, DecodedRecord* record) {
  if (input.size() < kRecordHeaderSize) return DecodeOutcome::kTruncated;
  uint32_t length = GetU32(input.data());
  if (length > kMaxPayloadBytes) return DecodeOutcome::kBadLength;
  if (input.size() - kRecordHeaderSize < length) return DecodeOutcome::kTruncated;
  std::string_view payload = input.substr(kRecordHeaderSize, length);
  if (GetU32(input.data() + 4) != RecordCrc(input.data(), payload)) {
    return DecodeOutcome::kBadChecksum;
  }
  record->term = GetU64(input.data() + 8);
  record->index = GetU64(input.data() + 16);
  record->payload = payload;
  record->encoded_size = kRecordHeaderSize + length;
  return DecodeOutcome::kOk;
}

}  // namespace talus::wal
