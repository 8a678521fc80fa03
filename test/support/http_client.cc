#include "test/support/http_client.h"

#include <httplib.h>
#include <strings.h>

namespace talus::test {

std::string HttpAnswer::Header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
  }
  return "";
}

Result<nlohmann::json> HttpAnswer::Json() const {
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return Status::InvalidArgument("not JSON (HTTP " + std::to_string(status) + "): " +
                                   body.substr(0, 300));
  }
  return parsed;
}

Result<HttpAnswer> HttpGet(const std::string& address, const std::string& target,
                           int timeout_ms) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("no port in " + address);
  httplib::Client client(address.substr(0, colon), std::stoi(address.substr(colon + 1)));
  client.set_connection_timeout(timeout_ms / 1000, (timeout_ms % 1000) * 1000);
  client.set_read_timeout(timeout_ms / 1000, (timeout_ms % 1000) * 1000);
  client.set_follow_location(false);
  httplib::Result res = client.Get(target);
  if (!res) {
    return Status::Unavailable("GET http://" + address + target.substr(0, 200) + ": " +
                               httplib::to_string(res.error()));
  }
  HttpAnswer answer;
  answer.status = res->status;
  for (const auto& [key, value] : res->headers) answer.headers.emplace(key, value);
  answer.body = res->body;
  return answer;
}

std::string UrlEncode(const std::string& value) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace talus::test
