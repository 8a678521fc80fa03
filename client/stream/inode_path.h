#pragma once

#include <cstdint>
#include <string>

namespace talus::client {

// The path that names inode `id` wherever it is in the namespace (see the comment above
// `service ClientNamenode`): an open file addressed this way follows renames of itself and of
// its directories.
inline std::string InodePath(uint64_t id) { return "/.reserved/.inodes/" + std::to_string(id); }

}  // namespace talus::client
