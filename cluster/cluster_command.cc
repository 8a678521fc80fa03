// `talus cluster up|down|status`: a local cluster on loopback for trying Talus out, for tests
// and for benchmarks. The work is done by LocalCluster; this file parses and reports.
#include "cluster/cluster_command.h"

#include <chrono>
#include <charconv>
#include <cstdio>
#include <optional>

#include "cluster/fuse_mount.h"
#include "cluster/local_cluster.h"
#include "cluster/process.h"

namespace talus::cluster {

namespace {

constexpr char kUsage[] =
    "Usage:\n"
    "  talus cluster up --dir DIR [--namenodes N] [--datanodes N] [--mount PATH]\n"
    "                   [--timeout_s S] [-- DAEMON_FLAGS...]\n"
    "  talus cluster down --dir DIR [--timeout_s S]\n"
    "  talus cluster status --dir DIR\n"
    "\n"
    "A Talus cluster on this machine: every daemon listens on 127.0.0.1 and keeps its data,\n"
    "logs and addresses under DIR.\n"
    "\n"
    "up      Starts the daemons in the background on free loopback ports, waits until each\n"
    "        answers, prints TALUS_FS=talus://127.0.0.1:PORT and the status page's address\n"
    "        TALUS_WEB=http://127.0.0.1:PORT, and writes both to DIR/cluster.env\n"
    "        (load it with: set -a; . DIR/cluster.env; set +a). On a DIR used before, restarts\n"
    "        the cluster on its existing data and on the same ports (a datanode whose port\n"
    "        was taken meanwhile gets a new one), so cluster.env stays valid; daemons already\n"
    "        running are left alone. If a daemon fails to start, the ones this command\n"
    "        started are stopped again and the end of its log is shown.\n"
    "          --namenodes N   number of namenodes: 1 (the default) or a group of 3 or 5\n"
    "                          sharing a Raft journal (automatic failover). A group's\n"
    "                          namenodes get --namenode_id and --raft_peers; TALUS_FS\n"
    "                          lists them all, TALUS_WEB is the first one's page, and\n"
    "                          datanodes start once a leader is elected.\n"
    "          --datanodes N   number of datanodes (default 3, enough for three replicas);\n"
    "                          each keeps its replicas in DIR/datanode-N/data. On a DIR\n"
    "                          used before, a larger N adds datanodes; none is removed.\n"
    "          --mount PATH    once the daemons answer, also mount the file system on PATH\n"
    "                          with talus-fuse (created if absent; needs /dev/fuse, and root\n"
    "                          or fusermount3). Its log is DIR/logs/fuse.out.\n"
    "          --timeout_s S   how long each daemon may take to answer (default 60)\n"
    "          -- FLAGS...     given to every daemon this command starts, e.g.\n"
    "                          `-- --heartbeat_interval_ms=200`; each must be --name=value.\n"
    "                          Their names are passed in --undefok, so a flag that one kind\n"
    "                          of daemon does not define is ignored by it.\n"
    "down    Unmounts the FUSE mount if there is one (fusermount3 -u, else umount -l) and\n"
    "        waits for talus-fuse to exit; then stops every daemon recorded in DIR,\n"
    "        datanodes first: SIGTERM, then SIGKILL for\n"
    "        any still running after --timeout_s (default 30). Only processes that are still\n"
    "        the ones it started are signalled (checked in /proc), never a recycled pid. Data\n"
    "        is kept.\n"
    "status  One line per daemon (namenodes, then datanodes): role, index, state (running,\n"
    "        dead or stopped), pid, its addresses (rpc, service/data and http ports, and raft\n"
    "        for a group) and data directory; a running namenode that answers also shows its\n"
    "        journal role and term (role=leader term=3), one that does not role=unreachable;\n"
    "        a line for the FUSE mount if one was started; then TALUS_FS and TALUS_WEB once\n"
    "        the ports are known.\n"
    "\n"
    "Daemon binaries are taken from the directory of the talus executable. Default daemon\n"
    "flags are read from ../conf/local/ROLE.flags beside it when present.\n"
    "Exit status: 0 on success, 1 on error.\n";

// How long `status` waits for each running namenode's journal role and term.
constexpr auto kStatusJournalTimeout = std::chrono::milliseconds(2000);

struct CommandLine {
  std::string verb;
  std::string dir;
  int namenodes = -1;
  int datanodes = -1;
  std::string mount;
  std::optional<int> timeout_s;
  std::vector<std::string> daemon_flags;
};

bool ParseCount(const std::string& text, int* value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty() && *value >= 0;
}

// Accepts "--name value", "--name=value" and the single-dash forms.
Result<CommandLine> Parse(const std::vector<std::string>& args) {
  CommandLine cl;
  if (args.empty()) return Status::InvalidArgument("missing command: up, down or status");
  cl.verb = args[0];
  if (cl.verb != "up" && cl.verb != "down" && cl.verb != "status") {
    return Status::InvalidArgument("unknown command '" + cl.verb + "': use up, down or status");
  }
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      if (cl.verb != "up") {
        return Status::InvalidArgument("daemon flags after -- are only for `up`");
      }
      cl.daemon_flags.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    std::string name = arg;
    std::optional<std::string> value;
    if (name.rfind("--", 0) == 0) {
      name = name.substr(2);
    } else if (name.rfind("-", 0) == 0) {
      name = name.substr(1);
    } else {
      return Status::InvalidArgument("unexpected argument '" + arg + "'");
    }
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    auto take_value = [&]() -> Result<std::string> {
      if (value) return *value;
      if (i + 1 >= args.size()) return Status::InvalidArgument("--" + name + " needs a value");
      return args[++i];
    };
    bool up_only = name == "namenodes" || name == "datanodes" || name == "mount";
    if (up_only && cl.verb != "up") {
      return Status::InvalidArgument("--" + name + " is only for `up`");
    }
    if (name == "dir") {
      ASSIGN_OR_RETURN(cl.dir, take_value());
      if (cl.dir.empty()) return Status::InvalidArgument("--dir needs a directory");
    } else if (name == "namenodes" || name == "datanodes") {
      ASSIGN_OR_RETURN(std::string text, take_value());
      int count = 0;
      if (!ParseCount(text, &count) || count > 100) {
        return Status::InvalidArgument("--" + name + " needs a number from 0 to 100, got '" + text +
                                       "'");
      }
      (name == "namenodes" ? cl.namenodes : cl.datanodes) = count;
    } else if (name == "mount") {
      ASSIGN_OR_RETURN(cl.mount, take_value());
    } else if (name == "timeout_s" && cl.verb != "status") {
      ASSIGN_OR_RETURN(std::string text, take_value());
      int seconds = 0;
      if (!ParseCount(text, &seconds) || seconds < 1 || seconds > 3600) {
        return Status::InvalidArgument("--timeout_s needs 1 to 3600 seconds, got '" + text + "'");
      }
      cl.timeout_s = seconds;
    } else {
      return Status::InvalidArgument("unknown option '" + arg + "' for `" + cl.verb + "`");
    }
  }
  if (cl.dir.empty()) return Status::InvalidArgument("--dir DIR is required");
  return cl;
}

int Fail(const Status& status) {
  std::fprintf(stderr, "talus cluster: %s\n", status.message().c_str());
  return 1;
}

void Print(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

Result<LocalClusterOptions> MakeOptions(const CommandLine& cl) {
  LocalClusterOptions options;
  options.dir = cl.dir;
  ASSIGN_OR_RETURN(options.bin_dir, SelfExeDir());
  options.conf_dir = options.bin_dir + "/../conf/local";
  options.namenodes = cl.namenodes;
  options.datanodes = cl.datanodes;
  options.extra_flags = cl.daemon_flags;
  if (cl.timeout_s) options.start_timeout = std::chrono::seconds(*cl.timeout_s);
  return options;
}

int Up(const CommandLine& cl) {
  Result<LocalClusterOptions> options = MakeOptions(cl);
  if (!options.ok()) return Fail(options.status());
  const std::string bin_dir = options->bin_dir;
  Result<std::unique_ptr<LocalCluster>> opened = LocalCluster::Open(std::move(options).value());
  if (!opened.ok()) return Fail(opened.status());
  LocalCluster& cluster = **opened;
  Status s = cluster.LockDirectory();
  if (!s.ok()) return Fail(s);
  int namenodes = cluster.state().CountRole(kNamenodeRole);
  int datanodes = cluster.state().CountRole(kDatanodeRole);
  if (cluster.AllRunning()) {
    Print("The cluster in " + cluster.dir() + " is already running (" + std::to_string(namenodes) +
          " namenode" + (namenodes == 1 ? "" : "s") + ", " + std::to_string(datanodes) +
          " datanode" + (datanodes == 1 ? "" : "s") + "); nothing started.");
  } else {
    s = cluster.StartAll(Print);
    if (!s.ok()) return Fail(s);
  }
  if (!cl.mount.empty()) {
    LocalMount mount(cluster.dir(), bin_dir);
    s = mount.Mount(cluster.FileSystemUri(), cl.mount,
                    std::chrono::seconds(cl.timeout_s.value_or(60)), Print);
    if (!s.ok()) return Fail(s);
  }
  Print("TALUS_FS=" + cluster.FileSystemUri());
  if (!cluster.WebUrl().empty()) Print("TALUS_WEB=" + cluster.WebUrl());
  Print("Wrote " + cluster.EnvPath() + " (load it with: set -a; . " + cluster.EnvPath() +
        "; set +a). Stop with: talus cluster down --dir " + cluster.dir());
  return 0;
}

int Down(const CommandLine& cl) {
  Result<LocalClusterOptions> options = MakeOptions(cl);
  if (!options.ok()) return Fail(options.status());
  const std::string bin_dir = options->bin_dir;
  Result<std::unique_ptr<LocalCluster>> opened =
      LocalCluster::OpenExisting(std::move(options).value());
  if (!opened.ok()) return Fail(opened.status());
  LocalCluster& cluster = **opened;
  Status s = cluster.LockDirectory();
  if (!s.ok()) return Fail(s);
  // The mount goes first: it flushes open files to the daemons before they stop.
  LocalMount mount(cluster.dir(), bin_dir);
  s = mount.Unmount(std::chrono::seconds(cl.timeout_s.value_or(30)), Print);
  if (!s.ok()) return Fail(s);
  s = cluster.StopAll(std::chrono::seconds(cl.timeout_s.value_or(30)), Print);
  if (!s.ok()) return Fail(s);
  Print("The cluster in " + cluster.dir() +
        " is stopped; its data is kept. Start it again "
        "with: talus cluster up --dir " +
        cluster.dir());
  return 0;
}

int StatusCommand(const CommandLine& cl) {
  Result<LocalClusterOptions> options = MakeOptions(cl);
  if (!options.ok()) return Fail(options.status());
  const std::string bin_dir = options->bin_dir;
  Result<std::unique_ptr<LocalCluster>> opened =
      LocalCluster::OpenExisting(std::move(options).value());
  if (!opened.ok()) return Fail(opened.status());
  const LocalCluster& cluster = **opened;
  const auto& daemons = cluster.state().daemons;
  // Asked of all running namenodes at once, so a hung one costs one timeout.
  const std::vector<shell::NamenodeJournal> journals =
      cluster.NamenodeJournals(kStatusJournalTimeout);
  for (size_t i = 0; i < daemons.size(); ++i) {
    const DaemonRecord& d = daemons[i];
    DaemonState state = cluster.GetDaemonState(i);
    std::string line = d.role + " " + std::to_string(d.index) + " " + DaemonStateName(state) +
                       " pid=" + (d.pid > 0 ? std::to_string(d.pid) : std::string("-"));
    if (d.role == kNamenodeRole && state == DaemonState::kRunning && d.index >= 0 &&
        static_cast<size_t>(d.index) < journals.size()) {
      const shell::NamenodeJournal& j = journals[static_cast<size_t>(d.index)];
      line += j.status.ok() ? " role=" + j.view.role + " term=" + std::to_string(j.view.term)
                            : std::string(" role=unreachable");
    }
    for (const auto& [port_name, port] : d.ports) {
      std::string address = cluster.Address(i, port_name);
      line += " " + port_name + "=" + (address.empty() ? "-" : address);
    }
    line += " dir=" + d.data_dir;
    Print(line);
  }
  std::string mount_line = LocalMount(cluster.dir(), bin_dir).StatusLine();
  if (!mount_line.empty()) Print(mount_line);
  bool ports_known = true;
  for (size_t i = 0; i < daemons.size(); ++i) {
    if (daemons[i].role == kNamenodeRole && cluster.Address(i).empty()) ports_known = false;
  }
  // Ports are known once each namenode has served; until then there is no URI to give.
  if (ports_known) {
    Print("TALUS_FS=" + cluster.FileSystemUri());
    if (!cluster.WebUrl().empty()) Print("TALUS_WEB=" + cluster.WebUrl());
  }
  return 0;
}

}  // namespace

int RunClusterCommand(const std::vector<std::string>& args) {
  for (const auto& arg : args) {
    if (arg == "--") break;
    if (arg == "-help" || arg == "--help" || arg == "-h" || arg == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  Result<CommandLine> cl = Parse(args);
  if (!cl.ok()) {
    std::string usage = kUsage;
    usage = usage.substr(0, usage.find("\n\n") + 1);  // the synopsis only
    std::fprintf(stderr, "talus cluster: %s\n%sMore: talus cluster -help\n",
                 cl.status().message().c_str(), usage.c_str());
    return 1;
  }
  if (cl->verb == "up") return Up(*cl);
  if (cl->verb == "down") return Down(*cl);
  return StatusCommand(*cl);
}

}  // namespace talus::cluster
