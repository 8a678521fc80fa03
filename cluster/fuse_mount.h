#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>

#include "common/result.h"

namespace talus::cluster {

// The FUSE mount of a local cluster: one talus-fuse process, started in the foreground of its
// own session (so its pid is the mount's) and recorded in DIR/mount.state as
//   mount pid=PID start_time=TICKS mountpoint=PATH
// (PATH runs to the end of the line). Its output goes to DIR/logs/fuse.out.
class LocalMount {
 public:
  using Progress = std::function<void(const std::string&)>;

  LocalMount(std::string cluster_dir, std::string bin_dir);

  // Mounts the cluster at `uri` on `mountpoint` (made absolute; created if absent) and waits,
  // up to `timeout`, until the kernel lists the mount. AlreadyExists when a mount recorded
  // here still runs on another mount point; OK without doing anything on the same one.
  Status Mount(const std::string& uri, const std::string& mountpoint,
               std::chrono::milliseconds timeout, const Progress& progress = {});
  // Unmounts (fusermount3 -u, else umount -l), waits for talus-fuse to exit (SIGTERM, then
  // SIGKILL after `timeout`) and forgets the record. OK when nothing is recorded.
  Status Unmount(std::chrono::milliseconds timeout, const Progress& progress = {});
  // "mount running pid=PID path=PATH" (or dead / stopped); empty when nothing is recorded.
  std::string StatusLine() const;

 private:
  struct Record {
    pid_t pid = 0;
    uint64_t start_time = 0;
    std::string mountpoint;
  };
  Result<Record> Load() const;
  Status Save(const Record& record) const;
  bool IsOurProcess(const Record& record) const;
  std::string StatePath() const { return dir_ + "/mount.state"; }
  std::string OutputPath() const { return dir_ + "/logs/fuse.out"; }

  const std::string dir_;
  const std::string bin_dir_;
};

// True if the kernel lists a FUSE mount of type fuse.talus at `mountpoint` (/proc/self/mountinfo).
bool IsTalusMounted(const std::string& mountpoint);

}  // namespace talus::cluster
