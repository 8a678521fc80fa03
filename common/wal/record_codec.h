#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

// Byte layout of write-ahead-log segment files, shared by the namenode's LocalJournal and
// raft::DiskStorage (local_journal.h has the picture). Everything here is written to disk:
// never change a value; add a new kSegmentVersion instead.
namespace talus::wal {

inline constexpr std::string_view kSegmentMagic = "TALUSJNL";  // 8 bytes
inline constexpr uint32_t kSegmentVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 24;
inline constexpr size_t kRecordHeaderSize = 24;
// Bigger payloads are refused by Append and, on read, taken as a damaged length field.
inline constexpr uint32_t kMaxPayloadBytes = 16u << 20;

// The header that starts every segment file.
std::string EncodeSegmentHeader(uint64_t first_index);
// Returns the first index named by a segment header, or Corruption.
Result<uint64_t> DecodeSegmentHeader(std::string_view bytes);

// Appends one record to *out. payload.size() must be <= kMaxPayloadBytes.
void AppendRecord(uint64_t term, uint64_t index, std::string_view payload, std::string* out);

enum class DecodeOutcome {
  kOk,
  kTruncated,    // the input ends inside the record
  kBadLength,    // the length field is out of range
  kBadChecksum,  // the CRC does not match the bytes
};
const char* DecodeOutcomeName(DecodeOutcome outcome);

struct DecodedRecord {
  uint64_t term = 0;
  uint64_t index = 0;
  std::string_view payload;  // points into the input
  size_t encoded_size = 0;   // header + payload
};

// Decodes the record at the start of `input`.
DecodeOutcome DecodeRecord(std::string_view input, DecodedRecord* record);

}  // namespace talus::wal
