#include "fuse/mount_options.h"

#include <fuse_lowlevel.h>
#include <gflags/gflags.h>
#include <stdlib.h>

#include <climits>

#include "talus/file_system.h"

DEFINE_string(fs, "", "File system to mount, talus://HOST:PORT[,HOST:PORT...]; empty means "
              "$TALUS_FS, else fs.defaultFS of the client configuration.");
DEFINE_bool(foreground, false, "Stay in the foreground (log to stderr unless --log_dir is set) "
            "instead of detaching once the mount is ready.");
DEFINE_bool(allow_other, false, "Let users other than the one mounting use the mount (needs "
            "user_allow_other in /etc/fuse.conf unless mounting as root).");
DEFINE_int32(attr_timeout_ms, 1000, "How long the kernel may cache a file's attributes, in "
             "milliseconds.");
DEFINE_int32(entry_timeout_ms, 1000, "How long the kernel may cache a name -> inode lookup, in "
             "milliseconds.");
DEFINE_int32(negative_timeout_ms, 0, "How long the kernel may cache that a name does not exist, "
             "in milliseconds; 0 asks the namenode every time.");
DEFINE_bool(writeback_cache, true, "Let the kernel buffer writes in the page cache and send them "
            "in large batches (FUSE writeback cache).");
DEFINE_int32(max_write_bytes, 1 << 20, "Largest write request the kernel sends, in bytes (4096 "
             "to 16777216; the kernel may cap it lower, 1 MiB on most kernels).");
DEFINE_int32(max_threads, 8, "Most threads serving kernel requests at once (1 to 256).");
DEFINE_int32(max_readahead_bytes, 4 << 20, "Kernel readahead on sequential reads, in bytes "
             "(0 to 67108864); raised through the mount's sysfs bdi entry where allowed.");

namespace talus::fuse {

namespace {

Status CheckRange(const char* flag, int64_t value, int64_t low, int64_t high) {
  if (value < low || value > high) {
    return Status::InvalidArgument("--" + std::string(flag) + " must be from " +
                                   std::to_string(low) + " to " + std::to_string(high) +
                                   ", got " + std::to_string(value));
  }
  return Status::OK();
}

// Commas and backslashes in an -o value must be escaped for libfuse's option parser.
std::string EscapeOptionValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == ',' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace

Result<MountOptions> MountOptionsFromFlags(const std::vector<std::string>& positional) {
  if (positional.size() != 1) {
    return Status::InvalidArgument(positional.empty()
                                       ? "missing MOUNTPOINT"
                                       : "expected one MOUNTPOINT, got " +
                                             std::to_string(positional.size()) + " arguments");
  }
  MountOptions options;
  RETURN_NOT_OK(CheckRange("attr_timeout_ms", FLAGS_attr_timeout_ms, 0, 86400000));
  RETURN_NOT_OK(CheckRange("entry_timeout_ms", FLAGS_entry_timeout_ms, 0, 86400000));
  RETURN_NOT_OK(CheckRange("negative_timeout_ms", FLAGS_negative_timeout_ms, 0, 86400000));
  RETURN_NOT_OK(CheckRange("max_write_bytes", FLAGS_max_write_bytes, 4096, 16 << 20));
  RETURN_NOT_OK(CheckRange("max_threads", FLAGS_max_threads, 1, 256));
  RETURN_NOT_OK(CheckRange("max_readahead_bytes", FLAGS_max_readahead_bytes, 0, 64 << 20));
  if (FLAGS_fs.empty()) {
    Result<std::string> uri = FileSystem::DefaultUri();
    if (!uri.ok()) return uri.status();
    options.uri = *uri;
  } else {
    options.uri = FLAGS_fs;
  }
  if (options.uri.rfind("talus://", 0) != 0) {
    return Status::InvalidArgument("--fs must be a talus://HOST:PORT URI, got '" + options.uri +
                                   "'");
  }
  char resolved[PATH_MAX];
  if (realpath(positional[0].c_str(), resolved) == nullptr) {
    return Status::FromErrno(errno, "mount point " + positional[0]);
  }
  options.mountpoint = resolved;
  options.foreground = FLAGS_foreground;
  options.allow_other = FLAGS_allow_other;
  options.attr_timeout_s = FLAGS_attr_timeout_ms / 1000.0;
  options.entry_timeout_s = FLAGS_entry_timeout_ms / 1000.0;
  options.negative_timeout_s = FLAGS_negative_timeout_ms / 1000.0;
  options.writeback_cache = FLAGS_writeback_cache;
  options.max_write_bytes = static_cast<uint32_t>(FLAGS_max_write_bytes);
  options.max_threads = static_cast<uint32_t>(FLAGS_max_threads);
  options.max_readahead_bytes = static_cast<uint32_t>(FLAGS_max_readahead_bytes);
  return options;
}

std::vector<std::string> FuseSessionArgs(const MountOptions& options) {
  std::string o = "default_permissions,fsname=" + EscapeOptionValue(options.uri) +
                  ",subtype=talus,max_read=" + std::to_string(options.max_write_bytes);
  if (options.allow_other) o += ",allow_other";
  return {"talus-fuse", "-o", o};
}

void ConfigureConnection(const MountOptions& options, fuse_conn_info* conn) {
  conn->max_write = options.max_write_bytes;
  conn->max_read = options.max_write_bytes;
  // The kernel only lets a file system lower its readahead here; fuse_main raises the bdi's
  // read_ahead_kb afterwards.
  if (options.max_readahead_bytes < conn->max_readahead) {
    conn->max_readahead = options.max_readahead_bytes;
  }
  conn->max_background = 64;
  conn->congestion_threshold = 48;
  conn->time_gran = 1;  // nanosecond timestamps
  auto want = [conn](unsigned cap, bool on) {
    if (on && (conn->capable & cap)) {
      conn->want |= cap;
    } else {
      conn->want &= ~cap;
    }
  };
  want(FUSE_CAP_ASYNC_READ, true);
  want(FUSE_CAP_WRITEBACK_CACHE, options.writeback_cache);
  want(FUSE_CAP_READDIRPLUS, true);
  want(FUSE_CAP_READDIRPLUS_AUTO, true);
  want(FUSE_CAP_PARALLEL_DIROPS, true);
  want(FUSE_CAP_AUTO_INVAL_DATA, true);
  want(FUSE_CAP_ASYNC_DIO, true);
  // O_TRUNC arrives as a setattr(size=0) with the file handle, which truncates through the
  // file's writer; no special open path needed.
  want(FUSE_CAP_ATOMIC_O_TRUNC, false);
  // Locks stay local to this kernel (no cluster-wide locking yet).
  want(FUSE_CAP_POSIX_LOCKS, false);
  want(FUSE_CAP_FLOCK_LOCKS, false);
}

}  // namespace talus::fuse
