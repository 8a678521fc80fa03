#pragma once
// Plain HTTP for tests of the daemons' web servers: one GET, the answer as the test sees it.
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace talus::test {

struct HttpAnswer {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // names as sent
  std::string body;

  // The first header of this name (case-insensitive), or "".
  std::string Header(const std::string& name) const;
  // The body parsed as JSON; an error if it is not JSON.
  Result<nlohmann::json> Json() const;
};

// GET http://ADDRESS TARGET, where ADDRESS is "host:port" and TARGET the path with its query
// string, sent as given (so a test can send what a browser would not). Redirects are not
// followed. An error only when no HTTP answer came (refused, timed out, garbage).
Result<HttpAnswer> HttpGet(const std::string& address, const std::string& target,
                           int timeout_ms = 10000);

// Percent-encodes a query parameter's value (RFC 3986 unreserved characters are kept).
std::string UrlEncode(const std::string& value);

}  // namespace talus::test
