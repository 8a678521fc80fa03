#pragma once

#include <string>
#include <vector>

#include "client/shell/path_item.h"
#include "client/shell/shell_context.h"

namespace talus::shell {

// Turns one command-line argument into the paths it names, as HDFS's shell does.
// A glob pattern gives the existing paths that match it, sorted; when nothing matches the error
// is "`ARG': No such file or directory". Any other argument gives exactly one item, which may
// not exist (commands such as -mkdir need that). Errors come back ready to print.
Result<std::vector<PathItem>> ExpandArgument(ShellContext* ctx, const std::string& arg);

// Asks the namenode about `path` (absolute) and returns the item, without info when nothing
// exists there (including a path below a file).
Result<PathItem> LookupPath(FileSystem* fs, std::string display, std::string path);

}  // namespace talus::shell
