#include "test/support/fuse_mount.h"

#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <glog/logging.h>

#include "cluster/process.h"
#include "test/support/replication_util.h"

namespace talus::test {

namespace {

constexpr auto kCommandTimeout = std::chrono::seconds(20);

// Undoes mountinfo's octal escapes (\040 for a space, ...).
std::string UnescapeMountinfo(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const std::string oct = s.substr(i + 1, 3);
      if (oct.find_first_not_of("01234567") == std::string::npos) {
        out.push_back(static_cast<char>(std::stoi(oct, nullptr, 8)));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string Absolute(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

}  // namespace

std::string FuseUnavailableReason() {
  if (::geteuid() != 0) return "FUSE tests need root (they mount and act as other users)";
  if (::access("/dev/fuse", R_OK | W_OK) != 0) return "FUSE tests need /dev/fuse";
  return "";
}

bool IsFuseMountpoint(const std::string& path) {
  const std::string want = Absolute(path);
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
    std::istringstream fields(line);
    std::string id, parent, dev, root, mountpoint;
    fields >> id >> parent >> dev >> root >> mountpoint;
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string type;
    tail >> type;
    if (UnescapeMountinfo(mountpoint) != want) continue;
    if (type == "fuse" || type.rfind("fuse.", 0) == 0) return true;
  }
  return false;
}

Status ForceUnmount(const std::string& path) {
  if (!IsFuseMountpoint(path)) return Status::OK();
  CommandResult r = RunCommand("/usr/bin/fusermount3", {"-u", "-q", path}, {}, "", kCommandTimeout);
  if (!IsFuseMountpoint(path)) return Status::OK();
  // Busy, or a dead daemon's mount that fusermount3 refused: detach it lazily.
  CommandResult lazy = RunCommand("/bin/umount", {"-l", path}, {}, "", kCommandTimeout);
  if (!IsFuseMountpoint(path)) return Status::OK();
  return Status::IoError("cannot unmount " + path + ": fusermount3 -u: " + Describe(r) +
                         "; umount -l: " + Describe(lazy));
}

Result<std::unique_ptr<FuseMount>> FuseMount::Start(const std::string& uri,
                                                    const std::string& mountpoint,
                                                    const std::vector<std::string>& flags,
                                                    std::chrono::milliseconds timeout) {
  const std::string binary = BinDir() + "/talus-fuse";
  if (::access(binary.c_str(), X_OK) != 0) {
    return Status::NotFound("no talus-fuse binary at " + binary);
  }
  std::unique_ptr<FuseMount> mount(new FuseMount());
  mount->mountpoint_ = Absolute(mountpoint);
  mount->log_path_ = mount->mountpoint_ + ".log";
  cluster::SpawnOptions spawn;
  spawn.binary = binary;
  spawn.args = {"--fs=" + uri, "--foreground", "--allow_other", "--logtostderr"};
  spawn.args.insert(spawn.args.end(), flags.begin(), flags.end());
  spawn.args.push_back(mount->mountpoint_);
  // Debugging aid: TALUS_FUSE_GDB=1 runs the daemon under gdb, which prints every thread's
  // stack into the daemon's log if it crashes.
  const char* gdb = std::getenv("TALUS_FUSE_GDB");
  if (gdb != nullptr && std::string(gdb) == "1") {
    std::vector<std::string> args = {"-q", "-batch", "-ex", "set pagination off", "-ex", "run",
                                     "-ex", "thread apply all bt 30", "--args", binary};
    args.insert(args.end(), spawn.args.begin(), spawn.args.end());
    spawn.binary = "/usr/bin/gdb";
    spawn.args = std::move(args);
  }
  spawn.output_path = mount->log_path_;
  spawn.parent_death_signal = SIGKILL;
  ASSIGN_OR_RETURN(mount->pid_, cluster::Spawn(spawn));

  std::optional<cluster::ExitStatus> ended;
  const bool live = WaitFor(
      [&] {
        if (mount->Mounted()) return true;
        Result<std::optional<cluster::ExitStatus>> polled = cluster::PollChild(mount->pid_);
        if (polled.ok() && polled->has_value()) {
          ended = **polled;
          return true;
        }
        return false;
      },
      timeout, std::chrono::milliseconds(10));
  if (ended.has_value()) {
    mount->pid_ = 0;
    return Status::IoError("talus-fuse " + mount->mountpoint_ + " ended before mounting (" +
                           ended->ToString() + "); log:\n" + mount->LogTail());
  }
  if (!live) {
    // Unmount and reap in the destructor.
    const std::string tail = mount->LogTail();
    (void)mount->Kill(SIGKILL);
    return Status::TimedOut("talus-fuse did not mount " + mount->mountpoint_ + " within " +
                            std::to_string(timeout.count()) + " ms; log:\n" + tail);
  }
  // The first call waits for the daemon to answer the kernel's INIT.
  struct stat st;
  if (::stat(mount->mountpoint_.c_str(), &st) != 0) {
    return Status::FromErrno(errno, "stat of the fresh mount " + mount->mountpoint_ +
                                        "; log:\n" + mount->LogTail());
  }
  return mount;
}

FuseMount::~FuseMount() {
  Status s = Unmount();
  if (!s.ok()) LOG(WARNING) << s;
  // Debugging aid: TALUS_FUSE_KEEP_LOGS=DIR keeps every daemon's log there (the test's
  // directory, with the log in it, is removed).
  const char* keep = std::getenv("TALUS_FUSE_KEEP_LOGS");
  if (keep != nullptr && keep[0] != '\0') {
    std::error_code ec;
    std::filesystem::create_directories(keep, ec);
    const std::string name = "talus-fuse." + std::to_string(::getpid()) + "." +
                             std::to_string(reinterpret_cast<uintptr_t>(this)) + ".log";
    std::filesystem::copy_file(log_path_, std::string(keep) + "/" + name,
                               std::filesystem::copy_options::overwrite_existing, ec);
  }
}

bool FuseMount::Mounted() const { return IsFuseMountpoint(mountpoint_); }

Status FuseMount::CheckAlive() {
  if (pid_ == 0) return Status::OK();
  Result<std::optional<cluster::ExitStatus>> polled = cluster::PollChild(pid_);
  if (!polled.ok() || !polled->has_value()) return Status::OK();
  pid_ = 0;
  return Status::IoError("talus-fuse " + mountpoint_ + " died (" + (*polled)->ToString() +
                         "); log:\n" + LogTail());
}

std::string FuseMount::LogTail(size_t max_bytes) const {
  std::ifstream in(log_path_, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() <= max_bytes ? all : "..." + all.substr(all.size() - max_bytes);
}

Status FuseMount::Kill(int signal) {
  if (pid_ == 0) return Status::OK();
  RETURN_NOT_OK(cluster::SendSignal(pid_, signal));
  if (signal != SIGKILL && signal != SIGTERM) return Status::OK();
  killed_by_test_ = true;
  Result<cluster::ExitStatus> exit =
      cluster::WaitChild(pid_, cluster::Clock::now() + std::chrono::seconds(30));
  if (!exit.ok()) return exit.status().Prepend("waiting for talus-fuse to die");
  pid_ = 0;
  return Status::OK();
}

Status FuseMount::Unmount(std::chrono::milliseconds timeout) {
  Status unmounted = ForceUnmount(mountpoint_);
  if (pid_ == 0) return unmounted;
  Result<cluster::ExitStatus> exit = cluster::WaitChild(pid_, cluster::Clock::now() + timeout);
  if (!exit.ok()) {
    // Still running after its mount is gone: a hang. Kill it so the test can go on.
    (void)cluster::SendSignal(pid_, SIGKILL);
    (void)cluster::WaitChild(pid_, cluster::Clock::now() + std::chrono::seconds(30));
    pid_ = 0;
    return Status::TimedOut("talus-fuse " + mountpoint_ + " did not exit within " +
                            std::to_string(timeout.count()) + " ms of the unmount (" +
                            unmounted.ToString() + "); log:\n" + LogTail());
  }
  pid_ = 0;
  if (!unmounted.ok()) return unmounted;
  if (!exit->success() && !killed_by_test_) {
    return Status::IoError("talus-fuse " + mountpoint_ + " exited with " + exit->ToString() +
                           " after the unmount; log:\n" + LogTail());
  }
  return Status::OK();
}

Result<std::unique_ptr<FuseCluster>> FuseCluster::Start(const FuseClusterOptions& options) {
  std::unique_ptr<FuseCluster> fc(new FuseCluster());
  fc->scratch_ = std::make_unique<TempDir>();
  // mkdtemp makes it 0700; the permission tests' unprivileged user must reach the mounts in it.
  if (::chmod(fc->scratch().c_str(), 0755) != 0) {
    return Status::FromErrno(errno, "chmod " + fc->scratch());
  }
  MiniClusterOptions mini;
  mini.datanodes = options.datanodes;
  mini.extra_flags = FastFailureFlags();
  mini.extra_flags.insert(mini.extra_flags.end(), options.cluster_flags.begin(),
                          options.cluster_flags.end());
  ASSIGN_OR_RETURN(fc->cluster_, MiniCluster::Start(mini));
  ClientOptions client;
  client.default_block_size = options.client_block_size;
  ASSIGN_OR_RETURN(fc->fs_, FileSystem::Connect(fc->cluster_->uri(), client));
  fc->fuse_flags_ = options.fuse_flags;
  for (int i = 0; i < options.mounts; ++i) {
    const std::string dir = fc->scratch() + "/mnt" + std::to_string(i);
    std::filesystem::create_directories(dir);
    ASSIGN_OR_RETURN(auto mount, FuseMount::Start(fc->cluster_->uri(), dir, fc->fuse_flags_));
    fc->mounts_.push_back(std::move(mount));
  }
  return fc;
}

FuseCluster::~FuseCluster() {
  mounts_.clear();
  fs_.reset();
  cluster_.reset();
}

Status FuseCluster::Remount(int i) {
  auto& slot = mounts_[static_cast<size_t>(i)];
  const std::string dir = slot->path();
  Status s = slot->Unmount();
  slot.reset();
  ASSIGN_OR_RETURN(slot, FuseMount::Start(cluster_->uri(), dir, fuse_flags_));
  return s;
}

CommandResult Sh(const std::string& script, std::chrono::milliseconds timeout,
                 const std::map<std::string, std::string>& env) {
  return RunCommand("/bin/sh", {"-c", script}, env, "", timeout);
}

Result<TestUser> EnsureTestUser(const std::string& name) {
  if (::getpwnam(name.c_str()) == nullptr) {
    // Another test binary may create it at the same time; only the result counts.
    CommandResult r = RunCommand("/usr/sbin/useradd",
                                 {"--system", "--user-group", "--no-create-home", "--shell",
                                  "/bin/sh", name},
                                 {}, "", kCommandTimeout);
    if (::getpwnam(name.c_str()) == nullptr) {
      return Status::IoError("cannot create the test user " + name + ": " + Describe(r));
    }
  }
  passwd* pw = ::getpwnam(name.c_str());
  TestUser user;
  user.name = name;
  user.uid = pw->pw_uid;
  user.gid = pw->pw_gid;
  return user;
}

CommandResult ShAs(const TestUser& user, const std::string& script,
                   std::chrono::milliseconds timeout) {
  return RunCommand("/usr/bin/setpriv",
                    {"--reuid=" + std::to_string(user.uid), "--regid=" + std::to_string(user.gid),
                     "--clear-groups", "--", "/bin/sh", "-c", script},
                    {{"HOME", "/tmp"}, {"USER", user.name}, {"LOGNAME", user.name}}, "", timeout);
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

std::string Describe(const CommandResult& r) {
  auto cut = [](const std::string& s) {
    return s.size() <= 3000 ? s : s.substr(0, 1500) + "\n...\n" + s.substr(s.size() - 1500);
  };
  return "exit " + std::to_string(r.exit_code) + "; stdout: " + cut(r.out) +
         "; stderr: " + cut(r.err);
}

}  // namespace talus::test
