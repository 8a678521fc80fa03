#include "namenode/namespace/keys.h"

namespace talus::keys {

void AppendBigEndian64(std::string* out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

uint64_t DecodeBigEndian64(std::string_view in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<uint8_t>(in[i]);
  return value;
}

std::string InodeKey(uint64_t id) {
  std::string key(1, kInodePrefix);
  AppendBigEndian64(&key, id);
  return key;
}

std::string DirentPrefix(uint64_t parent_id) {
  std::string key(1, kDirentPrefix);
  AppendBigEndian64(&key, parent_id);
  return key;
}

std::string DirentKey(uint64_t parent_id, std::string_view name) {
  std::string key = DirentPrefix(parent_id);
  key.append(name);
  return key;
}

std::string UnderConstructionKey(uint64_t inode_id) {
  std::string key(1, kUnderConstructionPrefix);
  AppendBigEndian64(&key, inode_id);
  return key;
}

std::string RetryKey(std::string_view client_id, int64_t call_id) {
  std::string key(1, kRetryPrefix);
  key.append(client_id);
  AppendBigEndian64(&key, static_cast<uint64_t>(call_id));
  return key;
}

std::string RetryExpiryKey(uint64_t journal_index, std::string_view client_id, int64_t call_id) {
  std::string key(1, kRetryExpiryPrefix);
  AppendBigEndian64(&key, journal_index);
  key.append(client_id);
  AppendBigEndian64(&key, static_cast<uint64_t>(call_id));
  return key;
}

}  // namespace talus::keys
