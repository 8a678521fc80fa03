#pragma once
// Query parameters of the daemons' /api/v1 calls, checked before anything is looked up: a
// path must be a valid absolute namespace path (common/path.h: no ".", "..", empty components
// or NUL bytes, at most 4096 bytes) and is never normalized or resolved against anything but the
// namespace, so no request can reach the namenode's local files.
#include <optional>
#include <string>

#include <httplib.h>

#include "common/result.h"

namespace talus::web {

// The value of query parameter `name`, percent-decoded (cpp-httplib decodes, so "%2F" is '/'
// and "%00" a NUL byte, which the checks below then refuse). InvalidArgument when it is given
// more than once; nullopt when absent.
Result<std::optional<std::string>> QueryParam(const httplib::Request& req, const std::string& name);

// The required `path` parameter, validated: InvalidArgument when missing, repeated, relative,
// or holding ".", "..", empty components or NUL; NameTooLong over 4096 bytes.
Result<std::string> PathParam(const httplib::Request& req);

// Percent-encodes a query parameter's value (RFC 3986 unreserved characters are kept).
std::string EncodeQueryValue(const std::string& value);

}  // namespace talus::web
