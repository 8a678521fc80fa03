// `talus dfsadmin`: HDFS's DFSAdmin commands for Talus operators, on the public client API.
#include "client/shell/dfsadmin_command.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <thread>

#include "client/shell/admin_format.h"
#include "client/shell/errors.h"
#include "client/shell/generic_options.h"
#include "client/shell/journal_status.h"
#include "client/shell/shell_context.h"

namespace talus::shell {

namespace {

// HDFS's DFSAdmin returns -1 for usage errors and failures alike.
constexpr int kFailureExitCode = 255;
// How often -safemode wait asks again.
constexpr auto kSafeModePoll = std::chrono::milliseconds(500);
// -journal waits at most this long for each namenode (all are asked at once), unless the
// client's RPC timeout is shorter: a hung namenode is shown as unreachable, not waited for.
constexpr auto kJournalTimeout = std::chrono::milliseconds(5000);

struct AdminHelp {
  const char* name;
  const char* usage;
  const char* description;
};

constexpr AdminHelp kCommands[] = {
    {"report", "[-report [-live] [-dead] [-decommissioning]]",
     "-report [-live] [-dead] [-decommissioning]:\n"
     "\tReports basic filesystem information and statistics.\n"
     "\tThe dfs usage can be different from \"du\" usage, because it\n"
     "\tmeasures raw space used by replication, checksums, snapshots\n"
     "\tand etc. on all the DNs.\n"
     "\tOptional flags may be used to filter the list of displayed DNs.\n"},
    {"safemode", "[-safemode <enter | leave | get | wait [-timeout <ms>]>]",
     "-safemode <enter|leave|get|wait [-timeout <ms>]>:  Safe mode maintenance command.\n"
     "\t\tSafe mode is a Namenode state in which it\n"
     "\t\t\t1.  does not accept changes to the name space (read-only)\n"
     "\t\t\t2.  does not replicate or delete blocks.\n"
     "\t\tSafe mode is entered automatically at Namenode startup, and\n"
     "\t\tleaves safe mode automatically when the configured minimum\n"
     "\t\tpercentage of blocks satisfies the minimum replication\n"
     "\t\tcondition.  Safe mode can also be entered manually, but then\n"
     "\t\tit can only be turned off manually as well.\n"
     "\t\twait blocks until safe mode is off, at most -timeout milliseconds.\n"},
    {"decommission", "[-decommission <host:port>]",
     "-decommission <host:port>:\tStarts decommissioning the datanode at host:port (its data\n"
     "\t\tport, as -report names it): its replicas are copied to other datanodes, then it\n"
     "\t\tis Decommissioned. It keeps serving reads meanwhile.\n"},
    {"recommission", "[-recommission <host:port>]",
     "-recommission <host:port>:\tReturns a datanode decommissioned by -decommission to\n"
     "\t\tservice. Nodes listed in the hosts exclude file are recommissioned by removing\n"
     "\t\tthem there and running -refreshNodes.\n"},
    {"refreshNodes", "[-refreshNodes]",
     "-refreshNodes: \tUpdates the namenode with the set of datanodes to decommission:\n"
     "\t\tre-reads the hosts exclude file (--hosts_exclude_file of the namenode). Listed\n"
     "\t\tnodes start decommissioning; nodes no longer listed return to service.\n"},
    {"journal", "[-journal]",
     "-journal:\tShows the journal as each namenode of the file system sees it: kind\n"
     "\t\t(local or raft), id, role, term, the leader, and the commit, applied, last,\n"
     "\t\tfirst and snapshot indexes; for the leader, each peer's match index, its lag\n"
     "\t\tbehind the leader's last index, replication state and last contact. Every\n"
     "\t\tnamenode is asked, not only the leader; those that do not answer are shown as\n"
     "\t\tunreachable. Fails when no namenode answering is the leader.\n"},
    {"help", "[-help [cmd]]",
     "-help [cmd]: \tDisplays help for the given command or all commands if none\n"
     "\t\tis specified.\n"},
};

void PrintUsage(FILE* f) {
  std::fprintf(f,
               "Usage: talus dfsadmin\nNote: Administrative commands can only be run as the "
               "superuser.\n");
  for (const AdminHelp& c : kCommands) std::fprintf(f, "\t%s\n", c.usage);
  std::fprintf(f,
               "\nGeneric options supported are:\n"
               "-fs <talus://host:port>       specify the namenode\n"
               "-D <property=value>           define a value for a given property\n");
}

const AdminHelp* FindCommand(const std::string& name) {
  for (const AdminHelp& c : kCommands) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

// The namenode's explanation as it sent it; the shell's words when it sent none.
std::string Message(const Status& status) {
  return status.message().empty() ? DescribeStatus(status) : status.message();
}

class DfsAdmin {
 public:
  DfsAdmin(ShellContext* ctx, FILE* out, FILE* err) : ctx_(ctx), out_(out), err_(err) {}

  int Run(const std::string& command, std::vector<std::string> args) {
    if (command == "-help") return Help(args);
    if (command == "-report") return Report(args);
    if (command == "-safemode") return SafeMode(args);
    if (command == "-decommission") return AdminState(args, true);
    if (command == "-recommission") return AdminState(args, false);
    if (command == "-refreshNodes") return RefreshNodes(args);
    if (command == "-journal") return Journal(args);
    std::fprintf(err_, "%s: Unknown command\n", command.c_str());
    PrintUsage(err_);
    return kFailureExitCode;
  }

 private:
  int UsageError(const std::string& command, const std::string& message) {
    std::fprintf(err_, "%s: %s\n", command.c_str(), message.c_str());
    const AdminHelp* help = FindCommand(command.substr(1));
    std::fprintf(err_, "Usage: talus dfsadmin %s\n", help != nullptr ? help->usage : "");
    return kFailureExitCode;
  }
  int Failure(const Status& status) {
    std::fflush(out_);
    std::fprintf(err_, "dfsadmin: %s\n", Message(status).c_str());
    return kFailureExitCode;
  }
  Result<FileSystem*> Fs() { return ctx_->DefaultFs(); }

  int Help(const std::vector<std::string>& args) {
    if (args.size() > 1) return UsageError("-help", "Too many arguments");
    if (args.empty()) {
      PrintUsage(out_);
      std::fprintf(out_, "\n");
      for (const AdminHelp& c : kCommands) std::fprintf(out_, "%s\n", c.description);
      return 0;
    }
    std::string name = args[0];
    if (!name.empty() && name[0] == '-') name.erase(0, 1);
    const AdminHelp* help = FindCommand(name);
    if (help == nullptr) {
      std::fprintf(err_, "Unknown command: %s\n", args[0].c_str());
      PrintUsage(err_);
      return kFailureExitCode;
    }
    std::fprintf(out_, "%s", help->description);
    return 0;
  }

  int Report(const std::vector<std::string>& args) {
    bool live = false, dead = false, decommissioning = false;
    for (const std::string& a : args) {
      if (a == "-live") {
        live = true;
      } else if (a == "-dead") {
        dead = true;
      } else if (a == "-decommissioning") {
        decommissioning = true;
      } else {
        return UsageError("-report", "Illegal option " + a);
      }
    }
    // Without a filter: live and dead nodes, as HDFS.
    if (!live && !dead && !decommissioning) live = dead = true;
    Result<FileSystem*> fs = Fs();
    if (!fs.ok()) return Failure(fs.status());
    Result<FsStats> stats = (*fs)->GetStats();
    if (!stats.ok()) return Failure(stats.status());
    std::string text = FormatClusterReport(*stats);
    const std::time_t now = std::time(nullptr);
    struct Section {
      bool wanted;
      DatanodeReportType type;
      const char* title;
    };
    for (const Section& s :
         {Section{live, DatanodeReportType::kLive, "Live"},
          Section{dead, DatanodeReportType::kDead, "Dead"},
          Section{decommissioning, DatanodeReportType::kDecommissioning, "Decommissioning"}}) {
      if (!s.wanted) continue;
      Result<std::vector<DatanodeReport>> nodes = (*fs)->GetDatanodeReport(s.type);
      if (!nodes.ok()) return Failure(nodes.status());
      text += std::string(s.title) + " datanodes (" + std::to_string(nodes->size()) + "):\n\n";
      for (const DatanodeReport& node : *nodes) text += FormatDatanodeReport(node, now);
    }
    std::fputs(text.c_str(), out_);
    return 0;
  }

  int SafeMode(std::vector<std::string> args) {
    if (args.empty()) return UsageError("-safemode", "Not enough arguments");
    const std::string action = args[0];
    int64_t timeout_ms = -1;
    if (action == "wait" && args.size() == 3 && args[1] == "-timeout") {
      const std::string& t = args[2];
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), timeout_ms);
      if (t.empty() || ec != std::errc() || end != t.data() + t.size() || timeout_ms < 0) {
        return UsageError("-safemode", "-timeout wants milliseconds, not \"" + t + "\"");
      }
    } else if (args.size() > 1) {
      return UsageError("-safemode", "Too many arguments");
    }
    SafeModeAction what;
    if (action == "get" || action == "wait") {
      what = SafeModeAction::kGet;
    } else if (action == "enter") {
      what = SafeModeAction::kEnter;
    } else if (action == "leave") {
      what = SafeModeAction::kLeave;
    } else {
      return UsageError("-safemode", "Illegal action " + action);
    }
    Result<FileSystem*> fs = Fs();
    if (!fs.ok()) return Failure(fs.status());
    Result<SafeModeState> state = (*fs)->SetSafeMode(what);
    if (!state.ok()) return Failure(state.status());
    if (action == "wait") {
      const auto deadline = std::chrono::steady_clock::now() +
                            std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
      // Until it is off (or the timeout passes; without one, until interrupted).
      while (state->on) {
        if (timeout_ms >= 0 && std::chrono::steady_clock::now() >= deadline) {
          std::fprintf(out_, "Safe mode is ON\n");
          return Failure(Status::TimedOut("safe mode is still ON after " +
                                          std::to_string(timeout_ms) + " ms"));
        }
        std::this_thread::sleep_for(kSafeModePoll);
        state = (*fs)->SetSafeMode(SafeModeAction::kGet);
        if (!state.ok()) return Failure(state.status());
      }
    }
    std::fprintf(out_, "Safe mode is %s\n", state->on ? "ON" : "OFF");
    return 0;
  }

