#pragma once
// Serializes Thrift structs to bytes and back with the binary protocol: the encoding of journal
// entries and namespace records. Decoding is bounded and never throws.

#include <memory>
#include <string>
#include <string_view>

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include "common/status.h"

namespace talus {

template <typename T>
std::string ThriftEncode(const T& value) {
  auto buffer = std::make_shared<apache::thrift::transport::TMemoryBuffer>(256);
  apache::thrift::protocol::TBinaryProtocolT<apache::thrift::transport::TMemoryBuffer> proto(
      buffer);
  value.write(&proto);
  return buffer->getBufferAsString();
}

// Decodes `bytes` into `*out`; any malformed input gives kCorruption naming `what`.
template <typename T>
Status ThriftDecode(std::string_view bytes, T* out, const char* what) {
  try {
    auto buffer = std::make_shared<apache::thrift::transport::TMemoryBuffer>(
        reinterpret_cast<uint8_t*>(const_cast<char*>(bytes.data())),
        static_cast<uint32_t>(bytes.size()), apache::thrift::transport::TMemoryBuffer::OBSERVE);
    // Bounded string and container sizes: a corrupt length cannot make us allocate gigabytes.
    apache::thrift::protocol::TBinaryProtocolT<apache::thrift::transport::TMemoryBuffer> proto(
        buffer, static_cast<int32_t>(bytes.size()), static_cast<int32_t>(bytes.size()), false,
        false);
    out->read(&proto);
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("cannot decode ") + what + ": " + e.what());
  }
  return Status::OK();
}

}  // namespace talus
