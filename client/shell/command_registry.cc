#include "client/shell/command_registry.h"

#include "client/shell/commands.h"

namespace talus::shell {

const std::vector<CommandFactory>& AllCommands() {
  static const std::vector<CommandFactory> kCommands = {
      {"appendToFile", NewAppendToFileCommand},
      {"cat", NewCatCommand},
      {"checksum", NewChecksumCommand},
      {"chgrp", NewChgrpCommand},
      {"chmod", NewChmodCommand},
      {"chown", NewChownCommand},
      {"copyFromLocal", NewCopyFromLocalCommand},
      {"copyToLocal", NewCopyToLocalCommand},
      {"count", NewCountCommand},
      {"cp", NewCpCommand},
      {"df", NewDfCommand},
      {"du", NewDuCommand},
      {"get", NewGetCommand},
      {"getmerge", NewGetmergeCommand},
      {"head", NewHeadCommand},
      {"help", NewHelpCommand},
      {"ls", NewLsCommand},
      {"mkdir", NewMkdirCommand},
      {"moveFromLocal", NewMoveFromLocalCommand},
      {"mv", NewMvCommand},
      {"put", NewPutCommand},
      {"rm", NewRmCommand},
      {"rmdir", NewRmdirCommand},
      {"setrep", NewSetrepCommand},
      {"stat", NewStatCommand},
      {"tail", NewTailCommand},
      {"test", NewTestCommand},
      {"touch", NewTouchCommand},
      {"touchz", NewTouchzCommand},
      {"usage", NewUsageCommand},
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
