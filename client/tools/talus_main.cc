// `talus`: the command-line entry point. Each subcommand lives in its own library.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "client/shell/dfs_command.h"
#include "client/shell/dfsadmin_command.h"
#include "client/shell/fsck_command.h"
#include "cluster/cluster_command.h"

namespace {

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "Usage: talus COMMAND [OPTIONS]\n"
               "\n"
               "Commands:\n"
               "  dfs        run a file system command (talus dfs -help)\n"
               "  dfsadmin   run an operator's command: report, safe mode, decommission\n"
               "             (talus dfsadmin -help)\n"
               "  fsck       check the health of the blocks under a path (talus fsck -help)\n"
               "  cluster    start, stop or inspect a local cluster (talus cluster -help)\n"
               "  version    print the version\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return 1;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "dfs") return talus::shell::RunDfsCommand(args);
  if (command == "dfsadmin") return talus::shell::RunDfsAdminCommand(args);
  if (command == "fsck") return talus::shell::RunFsckCommand(args);
  if (command == "cluster") return talus::cluster::RunClusterCommand(args);
  if (command == "version" || command == "--version") {
    std::printf("Talus %s\n", TALUS_VERSION);
    return 0;
  }
  if (command == "-h" || command == "-help" || command == "--help" || command == "help") {
    PrintUsage(stdout);
    return 0;
  }
  std::fprintf(stderr, "talus: unknown command '%s'\n", command.c_str());
  PrintUsage(stderr);
  return 1;
}
