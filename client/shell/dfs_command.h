#pragma once

#include <string>
#include <vector>

namespace talus::shell {

// Runs `talus dfs ARGS...` (args exclude "dfs"); returns the process exit code.
int RunDfsCommand(const std::vector<std::string>& args);

}  // namespace talus::shell
