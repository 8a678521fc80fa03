#include "datanode/storage/block_meta.h"

#include <algorithm>

#include <cstring>

#include "common/crc32c.h"

namespace talus::datanode {

std::string EncodeMetaHeader() {
  std::string h(kMetaHeaderBytes, '\0');
  std::memcpy(h.data(), kMetaMagic, 4);
  h[4] = static_cast<char>(kMetaVersion >> 8);
  h[5] = static_cast<char>(kMetaVersion & 0xff);
  h[6] = static_cast<char>(kChecksumTypeCrc32c);
  h[7] = 0;
  PutChecksum(h.data() + 8, kBytesPerChecksum);
  return h;
}

Status DecodeMetaHeader(std::string_view header, const std::string& what) {
  if (header.size() < kMetaHeaderBytes) {
    return Status::Corruption(what + ": meta header is " + std::to_string(header.size()) +
                              " bytes, " + std::to_string(kMetaHeaderBytes) + " expected");
  }
  if (std::memcmp(header.data(), kMetaMagic, 4) != 0) {
    return Status::Corruption(what + ": bad meta file magic");
  }
  uint16_t version = static_cast<uint16_t>((static_cast<unsigned char>(header[4]) << 8) |
                                           static_cast<unsigned char>(header[5]));
  if (version != kMetaVersion) {
    return Status::Corruption(what + ": unsupported meta format version " +
                              std::to_string(version));
  }
  if (static_cast<uint8_t>(header[6]) != kChecksumTypeCrc32c) {
    return Status::Corruption(what + ": unsupported checksum type " +
                              std::to_string(static_cast<uint8_t>(header[6])));
  }
  uint32_t bpc = GetChecksum(header.data() + 8);
  if (bpc != kBytesPerChecksum) {
    return Status::Corruption(what + ": unsupported bytes per checksum " + std::to_string(bpc));
  }
  return Status::OK();
}

uint64_t ChunkCountAt(uint64_t start_offset, uint64_t n) {
  if (n == 0) return 0;
  uint64_t first = start_offset / kBytesPerChecksum;
  uint64_t last = (start_offset + n - 1) / kBytesPerChecksum;
  return last - first + 1;
}

namespace {

// CRCs of the chunks of data[0, n) that starts at replica offset start_offset: a leading partial
// chunk alone, then whole chunks a batch at a time with the interleaved CRC (the write path's
// hottest loop, run by every replica of a pipeline). Calls fn(pos, len, crc) for each.
template <typename Fn>
Status ForEachChunkCrc(std::string_view data, uint64_t start_offset, Fn fn) {
  size_t pos = 0;
  const size_t n = data.size();
  if (n == 0) return Status::OK();
  if (start_offset % kBytesPerChecksum != 0) {
    size_t len = static_cast<size_t>(kBytesPerChecksum - start_offset % kBytesPerChecksum);
    if (len > n) len = n;
    RETURN_NOT_OK(fn(pos, len, crc32c::Value(data.data(), len)));
    pos = len;
  }
  constexpr size_t kBatch = 256;
  uint32_t crcs[kBatch];
  while (pos < n) {
    size_t batch = std::min<size_t>(n - pos, kBatch * kBytesPerChecksum);
    crc32c::ValuesOfChunks(data.data() + pos, batch, kBytesPerChecksum, crcs);
    for (size_t i = 0, off = 0; off < batch; ++i, off += kBytesPerChecksum) {
      RETURN_NOT_OK(fn(pos + off, std::min<size_t>(kBytesPerChecksum, batch - off), crcs[i]));
    }
    pos += batch;
  }
  return Status::OK();
}

}  // namespace

std::string ComputeChecksums(std::string_view data, uint64_t start_offset) {
  std::string out;
  out.resize(kChecksumBytes * ChunkCountAt(start_offset, data.size()));
  size_t i = 0;
  (void)ForEachChunkCrc(data, start_offset, [&](size_t, size_t, uint32_t crc) {
    PutChecksum(out.data() + kChecksumBytes * i++, crc);
    return Status::OK();
  });
  return out;
}

Status VerifyChecksums(std::string_view data, std::string_view checksums, uint64_t start_offset,
                       const std::string& what) {
  uint64_t chunks = ChunkCountAt(start_offset, data.size());
  if (checksums.size() != kChecksumBytes * chunks) {
    return Status::InvalidArgument(what + ": " + std::to_string(checksums.size()) +
                                   " checksum bytes for " + std::to_string(data.size()) +
                                   " data bytes at offset " + std::to_string(start_offset) +
                                   ", " + std::to_string(kChecksumBytes * chunks) + " expected");
  }
  size_t i = 0;
  return ForEachChunkCrc(data, start_offset, [&](size_t pos, size_t len, uint32_t got) -> Status {
    uint32_t want = GetChecksum(checksums.data() + kChecksumBytes * i++);
    if (want != got) {
      return Status::Corruption(what + ": checksum mismatch in chunk at offset " +
                                std::to_string(start_offset + pos) + " (" +
                                std::to_string(len) + " bytes)");
    }
    return Status::OK();
  });
}

}  // namespace talus::datanode
