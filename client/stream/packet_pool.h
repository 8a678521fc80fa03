#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "common/transfer/checksum.h"
#include "common/transfer/protocol.h"

namespace talus::client {

// One packet a writer sends: its header fields and its own checksum and data buffers (so the
// streamer sends them with one gathering write and no copy). A packet stays alive until the
// whole pipeline has acknowledged it, so it could be sent again to a rebuilt pipeline.
struct Packet {
  int64_t seqno = 0;
  uint64_t offset_in_block = 0;
  uint32_t data_len = 0;
  uint32_t checksum_len = 0;
  bool last = false;
  bool sync = false;
  std::vector<uint8_t> checksums;
  std::vector<uint8_t> data;  // capacity: the stream's packet size; data_len bytes used

  void Reset(uint64_t offset) {
    seqno = 0;
    offset_in_block = offset;
    data_len = checksum_len = 0;
    last = sync = false;
  }
};

// Recycles packet buffers so a stream's memory is its packets in flight, whatever the file's
// size. Thread-safe: the writer takes, the ack reader gives back.
class PacketPool {
 public:
  PacketPool(size_t data_bytes, uint32_t bytes_per_checksum)
      : data_bytes_(data_bytes), bytes_per_checksum_(bytes_per_checksum) {}

  std::unique_ptr<Packet> Get(uint64_t offset_in_block) {
    std::unique_ptr<Packet> p;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        p = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!p) {
      p = std::make_unique<Packet>();
      p->data.resize(data_bytes_);
      // A packet starting mid-chunk needs one checksum more than an aligned one.
      p->checksums.resize((data_bytes_ / bytes_per_checksum_ + 2) * transfer::kChecksumBytes);
    }
    p->Reset(offset_in_block);
    return p;
  }

  void Put(std::unique_ptr<Packet> p) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(p));
  }

  size_t data_bytes() const { return data_bytes_; }

 private:
  const size_t data_bytes_;
  const uint32_t bytes_per_checksum_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Packet>> free_;
};

}  // namespace talus::client
