#include "cluster/fuse_mount.h"

#include <signal.h>
#include <sys/stat.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <thread>

#include "cluster/files.h"
#include "cluster/process.h"

namespace talus::cluster {

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(20);
constexpr auto kCommandTimeout = std::chrono::seconds(30);
constexpr int kTailLines = 25;

// mountinfo escapes space, tab, newline and backslash as \ooo octal.
std::string UnescapeMountField(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      int value = 0;
      auto [end, ec] = std::from_chars(field.data() + i + 1, field.data() + i + 4, value, 8);
      if (ec == std::errc() && end == field.data() + i + 4) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

bool RunQuietly(const std::string& binary, const std::vector<std::string>& args) {
  SpawnOptions spawn;
  spawn.binary = binary;
  spawn.args = args;
  Result<CapturedRun> run = RunAndCapture(spawn, "", kCommandTimeout);
  return run.ok() && !run->timed_out && run->exit.success();
}

}  // namespace

bool IsTalusMounted(const std::string& mountpoint) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    if (UnescapeMountField(point) != mountpoint) continue;
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream rest(line.substr(dash + 3));
    std::string type;
    rest >> type;
    if (type == "fuse.talus") return true;
  }
  return false;
}

LocalMount::LocalMount(std::string cluster_dir, std::string bin_dir)
    : dir_(std::move(cluster_dir)), bin_dir_(std::move(bin_dir)) {}

Result<LocalMount::Record> LocalMount::Load() const {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(StatePath()));
  Record record;
  const std::string prefix = "mount ";
  if (text.rfind(prefix, 0) != 0) return Status::Corruption(StatePath() + " is not a mount record");
  size_t at = text.find(" mountpoint=");
  if (at == std::string::npos) return Status::Corruption(StatePath() + " names no mountpoint");
  record.mountpoint = text.substr(at + 12);
  while (!record.mountpoint.empty() && record.mountpoint.back() == '\n') {
    record.mountpoint.pop_back();
  }
  std::istringstream fields(text.substr(prefix.size(), at - prefix.size()));
  std::string field;
  while (fields >> field) {
    size_t eq = field.find('=');
    if (eq == std::string::npos) continue;
    std::string name = field.substr(0, eq);
    std::string value = field.substr(eq + 1);
    if (name == "pid") {
      std::from_chars(value.data(), value.data() + value.size(), record.pid);
    } else if (name == "start_time") {
      std::from_chars(value.data(), value.data() + value.size(), record.start_time);
    }
  }
  if (record.pid <= 0 || record.mountpoint.empty()) {
    return Status::Corruption(StatePath() + " holds no valid mount record");
  }
  return record;
}

Status LocalMount::Save(const Record& record) const {
  return WriteFileAtomically(StatePath(), "mount pid=" + std::to_string(record.pid) +
                                              " start_time=" + std::to_string(record.start_time) +
                                              " mountpoint=" + record.mountpoint + "\n");
}

bool LocalMount::IsOurProcess(const Record& record) const {
  Result<ProcessInfo> info = ReadProcessInfo(record.pid);
  if (!info.ok() || info->state == 'Z' || info->state == 'X' || info->argv.empty()) return false;
  if (record.start_time != 0 && info->start_time != record.start_time) return false;
  const std::string& argv0 = info->argv[0];
  size_t slash = argv0.rfind('/');
  return argv0.substr(slash == std::string::npos ? 0 : slash + 1) == "talus-fuse";
}

