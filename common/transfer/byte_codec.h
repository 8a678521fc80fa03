#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/status.h"

// Little-endian fixed-width encoding with bounds checks, for the transfer protocol's frames.
namespace talus::transfer {

inline void StoreLe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
inline void StoreLe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void StoreLe64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint16_t LoadLe16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}
inline uint32_t LoadLe32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline uint64_t LoadLe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Appends encoded fields to a string.
class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}
  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { Append<2>(v, StoreLe16); }
  void U32(uint32_t v) { Append<4>(v, StoreLe32); }
  void U64(uint64_t v) { Append<8>(v, StoreLe64); }
  // The caller has checked s.size() fits the field's bound (<= 65535).
  void Str(std::string_view s) {
    U16(static_cast<uint16_t>(s.size()));
    out_->append(s);
  }

 private:
  template <size_t N, typename T, typename F>
  void Append(T v, F store) {
    uint8_t buf[N];
    store(buf, v);
    out_->append(reinterpret_cast<const char*>(buf), N);
  }
  std::string* out_;
};

// Reads fields from a buffer; every read names its field so a short or bad body gives a message
// saying which field and where.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size, std::string_view what)
      : data_(data), size_(size), what_(what) {}

  Status U8(uint8_t* v, std::string_view field) {
    RETURN_NOT_OK(Need(1, field));
    *v = data_[pos_++];
    return Status::OK();
  }
  Status U16(uint16_t* v, std::string_view field) {
    RETURN_NOT_OK(Need(2, field));
    *v = LoadLe16(data_ + pos_);
    pos_ += 2;
    return Status::OK();
  }
  Status U32(uint32_t* v, std::string_view field) {
    RETURN_NOT_OK(Need(4, field));
    *v = LoadLe32(data_ + pos_);
    pos_ += 4;
    return Status::OK();
  }
  Status U64(uint64_t* v, std::string_view field) {
    RETURN_NOT_OK(Need(8, field));
    *v = LoadLe64(data_ + pos_);
    pos_ += 8;
    return Status::OK();
  }
  // A u16-length-prefixed string of at most max_len bytes.
  Status Str(std::string* v, size_t max_len, std::string_view field);
  // A reserved field that must be zero.
  Status Zero(size_t n, std::string_view field);
  // Fails unless every byte was consumed.
  Status Finish() const;

  size_t position() const { return pos_; }

 private:
  Status Need(size_t n, std::string_view field) const;

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::string_view what_;
};

}  // namespace talus::transfer
