#pragma once
// The body of GET /api/v1/datanode (docs/web.md): this datanode's identity, namenodes,
// volumes and their usage, replicas, transfers and recent errors, read from the live objects
// at the time of the request.
#include <cstdint>

#include <nlohmann/json.hpp>

namespace talus::datanode {

class Datanode;

// Thread-safe (reads only thread-safe accessors of `dn`).
nlohmann::json DatanodeStatusJson(const Datanode& dn, int64_t start_time_ms);

}  // namespace talus::datanode
