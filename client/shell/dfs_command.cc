#include "client/shell/dfs_command.h"

#include <cstdio>

#include "client/shell/command_registry.h"
#include "client/shell/generic_options.h"
#include "client/shell/help.h"
#include "client/shell/shell_context.h"

namespace talus::shell {

namespace {

// HDFS's shell returns -1 for usage errors, which the process exit status shows as 255.
constexpr int kUsageExitCode = 255;

int UnknownCommand(const std::string& word) {
  std::fprintf(stderr, "%s: Unknown command\n", word.c_str());
  if (word.empty() || word[0] != '-') {
    if (MakeCommand(word)) {
      std::fprintf(stderr, "Did you mean -%s?  This command begins with a dash.\n", word.c_str());
    }
  }
  PrintAllUsage(stderr);
  return kUsageExitCode;
}

}  // namespace

int RunDfsCommand(const std::vector<std::string>& args) {
  Result<GenericOptions> generic = ParseGenericOptions(args);
  if (!generic.ok()) {
    std::fprintf(stderr, "%s\n", generic.status().message().c_str());
    PrintAllUsage(stderr);
    return kUsageExitCode;
  }
  if (generic->consumed == args.size()) {
    PrintAllUsage(stderr);
    return kUsageExitCode;
  }
  const std::string& word = args[generic->consumed];
  std::unique_ptr<Command> command =
      word.size() > 1 && word[0] == '-' ? MakeCommand(word.substr(1)) : nullptr;
  if (!command) return UnknownCommand(word);

  Result<ShellConfig> config = MakeShellConfig(*generic);
  if (!config.ok()) {
    std::fprintf(stderr, "%s: %s\n", word.c_str(), config.status().message().c_str());
    return kUsageExitCode;
  }
  ShellContext ctx(std::move(config).value(), stdout, stderr);
  std::vector<std::string> command_args(
      args.begin() + static_cast<std::ptrdiff_t>(generic->consumed) + 1, args.end());
  Result<int> exit_code = command->Run(&ctx, std::move(command_args));
  std::fflush(stdout);
  if (!exit_code.ok()) {
    std::fprintf(stderr, "%s: %s\n", word.c_str(), exit_code.status().message().c_str());
    PrintAllUsage(stderr);
    PrintCommandUsage(stderr, *command);
    return kUsageExitCode;
  }
  return *exit_code;
}

}  // namespace talus::shell
