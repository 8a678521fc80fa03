#include "cluster/local_cluster.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <random>
#include <thread>

#include "cluster/files.h"
#include "cluster/net_probe.h"
#include "cluster/process.h"
#include "client/shell/journal_status.h"

namespace talus::cluster {

namespace {

// What the launcher knows about each kind of daemon. A daemon listens on one port per entry
// of `ports` (flag --NAME_port) and writes one "host:port" line per entry, in this order, to
// its --address_file once it serves.
struct RoleSpec {
  const char* role;
  const char* binary;
  std::vector<std::string> ports;
};

const std::vector<RoleSpec>& Roles() {
  static const auto* roles = new std::vector<RoleSpec>{
      {kNamenodeRole, "talus-namenode", {"rpc", "service_rpc", "http"}},
      {kDatanodeRole, "talus-datanode", {"rpc", "data", "http"}},
  };
  return *roles;
}

const RoleSpec* FindRole(const std::string& role) {
  for (const auto& spec : Roles()) {
    if (spec.role == role) return &spec;
  }
  return nullptr;
}

// The daemons always listen on loopback: a local cluster is not meant to be reachable from
// other hosts.
constexpr char kLoopback[] = "127.0.0.1";
// Starts every block a daemon's .out file gets per start, so a failure shows only its own run.
constexpr char kStartMarker[] = "=== talus cluster: starting ";
constexpr int kTailLines = 25;
constexpr auto kPollInterval = std::chrono::milliseconds(10);
constexpr auto kConnectTimeout = std::chrono::milliseconds(1000);
constexpr auto kKillTimeout = std::chrono::seconds(10);
// The port of a namenode's Raft transport in a group (not one of RoleSpec::ports: the daemon
// does not write it to its address file, the launcher chooses it).
constexpr char kRaftPort[] = "raft";
// How long one namenode may take to answer getJournalStatus while the launcher waits for a
// leader (they are asked together, and again until the start timeout).
constexpr auto kJournalProbeTimeout = std::chrono::milliseconds(1000);
constexpr auto kLeaderPollInterval = std::chrono::milliseconds(100);

// Flags the launcher sets itself; a daemon flag after `--` may not override them, or the
// launcher would lose track of the directories and ports it records.
const std::set<std::string>& ReservedFlags() {
  static const auto* reserved = new std::set<std::string>{
      "dir",          "rpc_host", "rpc_port", "service_rpc_port", "data_port", "http_port",
      "address_file", "log_dir",  "namenodes", "data_dirs", "namenode_id", "raft_peers",
      "cluster_id"};
  return *reserved;
}

// "--name=value", "-name", "--noname" -> "name", "name", "noname"; empty if not a flag.
std::string FlagName(const std::string& flag) {
  if (flag.size() < 2 || flag[0] != '-') return "";
  size_t start = flag[1] == '-' ? 2 : 1;
  std::string name = flag.substr(start, flag.find('=') - start);
  if (name.empty() || name.find_first_of(" \t\n-") == 0) return "";
  return name;
}

// False also when `dir` is not a directory or cannot be read.
bool IsDirectoryEmptyOrAbsent(const std::string& dir, bool* absent) {
  DIR* d = ::opendir(dir.c_str());
  *absent = d == nullptr && errno == ENOENT;
  if (d == nullptr) return *absent;
  bool empty = true;
  while (struct dirent* entry = ::readdir(d)) {
    std::string name = entry->d_name;
    // A lock file alone is what an interrupted first `up` leaves behind.
    if (name != "." && name != ".." && name != "cluster.lock") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}

std::string NewClusterId() {
  std::random_device random;
  char id[33];
  for (int i = 0; i < 4; ++i) std::snprintf(id + 8 * i, 9, "%08x", random());
  return id;
}

std::string Now() {
  std::time_t t = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return buffer;
}

std::string Plural(int n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

const char* DaemonStateName(DaemonState state) {
  switch (state) {
    case DaemonState::kRunning:
      return "running";
    case DaemonState::kDead:
      return "dead";
    case DaemonState::kStopped:
      return "stopped";
  }
  return "unknown";
}

LocalCluster::LocalCluster(LocalClusterOptions options) : options_(std::move(options)) {}

LocalCluster::~LocalCluster() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::unique_ptr<LocalCluster>> LocalCluster::Open(LocalClusterOptions options) {
  ASSIGN_OR_RETURN(options.dir, AbsolutePath(options.dir));
  std::error_code ec;
  if (std::filesystem::exists(options.dir, ec) && !std::filesystem::is_directory(options.dir, ec)) {
    return Status::NotADirectory(options.dir + " is not a directory");
  }
  if (options.bin_dir.empty()) return Status::InvalidArgument("no directory of binaries given");
  for (const auto& flag : options.extra_flags) {
    std::string name = FlagName(flag);
    if (name.empty()) {
      return Status::InvalidArgument("daemon flag '" + flag + "' is not of the form --name=value");
    }
    if (ReservedFlags().count(name) > 0) {
      return Status::InvalidArgument("daemon flag --" + name +
                                     " is set by the launcher and cannot be overridden");
    }
  }
  if (options.namenodes == 0 || options.namenodes < -1) {
    return Status::InvalidArgument("a cluster needs at least one namenode");
  }
  if (options.namenodes > 0 && !IsValidNamenodeCount(options.namenodes)) {
    return Status::InvalidArgument(
        "--namenodes must be 1, 3 or 5, got " + std::to_string(options.namenodes) +
        (options.namenodes % 2 == 0
             ? ": a group of namenodes needs an odd count (the Raft journal needs a majority, "
               "and an even group survives no more failures than one namenode fewer)"
             : ""));
  }
  if (options.datanodes < -1) return Status::InvalidArgument("--datanodes cannot be negative");

  std::unique_ptr<LocalCluster> cluster(new LocalCluster(std::move(options)));
  LocalClusterOptions& opts = cluster->options_;
  Result<ClusterState> loaded = LoadClusterState(cluster->StatePath());
  if (loaded.ok()) {
    cluster->state_ = std::move(loaded).value();
    int namenodes = cluster->state_.CountRole(kNamenodeRole);
    int datanodes = cluster->state_.CountRole(kDatanodeRole);
    // More datanodes may join a cluster (each starts empty); none is ever dropped, since its
    // replicas would go with it.
    if ((opts.namenodes >= 0 && opts.namenodes != namenodes) ||
        (opts.datanodes >= 0 && opts.datanodes < datanodes)) {
      return Status::InvalidArgument(
          opts.dir + " holds a cluster of " + Plural(namenodes, "namenode") + " and " +
          Plural(datanodes, "datanode") +
          "; it cannot be restarted with a different count (datanodes may only be added)");
    }
    for (const auto& d : cluster->state_.daemons) {
      if (FindRole(d.role) == nullptr) {
        return Status::Corruption(cluster->StatePath() + " names an unknown role '" + d.role + "'");
      }
    }
    for (int i = datanodes; i < opts.datanodes; ++i) cluster->AddRecord(kDatanodeRole);
  } else if (loaded.status().IsNotFound()) {
    bool absent = false;
    if (!IsDirectoryEmptyOrAbsent(opts.dir, &absent)) {
      return Status::InvalidArgument(opts.dir +
                                     " is not empty and holds no Talus cluster (no "
                                     "cluster.state); choose a new or empty directory");
    }
    int namenodes = opts.namenodes < 0 ? 1 : opts.namenodes;
    int datanodes = opts.datanodes < 0 ? kDefaultDatanodes : opts.datanodes;
    cluster->state_.cluster_id = NewClusterId();
    for (int i = 0; i < namenodes; ++i) cluster->AddRecord(kNamenodeRole);
    for (int i = 0; i < datanodes; ++i) cluster->AddRecord(kDatanodeRole);
  } else {
    return loaded.status();
  }

  // Check the binaries now, before anything starts, for a clear message.
  for (size_t i = 0; i < cluster->state_.daemons.size(); ++i) {
    std::string binary = cluster->BinaryPath(i);
    if (::access(binary.c_str(), X_OK) != 0) {
      return Status::NotFound(binary +
                              " is missing or not executable (build it first: scripts/build.sh)");
    }
  }
  return cluster;
}

Result<std::unique_ptr<LocalCluster>> LocalCluster::OpenExisting(LocalClusterOptions options) {
  ASSIGN_OR_RETURN(std::string dir, AbsolutePath(options.dir));
  if (::access((dir + "/cluster.state").c_str(), F_OK) != 0) {
    return Status::NotFound("no cluster in " + dir +
                            " (no cluster.state); start one with "
                            "`talus cluster up --dir " +
                            dir + "`");
  }
  return Open(std::move(options));
}

Status LocalCluster::LockDirectory() {
  if (lock_fd_ >= 0) return Status::OK();
  RETURN_NOT_OK(CreateDirectories(options_.dir));
  std::string path = options_.dir + "/cluster.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, "open " + path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::Busy("another `talus cluster` command is working on " + options_.dir);
    }
    return Status::FromErrno(err, "lock " + path);
  }
  lock_fd_ = fd;
  return Status::OK();
}

std::string LocalCluster::StatePath() const { return options_.dir + "/cluster.state"; }
std::string LocalCluster::EnvPath() const { return options_.dir + "/cluster.env"; }
std::string LocalCluster::OutputPath(size_t i) const {
  return options_.dir + "/logs/" + state_.daemons[i].Name() + ".out";
}
std::string LocalCluster::LogDir(size_t i) const {
  return options_.dir + "/logs/" + state_.daemons[i].Name();
}
std::string LocalCluster::AddressFile(size_t i) const {
  return options_.dir + "/run/" + state_.daemons[i].Name() + ".address";
}
std::string LocalCluster::BinaryPath(size_t i) const {
  return options_.bin_dir + "/" + FindRole(state_.daemons[i].role)->binary;
}

Status LocalCluster::Save() const { return SaveClusterState(StatePath(), state_); }

Status LocalCluster::WriteEnvFile() const {
  std::string env = "TALUS_FS=" + FileSystemUri() + "\n";
  const std::string web = WebUrl();
  if (!web.empty()) env += "TALUS_WEB=" + web + "\n";
  return WriteFileAtomically(EnvPath(), env);
}

bool IsValidNamenodeCount(int n) { return n == 1 || n == 3 || n == 5; }

void LocalCluster::AddRecord(const std::string& role) {
  DaemonRecord d;
  d.role = role;
  d.index = state_.CountRole(role);
  for (const auto& port : FindRole(role)->ports) d.ports[port] = 0;
  if (role == kNamenodeRole && options_.namenodes > 1) d.ports[kRaftPort] = 0;
  d.data_dir = options_.dir + "/" + d.Name();
  state_.daemons.push_back(std::move(d));
}

Result<size_t> LocalCluster::AddDaemon(const std::string& role, const Progress& progress) {
  if (role != kDatanodeRole) {
    return Status::NotSupported("only datanodes can be added to a running cluster");
  }
  std::string binary = options_.bin_dir + "/" + FindRole(role)->binary;
  if (::access(binary.c_str(), X_OK) != 0) {
    return Status::NotFound(binary + " is missing or not executable");
  }
  AddRecord(role);
  size_t i = state_.daemons.size() - 1;
  RETURN_NOT_OK(Save());
  RETURN_NOT_OK(StartDaemon(i, progress));
  return i;
}

int LocalCluster::Find(const std::string& role, int index) const {
  for (size_t i = 0; i < state_.daemons.size(); ++i) {
    if (state_.daemons[i].role == role && state_.daemons[i].index == index) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

std::string LocalCluster::Address(size_t i, const std::string& port_name) const {
  const auto& ports = state_.daemons[i].ports;
  auto it = ports.find(port_name);
  if (it == ports.end() || it->second == 0) return "";
  return std::string(kLoopback) + ":" + std::to_string(it->second);
}

std::string LocalCluster::WebUrl() const {
  int first = Find(kNamenodeRole, 0);
  if (first < 0) return "";
  std::string address = Address(first, "http");
  return address.empty() ? "" : "http://" + address;
}

std::string LocalCluster::FileSystemUri() const {
  std::string uri = "talus://";
  bool first = true;
  for (size_t i = 0; i < state_.daemons.size(); ++i) {
    if (state_.daemons[i].role != kNamenodeRole) continue;
    uri += (first ? "" : ",") + Address(i);
    first = false;
  }
  return uri;
}

Result<std::vector<std::string>> LocalCluster::DaemonArgs(size_t i) const {
  const DaemonRecord& d = state_.daemons[i];
  const RoleSpec* spec = FindRole(d.role);
  std::vector<std::string> args;
  if (!options_.conf_dir.empty()) {
    std::string flagfile = options_.conf_dir + "/" + d.role + ".flags";
    if (::access(flagfile.c_str(), R_OK) == 0) args.push_back("--flagfile=" + flagfile);
  }
  args.push_back("--dir=" + d.data_dir);
  args.push_back(std::string("--rpc_host=") + kLoopback);
  for (const auto& port : spec->ports) {
    auto it = d.ports.find(port);
    int number = it == d.ports.end() ? 0 : it->second;
    // Nothing outside the cluster records a datanode's ports (they register them), so one
    // whose old port was taken meanwhile starts on a fresh one instead of failing.
    if (d.role == kDatanodeRole && number != 0 && !PortIsFree(kLoopback, number)) number = 0;
    args.push_back("--" + port + "_port=" + std::to_string(number));
  }
  args.push_back("--address_file=" + AddressFile(i));
  args.push_back("--log_dir=" + LogDir(i));
  if (d.role == kNamenodeRole && IsNamenodeGroup()) {
    // Ids are 1-based; every member gets the same list, itself included.
    args.push_back("--namenode_id=" + std::to_string(d.index + 1));
    std::string peers;
    for (size_t j = 0; j < state_.daemons.size(); ++j) {
      const DaemonRecord& n = state_.daemons[j];
      if (n.role != kNamenodeRole) continue;
      std::string address = Address(j, kRaftPort);
      if (address.empty()) {
        return Status::Internal("namenode " + std::to_string(n.index) + " has no Raft port");
      }
      peers += (peers.empty() ? "" : ",") + std::to_string(n.index + 1) + "=" + address;
    }
    args.push_back("--raft_peers=" + peers);
    // Every member formats the same namespace: the group's id is the cluster directory's.
    args.push_back("--cluster_id=CID-" + state_.cluster_id);
  }
  if (d.role == kDatanodeRole) {
    // Datanodes talk to the namenodes' service port, apart from clients'.
    args.push_back("--data_dirs=" + d.data_dir + "/data");
    std::string namenodes;
    for (size_t j = 0; j < state_.daemons.size(); ++j) {
      if (state_.daemons[j].role != kNamenodeRole) continue;
      std::string address = Address(j, "service_rpc");
      if (address.empty()) {
        return Status::Internal("datanode started before namenode " +
                                std::to_string(state_.daemons[j].index) + " has a port");
      }
      namenodes += (namenodes.empty() ? "" : ",") + address;
    }
    args.push_back("--namenodes=" + namenodes);
  }
  // The daemon flags go last so they override the flag file. Their names go in --undefok so a
  // flag only some kinds of daemon define is ignored by the others instead of aborting them.
  std::vector<std::string> undefok;
  for (const auto& flag : options_.extra_flags) {
    std::string name = FlagName(flag);
    if (name == "undefok") {
      // Merge a user's --undefok=a,b into ours, which would otherwise replace it.
      std::string list =
          flag.substr(flag.find('=') == std::string::npos ? flag.size() : flag.find('=') + 1);
      if (!list.empty()) undefok.push_back(list);
      continue;
    }
    args.push_back(flag);
    if (std::find(undefok.begin(), undefok.end(), name) == undefok.end()) undefok.push_back(name);
  }
  if (!undefok.empty()) {
    std::string joined;
    for (const auto& name : undefok) joined += (joined.empty() ? "" : ",") + name;
    args.push_back("--undefok=" + joined);
  }
  return args;
}

bool LocalCluster::IsOurProcess(const DaemonRecord& record) const {
  if (record.pid <= 0) return false;
  Result<ProcessInfo> info = ReadProcessInfo(record.pid);
  if (!info.ok() || info->state == 'Z' || info->state == 'X' || info->argv.empty()) return false;
  if (record.start_time != 0 && info->start_time != record.start_time) return false;
  const RoleSpec* spec = FindRole(record.role);
  auto is_binary = [&](const std::string& arg) {
    size_t slash = arg.rfind('/');
    return spec != nullptr &&
           arg.substr(slash == std::string::npos ? 0 : slash + 1) == spec->binary;
  };
  // argv[1] too: a daemon started through an interpreter or a wrapper script runs as "sh PATH".
  if (!is_binary(info->argv[0]) && !(info->argv.size() > 1 && is_binary(info->argv[1]))) {
    return false;
  }
  std::string dir_flag = "--dir=" + record.data_dir;
  return std::find(info->argv.begin(), info->argv.end(), dir_flag) != info->argv.end();
}

DaemonState LocalCluster::GetDaemonState(size_t i) const {
  const DaemonRecord& d = state_.daemons[i];
  if (d.pid == 0) return DaemonState::kStopped;
  return IsOurProcess(d) ? DaemonState::kRunning : DaemonState::kDead;
}

bool LocalCluster::AllRunning() const {
  for (size_t i = 0; i < state_.daemons.size(); ++i) {
    if (GetDaemonState(i) != DaemonState::kRunning) return false;
  }
  return true;
}

std::string LocalCluster::ReapIfExited(size_t i) {
  pid_t pid = state_.daemons[i].pid;
  if (children_.count(pid) > 0) {
    Result<std::optional<ExitStatus>> exit = PollChild(pid);
    if (!exit.ok()) {
      children_.erase(pid);
      return "exited";
    }
    if (!exit->has_value()) return "";
    children_.erase(pid);
    return "exited (" + (*exit)->ToString() + ")";
  }
  return IsOurProcess(state_.daemons[i]) ? "" : "exited";
}

std::string LocalCluster::DescribeFailure(size_t i, const std::string& what) const {
  const DaemonRecord& d = state_.daemons[i];
  std::string message =
      d.role + " " + std::to_string(d.index) + " (pid " + std::to_string(d.pid) + ") " + what + ".";
  std::string out_tail = TailOfFile(OutputPath(i), kTailLines, kStartMarker);
  message +=
      "\nLast lines of " + OutputPath(i) + ":\n" + (out_tail.empty() ? "  (empty)\n" : out_tail);
  // glog names its files PROGRAM.HOST.USER.log.SEVERITY.DATE.PID and points PROGRAM.INFO at the
  // newest; show it only if it is this run's, not one left by an earlier start.
  std::string info_link = LogDir(i) + "/" + FindRole(d.role)->binary + ".INFO";
  char target[4096];
  ssize_t n = ::readlink(info_link.c_str(), target, sizeof(target) - 1);
  if (n > 0) {
    std::string name(target, static_cast<size_t>(n));
    std::string suffix = "." + std::to_string(d.pid);
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      std::string log_tail = TailOfFile(info_link, kTailLines);
      if (!log_tail.empty()) message += "Last lines of " + info_link + ":\n" + log_tail;
    }
  }
  if (!message.empty() && message.back() == '\n') message.pop_back();
  return message;
}

bool LocalCluster::IsNamenodeGroup() const { return state_.CountRole(kNamenodeRole) > 1; }

Status LocalCluster::AssignNamenodePorts() {
  if (!IsNamenodeGroup()) return Status::OK();
  std::vector<int*> unassigned;
  for (auto& d : state_.daemons) {
    if (d.role != kNamenodeRole) continue;
    d.ports.emplace(kRaftPort, 0);
    for (auto& [name, port] : d.ports) {
      if (port == 0) unassigned.push_back(&port);
    }
  }
  if (unassigned.empty()) return Status::OK();
  ASSIGN_OR_RETURN(std::vector<int> ports,
                   PickFreePorts(kLoopback, static_cast<int>(unassigned.size())));
  for (size_t k = 0; k < unassigned.size(); ++k) *unassigned[k] = ports[k];
  return Save();
}

std::vector<shell::NamenodeJournal> LocalCluster::NamenodeJournals(
    std::chrono::milliseconds timeout) const {
  std::vector<std::string> addresses;
  std::vector<size_t> asked;  // positions in `answers` of the namenodes asked
  std::vector<shell::NamenodeJournal> answers;
  for (size_t i = 0; i < state_.daemons.size(); ++i) {
    if (state_.daemons[i].role != kNamenodeRole) continue;
    shell::NamenodeJournal answer;
    answer.address = Address(i);
    if (answer.address.empty()) {
      answer.status = Status::Unavailable("never started");
    } else if (GetDaemonState(i) != DaemonState::kRunning) {
      answer.status = Status::Unavailable(std::string("not running (") +
                                          DaemonStateName(GetDaemonState(i)) + ")");
    } else {
      asked.push_back(answers.size());
      addresses.push_back(answer.address);
    }
    answers.push_back(std::move(answer));
  }
  std::vector<shell::NamenodeJournal> got = shell::FetchGroupJournal(addresses, "", timeout);
  for (size_t k = 0; k < asked.size(); ++k) answers[asked[k]] = std::move(got[k]);
  return answers;
}

Result<int> LocalCluster::WaitForLeader(Clock::time_point deadline) const {
  std::vector<shell::NamenodeJournal> answers;
  Status serving = Status::Unavailable("no leader");
  while (true) {
    answers = NamenodeJournals(kJournalProbeTimeout);
    int leader = shell::FindLeader(answers);
    // Elected is not enough: a new leader refuses calls until it has caught up.
    if (leader >= 0) {
      serving = shell::PingNamenode(answers[static_cast<size_t>(leader)].address, "",
                                    kJournalProbeTimeout);
      if (serving.ok()) return leader;
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kLeaderPollInterval);
  }
  std::string message = "no namenode became the leader in time; as each namenode sees it:";
  for (size_t k = 0; k < answers.size(); ++k) {
    const shell::NamenodeJournal& a = answers[k];
    message += "\n  namenode " + std::to_string(k) + " " + a.address + ": ";
    if (!a.status.ok()) {
      message += a.status.message();
    } else {
      message += a.view.role + ", term " + std::to_string(a.view.term) +
                 (a.view.leader_id == 0 ? ", no leader known"
                                        : ", leader id " + std::to_string(a.view.leader_id));
    }
  }
  if (shell::FindLeader(answers) >= 0) {
    message += "\nThe leader does not serve client calls yet: " + serving.message();
  }
  message += "\nLogs in " + options_.dir + "/logs";
  return Status::TimedOut(message);
}

Status LocalCluster::Spawn(size_t i, const Progress& progress) {
  DaemonRecord& d = state_.daemons[i];
  // Every member of a namenode group must know all the others' Raft ports before any starts.
  if (d.role == kNamenodeRole) RETURN_NOT_OK(AssignNamenodePorts());
  RETURN_NOT_OK(CreateDirectories(LogDir(i)));
  RETURN_NOT_OK(CreateDirectories(options_.dir + "/run"));
  // A stale address file from the previous run would make a dead daemon look ready.
  RETURN_NOT_OK(RemoveFileIfExists(AddressFile(i)));
  ASSIGN_OR_RETURN(std::vector<std::string> args, DaemonArgs(i));

  std::string command = BinaryPath(i);
  for (const auto& arg : args) command += " " + arg;
  RETURN_NOT_OK(AppendToFile(OutputPath(i), std::string(kStartMarker) + d.role + " " +
                                                std::to_string(d.index) + " at " + Now() + ": " +
                                                command + "\n"));
  SpawnOptions spawn;
  spawn.binary = BinaryPath(i);
  spawn.args = std::move(args);
  spawn.output_path = OutputPath(i);
  spawn.new_session = options_.detach;
  spawn.parent_death_signal = options_.parent_death_signal;
  Result<pid_t> pid = cluster::Spawn(spawn);
  if (!pid.ok()) return pid.status().Prepend("starting " + d.Name());
  d.pid = *pid;
  children_.insert(*pid);
  Result<ProcessInfo> info = ReadProcessInfo(*pid);
  d.start_time = info.ok() ? info->start_time : 0;
  if (progress) {
    progress("starting " + d.role + " " + std::to_string(d.index) + " (pid " +
             std::to_string(d.pid) + ")");
  }
  // Recorded before waiting, so an interrupted `up` still leaves `down` able to stop it.
  return Save();
}

Status LocalCluster::WaitUntilServing(size_t i, Clock::time_point deadline) {
  DaemonRecord& d = state_.daemons[i];
  const RoleSpec* spec = FindRole(d.role);
  while (true) {
    std::string exited = ReapIfExited(i);
    if (!exited.empty()) {
      return Status::Unavailable(DescribeFailure(i, exited + " before it answered"));
    }
    Result<std::vector<HostPort>> addresses = ReadAddressFile(AddressFile(i));
    if (addresses.ok()) {
      if (addresses->size() < spec->ports.size()) {
        return Status::Corruption(DescribeFailure(
            i, "wrote " + std::to_string(addresses->size()) + " address(es) to " + AddressFile(i) +
                   ", expected " + std::to_string(spec->ports.size())));
      }
      bool all = true;
      for (auto& address : *addresses) {
        if (address.host == "0.0.0.0") address.host = kLoopback;
        all = all && TcpConnects(address, kConnectTimeout);
      }
      if (all) {
        for (size_t p = 0; p < spec->ports.size(); ++p) {
          d.ports[spec->ports[p]] = (*addresses)[p].port;
        }
        return Save();
      }
    } else if (!addresses.status().IsNotFound()) {
      return Status::Corruption(
          DescribeFailure(i, "wrote a bad address file: " + addresses.status().message()));
    }
    if (Clock::now() >= deadline) {
      auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options_.start_timeout);
      std::string message = DescribeFailure(
          i, "did not answer within " + std::to_string(seconds.count()) + " s; killed it");
      (void)SignalDaemon(i, SIGKILL, kKillTimeout);
      return Status::TimedOut(message);
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

Status LocalCluster::StartDaemon(size_t i, const Progress& progress) {
  if (i >= state_.daemons.size()) return Status::InvalidArgument("no such daemon");
  if (GetDaemonState(i) == DaemonState::kRunning) return Status::OK();
  RETURN_NOT_OK(Spawn(i, progress));
  Status s = WaitUntilServing(i, Clock::now() + options_.start_timeout);
  if (s.ok()) s = WriteEnvFile();
  return s;
}

Status LocalCluster::StartAll(const Progress& progress) {
  RETURN_NOT_OK(CreateDirectories(options_.dir));
  RETURN_NOT_OK(Save());  // first, so that whatever happens next this directory is ours
  std::vector<size_t> started;
  Status failure;
  for (const auto& spec : Roles()) {
    // Spawn every daemon of a role, then wait for them all: they start in parallel.
    std::vector<size_t> spawned;
    for (size_t i = 0; i < state_.daemons.size() && failure.ok(); ++i) {
      if (state_.daemons[i].role != spec.role || GetDaemonState(i) == DaemonState::kRunning) {
        continue;
      }
      failure = Spawn(i, progress);
      if (failure.ok()) spawned.push_back(i);
    }
    auto deadline = Clock::now() + options_.start_timeout;
    for (size_t i : spawned) {
      started.push_back(i);
      if (!failure.ok()) continue;
      failure = WaitUntilServing(i, deadline);
      if (failure.ok() && progress) {
        const DaemonRecord& d = state_.daemons[i];
        std::string ports;
        for (const auto& port : spec.ports) ports += ", " + port + " " + Address(i, port);
        progress("started " + d.role + " " + std::to_string(d.index) + " (pid " +
                 std::to_string(d.pid) + ")" + ports + ", log " + OutputPath(i));
      }
    }
    if (!failure.ok()) break;
    // Datanodes and mounts of a group start once it has a leader to serve them.
    if (spec.role == std::string(kNamenodeRole) && IsNamenodeGroup()) {
      if (progress) progress("waiting for the namenodes to elect a leader");
      Result<int> leader = WaitForLeader(Clock::now() + options_.start_timeout);
      if (!leader.ok()) {
        failure = leader.status();
        break;
      }
      if (progress) {
        progress("namenode " + std::to_string(*leader) + " (--namenode_id=" +
                 std::to_string(*leader + 1) + ", " +
                 Address(static_cast<size_t>(Find(kNamenodeRole, *leader))) +
                 ") is the leader");
      }
    }
  }
  if (!failure.ok()) {
    // Leave the directory as it was: no half-started cluster.
    for (auto it = started.rbegin(); it != started.rend(); ++it) {
      if (GetDaemonState(*it) == DaemonState::kRunning) {
        (void)StopDaemon(*it, kKillTimeout);
      } else {
        ReapIfExited(*it);
      }
      state_.daemons[*it].pid = 0;
      state_.daemons[*it].start_time = 0;
    }
    (void)Save();
    return failure;
  }
  return WriteEnvFile();
}

Status LocalCluster::SignalDaemon(size_t i, int signal, std::chrono::milliseconds timeout) {
  if (i >= state_.daemons.size()) return Status::InvalidArgument("no such daemon");
  DaemonRecord& d = state_.daemons[i];
  if (GetDaemonState(i) != DaemonState::kRunning) {
    ReapIfExited(i);
    return Status::NotFound(d.Name() + " is not running");
  }
  RETURN_NOT_OK(SendSignal(d.pid, signal));
  if (signal != SIGKILL && signal != SIGTERM) return Status::OK();
  auto deadline = Clock::now() + timeout;
  if (children_.count(d.pid) > 0) {
    Result<ExitStatus> exit = WaitChild(d.pid, deadline);
    if (!exit.ok()) return exit.status().Prepend(d.Name());
    children_.erase(d.pid);
  } else if (!WaitUntilNotRunning(d.pid, deadline)) {
    return Status::TimedOut(d.Name() + " (pid " + std::to_string(d.pid) + ") is still running");
  }
  d.pid = 0;
  d.start_time = 0;
  return Save();
}

Status LocalCluster::StopDaemon(size_t i, std::chrono::milliseconds timeout,
                                const Progress& progress) {
  if (i >= state_.daemons.size()) return Status::InvalidArgument("no such daemon");
  DaemonRecord& d = state_.daemons[i];
  std::string name = d.role + " " + std::to_string(d.index);
  switch (GetDaemonState(i)) {
    case DaemonState::kStopped:
      if (progress) progress(name + " is not running");
      return Status::OK();
    case DaemonState::kDead:
      ReapIfExited(i);
      if (progress) {
        progress(name + " (pid " + std::to_string(d.pid) + ") had already exited; nothing to stop");
      }
      d.pid = 0;
      d.start_time = 0;
      return Save();
    case DaemonState::kRunning:
      break;
  }
  pid_t pid = d.pid;
  Status s = SignalDaemon(i, SIGTERM, timeout);
  if (s.ok()) {
    if (progress) progress("stopped " + name + " (pid " + std::to_string(pid) + ")");
    return s;
  }
  if (s.code() != ErrorCode::kTimedOut) return s;
  // It ignored SIGTERM for too long: SIGKILL is survivable (the journal replays).
  RETURN_NOT_OK(SignalDaemon(i, SIGKILL, kKillTimeout));
  if (progress) {
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
    progress(name + " (pid " + std::to_string(pid) + ") did not stop within " +
             std::to_string(seconds.count()) + " s of SIGTERM; killed it with SIGKILL");
  }
  return Status::OK();
}

Status LocalCluster::StopAll(std::chrono::milliseconds timeout, const Progress& progress) {
  Status first_error;
  // Datanodes first, so they do not spend their last moments failing to reach a namenode.
  for (size_t n = state_.daemons.size(); n > 0; --n) {
    Status s = StopDaemon(n - 1, timeout, progress);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  return first_error;
}

void LocalCluster::KillAll() {
  std::vector<pid_t> others;
  for (size_t i = 0; i < state_.daemons.size(); ++i) {
    DaemonRecord& d = state_.daemons[i];
    if (!IsOurProcess(d)) continue;
    (void)SendSignal(d.pid, SIGKILL);
    if (children_.count(d.pid) == 0) others.push_back(d.pid);
  }
  auto deadline = Clock::now() + kKillTimeout;
  for (pid_t pid : children_) (void)WaitChild(pid, deadline);
  // Daemons of an earlier `talus cluster up` are not our children: wait until they are gone.
  for (pid_t pid : others) (void)WaitUntilNotRunning(pid, deadline);
  children_.clear();
  for (auto& d : state_.daemons) {
    d.pid = 0;
    d.start_time = 0;
  }
  (void)Save();
}

}  // namespace talus::cluster
