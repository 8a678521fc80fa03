#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "client/shell/command.h"

namespace talus::shell {

struct CommandFactory {
  const char* name;  // without the dash
  std::unique_ptr<Command> (*make)();
};

// Every `talus dfs` command, sorted by name (the order -help and -usage list them in).
const std::vector<CommandFactory>& AllCommands();

// A fresh command for `name` ("ls", no dash), or null when there is none.
std::unique_ptr<Command> MakeCommand(std::string_view name);

}  // namespace talus::shell
