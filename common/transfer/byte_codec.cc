#include "common/transfer/byte_codec.h"

namespace talus::transfer {

Status ByteReader::Need(size_t n, std::string_view field) const {
  if (size_ - pos_ >= n) return Status::OK();
  return Status::Corruption(std::string(what_) + " truncated: field " + std::string(field) +
                            " needs " + std::to_string(n) + " bytes at offset " +
                            std::to_string(pos_) + " of " + std::to_string(size_));
}

Status ByteReader::Str(std::string* v, size_t max_len, std::string_view field) {
  uint16_t len = 0;
  RETURN_NOT_OK(U16(&len, field));
  if (len > max_len) {
    return Status::Corruption(std::string(what_) + ": field " + std::string(field) + " is " +
                              std::to_string(len) + " bytes, limit " + std::to_string(max_len));
  }
  RETURN_NOT_OK(Need(len, field));
  v->assign(reinterpret_cast<const char*>(data_ + pos_), len);
  pos_ += len;
  return Status::OK();
}

Status ByteReader::Zero(size_t n, std::string_view field) {
  RETURN_NOT_OK(Need(n, field));
  for (size_t i = 0; i < n; ++i) {
    if (data_[pos_ + i] != 0) {
      return Status::Corruption(std::string(what_) + ": reserved field " + std::string(field) +
                                " is not zero");
    }
  }
  pos_ += n;
  return Status::OK();
}

Status ByteReader::Finish() const {
  if (pos_ == size_) return Status::OK();
  return Status::Corruption(std::string(what_) + " has " + std::to_string(size_ - pos_) +
                            " unexpected trailing bytes");
}

}  // namespace talus::transfer
