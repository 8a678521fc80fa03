#include "client/shell/help.h"

#include <string>

#include "client/shell/command_registry.h"

namespace talus::shell {

namespace {

std::string UsageLine(const Command& command) {
  std::string line = std::string("-") + command.info().name;
  if (*command.info().usage != '\0') line += std::string(" ") + command.info().usage;
  return line;
}

void PrintCommandList(FILE* out, bool with_help) {
  std::fprintf(out, "%s\n", kUsagePrefix);
  for (const CommandFactory& factory : AllCommands()) {
    std::fprintf(out, "\t[%s]\n", UsageLine(*factory.make()).c_str());
  }
  if (with_help) {
    for (const CommandFactory& factory : AllCommands()) {
      std::fprintf(out, "\n");
      PrintCommandHelp(out, *factory.make());
    }
  }
  std::fprintf(out, "\n");
  PrintGenericOptions(out);
}

}  // namespace

void PrintAllUsage(FILE* out) { PrintCommandList(out, /*with_help=*/false); }

void PrintAllHelp(FILE* out) { PrintCommandList(out, /*with_help=*/true); }

void PrintCommandUsage(FILE* out, const Command& command) {
  std::fprintf(out, "%s %s\n", kUsagePrefix, UsageLine(command).c_str());
}

void PrintCommandHelp(FILE* out, const Command& command) {
  std::fprintf(out, "%s :\n", UsageLine(command).c_str());
  std::string description = command.info().description;
  size_t start = 0;
  while (start <= description.size()) {
    size_t end = description.find('\n', start);
    if (end == std::string::npos) end = description.size();
    std::string line = description.substr(start, end - start);
    if (line.empty()) {
      std::fprintf(out, "\n");
    } else {
      std::fprintf(out, "  %s\n", line.c_str());
    }
    start = end + 1;
  }
}

void PrintGenericOptions(FILE* out) {
  std::fputs(
      "Generic options supported are:\n"
      "-fs <talus://host:port[,host:port...]>  specify the file system to use (one address per\n"
      "                                        namenode), overriding $TALUS_FS and fs.defaultFS\n"
      "                                        in the client configuration\n"
      "-D <property=value>                     define a value for a given property\n"
      "\n"
      "Properties used by talus dfs (others are accepted and ignored):\n"
      "  fs.defaultFS=URI                      the file system, like -fs\n"
      "  talus.user=NAME                       act as user NAME (default: $TALUS_USER_NAME, else\n"
      "                                        the user running the command)\n"
      "  fs.permissions.umask-mode=MODE        umask of new files and directories, octal (022)\n"
      "                                        or symbolic (u=rwx,g=rx,o=rx)\n"
      "  dfs.replication=N                     replication of new files\n"
      "  dfs.blocksize=SIZE                    block size of new files, e.g. 134217728 or 128m\n"
      "  talus.client.rpc-timeout-ms=MS        how long one call may wait on one namenode\n"
      "  talus.client.connect-timeout-ms=MS    how long connecting to a namenode may take\n"
      "  talus.client.retry-deadline-ms=MS     how long a call keeps retrying before failing\n"
      "\n"
      "Without -fs the file system is $TALUS_FS, else fs.defaultFS in $TALUS_CONF_DIR/client.conf\n"
      "(else /etc/talus/client.conf). Paths may be absolute, relative to /user/<user>, or full\n"
      "URIs (talus://host:port/path), and may hold the glob patterns * ? [abc] [!a-z] {a,b}.\n"
      "Exit codes: 0 on success, 1 when a command failed on some path, 255 on a usage error.\n"
      "\n"
      "The general command line syntax is:\n"
      "talus dfs [genericOptions] [commandOptions]\n",
      out);
}

}  // namespace talus::shell
