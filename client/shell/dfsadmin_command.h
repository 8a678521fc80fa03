#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace talus::shell {

// Runs `talus dfsadmin ARGS...` (args exclude "dfsadmin"), HDFS's operator commands:
//   -report [-live] [-dead] [-decommissioning]
//   -safemode get|enter|leave|wait [-timeout MS]
//   -decommission HOST:PORT, -recommission HOST:PORT, -refreshNodes, -journal, -help [cmd]
// Generic options (-fs URI, -D key=value) come first, as for `talus dfs`. Returns the exit
// code: 0 on success; 255 (HDFS's -1) on a usage error or a failure, which is printed on
// `err` as "dfsadmin: message".
int RunDfsAdminCommand(const std::vector<std::string>& args, FILE* out = stdout,
                       FILE* err = stderr);

}  // namespace talus::shell
