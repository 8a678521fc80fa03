#pragma once

// Small CRC-checked files of fixed 64-bit fields, for the state DiskStorage keeps beside its
// log (hard state, commit, snapshot meta). Everything here is written to disk: never change a
// layout; add a new version instead. All integers are little-endian.
//
//   file = magic[8] | version u32 | crc u32 | field u64 * n      (CRC32C of all but the crc)

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace talus::raft::state_file {

inline constexpr uint32_t kVersion = 1;
inline constexpr size_t kHeaderSize = 16;

std::string Encode(std::string_view magic, const std::vector<uint64_t>& fields);
// The n fields of a file whose magic is `magic`, or Corruption (wrong size, magic, version or
// checksum).
Result<std::vector<uint64_t>> Decode(std::string_view bytes, std::string_view magic, size_t n);

// The whole file, or NotFound when it does not exist.
Result<std::string> Read(const std::string& path);

// Replaces dir/name atomically and durably: written to dir/name.tmp, fsync'd, renamed over
// dir/name, and the directory fsync'd. A crash leaves either the old or the new file.
Status WriteDurably(const std::string& dir, const std::string& name, std::string_view contents);

// The name WriteDurably writes to before the rename; a leftover is garbage.
std::string TemporaryName(const std::string& name);

}  // namespace talus::raft::state_file
