#pragma once

#include <string>
#include <vector>

namespace talus::cluster {

// Runs `talus cluster up|down|status ...` (args exclude "cluster"); returns the exit code.
int RunClusterCommand(const std::vector<std::string>& args);

}  // namespace talus::cluster
