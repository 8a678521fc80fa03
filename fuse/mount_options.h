#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

struct fuse_conn_info;

namespace talus::fuse {

// How talus-fuse mounts and talks to the kernel; read once from the command line.
struct MountOptions {
  std::string uri;         // talus://HOST:PORT[,HOST:PORT...]
  std::string mountpoint;  // absolute
  bool foreground = false;
  bool allow_other = false;
  double attr_timeout_s = 1.0;
  double entry_timeout_s = 1.0;
  double negative_timeout_s = 0.0;
  bool writeback_cache = true;
  uint32_t max_write_bytes = 1 << 20;
  uint32_t max_threads = 8;
  uint32_t max_readahead_bytes = 4 << 20;
};

// Validates the talus-fuse flags and the one positional argument, the mount point. Errors name
// the flag and the accepted range; nothing is mounted on error.
Result<MountOptions> MountOptionsFromFlags(const std::vector<std::string>& positional);

// The argv given to fuse_session_new: "-o default_permissions,fsname=URI,subtype=talus,...".
std::vector<std::string> FuseSessionArgs(const MountOptions& options);

// Settings negotiated with the kernel in FUSE_INIT: large writes and readahead, writeback cache,
// readdirplus, asynchronous reads, parallel directory operations.
void ConfigureConnection(const MountOptions& options, fuse_conn_info* conn);

}  // namespace talus::fuse
