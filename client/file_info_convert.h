#pragma once

#include <string>

#include "talus/file_system.h"
#include "talus_rpc/client_namenode_types.h"

namespace talus::client {

// The namenode's FileStatus as the public FileInfo; `path` is what the caller asked for.
FileInfo FileInfoFromWire(const rpc::FileStatus& st, std::string path);

}  // namespace talus::client
