#include "client/shell/command_registry.h"

#include "client/shell/commands.h"

namespace talus::shell {

const std::vector<CommandFactory>& AllCommands() {
  static const std::vector<CommandFactory> kCommands = {
      {"chgrp", NewChgrpCommand},   {"chmod", NewChmodCommand},   {"chown", NewChownCommand},
      {"count", NewCountCommand},   {"df", NewDfCommand},         {"du", NewDuCommand},
      {"help", NewHelpCommand},     {"ls", NewLsCommand},         {"mkdir", NewMkdirCommand},
      {"mv", NewMvCommand},         {"rm", NewRmCommand},         {"rmdir", NewRmdirCommand},
      {"setrep", NewSetrepCommand}, {"stat", NewStatCommand},     {"test", NewTestCommand},
      {"touch", NewTouchCommand},   {"touchz", NewTouchzCommand}, {"usage", NewUsageCommand},
  };
  return kCommands;
}

std::unique_ptr<Command> MakeCommand(std::string_view name) {
  for (const CommandFactory& factory : AllCommands()) {
    if (name == factory.name) return factory.make();
  }
  return nullptr;
}

}  // namespace talus::shell
