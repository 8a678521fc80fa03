#pragma once

// Fixtures of the FUSE tests: a talus-fuse process mounted on a temporary directory (FuseMount),
// a MiniCluster with mounts of it and a client connected to it (FuseCluster), shell commands run
// as root or as an unprivileged test user, and the reason a machine cannot run these tests.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "talus/file_system.h"
#include "test/support/mini_cluster.h"

namespace talus::test {

// Why FUSE tests cannot run here ("" when they can): they need root and /dev/fuse (and the
// fuse3 package's fusermount3, which scripts/setup.sh installs).
std::string FuseUnavailableReason();

// Skips the calling test (GTEST_SKIP) when FuseUnavailableReason() is not empty.
#define TALUS_SKIP_WITHOUT_FUSE()                                          \
  do {                                                                     \
    const std::string talus_fuse_why = ::talus::test::FuseUnavailableReason(); \
    if (!talus_fuse_why.empty()) GTEST_SKIP() << talus_fuse_why;           \
  } while (0)

// One `talus-fuse --foreground` child mounted on `mountpoint`. Start() returns once the kernel
// lists the mount and the mount answers a stat; the destructor unmounts (fusermount3 -u, else
// umount -l, which also clears the mount left by a killed daemon) and waits for the daemon to
// exit. Start and destroy it on the test's main thread (the daemon gets SIGKILL when the thread
// that started it ends). Not thread-safe.
class FuseMount {
 public:
  // `flags` come after the ones the fixture sets (--fs, --foreground, --allow_other, logging),
  // so they override them. `mountpoint` must be an existing empty directory.
  static Result<std::unique_ptr<FuseMount>> Start(
      const std::string& uri, const std::string& mountpoint,
      const std::vector<std::string>& flags = {},
      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~FuseMount();

  const std::string& path() const { return mountpoint_; }
  // The daemon's stdout and stderr (its glog output) go here.
  const std::string& log_path() const { return log_path_; }
  // 0 once it has ended.
  pid_t pid() const { return pid_; }
  // The last lines of the daemon's log, for failure messages.
  std::string LogTail(size_t max_bytes = 4000) const;

  // Sends `signal` to the daemon; for SIGKILL also reaps it (the mount stays, dead: every call
  // on it fails with ENOTCONN until Unmount()).
  Status Kill(int signal = 9);
  // Unmounts and waits (up to `timeout`) for the daemon to exit; OK if it exited with status 0,
  // or had already been killed by the test. Idempotent.
  Status Unmount(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Whether /proc/self/mountinfo lists a FUSE mount on path().
  bool Mounted() const;
  // OK while the daemon runs (or was stopped by the test); otherwise how it ended, with its log.
  Status CheckAlive();

 private:
  FuseMount() = default;
  std::string mountpoint_;
  std::string log_path_;
  pid_t pid_ = 0;
  bool killed_by_test_ = false;
};

// Whether /proc/self/mountinfo lists a mount of type fuse or fuse.* on `path`.
bool IsFuseMountpoint(const std::string& path);
// Detaches whatever is mounted on `path` (fusermount3 -u, else umount -l); OK if nothing is.
Status ForceUnmount(const std::string& path);

struct FuseClusterOptions {
  int datanodes = 3;
  int mounts = 1;
  // Daemon flags besides FastFailureFlags-like defaults the fixture sets.
  std::vector<std::string> cluster_flags;
  // talus-fuse flags, for every mount.
  std::vector<std::string> fuse_flags;
  // Block size of the checking client's writes.
  int64_t client_block_size = 1 << 20;
};

// A MiniCluster, `mounts` talus-fuse mounts of it (each on its own directory) and a client
// connected as the OS user (root: the namenode's superuser) to look behind the mounts.
class FuseCluster {
 public:
  static Result<std::unique_ptr<FuseCluster>> Start(const FuseClusterOptions& options = {});
  // Unmounts every mount first, then stops the cluster.
  ~FuseCluster();

  MiniCluster& cluster() { return *cluster_; }
  FileSystem& fs() { return *fs_; }
  FuseMount& mount(int i = 0) { return *mounts_[static_cast<size_t>(i)]; }
  int num_mounts() const { return static_cast<int>(mounts_.size()); }
  // Where mounts live and scratch space outside them.
  const std::string& scratch() const { return scratch_->path(); }
  // Unmounts mount `i` and mounts it again on the same directory with the same flags.
  Status Remount(int i);

 private:
  FuseCluster() = default;
  std::unique_ptr<TempDir> scratch_;
  std::unique_ptr<MiniCluster> cluster_;
  std::unique_ptr<FileSystem> fs_;
  std::vector<std::unique_ptr<FuseMount>> mounts_;
  std::vector<std::string> fuse_flags_;
};

// Runs `/bin/sh -c script` (as root) with `env` added; see RunCommand.
CommandResult Sh(const std::string& script, std::chrono::milliseconds timeout = std::chrono::seconds(60),
                 const std::map<std::string, std::string>& env = {});

// The unprivileged account the permission tests act as (created with useradd if missing).
struct TestUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};
Result<TestUser> EnsureTestUser(const std::string& name = "talusfuse");

// Runs `/bin/sh -c script` as `user` (setpriv --reuid --regid --clear-groups).
CommandResult ShAs(const TestUser& user, const std::string& script,
                   std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Quotes `s` for /bin/sh.
std::string ShellQuote(const std::string& s);

// "exit N; stdout...; stderr..." for assertion messages.
std::string Describe(const CommandResult& r);

}  // namespace talus::test
