// -help and -usage.
#include "client/shell/command_registry.h"
#include "client/shell/commands.h"
#include "client/shell/help.h"

namespace talus::shell {

namespace {

constexpr CommandInfo kHelpInfo = {
    "help",
    "[cmd ...]",
    "Displays help for given command or all commands if none is specified.",
};

constexpr CommandInfo kUsageInfo = {
    "usage",
    "[cmd ...]",
    "Displays the usage for given command or all commands if none is specified.",
};

// Prints while its options are read, so that an unknown name is a usage error (exit 255), as
// in HDFS.
class InfoCommand : public Command {
 public:
  InfoCommand(const CommandInfo& info, bool help) : Command(info), help_(help) {}

 protected:
  Status ParseOptions(std::vector<std::string>* args) override {
    FILE* out = ctx()->out();
    if (args->empty()) {
      help_ ? PrintAllHelp(out) : PrintAllUsage(out);
      return Status::OK();
    }
    for (const std::string& name : *args) {
      std::string bare = name.rfind('-', 0) == 0 ? name.substr(1) : name;
      std::unique_ptr<Command> command = MakeCommand(bare);
      if (!command) return UsageError("`" + bare + "': Unknown command");
      help_ ? PrintCommandHelp(out, *command) : PrintCommandUsage(out, *command);
    }
    return Status::OK();
  }

  void ProcessRawArguments(const std::vector<std::string>& args) override {}

 private:
  bool help_;
};

}  // namespace

std::unique_ptr<Command> NewHelpCommand() {
  return std::make_unique<InfoCommand>(kHelpInfo, /*help=*/true);
}
std::unique_ptr<Command> NewUsageCommand() {
  return std::make_unique<InfoCommand>(kUsageInfo, /*help=*/false);
}

}  // namespace talus::shell
