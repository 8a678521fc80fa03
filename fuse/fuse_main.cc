// talus-fuse: mounts a Talus file system with FUSE. See docs/fuse.md.
//
//   talus-fuse [--fs=talus://HOST:PORT] [flags] MOUNTPOINT
//
// Runs until the file system is unmounted (fusermount3 -u MOUNTPOINT, or umount as root) or it
// receives SIGTERM, SIGINT or SIGHUP (it then unmounts itself), and exits 0.
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "fuse/fuse_ops.h"
#include "fuse/mount_options.h"
#include "fuse/talus_fuse.h"

namespace {

constexpr char kUsage[] =
    "Mounts a Talus file system.\n"
    "Usage: talus-fuse [--fs=talus://HOST:PORT] [--foreground] [--allow_other]\n"
    "                  [--attr_timeout_ms=1000] [--entry_timeout_ms=1000]\n"
    "                  [--negative_timeout_ms=0] [--writeback_cache=true]\n"
    "                  [--max_write_bytes=1048576] [--max_threads=8] MOUNTPOINT\n"
    "Unmount with: fusermount3 -u MOUNTPOINT";

int Fail(const std::string& message) {
  std::fprintf(stderr, "talus-fuse: %s\n", message.c_str());
  return 1;
}

// Checks that the cluster answers before anything is mounted, so a wrong --fs is an error on
// the command line instead of a mount whose every call fails. Uses a client of its own that is
// gone before the process daemonizes (a fork keeps no threads).
talus::Status CheckCluster(const std::string& uri) {
  talus::ClientOptions options;
  options.retry_deadline_ms = 15000;
  ASSIGN_OR_RETURN(std::unique_ptr<talus::FileSystem> fs, talus::FileSystem::Connect(uri, options));
  talus::Result<talus::FileInfo> root = fs->GetFileInfo(talus::fuse::TalusFuse::InodePath(1));
  if (!root.ok()) return root.status().Prepend("cannot reach " + uri);
  return talus::Status::OK();
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(kUsage);
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  std::vector<std::string> positional(argv + 1, argv + argc);
  talus::Result<talus::fuse::MountOptions> options =
      talus::fuse::MountOptionsFromFlags(positional);
  if (!options.ok()) {
    return Fail(options.status().message() + "\n" + kUsage);
  }
  if (options->foreground && FLAGS_log_dir.empty()) FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);

  talus::Status reachable = CheckCluster(options->uri);
  if (!reachable.ok()) return Fail(reachable.ToString());

  talus::fuse::TalusFuse fs(*options);
  std::vector<std::string> arg_strings = talus::fuse::FuseSessionArgs(*options);
  std::vector<char*> fuse_argv;
  for (std::string& a : arg_strings) fuse_argv.push_back(a.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(fuse_argv.size()), fuse_argv.data());
  const fuse_lowlevel_ops& ops = talus::fuse::TalusFuseOps();
  fuse_session* session = fuse_session_new(&args, &ops, sizeof(ops), &fs);
  if (session == nullptr) return Fail("could not create the FUSE session");
  fs.set_session(session);
  int result = 1;
  if (fuse_set_signal_handlers(session) != 0) {
    fuse_session_destroy(session);
    return Fail("could not install signal handlers");
  }
  if (fuse_session_mount(session, options->mountpoint.c_str()) != 0) {
    fuse_remove_signal_handlers(session);
    fuse_session_destroy(session);
    return Fail("could not mount on " + options->mountpoint +
                " (is /dev/fuse usable, and the mount point an empty directory?)");
  }
  LOG(INFO) << "mounted " << options->uri << " on " << options->mountpoint;
  fuse_daemonize(options->foreground ? 1 : 0);

  fuse_loop_config* loop = fuse_loop_cfg_create();
  fuse_loop_cfg_set_max_threads(loop, options->max_threads);
  fuse_loop_cfg_set_idle_threads(loop, options->max_threads);
  fuse_loop_cfg_set_clone_fd(loop, 0);
  int loop_result = fuse_session_loop_mt(session, loop);
  fuse_loop_cfg_destroy(loop);
  // A signal ends the loop with the signal's number: that is a requested, clean unmount.
  result = (loop_result == 0 || loop_result == SIGTERM || loop_result == SIGINT ||
            loop_result == SIGHUP)
               ? 0
               : 1;
  if (result != 0) LOG(ERROR) << "session loop ended with " << loop_result;
  fuse_session_unmount(session);
  fuse_remove_signal_handlers(session);
  fuse_session_destroy(session);
  LOG(INFO) << "unmounted " << options->mountpoint;
  return result;
}