Status LocalMount::Mount(const std::string& uri, const std::string& mountpoint_arg,
                         std::chrono::milliseconds timeout, const Progress& progress) {
  ASSIGN_OR_RETURN(std::string mountpoint, AbsolutePath(mountpoint_arg));
  Result<Record> existing = Load();
  if (existing.ok() && IsOurProcess(*existing)) {
    if (existing->mountpoint == mountpoint && IsTalusMounted(mountpoint)) {
      if (progress) progress("already mounted on " + mountpoint);
      return Status::OK();
    }
    return Status::AlreadyExists("this cluster is already mounted on " + existing->mountpoint +
                                 " (pid " + std::to_string(existing->pid) +
                                 "); unmount it first with talus cluster down");
  }
  if (IsTalusMounted(mountpoint)) {
    return Status::AlreadyExists(mountpoint + " already holds a Talus mount not started here");
  }
  RETURN_NOT_OK(CreateDirectories(mountpoint));
  RETURN_NOT_OK(CreateDirectories(dir_ + "/logs/fuse"));
  SpawnOptions spawn;
  spawn.binary = bin_dir_ + "/talus-fuse";
  spawn.args = {"--fs=" + uri, "--foreground", "--log_dir=" + dir_ + "/logs/fuse", mountpoint};
  spawn.output_path = OutputPath();
  spawn.new_session = true;
  RETURN_NOT_OK(AppendToFile(OutputPath(), "=== talus cluster: mounting on " + mountpoint + "\n"));
  ASSIGN_OR_RETURN(pid_t pid, Spawn(spawn));
  Record record;
  record.pid = pid;
  Result<ProcessInfo> info = ReadProcessInfo(pid);
  record.start_time = info.ok() ? info->start_time : 0;
  record.mountpoint = mountpoint;
  RETURN_NOT_OK(Save(record));
  if (progress) progress("mounting on " + mountpoint + " (talus-fuse pid " + std::to_string(pid) + ")");
  Clock::time_point deadline = Clock::now() + timeout;
  while (!IsTalusMounted(mountpoint)) {
    Result<std::optional<ExitStatus>> exited = PollChild(pid);
    if (exited.ok() && exited->has_value()) {
      (void)RemoveFileIfExists(StatePath());
      return Status::Unavailable("talus-fuse " + (*exited)->ToString() +
                                 " before mounting; end of " + OutputPath() + ":\n" +
                                 TailOfFile(OutputPath(), kTailLines, "=== talus cluster"));
    }
    if (Clock::now() > deadline) {
      (void)SendSignal(pid, SIGKILL);
      (void)WaitChild(pid, Clock::now() + std::chrono::seconds(5));
      (void)RemoveFileIfExists(StatePath());
      return Status::TimedOut("talus-fuse did not mount " + mountpoint + " in time; end of " +
                              OutputPath() + ":\n" +
                              TailOfFile(OutputPath(), kTailLines, "=== talus cluster"));
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  if (progress) progress("mounted on " + mountpoint);
  return Status::OK();
}

Status LocalMount::Unmount(std::chrono::milliseconds timeout, const Progress& progress) {
  Result<Record> record = Load();
  if (!record.ok()) {
    if (record.status().IsNotFound()) return Status::OK();
    return record.status();
  }
  bool ours = IsOurProcess(*record);
  if (IsTalusMounted(record->mountpoint)) {
    if (!RunQuietly("/usr/bin/fusermount3", {"-u", record->mountpoint}) &&
        !RunQuietly("/bin/umount", {"-l", record->mountpoint})) {
      return Status::IoError("could not unmount " + record->mountpoint +
                             " (fusermount3 -u and umount -l failed)");
    }
    if (progress) progress("unmounted " + record->mountpoint);
  }
  if (ours) {
    // Unmounted, talus-fuse flushes what it holds and exits by itself.
    Clock::time_point deadline = Clock::now() + timeout;
    if (!WaitUntilNotRunning(record->pid, deadline)) {
      (void)SendSignal(record->pid, SIGTERM);
      if (!WaitUntilNotRunning(record->pid, Clock::now() + std::chrono::seconds(5))) {
        (void)SendSignal(record->pid, SIGKILL);
        WaitUntilNotRunning(record->pid, Clock::now() + std::chrono::seconds(5));
      }
    }
    if (progress) progress("talus-fuse (pid " + std::to_string(record->pid) + ") stopped");
  }
  return RemoveFileIfExists(StatePath());
}

std::string LocalMount::StatusLine() const {
  Result<Record> record = Load();
  if (!record.ok()) return "";
  const char* state = IsOurProcess(*record) ? (IsTalusMounted(record->mountpoint) ? "running"
                                                                                    : "unmounted")
                                            : "dead";
  return std::string("mount ") + state + " pid=" + std::to_string(record->pid) +
         " path=" + record->mountpoint;
}

}  // namespace talus::cluster
