#pragma once

#include <string>
#include <utility>
#include <vector>

#include "client/shell/shell_context.h"
#include "common/result.h"

namespace talus::shell {

// The options HDFS's tools take before the command: -fs URI and -D key=value (or -Dkey=value).
struct GenericOptions {
  std::string fs_uri;
  std::vector<std::pair<std::string, std::string>> properties;
  // How many leading words of the argument list they took.
  size_t consumed = 0;
};

// Reads the generic options at the front of `args`; stops at the first other word.
Result<GenericOptions> ParseGenericOptions(const std::vector<std::string>& args);

// The connection settings the options ask for. Properties understood (others are ignored, as
// HDFS ignores what it does not know):
//   fs.defaultFS                  the file system, like -fs (which wins)
//   talus.user                    the user to act as (else the client library's choice:
//                                 $TALUS_USER_NAME, else the OS user)
//   fs.permissions.umask-mode     umask of new files and directories (octal or symbolic)
//   dfs.replication               replication of new files
//   dfs.blocksize                 block size of new files (a number, with k m g t suffixes)
//   talus.client.rpc-timeout-ms, talus.client.connect-timeout-ms, talus.client.retry-deadline-ms
// A value that does not parse is an error naming the property.
Result<ShellConfig> MakeShellConfig(const GenericOptions& options);

}  // namespace talus::shell
