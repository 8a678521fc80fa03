#pragma once
// What GET /api/v1/download accepts, checked before anything is asked of a namenode: the
// parameters come from anyone who can reach the port, so a path must be a plain absolute
// namespace path and the namenode one this datanode already talks to (no requests to
// arbitrary hosts on a caller's behalf).
#include <string>
#include <vector>

#include "common/result.h"

namespace talus::datanode {

// The path parameter is checked by web::PathParam (common/web/query_params.h), as the
// namenode checks it.

// "HOST:PORT" with a port in 1..65535 (digits only) and HOST equal to one of `allowed_hosts`
// (the hosts of this datanode's namenodes). Returns the address unchanged.
Result<std::string> ValidateNamenodeParam(const std::string& value,
                                          const std::vector<std::string>& allowed_hosts);

// The Content-Disposition of a download of `path` (RFC 6266): attachment; filename="NAME"
// when the base name is plain printable ASCII; otherwise a fallback filename with every
// unsafe byte replaced by '_' and filename*=UTF-8''NAME percent-encoded (RFC 8187), so no
// quote, backslash, CR, LF or non-ASCII byte ever reaches the header as is.
std::string ContentDispositionFor(const std::string& path);

}  // namespace talus::datanode