  int AdminState(const std::vector<std::string>& args, bool decommission) {
    const std::string command = decommission ? "-decommission" : "-recommission";
    if (args.size() != 1) {
      return UsageError(command, args.empty() ? "Not enough arguments" : "Too many arguments");
    }
    const std::string& host_port = args[0];
    const size_t colon = host_port.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == host_port.size()) {
      return UsageError(command, "\"" + host_port + "\" is not HOST:PORT");
    }
    Result<FileSystem*> fs = Fs();
    if (!fs.ok()) return Failure(fs.status());
    Status done = (*fs)->SetDatanodeAdminState(host_port, decommission);
    if (!done.ok()) return Failure(done);
    if (decommission) {
      std::fprintf(out_, "Decommission started for %s\n", host_port.c_str());
    } else {
      std::fprintf(out_, "Recommissioned %s\n", host_port.c_str());
    }
    return 0;
  }

  int RefreshNodes(const std::vector<std::string>& args) {
    if (!args.empty()) return UsageError("-refreshNodes", "Too many arguments");
    Result<FileSystem*> fs = Fs();
    if (!fs.ok()) return Failure(fs.status());
    Status done = (*fs)->RefreshNodes();
    if (!done.ok()) return Failure(done);
    std::fprintf(out_, "Refresh nodes successful\n");
    return 0;
  }

