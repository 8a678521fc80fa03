#include "datanode/web/download_request.h"

#include <algorithm>

namespace talus::datanode {
namespace {

constexpr size_t kMaxNamenodeParamBytes = 300;

// Bytes that may stand inside a quoted filename as they are. '%' and '\\' are left out:
// browsers differ on whether they decode them there.
bool PlainFilenameByte(unsigned char c) {
  return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%';
}

// RFC 8187 attr-char.
bool AttrChar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '&': case '+': case '-': case '.':
    case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

}  // namespace

Result<std::string> ValidateNamenodeParam(const std::string& value,
                                          const std::vector<std::string>& allowed_hosts) {
  if (value.empty()) return Status::InvalidArgument("parameter 'namenode' is required");
  if (value.size() > kMaxNamenodeParamBytes) {
    return Status::InvalidArgument("parameter 'namenode' is too long");
  }
  const size_t colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument("parameter 'namenode' must be HOST:PORT");
  }
  const std::string host = value.substr(0, colon);
  const std::string port = value.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Status::InvalidArgument("parameter 'namenode' has no port within 1..65535");
  }
  const int number = std::stoi(port);
  if (number < 1 || number > 65535) {
    return Status::InvalidArgument("parameter 'namenode' has no port within 1..65535");
  }
  if (std::find(allowed_hosts.begin(), allowed_hosts.end(), host) == allowed_hosts.end()) {
    return Status::InvalidArgument("parameter 'namenode' names a host that is not one of this "
                                   "datanode's namenodes");
  }
  return value;
}

std::string ContentDispositionFor(const std::string& path) {
  const size_t slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty()) name = "download";
  const bool plain = std::all_of(name.begin(), name.end(), [](char c) {
    return PlainFilenameByte(static_cast<unsigned char>(c));
  });
  if (plain) return "attachment; filename=\"" + name + "\"";
  std::string fallback;
  std::string encoded;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    fallback.push_back(PlainFilenameByte(c) ? ch : '_');
    if (AttrChar(c)) {
      encoded.push_back(ch);
    } else {
      encoded.push_back('%');
      encoded.push_back(kHex[c >> 4]);
      encoded.push_back(kHex[c & 0xf]);
    }
  }
  return "attachment; filename=\"" + fallback + "\"; filename*=UTF-8''" + encoded;
}

}  // namespace talus::datanode
