#pragma once

#include <memory>

#include "client/shell/command.h"

namespace talus::shell {

// One factory per command; each lives in its own file. The registry (command_registry.cc)
// lists them.
std::unique_ptr<Command> NewAppendToFileCommand();
std::unique_ptr<Command> NewCatCommand();
std::unique_ptr<Command> NewChecksumCommand();
std::unique_ptr<Command> NewChgrpCommand();
std::unique_ptr<Command> NewChmodCommand();
std::unique_ptr<Command> NewChownCommand();
std::unique_ptr<Command> NewCopyFromLocalCommand();
std::unique_ptr<Command> NewCopyToLocalCommand();
std::unique_ptr<Command> NewCountCommand();
std::unique_ptr<Command> NewCpCommand();
std::unique_ptr<Command> NewDfCommand();
std::unique_ptr<Command> NewDuCommand();
std::unique_ptr<Command> NewGetCommand();
std::unique_ptr<Command> NewGetmergeCommand();
std::unique_ptr<Command> NewHeadCommand();
std::unique_ptr<Command> NewHelpCommand();
std::unique_ptr<Command> NewLsCommand();
std::unique_ptr<Command> NewMkdirCommand();
std::unique_ptr<Command> NewMoveFromLocalCommand();
std::unique_ptr<Command> NewMvCommand();
std::unique_ptr<Command> NewPutCommand();
std::unique_ptr<Command> NewRmCommand();
std::unique_ptr<Command> NewRmdirCommand();
std::unique_ptr<Command> NewSetrepCommand();
std::unique_ptr<Command> NewStatCommand();
std::unique_ptr<Command> NewTailCommand();
std::unique_ptr<Command> NewTestCommand();
std::unique_ptr<Command> NewTouchCommand();
std::unique_ptr<Command> NewTouchzCommand();
std::unique_ptr<Command> NewUsageCommand();

}  // namespace talus::shell