  int Journal(const std::vector<std::string>& args) {
    if (!args.empty()) return UsageError("-journal", "Too many arguments");
    Result<FileSystem*> fs = Fs();
    if (!fs.ok()) return Failure(fs.status());
    Result<std::vector<std::string>> addresses = NamenodeAddresses((*fs)->uri());
    if (!addresses.ok()) return Failure(addresses.status());
    const auto timeout = std::min<std::chrono::milliseconds>(
        kJournalTimeout, std::chrono::milliseconds(ctx_->client_options().rpc_timeout_ms));
    const std::vector<NamenodeJournal> answers =
        FetchGroupJournal(*addresses, (*fs)->user(), timeout);
    std::fputs(FormatJournalReport((*fs)->uri(), answers).c_str(), out_);
    if (FindLeader(answers) < 0) {
      return Failure(Status::Unavailable("no namenode of " + (*fs)->uri() +
                                         " that answered is the leader"));
    }
    return 0;
  }

  ShellContext* ctx_;
  FILE* out_;
  FILE* err_;
};

}  // namespace

int RunDfsAdminCommand(const std::vector<std::string>& args, FILE* out, FILE* err) {
  Result<GenericOptions> generic = ParseGenericOptions(args);
  if (!generic.ok()) {
    std::fprintf(err, "%s\n", generic.status().message().c_str());
    PrintUsage(err);
    return kFailureExitCode;
  }
  if (generic->consumed == args.size()) {
    PrintUsage(err);
    return kFailureExitCode;
  }
  const std::string& command = args[generic->consumed];
  Result<ShellConfig> config = MakeShellConfig(*generic);
  if (!config.ok()) {
    std::fprintf(err, "dfsadmin: %s\n", config.status().message().c_str());
    return kFailureExitCode;
  }
  ShellContext ctx(std::move(config).value(), out, err);
  std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(generic->consumed) + 1,
                                args.end());
  const int code = DfsAdmin(&ctx, out, err).Run(command, std::move(rest));
  std::fflush(out);
  return code;
}

}  // namespace talus::shell
